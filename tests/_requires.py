"""Optional test dependencies: skipped on a reader's machine, required in CI.

The PyTorch parity tests (and the outside reference of the minimal layers) need
packages that ``requirements.txt`` does not install: a reader may run the unit
tests without them. CI installs them (``.ci/run``), so there a missing package
must fail the run instead of silently skipping the comparisons.
"""

from __future__ import annotations

import importlib
import os

import pytest


def require(module: str, install: str):
    """Import ``module`` and return it; skip without it, or fail when ``CI=true``.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"torch"`` or ``"minGRU_pytorch.minGRU"``.
    install : str
        The command that installs it, quoted in the message,
        e.g. ``"pip install torch==2.13.0"``.

    Works at module level (the whole file is skipped or reported as an error)
    and inside a test (that test is skipped or failed).
    """
    if os.environ.get("CI") != "true":
        return pytest.importorskip(module, reason=f"needs {module} ({install}); required in CI")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(f"CI=true but {module} cannot be imported ({exc}): CI must run "
                    f"`{install}` so that these comparisons run", pytrace=False)
