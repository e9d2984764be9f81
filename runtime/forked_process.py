"""Run a function in a forked child that is a process of its own: its own session, its output in a log.

Two places fork instead of starting a new interpreter, to skip the interpreter's start and its imports:
the local executor forks each step from the warm run process (``executors.warm_fork``), and
``start_run`` forks the run process from the caller that compiled the plan (``run_launch``). Both children
are set up here, the same way, so they behave like the processes they stand for: a new session (a
terminal's Ctrl-C or a ``killpg`` of the parent's group does not reach them), stdin from /dev/null,
stdout and stderr on the log, default signal handlers, the given environment, and an exit with the
function's return code that never runs the parent's ``atexit`` handlers or returns into its code.

A child can also be forked ahead of need (``fork_standby``): it sets itself up the same way, warms
itself, and waits for its work, so that starting it later costs a few bytes through a pipe instead of
a fork on the critical path.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import traceback
from typing import Any, Callable, Mapping

__all__ = ["fork_available", "fork_detached", "fork_standby", "Standby"]


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
    def work() -> int:
        _output_to(log_fd)
        if env is not None:
            _replace_environment(env)
        return target()

    _own_process_then_exit(work)


def _own_process_then_exit(work: Callable[[], int]) -> None:
    """In a fresh child: its own session, default signal handlers and stdin from /dev/null, then ``work()``;
    exit with its code (a traceback goes to the child's stderr), never returning into the parent's code."""
    code = 1
    try:
        os.setsid()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        code = work()
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


def _output_to(log_fd: int) -> None:
    """stdout and stderr on ``log_fd`` (which is closed), at the file descriptors and in ``sys``."""
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    # the parent's sys.stdout may be anything (a test's capture, a console): write to the log itself
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)


def _replace_environment(env: Mapping[str, str]) -> None:
    os.environ.clear()
    os.environ.update(env)


# -- a child forked ahead of need ---------------------------------------------------------------------

#: how often a waiting standby checks that its parent is still there (a parent killed with SIGKILL cannot say so)
_PARENT_CHECK_SECONDS = 1.0


class Standby:
    """The parent's handle on a child that waits for its work: its ``pid``, ``start`` and ``discard``.

    It is the parent's own child (reaped by the parent's ``waitpid``), in its own session from the start.
    """

    def __init__(self, pid: int, work_fd: int) -> None:
        self.pid = pid
        self._work_fd = work_fd

    def start(self, args: list[str], log_path: str, env: Mapping[str, str]) -> bool:
        """Hand the child its work: ``target(args)`` with its output appended to ``log_path`` and ``env`` as
        its environment. False when the child is gone (reaped here), so the caller starts the work otherwise."""
        message = json.dumps({"args": args, "log": log_path, "env": dict(env)}).encode() + b"\n"
        try:
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                return False
            os.write(self._work_fd, message)  # one line; a pipe holds 64 KiB, and the child reads as it comes
            return True
        except (ChildProcessError, BrokenPipeError):
            return False
        finally:
            self._close()

    def discard(self) -> None:
        """Stop the child unused and reap it."""
        self._close()
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass

    def _close(self) -> None:
        if self._work_fd >= 0:
            os.close(self._work_fd)
            self._work_fd = -1


def fork_standby(prepare: Callable[[], object], target: Callable[[list[str]], int]) -> Standby:
    """Fork a child that sets itself up as ``fork_detached``'s do, runs ``prepare()`` (what the work will touch,
    so its pages are the child's own before the work starts), then waits for ``Standby.start``.

    The wait ends without work when the parent closes its end or is gone: children forked later hold a copy of
    the pipe's writing end, so a parent killed with SIGKILL is noticed by the child's parent changing.
    Output before the work goes to /dev/null. Raises ``OSError`` when no process can be forked.
    """
    read_end, write_end = os.pipe()
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:
        os.close(write_end)
        _own_process_then_exit(lambda: _standby_work(read_end, parent, prepare, target))
    os.close(read_end)
    return Standby(pid, write_end)


def _standby_work(read_end: int, parent: int, prepare: Callable[[], object],
                  target: Callable[[list[str]], int]) -> int:
    quiet = os.open(os.devnull, os.O_WRONLY)
    _output_to(quiet)
    try:
        prepare()
    except Exception:  # only an optimisation: the work does the same itself
        pass
    message = _await_work(read_end, parent)
    if message is None:
        return 0
    _output_to(os.open(message["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
    _replace_environment(message["env"])
    return target(message["args"])


def _await_work(read_end: int, parent: int) -> dict[str, Any] | None:
    """The one line ``Standby.start`` writes, or None when the parent closed its end or is gone."""
    received = b""
    while not received.endswith(b"\n"):
        ready, _, _ = select.select([read_end], [], [], _PARENT_CHECK_SECONDS)
        if not ready:
            if os.getppid() != parent:
                return None
            continue
        chunk = os.read(read_end, 65536)
        if not chunk:
            return None
        received += chunk
    os.close(read_end)
    return json.loads(received)
