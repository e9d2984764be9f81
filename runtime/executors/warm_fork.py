"""Start a step by forking a warm process instead of starting a new interpreter.

A fresh ``python -m runtime.entrypoint`` spends most of a second importing
pandas, pyarrow, pydantic and the node catalog before it does any work. The
local executor's parent process imports those once (``preload``) and forks a
child per step. The child is still its own process in its own session — a
crash, ``kill -9`` or timeout affects that step only — and runs exactly the
same entrypoint function with exactly the plan's argv, as a Kubernetes pod does.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback

__all__ = ["PRELOAD_MODULES", "preload", "ForkedStep", "fork_entrypoint", "fork_available"]

#: modules almost every step needs; importing them in the parent makes each step start in milliseconds
PRELOAD_MODULES = (
    "pandas",
    "pyarrow.parquet",
    "fsspec",
    "skops.io",
    "sklearn.base",
    "sklearn.pipeline",
    "sklearn.compose",
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.metrics",
    "nodes.artifact_io",
    "nodes.builtin",
    "compiler.plan",
    "runtime.entrypoint",
)


def fork_available() -> bool:
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def preload(modules: tuple[str, ...] = PRELOAD_MODULES) -> list[str]:
    """Import ``modules`` now; return the ones that could not be imported (they load in each step)."""
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:
            missing.append(name)
    from runtime.entrypoint import warm_catalog

    warm_catalog()
    return missing


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
    sys.stdout.flush()
    sys.stderr.flush()
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    pid = os.fork()
    if pid:
        os.close(log_fd)
        return ForkedStep(pid)
    _run_child(entrypoint_args, env, log_fd)  # never returns


def _run_child(entrypoint_args: list[str], env: dict[str, str], log_fd: int) -> None:
    code = 1
    try:
        os.setsid()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.environ.clear()
        os.environ.update(env)
        from runtime.entrypoint import main

        code = main(entrypoint_args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
