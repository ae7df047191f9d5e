"""Tests for tools/blas_kernel.py: the choice of the second OpenBLAS kernel for nbval."""

import importlib.util
import pathlib

import pytest

PATH = pathlib.Path(__file__).resolve().parents[1] / "tools" / "blas_kernel.py"
spec = importlib.util.spec_from_file_location("blas_kernel", PATH)
bk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bk)

AVX512 = {"avx", "avx2", "fma", "avx512f"}
AVX2 = {"avx", "avx2", "fma"}


@pytest.mark.parametrize("default, flags, first", [
    ("SkylakeX", AVX512, "Haswell"),
    ("Cooperlake", AVX512, "Haswell"),
    ("SapphireRapids", AVX512, "Haswell"),
    ("skylakex", AVX512, "Haswell"),  # threadpoolctl's spelling may differ in case
    ("Zen", AVX2, "Sandybridge"),  # OpenBLAS's Zen target runs the Haswell kernels
    ("Zen", AVX512, "SkylakeX"),
    ("Haswell", AVX512, "SkylakeX"),  # an AVX-512 CPU that OpenBLAS does not recognise
    ("Haswell", AVX2, "Sandybridge"),
    ("Sandybridge", {"avx"}, None),  # no AVX2: Haswell cannot run, nothing else to try
    ("Sandybridge", AVX2, "Haswell"),
])
def test_candidates_follow_the_rule(default, flags, first):
    got = bk.candidates(default, flags)
    assert all(k.lower() != default.lower() for k in got)
    assert (got[0] if got else None) == first


def test_choose_skips_a_name_that_does_not_change_the_kernel():
    reports = {None: "Haswell", "SkylakeX": "Haswell", "Sandybridge": "Sandybridge"}  # SkylakeX ignored
    assert bk.choose(flags=AVX512, probe=reports.get) == "Sandybridge"


def test_choose_fails_loudly_when_nothing_changes():
    with pytest.raises(RuntimeError, match="no second OpenBLAS kernel"):
        bk.choose(default="Haswell", flags=AVX2, probe=lambda name: "Haswell")
    with pytest.raises(RuntimeError, match="no OpenBLAS"):
        bk.choose(default="", flags=AVX2, probe=lambda name: "")


def test_cpu_flags_reads_the_flags_line(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: X\nflags\t\t: fpu avx avx2 avx512f\n\nflags\t: other\n")
    assert bk.cpu_flags(str(info)) == {"fpu", "avx", "avx2", "avx512f"}
    assert bk.cpu_flags(str(tmp_path / "missing")) == set()


def test_on_this_machine_the_choice_really_changes_the_kernel():
    """The real probe: the chosen OPENBLAS_CORETYPE makes OpenBLAS report another kernel."""
    default = bk.architecture(None)
    if not default:
        pytest.fail("NumPy's OpenBLAS not found by threadpoolctl")
    name = bk.choose(default)
    assert bk.architecture(name).lower() != default.lower()
