"""A run store written by an older version opens, gains the step column this one records, and keeps its runs."""

from __future__ import annotations

import sqlite3

from runtime.run_store import NewStep, RunStore
from runtime.states import StepState


def test_an_older_store_gains_the_step_start_time_and_keeps_its_runs(tmp_path):
    path = tmp_path / "store.db"
    store = RunStore(path)
    store.create_run("old-run", "p", "yaml", "plan", "local", [NewStep("a", "t", "k", {}, "", {}, "a.log")])
    store.set_step("old-run", "a", StepState.RUNNING, pid=4242)
    store.close()
    with sqlite3.connect(path) as db:  # as a store from before start times were recorded
        db.execute("ALTER TABLE steps DROP COLUMN pid_start")

    upgraded = RunStore(path)

    old = upgraded.step("old-run", "a")
    assert old.pid == 4242 and old.pid_start is None and old.state == StepState.RUNNING
    upgraded.set_step("old-run", "a", StepState.RUNNING, pid=4243, pid_start=987654)
    assert upgraded.step("old-run", "a").pid_start == 987654
