"""Run a function in a forked child that is a process of its own: its own session, its output in a log.

Two places fork instead of starting a new interpreter, to skip the interpreter's start and its imports:
the local executor forks each step from the warm run process (``executors.warm_fork``), and
``start_run`` forks the run process from the caller that compiled the plan (``run_launch``). Both children
are set up here, the same way, so they behave like the processes they stand for: a new session (a
terminal's Ctrl-C or a ``killpg`` of the parent's group does not reach them), stdin from /dev/null,
stdout and stderr on the log, default signal handlers, the given environment, and an exit with the
function's return code that never runs the parent's ``atexit`` handlers or returns into its code.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from typing import Callable, Mapping

__all__ = ["fork_available", "fork_detached"]


def fork_available() -> bool:
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def fork_detached(target: Callable[[], int], log_fd: int, env: Mapping[str, str] | None = None, *,
                  outlive_parent: bool = False) -> int:
    """Fork a child that runs ``target()`` set up as the module docstring says; return the child's pid.

    ``log_fd`` is closed in the parent, whether the fork succeeded or raised ``OSError``.
    ``outlive_parent`` forks twice, so that the process is not this one's to reap: it can outlive this
    process, and never lingers as this process's zombie after it ends (which would look alive to
    ``process_alive``). The pid returned is then the grandchild's.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    if not outlive_parent:
        try:
            pid = os.fork()
        except OSError:
            os.close(log_fd)
            raise
        if pid == 0:
            _run_child(target, log_fd, env)
        os.close(log_fd)
        return pid
    read_end, write_end = os.pipe()
    try:
        middle = os.fork()
    except OSError:
        for fd in (read_end, write_end, log_fd):
            os.close(fd)
        raise
    if middle == 0:  # the middle process: start the real child, say its pid, leave
        try:
            os.close(read_end)
            pid = os.fork()
            if pid == 0:
                os.close(write_end)
                _run_child(target, log_fd, env)
            os.write(write_end, str(pid).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    os.close(log_fd)
    os.waitpid(middle, 0)
    with os.fdopen(read_end, "rb") as answer:
        said = answer.read()
    if not said.isdigit():
        raise OSError("the forked process did not start")
    return int(said)


def _run_child(target: Callable[[], int], log_fd: int, env: Mapping[str, str] | None) -> None:
    code = 1
    try:
        os.setsid()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(devnull)
        os.close(log_fd)
        # the parent's sys.stdout may be anything (a test's capture, a console): write to the log itself
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        code = target()
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
