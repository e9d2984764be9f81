"""The Pipelines page's rows: drafts and saved (run) pipelines with name, last edit, node count, last run state;
renaming and deleting a draft; and nodes of a run that has not ended shown as queued."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import dump_pipeline
from runtime.run_store import NewStep, RunStore, open_store
from runtime.states import RunState, StepState
from studio.pipeline_list import RenameError, pipeline_rows, rename_draft


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunStore:
    monkeypatch.setenv("PIPECANVAS_HOME", str(tmp_path))
    return open_store(tmp_path)


def _run(store: RunStore, run_id: str, pipeline, state: RunState, **options) -> None:
    steps = [NewStep(n.id, n.type, f"key-{n.id}", {}, "img", {}, "/dev/null") for n in pipeline.spec.nodes]
    store.create_run(run_id, pipeline.metadata.name, dump_pipeline(pipeline), "plan: {}\n", "local", steps, options)
    if state != RunState.QUEUED:
        store.set_run_state(run_id, state)


def test_drafts_and_saved_pipelines_are_listed_with_what_an_analyst_looks_for(store, iris_doc, load_doc) -> None:
    iris = load_doc(iris_doc(name="iris-work")).pipeline
    store.save_draft("d-1", "iris-work", dump_pipeline(iris))
    store.save_draft("d-2", "scratch", "not: a pipeline\n")
    _run(store, "r-1", iris, RunState.FAILED)
    _run(store, "r-2", iris, RunState.SUCCEEDED, to="train")  # a "Run to here": newest, but not the saved version
    rows = pipeline_rows(store)
    assert [(row.kind, row.name) for row in rows] == [("draft", "scratch"), ("draft", "iris-work"), ("saved", "iris-work")]
    scratch, work, saved = rows
    assert scratch.nodes is None and scratch.last_run is None  # unreadable, never run: still listed
    assert work.nodes == 6 and work.last_run.id == "r-2" and work.last_run.state == RunState.SUCCEEDED
    assert (saved.id, saved.nodes, saved.last_run.id) == ("r-1", 6, "r-2")
    assert saved.pipeline().metadata.name == "iris-work"


def test_a_draft_is_renamed_in_its_yaml_too_and_a_bad_name_is_refused(store, iris_doc, load_doc) -> None:
    store.save_draft("d-1", "iris-work", dump_pipeline(load_doc(iris_doc(name="iris-work")).pipeline))
    rename_draft(store, "d-1", "iris-forest")
    draft = store.get_draft("d-1")
    assert draft.name == "iris-forest" and "name: iris-forest" in draft.pipeline_yaml
    with pytest.raises(RenameError, match="cannot be a pipeline name"):
        rename_draft(store, "d-1", "Iris Forest")
    assert store.delete_draft("d-1") and store.get_draft("d-1") is None
    assert not store.delete_draft("d-1")


def test_steps_waiting_in_a_run_that_has_not_ended_show_as_queued(store, iris_doc, load_doc) -> None:
    from studio.run_status import canvas_status

    iris = load_doc(iris_doc()).pipeline
    _run(store, "r-1", iris, RunState.QUEUED)  # Run was just pressed: no run process yet
    assert {value["state"] for value in canvas_status(store.get_run("r-1"), store.steps("r-1")).values()} == {"queued"}
    store.set_step("r-1", "load", StepState.RUNNING)
    store.set_run_state("r-1", RunState.CANCELLED)
    status = canvas_status(store.get_run("r-1"), store.steps("r-1"))
    assert status["load"]["state"] == "running" and status["split"]["state"] == "idle"
