"""Run-store writes while another process holds the write lock: waited out, and past the bound a clear error.

The per-attempt wait (SQLite's busy timeout) and the bound are settings, so these
tests hold a lock for several attempts' worth without taking minutes. Nothing
here asserts a duration: each test asserts what was recorded.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from runtime.processes import process_alive
from runtime.run_store import BUSY_TIMEOUT_ENV, WRITE_WAIT_ENV, NewStep, RunStore, StoreBusyError
from runtime.states import RunState


@contextmanager
def _write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """The store's write lock, held by another connection as a slow writer elsewhere would hold it."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield holder
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()


def _create(store: RunStore, run_id: str) -> None:
    store.create_run(run_id, "demo", "yaml", "plan", "local",
                     [NewStep("a", "test.source", "k", {}, "img", {}, "/logs/a.log")], {})


def test_a_write_waits_out_a_lock_held_past_the_busy_timeout(tmp_path):
    store = RunStore(tmp_path / "store.db", busy_timeout=0.05, write_wait=60)
    _create(store, "r1")
    with _write_lock(store.path) as holder:
        releaser = threading.Timer(0.5, holder.execute, ("ROLLBACK",))  # after about ten 0.05 s attempts
        releaser.start()
        store.set_run_state("r1", RunState.RUNNING, pid=1)
        releaser.join()

    assert store.get_run("r1").state == RunState.RUNNING
    assert [e.state for e in store.events("r1")] == ["queued", "running"]


def test_past_the_bound_a_write_fails_with_a_message_naming_the_store_and_the_setting(tmp_path):
    store = RunStore(tmp_path / "store.db", busy_timeout=0.05, write_wait=0.3)
    _create(store, "r1")

    with _write_lock(store.path):
        with pytest.raises(StoreBusyError) as caught:
            store.set_run_state("r1", RunState.RUNNING, pid=1)

    message = str(caught.value)
    assert f"the run store {store.path} stayed locked by another process for more than 0.3s" in message
    assert WRITE_WAIT_ENV in message
    assert store.get_run("r1").state == RunState.QUEUED  # nothing half-recorded
    store.set_run_state("r1", RunState.RUNNING, pid=1)  # and the store works again once the lock is gone
    assert store.get_run("r1").state == RunState.RUNNING


def test_the_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "0.25")
    monkeypatch.setenv(WRITE_WAIT_ENV, "7")
    store = RunStore(tmp_path / "store.db")

    assert (store.busy_timeout, store.write_wait) == (0.25, 7.0)
    assert store._conn().execute("PRAGMA busy_timeout").fetchone()[0] == 250


def test_a_run_whose_store_stays_locked_past_the_bound_never_records_its_step_as_unreadable(
        runs, store, home, tmp_path, monkeypatch, wait_until):
    """The run process gives up with the store's own reason, which its lost run then shows."""
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "0.1")
    monkeypatch.setenv(WRITE_WAIT_ENV, "1")
    release = tmp_path / "release"
    pipeline = runs.pipeline([{"id": "nap", "type": "test.sleep", "params": {"seconds": 60, "release_file": str(release)}}])
    run_id = runs.start(pipeline)
    runs.wait_for_step(run_id, "nap", "running")
    run_pid = store.get_run(run_id).pid

    with _write_lock(home / "store.db"):
        release.touch()
        wait_until(lambda: not process_alive(run_pid), 60, "the run process to give up on the locked store")

    run = runs.wait(run_id)
    assert run.state == RunState.LOST, runs.describe(run_id)
    assert "stayed locked by another process for more than 1s" in run.error, run.error
    assert not any("could not be read" in (e.detail or "") for e in runs.events(run_id)), runs.describe(run_id)
    assert "Traceback" not in (home / "runs" / run_id / "run.log").read_text()
    assert runs.resume(run_id).state == RunState.SUCCEEDED  # and nothing stops a resume once the lock is gone
