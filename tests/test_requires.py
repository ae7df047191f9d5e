"""tests/_requires.py: optional dependencies skip on a reader's machine, fail in CI."""

import pytest
from _requires import require


def test_missing_module_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no_such_module_xyz"):
        require("no_such_module_xyz", "pip install nothing")


def test_missing_module_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="pip install nothing"):
        require("no_such_module_xyz", "pip install nothing")


@pytest.mark.parametrize("ci", ["true", None])
def test_present_module_is_returned(monkeypatch, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    assert require("json", "stdlib").dumps([1]) == "[1]"
