"""Chapter 9's experiment code: the selective copying task, the task table's models and
parameter budgets, and the timing grid (run on tiny sizes)."""

import json

import numpy as np
import pytest

from rnnlib.data.selective import selective_copy, selective_copy_chance
from rnnlib.experiments import minimal_bench, minimal_tasks
from rnnlib.experiments.minimal_tasks import MODELS, TaskConfig, TaskNet, hidden_for_budget, n_params_of


def test_selective_copy_batch_properties():
    x, y = selective_copy(5, 12, np.random.default_rng(0), n_tokens=3, n_symbols=4)
    assert x.shape == (5, 15, 6) and y.shape == (5, 3)
    assert np.all(x.sum(axis=-1) == 1.0)  # one-hot
    sym = np.argmax(x, axis=-1)
    assert np.all(sym[:, 12:] == 5)  # the recall steps
    for n in range(5):
        data = sym[n, :12][sym[n, :12] > 0]
        assert np.array_equal(data, y[n] + 1)  # the tokens, in order
    x2, y2 = selective_copy(5, 12, np.random.default_rng(0), n_tokens=3, n_symbols=4)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert selective_copy_chance(8) == 0.125
    with pytest.raises(ValueError, match="n_tokens must be <= T"):
        selective_copy(2, 3, np.random.default_rng(0), n_tokens=4)
    with pytest.raises(TypeError, match="rng must be a np.random.Generator"):
        selective_copy(2, 3, 0)


@pytest.mark.parametrize("model", MODELS)
def test_parameter_counts_and_budgets(model):
    for D, out in ((10, 8), (2, 1)):
        for H in (3, 17):
            assert TaskNet(model, D, H, out).n_params == n_params_of(model, D, H, out)
        budget = n_params_of("gru", D, 32, out)
        H = hidden_for_budget(model, D, out, budget)
        assert abs(n_params_of(model, D, H, out) - budget) <= abs(n_params_of(model, D, H + 1, out) - budget)
    with pytest.raises(ValueError, match="model must be one of"):
        TaskNet("rnn", 2, 3, 1)


def test_run_task_learns_and_is_reproducible():
    cfg = TaskConfig("adding", T=10, steps=30, eval_size=64, budget_hidden=8)
    r1 = minimal_tasks.run_task("mingru-2", cfg, eval_every=10)
    r2 = minimal_tasks.run_task("mingru-2", cfg, eval_every=10)
    assert r1["score"] == r2["score"] and r1["steps"] == [0, 10, 20, 30]
    assert r1["final"] < r1["score"][0]  # it learns something in 30 updates
    sel = minimal_tasks.run_task("gru", TaskConfig("selective", T=8, n_tokens=2, steps=2, eval_size=16), 1)
    assert 0.0 <= sel["final"] <= 1.0 and sel["hidden_size"] == 32
    rows = minimal_tasks.task_table(models=("gru", "minlstm-1"), configs=[cfg], progress=None)
    assert [r["model"] for r in rows] == ["gru", "minlstm-1"]


def test_timing_grid_counts_and_table():
    rows = minimal_bench.timing_grid(Ts=(3,), N=2, D=4, H=5, repeats=2, progress=None)
    (row,) = rows
    assert set(row["layer"]) == {"gru", *minimal_bench.METHODS}
    assert set(row["floor"]) >= {"matmul", "pass", "exp"}
    assert all(v["min"] <= v["median"] for part in ("layer", "solver", "floor") for v in row[part].values())
    c = minimal_bench.counts(3, N=2, D=4, H=5)
    assert c["gru"]["matmul_flops"] == 2 * 6 * 4 * 15 + 2 * 6 * 5 * 15
    assert c["loop"]["matmul_flops"] == 2 * 6 * 4 * 10 and c["recurrence_bytes"] == 3 * 30 * 8
    table = minimal_bench.grid_table(rows).splitlines()
    assert table[0].count("|") == table[1].count("|") == table[2].count("|")
    json.dumps(rows)  # serialisable


def test_thread_grid_and_load(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    rows = minimal_bench.thread_grid(Ts=(4,), N=2, H=3, threads=(1,), repeats=1)
    assert {(r["T"], r["threads"], r["method"]) for r in rows} == {(4, 1, "log-scan"), (4, 1, "loop")}
    with pytest.raises(FileNotFoundError, match="minimal_bench"):
        minimal_bench.load("no-such-file")


def test_html_table():
    html = minimal_bench.html_table("| a | b<c |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |")
    assert html.count("<tr>") == 3 and "<th>b&lt;c</th>" in html and "<td>4</td>" in html


def test_tasks_for_seeds_writes_every_run_seed_major(tmp_path):
    cfg = TaskConfig("adding", T=6, steps=2, eval_size=8, budget_hidden=4)
    path = tmp_path / "tasks.json"
    res = minimal_bench.tasks_for_seeds(cfg, [0, 3], path, models=("gru", "mingru-1"))
    assert [(r["model"], r["config"]["seed"]) for r in res["rows"]] == [
        ("gru", 0), ("mingru-1", 0), ("gru", 3), ("mingru-1", 3)]
    assert json.loads(path.read_text()) == json.loads(json.dumps(res))
    assert res["seeds"] == [0, 3] and cfg.seed == 0  # the config passed in is not changed
