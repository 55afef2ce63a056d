"""Set-up needs only Python: with no npm on PATH, htmx still arrives, checked against its digest."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dev  # noqa: E402


@pytest.mark.slow
def test_htmx_is_vendored_without_npm_on_path(tmp_path, monkeypatch):
    python_only = tmp_path / "bin"
    python_only.mkdir()
    os.symlink(sys.executable, python_only / "python3")
    monkeypatch.setenv("PATH", str(python_only))
    assert shutil.which("npm") is None
    target = tmp_path / "vendor" / "htmx.min.js"
    monkeypatch.setattr(dev, "HTMX_PATH", target)
    monkeypatch.setattr(dev, "ROOT", tmp_path)
    dev.ensure_htmx()
    assert dev.sri_digest(target.read_bytes()) == dev.HTMX_SHA384


def test_a_tampered_htmx_is_fetched_again(tmp_path, monkeypatch):
    target = tmp_path / "vendor" / "htmx.min.js"
    target.parent.mkdir()
    target.write_bytes(b"alert('not htmx')")
    monkeypatch.setattr(dev, "HTMX_PATH", target)
    monkeypatch.setattr(dev, "ROOT", tmp_path)
    dev.ensure_htmx()
    assert dev.sri_digest(target.read_bytes()) == dev.HTMX_SHA384
