"""Where pipecanvas keeps its state: ``$PIPECANVAS_HOME`` (default ``~/.pipecanvas``).

    store.db                      the run store (SQLite, WAL)
    runs/<run id>/plan.yaml       the plan the run executes
    runs/<run id>/artifacts/...   step outputs
    runs/<run id>/logs/<step>.log step logs (every attempt, appended)
    runs/<run id>/run.log         the run process's own output
    endpoints/<name>.log          local model servers' output
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["pipecanvas_home", "run_dir", "step_log_path", "endpoints_dir"]


def pipecanvas_home() -> Path:
    home = Path(os.environ.get("PIPECANVAS_HOME") or Path.home() / ".pipecanvas").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def run_dir(run_id: str, home: Path | None = None) -> Path:
    return (home or pipecanvas_home()) / "runs" / run_id


def step_log_path(run_id: str, step_id: str, home: Path | None = None) -> Path:
    return run_dir(run_id, home) / "logs" / f"{step_id}.log"


def endpoints_dir(home: Path | None = None) -> Path:
    path = (home or pipecanvas_home()) / "endpoints"
    path.mkdir(parents=True, exist_ok=True)
    return path
