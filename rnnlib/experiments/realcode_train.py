r"""The long training of Chapter 6: LSTM, GRU and tanh RNN on the standard library's source.

Run once (hours of CPU are not needed: about an hour of one core per model)::

    OPENBLAS_NUM_THREADS=1 python -m rnnlib.experiments.realcode_train --kind lstm &
    OPENBLAS_NUM_THREADS=1 python -m rnnlib.experiments.realcode_train --kind gru &
    OPENBLAS_NUM_THREADS=1 python -m rnnlib.experiments.realcode_train --kind rnn &
    wait; python -m rnnlib.experiments.realcode_train --collect

Each ``--kind`` run trains one :class:`~rnnlib.training.model.SequenceModel`
(H = 128, float32) by truncated BPTT (:func:`rnnlib.training.stream.train_stream`)
on :func:`rnnlib.data.stdlib_corpus.load_corpus`'s training part, writing a
resumable checkpoint every 250 updates into ``benchmarks/.realcode_ckpt/``
(not committed): an interrupted run started again continues where it stopped.
``--collect`` gathers the three into :data:`CACHE` (weights as float32,
learning curves, the corpus summary, the vocabulary, the settings, the wall
times), which the chapter loads with :func:`load_cache`.

Only NumPy, the standard library and rnnlib's core, data and training are imported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from rnnlib.data.stdlib_corpus import load_corpus
from rnnlib.data.toy_language import CharCodec
from rnnlib.training.model import SequenceModel
from rnnlib.training.stream import StreamConfig, load_checkpoint, stream_bpc, train_stream
from rnnlib.optim import Adam

ROOT = Path(__file__).resolve().parents[2]
#: The committed cache the chapter loads.
CACHE = ROOT / "benchmarks" / "realcode_models.npz"
CKPT_DIR = ROOT / "benchmarks" / ".realcode_ckpt"
KINDS = ("lstm", "gru", "rnn")
HIDDEN = 128
#: The settings of the long runs (one update = one window of 100 characters of each of 32 streams).
CONFIG = StreamConfig(steps=6000, n_streams=32, window=100, lr=2e-3, lr_final=2e-4, clip=1.0,
                      eval_every=250, eval_chars=40_000, eval_streams=16, seed=0)
LAYER_KW = {"lstm": {"forget_bias": 1.0}, "gru": {}, "rnn": {}}


def build_model(kind, V, *, hidden=HIDDEN, seed=0, dtype=np.float32) -> SequenceModel:
    """The chapter's character model: ``SequenceModel(kind, V, hidden, V, mode="many_to_many")``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    return SequenceModel(kind, V, hidden, V, mode="many_to_many", seed=seed, dtype=dtype, **LAYER_KW[kind])


def run_kind(kind, *, time_limit=None, config=CONFIG, ckpt_dir=CKPT_DIR):
    """Train (or resume) one model; returns its checkpoint path."""
    corpus = load_corpus()
    model = build_model(kind, corpus.codec.V)
    ckpt_dir = Path(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    path = ckpt_dir / f"{kind}.npz"
    hist = train_stream(model, corpus.train_ids, corpus.heldout_ids, config, checkpoint=path,
                        time_limit=time_limit)
    print(f"{kind}: {hist.train_bpc.size} steps, {hist.seconds:.0f} s, {hist.epochs:.2f} epochs, "
          f"held-out bpc (first {config.eval_chars} chars) {hist.eval_bpc[-1]:.3f}, done={hist.done}",
          flush=True)
    return path


def collect(*, config=CONFIG, ckpt_dir=CKPT_DIR, out=CACHE):
    """Gather the checkpoints into the chapter's cache file (float32 weights, curves, metadata)."""
    corpus = load_corpus()
    arrays, meta = {}, {"python": platform.python_version(), "machine": platform.machine(),
                        "corpus": corpus.summary(), "vocab": corpus.codec.vocab, "hidden": HIDDEN,
                        "config": config.__dict__, "layer_kw": LAYER_KW, "models": {}}
    for kind in KINDS:
        model = build_model(kind, corpus.codec.V)
        opt = Adam(model.params)
        step, _, _, extra = load_checkpoint(Path(ckpt_dir) / f"{kind}.npz", model, opt)
        for k, p in model.params.items():
            arrays[f"{kind}/{k}"] = p.astype(np.float32)
        tb = extra["train_bpc"]
        every = 50  # training curve: mean of each 50 updates
        n = tb.size // every
        arrays[f"{kind}/train_bpc"] = tb[: n * every].reshape(n, every).mean(axis=1).astype(np.float32)
        arrays[f"{kind}/eval_steps"] = extra["eval_steps"].astype(np.int32)
        arrays[f"{kind}/eval_bpc"] = extra["eval_bpc"].astype(np.float32)
        t0 = time.perf_counter()
        full = stream_bpc(model, corpus.heldout_ids, n_streams=config.eval_streams)
        meta["models"][kind] = {"steps": int(step), "seconds": float(extra["seconds"]),
                                "heldout_bpc": full, "n_params": model.n_params,
                                "eval_seconds": time.perf_counter() - t0}
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(out, **arrays)
    print(json.dumps(meta["models"], indent=1), f"\n{out}: {os.path.getsize(out) / 1e6:.2f} MB")
    return out


def load_cache(path=CACHE):
    """The chapter's cached models.

    Returns
    -------
    models : dict {kind: SequenceModel}
        Float32, the trained weights.
    curves : dict {kind: dict}
        ``train_bpc`` (mean of each 50 updates), ``eval_steps``, ``eval_bpc``.
    meta : dict
        ``python``, ``corpus`` (summary of the corpus the models were trained
        on), ``vocab``, ``config``, ``models`` (steps, seconds, held-out bpc).
    codec : CharCodec
        The vocabulary of the training run (use it to encode any text for these models).
    """
    with np.load(path) as f:
        data = {k: f[k] for k in f.files}
    meta = json.loads(str(data["meta"]))
    codec = CharCodec(meta["vocab"])
    models, curves = {}, {}
    for kind in KINDS:
        model = build_model(kind, codec.V, hidden=meta["hidden"])
        for k, p in model.params.items():
            p[...] = data[f"{kind}/{k}"]
        models[kind] = model
        curves[kind] = {k: data[f"{kind}/{k}"] for k in ("train_bpc", "eval_steps", "eval_bpc")}
    return models, curves, meta, codec


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m rnnlib.experiments.realcode_train",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=KINDS, help="train (or resume) this model")
    ap.add_argument("--time-limit", type=float, default=None,
                    help="stop after this many seconds (checkpoint kept; run again to resume)")
    ap.add_argument("--collect", action="store_true", help="write the cache file from the checkpoints")
    args = ap.parse_args(argv)
    if args.kind:
        run_kind(args.kind, time_limit=args.time_limit)
    if args.collect:
        collect()
    if not args.kind and not args.collect:
        ap.error("give --kind KIND and/or --collect")


if __name__ == "__main__":
    main()
