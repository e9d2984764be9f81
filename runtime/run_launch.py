"""How a run's process is started: forked from the caller when it safely can be, else a fresh interpreter.

A fresh ``python -m runtime.run_process RUN_ID`` spends half a CPU-second importing pydantic, the plan
models and the node catalog before it can fork a step: most of the time between ``pipecanvas run`` and
its first step. The caller of ``start_run`` has just compiled the plan, so it holds all of that already;
a fork of it starts the run at once. Either way the run process is the same code
(``runtime.run_process.main``) in its own session, with its output in the run's ``run.log``; the
forked one is forked twice so that it is nobody's child (see ``forked_process.fork_detached``).

A process with other threads (the studio's server) is never forked: a thread holding a lock at that
moment would leave the lock held forever in the child. ``PIPECANVAS_RUN_LAUNCH=spawn`` always starts a
fresh interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .forked_process import fork_available, fork_detached
from .home import HomeError, home_problem, run_dir

if TYPE_CHECKING:
    from compiler.plan import ExecutionPlan
    from nodes.catalog import Catalog

__all__ = ["launch_run_process", "LAUNCH_ENV"]

LAUNCH_ENV = "PIPECANVAS_RUN_LAUNCH"


def launch_run_process(run_id: str, home: Path, resume: bool = False, *, plan: ExecutionPlan | None = None,
                       catalog: Catalog | None = None) -> int:
    """Start the process that runs (or resumes) ``run_id``; return its pid. A forked one takes ``plan``
    (as just compiled and stored) and ``catalog`` (the default one) as they are, instead of loading them."""
    log_file = run_dir(run_id, home) / "run.log"
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise HomeError(home_problem(log_file, exc)) from None
    argv = [run_id] + (["--resume"] if resume else [])
    env = {**os.environ, "PIPECANVAS_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    if _may_fork():
        try:
            return fork_detached(lambda: _run_process_main(argv, plan, catalog), log_fd, env, outlive_parent=True)
        except OSError:  # no memory or process slot for a fork: a fresh interpreter may still fit
            log_fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)  # fork_detached closed it
    with os.fdopen(log_fd, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "runtime.run_process", *argv], stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                   start_new_session=True, cwd=os.getcwd())
    return process.pid


def _may_fork() -> bool:
    return fork_available() and os.environ.get(LAUNCH_ENV, "fork") != "spawn" and threading.active_count() == 1


def _run_process_main(argv: list[str], plan: ExecutionPlan | None, catalog: Catalog | None) -> int:
    from .run_process import main

    return main(argv, plan=plan, catalog=catalog)
