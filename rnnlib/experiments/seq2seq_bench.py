r"""The long trainings of the sequence-to-sequence chapter, and its speed comparison with PyTorch.

``python -m rnnlib.experiments.seq2seq_bench runs --plan NAME`` trains the
models of a plan (see :data:`PLANS`) on the addition problem and writes one
JSON file per run into ``benchmarks/seq2seq/`` (accuracy on held-out problems
after every epoch); ``python -m rnnlib.experiments.seq2seq_bench speed``
writes ``benchmarks/seq2seq_speed.json``: training epochs per minute of the
three-digit model in rnnlib and the same model in PyTorch (one thread).
``python -m rnnlib.experiments.seq2seq_bench merge`` gathers the runs into
``benchmarks/seq2seq.json``, the file the chapter loads.

The setting is the Keras example's: input reversed or not, one LSTM layer of
128 units in the encoder and in the decoder, batch 32; Adam with the global
gradient norm clipped at 1, but a learning rate of 1e-2 decayed by 0.93 per
epoch (Keras's 1e-3 was several times slower per epoch in a pilot); two digits with 5,000 problems (4,500 for
training, 500 held out), three digits with 50,000 (45,000 and 5,000). A run
stops two epochs after its held-out exact match first reaches 99 %, at its
epoch limit, or at its time limit.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pathlib
import platform
import time

import numpy as np

from rnnlib.data.addition import AdditionCodec, batches, make_problems, split_problems
from rnnlib.training.seq2seq import EncoderDecoder, RepeatVector
from rnnlib.training.seq2seq_train import train_seq2seq

OUT_DIR = os.path.join("benchmarks", "seq2seq")
BENCH_DIR = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"  # the repository's, for the chapter
SIZES = {2: (5000, 500), 3: (50000, 5000)}  # digits -> (problems in all, held out)
KINDS = ("repeat", "decoder", "attention")


def make_data(digits, reverse, seed=0, sizes=None):
    """(codec, train Batch, held Batch) of the Keras-sized problem set with ``digits`` digits.

    ``sizes`` maps digits to (problems in all, held out); default :data:`SIZES`.
    """
    total, held = (sizes or SIZES)[digits]
    codec = AdditionCodec(digits, reverse=reverse)
    train, test = split_problems(make_problems(total, digits, np.random.default_rng(seed)), held)
    return codec, codec.encode(train), codec.encode(test)


def build(kind, codec, hidden=128, seed=0, dtype=np.float32):
    """The model ``kind`` ("repeat", "decoder" or "attention") for ``codec``."""
    if kind == "repeat":
        return RepeatVector(codec, hidden, seed=seed, dtype=dtype)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    return EncoderDecoder(codec, hidden, attention=kind == "attention", seed=seed, dtype=dtype)


def run(digits, kind, reverse, *, epochs, time_limit=None, seed=0, out_dir=OUT_DIR, hidden=128, sizes=None,
        weights=None):
    """Train one model, saving its curve after every epoch; returns the record.

    ``weights``: a path where the trained parameters are saved (``.npz``, see :func:`load_model`).
    """
    codec, train, held = make_data(digits, reverse, sizes=sizes)
    model = build(kind, codec, hidden, seed=seed)
    name = f"d{digits}_{kind}_{'rev' if reverse else 'fwd'}_s{seed}"
    record = {"name": name, "digits": digits, "kind": kind, "reverse": reverse, "seed": seed,
              "n_train": len(train.src), "n_held": len(held.src), "hidden": hidden, "batch_size": 32,
              "lr": 1e-2, "lr_decay": 0.93, "clip": 1.0, "dtype": "float32", "n_params": model.n_params,
              "max_epochs": epochs, "time_limit": time_limit, "threads": os.environ.get("OPENBLAS_NUM_THREADS"),
              "cpu": platform.processor() or platform.machine()}
    os.makedirs(out_dir, exist_ok=True)

    def save(hist):
        record.update(history=hist, finished=False)
        with open(os.path.join(out_dir, name + ".json"), "w") as f:
            json.dump(record, f)
        print(name, hist["epoch"][-1], f"loss {hist['loss'][-1]:.4f} exact {hist['exact'][-1]:.4f} "
              f"digit {hist['per_digit'][-1]:.4f} {hist['seconds'][-1]:.0f}s", flush=True)

    hist = train_seq2seq(model, train, held, epochs=epochs, seed=seed, target=0.99, extra_epochs=2,
                         time_limit=time_limit, log=save)
    record.update(history=hist, finished=True)
    if weights is not None:
        np.savez_compressed(weights, **model.params, digits=digits, kind=kind, reverse=reverse, hidden=hidden)
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(record, f)
    return record


def load_model(path):
    """The model saved by :func:`run` with ``weights=path``: (model, codec)."""
    with np.load(path) as f:
        digits, kind, reverse, hidden = int(f["digits"]), str(f["kind"]), bool(f["reverse"]), int(f["hidden"])
        codec = AdditionCodec(digits, reverse=reverse)
        model = build(kind, codec, hidden)
        for name, p in model.params.items():
            p[...] = f[name]
    return model, codec


PLANS = {  # name -> list of (digits, kind, reverse, max epochs, time limit in s)
    "two": [(2, k, r, 54, 600) for r in (True, False) for k in ("attention", "decoder", "repeat")],
    "three_attention": [(3, "attention", True, 99, 3600), (3, "attention", False, 40, 1500)],
    "three_decoder": [(3, "decoder", True, 99, 2400), (3, "repeat", True, 99, 1500)],
    "three_fwd": [(3, "decoder", False, 40, 1200)],
    "two_weights": [(2, "attention", r, 54, 600) for r in (True, False)],  # run with --weights
}


def merge(out_dir=OUT_DIR, path=os.path.join("benchmarks", "seq2seq.json")):
    """Gather every run of ``out_dir`` into one JSON file (sorted by name)."""
    runs = []
    for p in sorted(glob.glob(os.path.join(out_dir, "*.json"))):
        with open(p) as f:
            runs.append(json.load(f))
    with open(path, "w") as f:
        json.dump({"runs": runs}, f, indent=0)
    return runs


def speed(steps=150, hidden=128, digits=3, seed=0, path=os.path.join("benchmarks", "seq2seq_speed.json"),
          sizes=None):
    """Time training steps of the attention model in rnnlib (float32) and in PyTorch (one thread).

    Both do the same work per step: one-hot inputs, LSTM encoder, LSTM decoder
    over the shifted target, additive attention, linear readout, masked
    cross-entropy, backward, clipping, Adam. Returns (and writes) seconds per
    step, CPU time (``*_s_per_step``, the process's, one thread) and wall time
    (``*_wall_s_per_step``), and epochs per minute from the CPU time for the
    45,000-problem training set at batch 32.
    """
    from rnnlib.experiments.timing import one_thread
    from rnnlib.optim import Adam, clip_grad_norm

    codec, train, _ = make_data(digits, True, sizes=sizes)
    bs = [b for _, b in zip(range(steps), batches(train, 32, np.random.default_rng(seed)))]
    steps_per_epoch = -(-len(train.src) // 32)
    result = {"steps": steps, "hidden": hidden, "digits": digits, "steps_per_epoch": steps_per_epoch,
              "threads": 1, "cpu": platform.processor() or platform.machine()}
    model = build("attention", codec, hidden, seed)
    opt = Adam(model.params)
    with one_thread():
        t0, c0 = time.perf_counter(), time.process_time()
        for b in bs:
            model.zero_grad()
            model.loss_and_grads(b)
            clip_grad_norm(model.grads, 1.0)
            opt.step(model.grads)
        result["rnnlib_wall_s_per_step"] = (time.perf_counter() - t0) / steps
        result["rnnlib_s_per_step"] = (time.process_time() - c0) / steps
    try:
        import torch
    except ImportError:
        result["torch_s_per_step"] = result["torch_wall_s_per_step"] = None
    else:
        from rnnlib.experiments._seq2seq_torch import time_torch
        with one_thread(torch):
            result["torch_wall_s_per_step"], result["torch_s_per_step"] = time_torch(torch, bs, codec.V, hidden)
        result["torch_version"] = torch.__version__
    for k in ("rnnlib", "torch"):  # from CPU time: on a shared machine, wall time counts other jobs
        s = result[f"{k}_s_per_step"]
        result[f"{k}_epochs_per_min"] = None if s is None else 60.0 / (s * steps_per_epoch)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    return result


def load_results(bench_dir=BENCH_DIR) -> dict:
    """What the chapter reads: ``{"runs": [...], "speed": {...} or None}`` from ``bench_dir``."""
    bench_dir = pathlib.Path(bench_dir)
    with open(bench_dir / "seq2seq.json") as f:
        runs = json.load(f)["runs"]
    speed_path = bench_dir / "seq2seq_speed.json"
    speed_ = json.loads(speed_path.read_text()) if speed_path.exists() else None
    return {"runs": runs, "speed": speed_}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("runs", "speed", "merge"))
    parser.add_argument("--plan", choices=sorted(PLANS))
    parser.add_argument("--weights", action="store_true",
                        help="save each run's trained parameters to benchmarks/seq2seq_<name>.npz")
    args = parser.parse_args(argv)
    if args.what == "runs":
        for digits, kind, reverse, epochs, limit in PLANS[args.plan]:
            name = f"d{digits}_{kind}_{'rev' if reverse else 'fwd'}"
            run(digits, kind, reverse, epochs=epochs, time_limit=limit, out_dir=os.path.join(OUT_DIR, "weights")
                if args.weights else OUT_DIR,
                weights=os.path.join("benchmarks", f"seq2seq_{name}.npz") if args.weights else None)
    elif args.what == "speed":
        print(json.dumps(speed(), indent=1))
    else:
        print(len(merge()), "runs merged")


if __name__ == "__main__":
    main()
