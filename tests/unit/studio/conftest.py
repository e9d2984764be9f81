"""What the studio's page tests share: a fresh PIPECANVAS_HOME for the run store and drafts, and the
repository as the working folder (the pages find the examples gallery from there)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("PIPECANVAS_HOME", str(path))
    monkeypatch.chdir(REPO_ROOT)
    return path
