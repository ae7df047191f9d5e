"""Pick a second OpenBLAS kernel for nbval, and check that a run really uses it.

Chaotic computations (float32 trainings, thousands of Adam steps) end in different
last digits under different OpenBLAS kernels, so a notebook executed on one CPU kind
can fail nbval on another. ``make nbval-kernel2`` therefore re-runs nbval under a
kernel other than the one OpenBLAS picks by default on this machine, chosen here:

* default SkylakeX, Cooperlake or SapphireRapids (AVX-512) -> ``Haswell`` (AVX2);
* default Haswell or Zen and the CPU has ``avx512f`` -> ``SkylakeX`` (OpenBLAS's Zen
  target runs the Haswell kernels, so forcing Haswell there would change little);
* otherwise -> ``Sandybridge`` (AVX, no FMA), if the default is not already that.

Whether a kernel name is accepted, and which kernel it really selects, depends on the
OpenBLAS build (``OPENBLAS_CORETYPE=Zen`` runs the Haswell kernels; an unknown name can
leave NumPy without a BLAS), so every choice is checked in a fresh interpreter with
``threadpoolctl``.

Command line::

    python tools/blas_kernel.py choose     # print the OPENBLAS_CORETYPE for the second run
    python tools/blas_kernel.py current    # print the kernel this environment selects

As a pytest plugin (``-p tools.blas_kernel``), with ``BLAS_KERNEL_EXPECTED=NAME`` set, the
run stops before collecting anything unless OpenBLAS reports kernel NAME, and the
header of the report names the kernel.
"""

from __future__ import annotations

import os
import subprocess
import sys

AVX512_DEFAULTS = {"skylakex", "cooperlake", "sapphirerapids"}
HASWELL_LIKE = {"haswell", "zen"}

_PROBE = ("import threadpoolctl, numpy\n"
          "info = [i for i in threadpoolctl.threadpool_info() if i.get('internal_api') == 'openblas']\n"
          "print(info[0].get('architecture') if info else '')\n")


def cpu_flags(path="/proc/cpuinfo") -> set:
    """The CPU feature flags of the first processor listed in ``path`` (empty if unreadable)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def candidates(default: str, flags: set) -> list:
    """OPENBLAS_CORETYPE names to try, best first, for a machine whose default kernel is ``default``.

    Parameters
    ----------
    default : str
        The ``architecture`` threadpoolctl reports without a forced kernel (any case).
    flags : set of str
        CPU flags (``/proc/cpuinfo``).

    Returns
    -------
    list of str
        Kernel names in OpenBLAS's spelling; never ``default`` itself.
    """
    d = default.lower()
    if d in AVX512_DEFAULTS:
        order = ["Haswell", "Sandybridge"]
    elif d in HASWELL_LIKE and "avx512f" in flags:
        order = ["SkylakeX", "Sandybridge"]
    else:
        order = ["Sandybridge"] if d in HASWELL_LIKE else ["Sandybridge", "Haswell"]
    order = [k for k in order if k.lower() != d]
    return [k for k in order if k != "Haswell" or "avx2" in flags or d in AVX512_DEFAULTS]


def architecture(coretype=None) -> str:
    """The kernel OpenBLAS selects in a fresh interpreter, with ``OPENBLAS_CORETYPE=coretype``.

    ``coretype=None`` keeps this environment's setting. Returns ``''`` if NumPy's OpenBLAS
    did not load (e.g. an unknown kernel name).
    """
    env = dict(os.environ)
    if coretype is not None:
        env["OPENBLAS_CORETYPE"] = coretype
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else ""


def choose(default=None, flags=None, probe=architecture) -> str:
    """The first candidate kernel whose forced run reports a kernel other than ``default``.

    Raises
    ------
    RuntimeError
        If no candidate changes the kernel (the second run would test nothing).
    """
    default = probe(None) if default is None else default
    flags = cpu_flags() if flags is None else flags
    if not default:
        raise RuntimeError("threadpoolctl finds no OpenBLAS under NumPy: cannot pick a second kernel")
    tried = []
    for name in candidates(default, flags):
        got = probe(name)
        tried.append(f"{name} -> {got or 'no OpenBLAS'}")
        if got and got.lower() != default.lower():
            return name
    raise RuntimeError(f"no second OpenBLAS kernel found (default {default}; tried {', '.join(tried) or 'none'})")


def _expected():
    return os.environ.get("BLAS_KERNEL_EXPECTED", "")


def _running() -> str:
    import threadpoolctl

    info = [i for i in threadpoolctl.threadpool_info() if i.get("internal_api") == "openblas"]
    return info[0].get("architecture", "") if info else ""


def pytest_configure(config):
    """Stop the run unless OpenBLAS reports the kernel named by ``BLAS_KERNEL_EXPECTED``."""
    import numpy  # noqa: F401  (loads OpenBLAS)
    import pytest

    want = _expected()
    if want and _running().lower() != want.lower():
        raise pytest.UsageError(f"BLAS_KERNEL_EXPECTED={want} but OpenBLAS runs kernel {_running()!r} "
                                f"(OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')!r}): "
                                "this run would not test a second kernel")


def pytest_report_header(config):
    return f"OpenBLAS kernel: {_running()} (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')})"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["current"]:
        print(architecture(None))
        return 0
    if argv == ["choose"]:
        default = architecture(None)
        try:
            name = choose(default)
        except RuntimeError as exc:
            print(f"blas_kernel: {exc}", file=sys.stderr)
            return 1
        print(f"blas_kernel: default OpenBLAS kernel {default}; second nbval run uses {name}",
              file=sys.stderr)
        print(name)
        return 0
    print(__doc__.split("Command line::")[1].split("As a pytest")[0].strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
