"""What a user relies on when a pipeline runs on this machine, read back from the run store.

Every test starts real runs (a run process, one process per step) of tiny
pipelines made of the test node types in ``tests/support``. Order and overlap
are judged from the event times the store recorded, never from how long the
test took.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from runtime.processes import process_alive
from runtime.runs import cancel_run, reap_lost, resume_run
from studio.cli import main as cli_main


def _source(node_id: str = "source") -> dict:
    return {"id": node_id, "type": "test.source"}


def _sleep(node_id: str, seconds: float, **fields) -> dict:
    params = {"seconds": seconds, **{k: str(v) for k, v in fields.pop("files", {}).items()}}
    return {"id": node_id, "type": "test.sleep", "params": params, **fields}


# ---- scheduling -----------------------------------------------------------------------------------


def _fan_out(runs):
    return runs.pipeline([_source(), _sleep("left", 1.5), _sleep("right", 1.5)],
                         [("source", "left"), ("source", "right")])


def test_fan_out_branches_run_at_the_same_time(runs):
    run = runs.run(_fan_out(runs), max_parallel=2)

    assert run.state == "succeeded", runs.describe(run.id)
    left, right = runs.running_interval(run.id, "left"), runs.running_interval(run.id, "right")
    assert left[0] < right[1] and right[0] < left[1], f"no overlap: left {left}, right {right}"
    source_done = runs.running_interval(run.id, "source")[1]
    assert min(left[0], right[0]) >= source_done, "a branch started before its input existed"


def test_max_parallel_one_runs_branches_one_after_another(runs):
    run = runs.run(_fan_out(runs), max_parallel=1)

    assert run.state == "succeeded", runs.describe(run.id)
    first, second = sorted([runs.running_interval(run.id, "left"), runs.running_interval(run.id, "right")])
    assert first[1] <= second[0], f"branches overlapped: {first}, {second}"


# ---- cache ----------------------------------------------------------------------------------------


def _chain(runs, nap_seconds: float):
    return runs.pipeline([_source(), _sleep("nap", nap_seconds), _sleep("tail", 0)],
                         [("source", "nap"), ("nap", "tail")], name="chain")


def test_identical_run_reuses_every_step_without_starting_a_process(runs, store):
    first = runs.run(_chain(runs, 0.2))
    second = runs.run(_chain(runs, 0.2))

    assert (first.state, second.state) == ("succeeded", "succeeded"), runs.describe(second.id)
    for step in store.steps(second.id):
        assert step.state == "cached" and step.cached_from == first.id, step
        assert step.attempt == 0 and step.pid is None, step
        assert "running" not in runs.step_states(second.id, step.step_id)
        assert not Path(step.log_path).exists(), f"{step.step_id} wrote a log, so a process ran"
    assert store.metrics(second.id) == store.metrics(first.id) == {"source": {"value": 0}, "nap": {"value": 1},
                                                                   "tail": {"value": 2}}


def test_no_cache_runs_every_step_again(runs, store):
    runs.run(_chain(runs, 0.2))
    again = runs.run(_chain(runs, 0.2), use_cache=False)

    assert again.state == "succeeded"
    for step in store.steps(again.id):
        assert step.state == "succeeded" and step.attempt == 1 and step.cached_from is None, step
        assert step.reason == "cache disabled (--no-cache)"
        assert runs.step_states(again.id, step.step_id) == ["queued", "running", "succeeded"]


def test_changed_param_reruns_that_step_and_its_dependents_and_says_why(runs, store):
    first = runs.run(_chain(runs, 0.2))
    second = runs.run(_chain(runs, 0.3))

    assert second.state == "succeeded", runs.describe(second.id)
    assert runs.states(second.id) == {"source": "cached", "nap": "succeeded", "tail": "succeeded"}
    assert store.step(second.id, "source").cached_from == first.id
    assert store.step(second.id, "nap").reason == "param 'seconds' changed 0.2 → 0.3"
    assert "'nap' ran again" in store.step(second.id, "tail").reason
    assert store.metrics(second.id)["tail"] == {"value": 2}


# ---- retries and timeouts -------------------------------------------------------------------------


def _flaky(runs, fail_times: int, retries: int):
    return runs.pipeline([{"id": "flaky", "type": "test.flaky", "params": {"fail_times": fail_times},
                           "retries": retries}])


def test_a_failing_step_is_retried_until_it_succeeds(runs, store):
    run = runs.run(_flaky(runs, fail_times=2, retries=2))

    assert run.state == "succeeded", runs.describe(run.id)
    step = store.step(run.id, "flaky")
    assert step.attempt == 3 and step.error is None and step.exit_code == 0
    assert runs.step_states(run.id, "flaky") == ["queued", "running", "retrying"] * 2 + ["queued", "running", "succeeded"]
    assert [e.attempt for e in runs.events(run.id, "flaky") if e.state == "running"] == [1, 2, 3]
    retried = [e.detail for e in runs.events(run.id, "flaky") if e.state == "retrying"]
    assert "attempt 1 of 3 failed" in retried[0] and "flaky failure on attempt 1" in retried[0]
    assert store.metrics(run.id)["flaky"]["attempt"] == 3
    assert Path(step.log_path).read_text().count("--- attempt") == 3


def test_a_step_that_keeps_failing_fails_after_its_retries(runs, store):
    run = runs.run(_flaky(runs, fail_times=2, retries=1))

    assert run.state == "failed"
    step = store.step(run.id, "flaky")
    assert step.state == "failed" and step.attempt == 2 and step.exit_code == 1
    assert runs.step_states(run.id, "flaky").count("retrying") == 1
    assert "flaky failure on attempt 2" in step.error
    assert f"pipecanvas resume {run.id}" in run.error


def test_resume_gives_a_failed_step_its_retries_again(runs, store):
    run = runs.run(_flaky(runs, fail_times=3, retries=1))
    assert run.state == "failed" and store.step(run.id, "flaky").attempt == 2

    resumed = runs.resume(run.id)

    assert resumed.state == "succeeded"
    step = store.step(run.id, "flaky")
    assert step.attempt == 4  # attempt 3 failed, and was retried once more as the node's retries allow
    assert runs.step_states(run.id, "flaky").count("retrying") == 2


def test_bad_input_is_not_retried_and_skips_downstream(runs, store):
    pipeline = runs.pipeline([{"id": "bad", "type": "test.bad_input", "retries": 3}, _sleep("after", 0)],
                             [("bad", "after")])
    run = runs.run(pipeline)

    assert run.state == "failed"
    step = store.step(run.id, "bad")
    assert step.attempt == 1 and step.exit_code == 3
    assert "retrying" not in runs.step_states(run.id, "bad")
    assert step.error == "node 'bad': target column 'price' is not in the table; columns are: a, b"
    assert runs.states(run.id)["after"] == "skipped"


def test_timeout_kills_the_step_and_skips_its_dependents(runs, store):
    pipeline = runs.pipeline([_source(), _sleep("slow", 30, timeout="2s"), _sleep("after", 0)],
                             [("source", "slow"), ("slow", "after")])
    run = runs.run(pipeline, timeout=30)  # the step alone would sleep 30 s

    assert run.state == "failed"
    slow = store.step(run.id, "slow")
    assert slow.state == "failed" and "timed out after 2s" in slow.error, slow
    assert slow.signal is not None, "the step ended on its own instead of being stopped"
    started = next(e.at for e in runs.events(run.id, "slow") if e.state == "running")
    failed = next(e.at for e in runs.events(run.id, "slow") if e.state == "failed")
    assert failed - started < 15, "the step was not stopped at its timeout"
    assert runs.states(run.id)["after"] == "skipped"


# ---- killed processes, resume, cancel -------------------------------------------------------------


def _long_chain(runs, tmp_path: Path):
    """source → slow (sleeps until released) → after, and an independent branch that succeeds."""
    files = {"pid_file": tmp_path / "slow.pid", "release_file": tmp_path / "release"}
    return runs.pipeline(
        [_source(), _sleep("slow", 60, files=files), _sleep("after", 0), _sleep("other", 0)],
        [("source", "slow"), ("slow", "after"), ("source", "other")],
    )


def _pid_of_sleeping_step(tmp_path: Path, wait_until) -> int:
    pid_file = tmp_path / "slow.pid"
    wait_until(pid_file.exists, what="the slow step to start sleeping")
    return int(pid_file.read_text())


def test_kill_9_of_a_step_fails_it_skips_dependents_and_resume_finishes_the_run(runs, store, tmp_path, wait_until):
    run_id = runs.start(_long_chain(runs, tmp_path), max_parallel=2)
    pid = _pid_of_sleeping_step(tmp_path, wait_until)
    wait_until(lambda: store.step(run_id, "slow").pid == pid, timeout=10, what="the step's pid in the store")
    said = Path(store.step(run_id, "slow").log_path)  # it writes its pid file first, then logs
    wait_until(lambda: "sleeping 60.0s" in said.read_text(), timeout=10, what="the step to log that it sleeps")

    os.kill(pid, signal.SIGKILL)
    run = runs.wait(run_id, timeout=30)

    assert run.state == "failed"
    slow = store.step(run_id, "slow")
    assert slow.state == "failed" and slow.signal == "SIGKILL" and "SIGKILL" in slow.error, slow
    assert runs.states(run_id) == {"source": "succeeded", "slow": "failed", "after": "skipped", "other": "succeeded"}
    log = Path(slow.log_path)
    assert log.exists() and "sleeping 60.0s" in log.read_text()

    (tmp_path / "release").touch()
    before = runs.events(run_id)[-1].id
    resumed = runs.resume(run_id)

    assert resumed.state == "succeeded", runs.describe(run_id)
    attempts = {step.step_id: step.attempt for step in store.steps(run_id)}
    assert attempts == {"source": 1, "slow": 2, "after": 1, "other": 1}
    rerun = {e.step_id for e in store.events(run_id, after_id=before) if e.state == "running" and e.step_id}
    assert rerun == {"slow", "after"}
    assert store.metrics(run_id)["after"] == {"value": 2}


@pytest.mark.parametrize(("launch", "run_launch"), [("fork", "fork"), ("spawn", "fork"), ("fork", "spawn")])
def test_killed_run_process_is_detected_as_lost_and_can_be_resumed(launch, run_launch, runs, store, tmp_path, wait_until,
                                                                   capsys, monkeypatch):
    """Step processes outlive their run process however either was started (the run process forked from
    the caller or a fresh interpreter; each step forked from it or spawned); resume must stop them."""
    monkeypatch.setenv("PIPECANVAS_LOCAL_LAUNCH", launch)
    monkeypatch.setenv("PIPECANVAS_RUN_LAUNCH", run_launch)
    run_id = runs.start(_long_chain(runs, tmp_path), max_parallel=2)
    orphan = _pid_of_sleeping_step(tmp_path, wait_until)
    wait_until(lambda: store.step(run_id, "slow").pid == orphan, timeout=10, what="the step's pid in the store")

    os.kill(store.get_run(run_id).pid, signal.SIGKILL)
    wait_until(lambda: reap_lost(store) or store.get_run(run_id).finished, timeout=20, what="the run to be reaped")

    assert store.get_run(run_id).state == "lost"
    slow = store.step(run_id, "slow")
    assert slow.state == "failed" and "run process stopped" in slow.error
    assert cli_main(["runs"]) == 0
    assert "lost" in capsys.readouterr().out
    assert cli_main(["show", run_id[:-2]]) == 0
    assert "stopped without finishing" in capsys.readouterr().out

    resume_run(run_id, store=store, home=runs.home)
    wait_until(lambda: not process_alive(orphan), timeout=20, what="resume to stop the step the lost run left running")
    (tmp_path / "release").touch()
    resumed = runs.wait(run_id)

    assert resumed.state == "succeeded", runs.describe(run_id)
    assert set(runs.states(run_id).values()) == {"succeeded"}
    assert store.step(run_id, "slow").attempt == 2


def test_cancel_stops_the_running_step_and_its_process_group(runs, store, tmp_path, wait_until):
    run_id = runs.start(_long_chain(runs, tmp_path), max_parallel=1)
    pid = _pid_of_sleeping_step(tmp_path, wait_until)

    cancel_run(run_id, store=store)
    run = runs.wait(run_id, timeout=20)

    assert run.state == "cancelled"
    states = runs.states(run_id)
    assert states["source"] == "succeeded" and states["slow"] == "cancelled" and states["after"] == "cancelled"
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


def test_cancel_right_after_start_cancels_the_run(runs, tmp_path):
    """As when Ctrl-C comes before the run process has even started its first step."""
    run_id = runs.start(_long_chain(runs, tmp_path), max_parallel=1)

    cancel_run(run_id, store=runs.store)
    run = runs.wait(run_id, timeout=30)

    assert run.state == "cancelled", runs.describe(run_id)
    assert "succeeded" not in {runs.states(run_id)["slow"], runs.states(run_id)["after"]}


# ---- many runs at once ----------------------------------------------------------------------------


def test_twenty_runs_started_at_once_all_finish_with_every_event(runs, store, home):
    pipeline = runs.pipeline([_source(), _sleep("tail", 0)], [("source", "tail")], name="many")
    run_ids = [runs.start(pipeline, max_parallel=1, use_cache=False) for _ in range(20)]
    finished = [runs.wait(run_id, timeout=180) for run_id in run_ids]

    assert [run.state for run in finished] == ["succeeded"] * 20, [runs.describe(r.id) for r in finished
                                                                    if r.state != "succeeded"][:1]
    for run_id in run_ids:
        assert [e.state for e in runs.events(run_id) if e.step_id is None] == ["queued", "running", "succeeded"]
        for step_id in ("source", "tail"):
            assert runs.step_states(run_id, step_id) == ["queued", "running", "succeeded"], runs.describe(run_id)
        assert store.metrics(run_id)["tail"] == {"value": 1}
        run_log = (home / "runs" / run_id / "run.log").read_text()
        assert "database is locked" not in run_log and "Traceback" not in run_log



def test_a_caller_with_other_threads_starts_the_run_in_a_fresh_interpreter(runs, store, tmp_path, wait_until):
    """Forking a process with other threads (the studio's server) could leave a lock held in the child
    forever, so such a caller's run process is ``python -m runtime.run_process``; the run works the same."""
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        run_id = runs.start(_long_chain(runs, tmp_path), max_parallel=2)
    finally:
        stop.set()
        other.join()
    _pid_of_sleeping_step(tmp_path, wait_until)
    argv = Path(f"/proc/{store.get_run(run_id).pid}/cmdline").read_bytes().split(b"\0")
    assert b"runtime.run_process" in argv and run_id.encode() in argv
    (tmp_path / "release").touch()
    assert runs.wait(run_id).state == "succeeded", runs.describe(run_id)
