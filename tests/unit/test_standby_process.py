"""``fork_standby``: a child forked ahead of need does its work as a freshly forked one would, or is replaced."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from runtime.forked_process import fork_standby


def test_a_standby_does_its_work_in_its_own_session_with_the_environment_and_log_it_is_handed(tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    log.write_text("--- header ---\n")

    def work(args: list[str]) -> int:
        print("args", args, "env", dict(os.environ), "own session", os.getsid(0) == os.getpid())
        return 7

    standby = fork_standby(lambda: print("warming up"), work)  # before the work: /dev/null, not the log
    big = "x" * 200_000  # more than a pipe holds at once: the child reads while the parent writes
    assert standby.start(["--step", "a"], str(log), {"ONLY": "this", "BIG": big}) is True

    _, status = os.waitpid(standby.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 7
    said = log.read_text()
    assert said.startswith("--- header ---\nargs ['--step', 'a'] env {'ONLY': 'this', 'BIG': 'xxx")
    assert said.endswith("'} own session True\n") and "warming up" not in said


def test_a_standby_that_died_while_waiting_says_so_and_is_reaped(tmp_path: Path) -> None:
    standby = fork_standby(lambda: None, lambda args: 0)
    os.kill(standby.pid, signal.SIGKILL)
    os.waitid(os.P_PID, standby.pid, os.WEXITED | os.WNOWAIT)  # dead, not reaped yet

    assert standby.start(["--step", "a"], str(tmp_path / "step.log"), {}) is False
    assert not (tmp_path / "step.log").exists()
    try:
        os.waitpid(standby.pid, os.WNOHANG)
        reaped = False
    except ChildProcessError:
        reaped = True
    assert reaped, "start() left the dead standby as a zombie"


def test_a_discarded_standby_is_stopped_and_reaped() -> None:
    standby = fork_standby(lambda: None, lambda args: 0)
    standby.discard()
    try:
        os.kill(standby.pid, 0)
        gone = False
    except ProcessLookupError:
        gone = True
    assert gone
