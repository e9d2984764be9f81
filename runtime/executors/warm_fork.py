"""Start a step by forking a warm process instead of starting a new interpreter.

A fresh ``python -m runtime.entrypoint`` spends most of a second importing
pandas, pyarrow, pydantic and the node catalog before it does any work. The
local executor's parent process imports those once (``Warmup``) and forks a
child per step. The child is still its own process in its own session — a
crash, ``kill -9`` or timeout affects that step only — and runs exactly the
same entrypoint function with exactly the plan's argv, as a Kubernetes pod does.

Once warm, the executor also keeps one step process forked ahead of need (``fork_standby_entrypoint``)
while steps run: it has already made its own copies of the pages a step touches (a table's round trip,
some 2,000 copy-on-write faults), so the next step starts with a pipe write instead of a fork and
spends its time on its own work.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
from collections.abc import Callable
from functools import partial

from ..forked_process import Standby, fork_detached, fork_standby

__all__ = ["PRELOAD_MODULES", "Warmup", "ForkedStep", "fork_entrypoint", "fork_standby_entrypoint", "wait_for_exit"]

#: modules every step needs (artifact I/O, the plan, the entrypoint); node types add their own
#: through ``NodeType.warm_imports``, so a run imports only what its steps will use
PRELOAD_MODULES = (
    "pandas",
    "pyarrow.parquet",
    "fsspec",
    "nodes.artifact_io",
    "nodes.builtin",
    "compiler.plan",
    "runtime.entrypoint",
)


class Warmup:
    """This process's warm-up, one piece at a time: the base modules, the catalog and a table's round trip,
    then the node types' own imports in the plan's order (the first steps' libraries first).

    The local executor does one piece per wait while steps run, so a step that ends is seen, and the
    next one forked, between pieces rather than after the whole warm-up: a run's later libraries (one
    of them, ``skops.io``, imports every scikit-learn module and takes seconds) load while its first
    steps run, instead of holding the second step back. A module that cannot be imported is left to
    the steps that need it, which report the error themselves."""

    def __init__(self, extra: tuple[str, ...] = ()) -> None:
        later = [name for name in dict.fromkeys(extra) if name not in PRELOAD_MODULES]
        self._pieces: list[tuple[str, Callable[[], object]]] = [
            *((name, partial(importlib.import_module, name)) for name in PRELOAD_MODULES),
            ("the node catalog", _warm_catalog), ("a table's round trip", _exercise_table_io),
            *((name, partial(importlib.import_module, name)) for name in later),
        ]
        self.missing: list[str] = []
        self.done = False

    def advance(self) -> bool:
        """Do the next piece; True once there is none left."""
        if self._pieces:
            name, piece = self._pieces.pop(0)
            try:
                piece()
            except Exception:
                self.missing.append(name)
            gc.freeze()  # keep the collector away from what is loaded so far: fewer pages copied in each child
        if not self._pieces and not self.done:
            gc.collect()
            gc.freeze()
            self.done = True
        return self.done


def _warm_catalog() -> None:
    from runtime.entrypoint import warm_catalog

    warm_catalog()


def _exercise_table_io() -> None:
    """Write and read a one-row table once: pyarrow and pandas import more on first use than on import."""
    try:
        import pandas as pd

        from nodes.artifact_io import read_artifact, write_artifact
        from nodes.artifacts import ArtifactKind, Table

        uri = f"memory://pipecanvas-warm-up-{os.getpid()}.parquet"
        write_artifact(ArtifactKind.TABLE, Table(pd.DataFrame({"x": [1], "y": ["a"]}), target="y"), uri)
        read_artifact(ArtifactKind.TABLE, uri)
        import fsspec

        fsspec.filesystem("memory").rm(uri.split("://", 1)[1])
    except Exception:  # only an optimisation
        pass


def wait_for_exit(pids: list[int], timeout: float) -> None:
    """Block until one of ``pids`` exits or ``timeout`` passes (pidfds on Linux; a plain sleep elsewhere)."""
    import select
    import time

    if not pids or not hasattr(os, "pidfd_open"):
        time.sleep(timeout)
        return
    fds = []
    try:
        for pid in pids:
            try:
                fds.append(os.pidfd_open(pid))
            except OSError:  # already gone: nothing to wait for
                return
        select.select(fds, [], [], timeout)
    finally:
        for fd in fds:
            os.close(fd)


class ForkedStep:
    """The parent's handle on a forked step: ``pid`` and a ``poll()`` like ``subprocess.Popen``'s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -signal.SIGKILL  # reaped elsewhere: treat as killed
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)  # -N when killed by signal N
        return self.returncode


def fork_entrypoint(entrypoint_args: list[str], env: dict[str, str], log_path: str) -> ForkedStep:
    """Fork a child that runs ``runtime.entrypoint.main(entrypoint_args)`` with output to ``log_path``."""
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    return ForkedStep(fork_detached(lambda: _run_entrypoint(entrypoint_args), log_fd, env))


def fork_standby_entrypoint() -> Standby:
    """A step process forked now for a step to come: ``Standby.start(entrypoint_args, log_path, env)`` runs
    ``runtime.entrypoint.main(entrypoint_args)`` in it, as ``fork_entrypoint`` would in a fresh fork."""
    return fork_standby(_prepare_standby, _run_entrypoint)


def _prepare_standby() -> None:
    gc.disable()  # as _run_entrypoint does, before the round trip: its pages are this process's own from here on
    _exercise_table_io()


def _run_entrypoint(entrypoint_args: list[str]) -> int:
    gc.disable()  # a step is short-lived; collecting would touch (and copy) the parent's pages
    from runtime.entrypoint import main

    return main(entrypoint_args)
