"""The run store on its own: what readers can count on, whatever process wrote the rows."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from runtime.run_store import NewStep, RunStore
from runtime.states import RunState, StepState


@pytest.fixture
def db(tmp_path: Path) -> RunStore:
    store = RunStore(tmp_path / "store.db")
    yield store
    store.close()


def _create(db: RunStore, run_id: str, keys: dict[str, str], pipeline: str = "demo") -> None:
    steps = [NewStep(step_id, "test.sleep", key, {"seconds": 1}, "img", {}, f"/logs/{step_id}.log")
             for step_id, key in keys.items()]
    db.create_run(run_id, pipeline, "yaml", "plan", "local", steps, {"max_parallel": 1})


def _finish(db: RunStore, run_id: str, step_id: str, state: StepState = StepState.SUCCEEDED, **fields) -> None:
    db.set_step(run_id, step_id, StepState.QUEUED, attempt=1)
    db.set_step(run_id, step_id, state, **fields)


def test_store_file_is_in_wal_mode(db):
    with sqlite3.connect(db.path) as other:  # a reader that did not set it up sees it too
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_events_come_back_in_the_order_they_happened(db):
    _create(db, "r1", {"a": "k1", "b": "k2"})
    db.set_run_state("r1", RunState.RUNNING, pid=123)
    for step_id in ("a", "b"):
        db.set_step("r1", step_id, StepState.QUEUED, attempt=1)
        db.set_step("r1", step_id, StepState.RUNNING, pid=456)
        db.set_step("r1", step_id, StepState.SUCCEEDED, exit_code=0)
    db.set_run_state("r1", RunState.SUCCEEDED)

    events = db.events("r1")
    assert [(e.step_id, e.state) for e in events] == [
        (None, "queued"), (None, "running"),
        ("a", "queued"), ("a", "running"), ("a", "succeeded"),
        ("b", "queued"), ("b", "running"), ("b", "succeeded"),
        (None, "succeeded"),
    ]
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert all(e.attempt == 1 for e in events if e.step_id)
    assert [e.state for e in db.events("r1", after_id=events[-2].id)] == ["succeeded"]


def test_concurrent_writers_lose_no_event(db, tmp_path):
    _create(db, "r1", {f"s{i}": f"k{i}" for i in range(8)})

    def write(step_id: str) -> None:
        store = RunStore(tmp_path / "store.db")  # a connection of its own, like another process
        for attempt in range(1, 26):
            store.set_step("r1", step_id, StepState.RETRYING, attempt=attempt)
        store.close()

    threads = [threading.Thread(target=write, args=(f"s{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    step_events = [e for e in db.events("r1") if e.step_id]
    assert len(step_events) == 8 * 25
    for i in range(8):
        assert [e.attempt for e in step_events if e.step_id == f"s{i}"] == list(range(1, 26))


def test_find_cached_returns_only_real_executions_with_the_same_key(db):
    _create(db, "first", {"a": "same"})
    _finish(db, "first", "a")
    _create(db, "reuse", {"a": "same"})
    _finish(db, "reuse", "a", StepState.CACHED, cached_from="first")
    _create(db, "other", {"a": "different"})
    _finish(db, "other", "a")
    _create(db, "broken", {"a": "same"})
    _finish(db, "broken", "a", StepState.FAILED)

    hit = db.find_cached("same")
    assert hit is not None and hit.run_id == "first"
    assert db.find_cached("same", exclude_run="first") is None  # the cached copy and the failure do not count
    assert db.find_cached("unknown") is None


def test_mark_lost_ends_only_unfinished_runs(db):
    _create(db, "done", {"a": "k1"})
    _finish(db, "done", "a")
    db.set_run_state("done", RunState.SUCCEEDED)
    _create(db, "dying", {"a": "k1", "b": "k2", "c": "k3"})
    db.set_run_state("dying", RunState.RUNNING, pid=99)
    _finish(db, "dying", "a")
    db.set_step("dying", "b", StepState.RUNNING, attempt=1, pid=100)

    db.mark_lost("done", "should not matter")
    db.mark_lost("dying", "the run process stopped")

    assert db.get_run("done").state == RunState.SUCCEEDED and db.get_run("done").error is None
    assert [e.state for e in db.events("done") if e.step_id is None][-1] == "succeeded"
    dying = db.get_run("dying")
    assert dying.state == RunState.LOST and dying.finished_at is not None and dying.error == "the run process stopped"
    steps = {s.step_id: s for s in db.steps("dying")}
    assert steps["a"].state == StepState.SUCCEEDED
    assert steps["b"].state == StepState.FAILED and "stopped while this step was running" in steps["b"].error
    assert steps["b"].pid == 100, "resume needs the pid to stop a step process that outlived its run"
    assert steps["c"].state == StepState.PENDING


def test_requeue_puts_a_finished_run_back_once(db):
    _create(db, "r1", {"a": "k1"})
    db.set_run_state("r1", RunState.RUNNING, pid=99)
    db.set_run_state("r1", RunState.FAILED, error="1 step(s) did not succeed")

    assert db.requeue_run("r1") is True
    run = db.get_run("r1")
    assert run.state == RunState.QUEUED and not run.finished and run.pid is None and run.error is None
    assert db.requeue_run("r1") is False  # a second resume while the first is starting
    db.set_run_pid("r1", 1234)
    db.set_run_pid("r1", 5678)  # only the first process recorded counts
    assert db.get_run("r1").pid == 1234


def test_previous_success_finds_the_same_pipelines_last_good_step(db):
    _create(db, "old", {"a": "k1"}, pipeline="demo")
    _finish(db, "old", "a", finished_at=1.0)
    _create(db, "elsewhere", {"a": "k1"}, pipeline="another")
    _finish(db, "elsewhere", "a", finished_at=2.0)
    _create(db, "now", {"a": "k2"}, pipeline="demo")

    assert db.previous_success("demo", "a", exclude_run="now").run_id == "old"
    assert db.previous_success("demo", "b", exclude_run="now") is None


_FORK_AND_LEAVE = """
import os, sys, time
from pathlib import Path
from runtime.run_store import RunStore

path = Path(sys.argv[1])
parent = RunStore(path)
parent.save_draft("before", "before", "kind: Pipeline")  # this process holds a connection when it forks
parent_pid = os.getpid()
if os.fork() == 0:  # the child outlives this process, as a run process outlives `pipecanvas run --detach`
    child = RunStore(path)
    child.save_draft("child-early", "early", "kind: Pipeline")
    while os.getppid() == parent_pid:  # until the parent has exited (and closed its connection)
        time.sleep(0.01)
    child.save_draft("child-late", "late", "kind: Pipeline")
    (path.parent / "child-done").write_text("ok")
    os._exit(0)
parent.save_draft("parent-after", "after", "kind: Pipeline")
"""


def test_a_forked_child_that_outlives_its_parent_keeps_its_writes(tmp_path: Path, wait_until):
    """A store connection held across a fork made the child's later writes vanish once the parent exited
    (SQLite deleted the WAL they went to): a detached run finished, and the store still said "running"."""
    import os
    import subprocess
    import sys

    path = tmp_path / "store.db"
    script = tmp_path / "fork_and_leave.py"
    script.write_text(_FORK_AND_LEAVE, encoding="utf-8")
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(script), str(path)], cwd=repo, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(repo)})
    assert done.returncode == 0
    wait_until((tmp_path / "child-done").exists, timeout=30, what="the child's last write")
    assert {draft.id for draft in RunStore(path).list_drafts()} == {"before", "parent-after", "child-early", "child-late"}
