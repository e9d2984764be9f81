"""Where pipecanvas keeps its state: ``$PIPECANVAS_HOME`` (default ``~/.pipecanvas``).

    store.db                      the run store (SQLite, WAL)
    runs/<run id>/plan.yaml       the plan the run executes
    runs/<run id>/artifacts/...   step outputs
    runs/<run id>/logs/<step>.log step logs (every attempt, appended)
    runs/<run id>/run.log         the run process's own output
    endpoints/<name>.log          local model servers' output
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from nodes.errors import PipecanvasError

__all__ = ["HomeError", "pipecanvas_home", "run_dir", "step_log_path", "endpoints_dir", "data_findings_dir", "home_problem",
           "DISK_FULL_ERRNOS", "DISK_FULL_PREFIX", "disk_full_message"]

#: the errors that mean "no room left": the disk (or a tmpfs) is full, or a quota is used up
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class HomeError(PipecanvasError):
    """``$PIPECANVAS_HOME`` (or a file in it) cannot be used: missing and not creatable, read-only, or full."""


def pipecanvas_home() -> Path:
    home = Path(os.environ.get("PIPECANVAS_HOME") or Path.home() / ".pipecanvas").expanduser()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HomeError(f"PIPECANVAS_HOME {home} does not exist and cannot be created: {_reason(exc)}; "
                        "set PIPECANVAS_HOME to a folder you can write") from None
    return home


def home_problem(path: Path, exc: BaseException) -> str:
    """Why ``path`` (a file or folder under the home) could not be written, in a user's words.

    Probes the folder with a temporary file, because the error a library raises ("unable to open
    database file", "attempt to write a readonly database") does not say which of the causes it is.
    """
    folder = path if path.is_dir() else path.parent
    while not folder.exists() and folder.parent != folder:  # a folder not made yet: probe where it would be made
        folder = folder.parent
    if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
        return disk_full_message(path)
    if _no_room(folder):  # SQLite, for one, reports a full disk as a "disk I/O error"
        return disk_full_message(folder)
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as probe:
        if probe.errno in DISK_FULL_ERRNOS:
            return disk_full_message(folder)
        if probe.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return f"{folder} is read-only ({_reason(probe)}); pipecanvas keeps its runs there: " \
                   "set PIPECANVAS_HOME to a folder you can write"
        return f"{folder} cannot be written: {_reason(probe)}"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path} is read-only; pipecanvas must be able to write it"
    return f"{path} cannot be used: {_reason(exc)}"


_LOW_SPACE_BYTES = 64 * 1024  # less than this left counts as full: not even a log line or a journal page fits

#: how every "no space left" message starts, wherever it happened
DISK_FULL_PREFIX = "disk full at "


def disk_full_message(path: Path | str) -> str:
    return f"{DISK_FULL_PREFIX}{path}"


def _no_room(folder: Path) -> bool:
    try:
        found = os.statvfs(folder)
    except OSError:
        return False
    return found.f_bavail * found.f_frsize < _LOW_SPACE_BYTES


def _reason(exc: BaseException) -> str:
    return exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else str(exc)


def run_dir(run_id: str, home: Path | None = None) -> Path:
    return (home or pipecanvas_home()) / "runs" / run_id


def step_log_path(run_id: str, step_id: str, home: Path | None = None) -> Path:
    return run_dir(run_id, home) / "logs" / f"{step_id}.log"


def endpoints_dir(home: Path | None = None) -> Path:
    path = (home or pipecanvas_home()) / "endpoints"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HomeError(home_problem(path.parent, exc)) from None
    return path


def data_findings_dir(home: Path | None = None) -> Path:
    """Where ``compiler.data_findings_store`` keeps the data checks' findings; made when the first is kept."""
    return (home or pipecanvas_home()) / "cache" / "data-findings"
