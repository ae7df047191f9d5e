r"""Chapter 7's measurements: depth at equal parameter count, both directions, padding, dropout.

* :func:`n_params_model` / :func:`hidden_for_budget` - parameter counts of a
  :class:`~rnnlib.training.tokens.TokenModel` and the hidden size that fits a budget;
* :func:`toy_data` - the chapter-5 toy language as train / held-out ids, with
  the language's entropy per character (a floor no model can beat);
* :func:`depth_run` - a character model with 1, 2 or 3 layers, held-out bits/char;
* :func:`bidir_run` - the last-symbol tagging task, one or two directions,
  with or without ``lengths``, against :func:`rnnlib.data.padded.causal_baseline`;
* :func:`padding_effect` - how far a short sequence's final state moves when
  the layer runs over its padding;
* :func:`dropout_run` - a two-layer model on a small text, with and without
  dropout between the layers, train and held-out loss.

``python -m rnnlib.experiments.deeper`` runs them over seeds and writes
``benchmarks/deeper.json``, which the chapter reads with :func:`load_results`. Imports NumPy, the core,
:mod:`rnnlib.data` and :mod:`rnnlib.training`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from rnnlib.data import padded, toy_language
from rnnlib.layers import GRU, LSTM, RNN
from rnnlib.training.tokens import TokenModel, evaluate, fit

G = {"rnn": 1, "lstm": 4, "gru": 3}
RESULTS_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "deeper.json"
BITS = 1 / np.log(2)  # nats -> bits


def n_params_model(kind, V, D, H, C, num_layers=1, bidirectional=False):
    r"""Scalar parameters of a TokenModel (rnnlib's one bias per gate block; GRU reset-after).

    Per direction of layer k: :math:`G H (D_k + H + 1)` (+ H for the GRU's
    ``b_hn``), with :math:`D_0 = D` and :math:`D_k = \text{dirs}\cdot H` above;
    plus the embedding :math:`V D` and the readout :math:`(\text{dirs}\cdot H + 1) C`.
    """
    dirs = 2 if bidirectional else 1
    total = V * D + (dirs * H + 1) * C
    for k in range(num_layers):
        D_k = D if k == 0 else dirs * H
        total += dirs * (G[kind] * H * (D_k + H + 1) + (H if kind == "gru" else 0))
    return total


def hidden_for_budget(kind, V, D, C, budget, num_layers=1, bidirectional=False) -> int:
    """The largest H whose model has at most ``budget`` parameters."""
    H = 1
    while n_params_model(kind, V, D, H + 1, C, num_layers, bidirectional) <= budget:
        H += 1
    return H


def toy_data(n_train_lines, n_held_lines=250, seed=0):
    """Train and held-out ids of the toy language, the codec, and the held-out entropy (bits/char)."""
    rng = np.random.default_rng(seed)
    train = toy_language.generate(n_train_lines, rng)
    held = toy_language.generate(n_held_lines, rng)
    codec = toy_language.CharCodec(toy_language.ToyLanguage().alphabet)
    return codec.encode(train.text), codec.encode(held.text), codec, held.bits / len(held.text)


def held_windows(ids, T):
    """Non-overlapping (M, T) windows of ``ids`` and their next ids, as one held-out batch list."""
    M = (ids.size - 1) // T
    x = ids[: M * T].reshape(M, T)
    y = ids[1 : M * T + 1].reshape(M, T)
    return [(x[i:i + 128], y[i:i + 128], None) for i in range(0, M, 128)]


def char_model_run(num_layers, H, train_ids, held_ids, V, *, steps, seed, dropout=0.0, T=32, N=32,
                   D=16, lr=3e-3, every=100, dtype=np.float32):
    """Train a character TokenModel (LSTM) on windows of ``train_ids``; history in bits/char."""
    model = TokenModel(V, D, H, V, kind="lstm", num_layers=num_layers, dropout=dropout, seed=seed,
                       dtype=dtype)
    windows = padded.text_windows(train_ids, T)
    held = held_windows(held_ids, T)
    t0 = time.process_time()
    hist = fit(model, lambda rng: (*windows(N, rng), None), steps, lr=lr, seed=seed + 1000,
               held_out=held, every=every)
    return {"num_layers": num_layers, "H": H, "dropout": dropout, "n_params": model.n_params,
            "seed": seed, "step": hist["step"],
            "train_bpc": [v * BITS for v in hist["train"]],
            "held_bpc": [v * BITS for v in hist["held_out"]],
            "final_train_bpc": evaluate(model, held_windows(train_ids[: held_ids.size], T)) * BITS,
            "cpu_s": time.process_time() - t0}


def depth_run(num_layers, seed, *, steps=1500, budget=None, n_train_lines=2000):
    """1, 2 or 3 LSTM layers at (nearly) the same parameter count as one layer of H = 64."""
    train_ids, held_ids, codec, entropy = toy_data(n_train_lines)
    V, D = codec.V, 16
    budget = budget or n_params_model("lstm", V, D, 64, V, 1)
    H = hidden_for_budget("lstm", V, D, V, budget, num_layers)
    out = char_model_run(num_layers, H, train_ids, held_ids, V, steps=steps, seed=seed)
    out.update(budget=budget, entropy_bpc=entropy)
    return out


def dropout_run(p, seed, *, steps=1500, n_train_lines=60, H=64):
    """Two LSTM layers of H units on a *small* text, dropout ``p`` between them."""
    train_ids, held_ids, codec, entropy = toy_data(n_train_lines)
    out = char_model_run(2, H, train_ids, held_ids, codec.V, steps=steps, seed=seed, dropout=p)
    out.update(entropy_bpc=entropy, n_train_chars=int(train_ids.size))
    return out


def bidir_run(bidirectional, use_lengths, seed, *, steps=400, T=12, N=32, K=8, H=24, D=8, kind="gru",
              lr=1e-2, every=50):
    """The last-symbol task (:func:`rnnlib.data.padded.last_symbol_task`): nats per real token.

    ``use_lengths=False`` runs the layer over the padding as if it were data
    (the backward direction then starts at the padded end).
    """
    model = TokenModel(K + 1, D, H, K, kind=kind, bidirectional=bidirectional, seed=seed)
    held_rng = np.random.default_rng(10_000 + seed)
    held = []
    for _ in range(4):
        ids, lengths, y = padded.last_symbol_task(256, T, held_rng, K)
        held.append((ids, y, lengths))
    baseline = padded.causal_baseline(T, K, min_len=2)

    def batch(rng):
        ids, lengths, y = padded.last_symbol_task(N, T, rng, K)
        return ids, y, lengths

    hist = fit(model, batch, steps, lr=lr, seed=seed + 1000, held_out=held, every=every,
               mask_layer=use_lengths)
    return {"bidirectional": bidirectional, "lengths": use_lengths, "seed": seed, "H": H,
            "n_params": model.n_params, "step": hist["step"], "held_out": hist["held_out"],
            "final_nats": hist["held_out"][-1], "baseline_nats": baseline,
            "chance_nats": float(np.log(K))}


def padding_effect(kind="lstm", H=16, D=4, n_pad=(0, 1, 2, 5, 10, 20), seed=0):
    """Max |final state - unpadded final state| after ``n_pad`` padding steps (zeros), and with lengths."""
    cls = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[kind]
    layer = cls(D, H, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 5, D))
    first = lambda s: s[0] if isinstance(s, tuple) else s  # noqa: E731  (h of an LSTM's (h, c))
    h_true = first(layer.forward(x)[1])
    rows = []
    for k in n_pad:
        xp = np.concatenate([x, np.zeros((1, k, D))], axis=1)
        h_pad = first(layer.forward(xp)[1])
        h_len = first(layer.forward(xp, lengths=np.array([5]))[1])
        rows.append({"pad": k, "without_lengths": float(np.abs(h_pad - h_true).max()),
                     "with_lengths": float(np.abs(h_len - h_true).max())})
    return rows


def load_results(path=None) -> dict:
    """The measurements written by :func:`main` (default ``benchmarks/deeper.json`` of the repository)."""
    return json.loads(Path(RESULTS_PATH if path is None else path).read_text())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--parts", nargs="+", default=["depth", "dropout", "bidir"])
    ap.add_argument("--json", default="benchmarks/deeper.json")
    args = ap.parse_args(argv)
    path = Path(args.json)
    out = json.loads(path.read_text()) if path.exists() else {}
    seeds = range(args.seeds)
    if "depth" in args.parts:
        out["depth"] = [depth_run(L, s, steps=args.steps) for L in (1, 2, 3) for s in seeds]
    if "dropout" in args.parts:
        out["dropout"] = [dropout_run(p, s, steps=args.steps) for p in (0.0, 0.3) for s in seeds]
    if "bidir" in args.parts:
        out["bidir"] = [bidir_run(b, u, s) for b, u in ((False, True), (True, True), (True, False))
                        for s in seeds]
    out["settings"] = {"seeds": args.seeds, "steps": args.steps, "dtype": "float32",
                       "threads": 1, "bidir_steps": 400}  # bidir_run's default
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
