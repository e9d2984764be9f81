"""The local executor's standby: once the run process is warm, the next step's process is forked ahead of need.

What a user relies on: the next step starts in a process that was forked (and warmed) while the step before it
ran, yet behaves exactly like a freshly forked one (its own environment, its own log, its own attempt number),
and no such waiting process outlives its run, whether the run ends, fails or its process is killed.

Process start times come from /proc (``runtime.processes.process_start_time``, clock ticks since boot),
turned into wall-clock time with /proc/uptime, to 0.01 s.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from runtime.processes import process_alive, process_start_time


def _started_at_wall_clock(pid_start_ticks: int) -> float:
    booted = time.time() - float(Path("/proc/uptime").read_text().split()[0])
    return booted + pid_start_ticks / os.sysconf("SC_CLK_TCK")


def _children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def _standby_of(runs, run_id: str, running: str, wait_until) -> int:
    """The run process's child that is not one of the run's steps, while step ``running`` runs (its pid
    recorded first: between a step's fork and that record, the step itself would look like a spare child)."""
    wait_until(lambda: runs.store.step(run_id, running).pid, what=f"'{running}' to start")

    def find() -> int | None:
        run = runs.store.get_run(run_id)
        steps = {step.pid for step in runs.store.steps(run_id) if step.pid}
        return next(iter(_children_of(run.pid) - steps), None)

    return wait_until(find, timeout=20, what="the run process to fork a standby step process")


def test_once_warm_the_next_chain_step_starts_in_a_process_forked_while_the_one_before_ran(runs, store):
    pipeline = runs.pipeline(
        [{"id": "source", "type": "test.source"},
         {"id": "first", "type": "test.sleep", "params": {"seconds": 2.5}},  # the run process warms up meanwhile
         {"id": "second", "type": "test.sleep", "params": {"seconds": 0.5}},
         {"id": "third", "type": "test.sleep", "params": {"seconds": 0}}],
        [("source", "first"), ("first", "second"), ("second", "third")])

    run = runs.run(pipeline, max_parallel=1)

    assert run.state == "succeeded", runs.describe(run.id)
    assert store.metrics(run.id)["third"] == {"value": 3}
    for earlier, later in (("first", "second"), ("second", "third")):
        before, step = store.step(run.id, earlier), store.step(run.id, later)
        forked = _started_at_wall_clock(step.pid_start)
        assert forked < before.finished_at - 0.1, (
            f"'{later}' ran in a process forked {forked - before.finished_at:+.2f}s after '{earlier}' ended")
        assert step.started_at >= before.finished_at, f"'{later}' started before its input existed"
        log = Path(step.log_path).read_text()
        assert log.startswith(f"--- attempt 1 of step '{later}' ---") and "sleeping" in log, log


def test_a_step_started_in_a_standby_gets_its_own_attempt_number_for_a_retry(runs, store):
    """The retry of ``flaky`` starts in the standby forked while its first attempt ran (``last`` is still to
    come): only the environment handed over with the step tells it that it is attempt 2."""
    pipeline = runs.pipeline(
        [{"id": "source", "type": "test.source"},
         {"id": "first", "type": "test.sleep", "params": {"seconds": 2.5}},
         {"id": "flaky", "type": "test.flaky", "params": {"fail_times": 1}, "retries": 1},
         {"id": "last", "type": "test.sleep", "params": {"seconds": 0}}],
        [("source", "first"), ("first", "flaky"), ("flaky", "last")])

    run = runs.run(pipeline, max_parallel=1)

    assert run.state == "succeeded", runs.describe(run.id)
    assert store.metrics(run.id)["flaky"] == {"value": 2, "attempt": 2}
    assert "flaky failure on attempt 1" in Path(store.step(run.id, "flaky").log_path).read_text()


def _slow_then_after(runs, **slow_params: str):
    """source → slow (60 s unless stopped) → after: while ``slow`` runs, ``after`` is still to come."""
    return runs.pipeline(
        [{"id": "source", "type": "test.source"},
         {"id": "slow", "type": "test.sleep", "params": {"seconds": 60, **slow_params}},
         {"id": "after", "type": "test.sleep", "params": {"seconds": 0}}],
        [("source", "slow"), ("slow", "after")])


def test_a_standby_left_unused_is_gone_when_the_run_ends(runs, store, tmp_path, wait_until):
    """``after`` never starts (``slow`` is killed, so it is skipped): the process forked for it must not outlive
    the run, and the run must not wait for it."""
    pid_file = tmp_path / "slow.pid"
    run_id = runs.start(_slow_then_after(runs, pid_file=str(pid_file)), max_parallel=1)
    standby = _standby_of(runs, run_id, "slow", wait_until)
    wait_until(pid_file.exists, what="the slow step to start sleeping")

    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    run = runs.wait(run_id, timeout=30)

    assert run.state == "failed" and runs.states(run_id) == {"source": "succeeded", "slow": "failed", "after": "skipped"}
    assert not process_alive(standby), "the standby step process outlived its run"


def test_a_standby_goes_when_its_run_process_is_killed(runs, store, tmp_path, wait_until):
    release = tmp_path / "release"
    run_id = runs.start(_slow_then_after(runs, release_file=str(release)), max_parallel=1)
    standby = _standby_of(runs, run_id, "slow", wait_until)
    standby_start = process_start_time(standby)

    os.kill(store.get_run(run_id).pid, signal.SIGKILL)
    try:
        wait_until(lambda: process_start_time(standby) != standby_start, timeout=10,
                   what="the standby of a killed run process to exit by itself")
    finally:
        release.touch()  # the slow step, which outlives its run process by design, ends at once
