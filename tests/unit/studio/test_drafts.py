"""Never lose work: every edit saved as a draft the address names, a derived name, and a question before replacing.

Driven through Streamlit's AppTest with the canvas's edits injected as the
browser sends them; a "reload" is a new AppTest (a new session) on the same
address.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from compiler import dump_pipeline, parse_pipeline, read_pipeline_file
from runtime.run_store import open_store
from studio.canvas import pipeline_to_graph
from studio.drafts import derive_name
from studio.session import BLANK_NAME, Studio

REPO_ROOT = Path(__file__).resolve().parents[3]
APP = str(REPO_ROOT / "studio" / "app.py")
IRIS_FILE = REPO_ROOT / "examples" / "iris-classifier.yaml"


def ran(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def fresh_app(draft: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if draft:
        at.query_params["draft"] = draft
    return ran(at)


def studio_of(at: AppTest) -> Studio:
    return at.session_state["studio"]


def drop(at: AppTest, node_type: str, node_id: str, stamp: str) -> AppTest:
    """Add a node as the canvas sends it after a drop."""
    graph = pipeline_to_graph(studio_of(at).pipeline)
    graph["nodes"].append({"id": node_id, "type": node_type, "position": {"x": 10, "y": 20}})
    at.session_state["canvas"] = {"graph": {**graph, "base_revision": studio_of(at).revision, "stamp": stamp}}
    return ran(at)


def test_the_store_keeps_drafts_newest_edit_first(home: Path) -> None:
    store = open_store(home)
    store.save_draft("d1", "first", "a: 1\n")
    store.save_draft("d2", "second", "b: 2\n")
    store.save_draft("d1", "first-renamed", "a: 3\n")
    assert [d.id for d in store.list_drafts()] == ["d1", "d2"]
    draft = store.get_draft("d1")
    assert (draft.name, draft.pipeline_yaml) == ("first-renamed", "a: 3\n") and draft.created_at <= draft.updated_at
    assert store.get_draft("nope") is None


def test_a_name_is_derived_from_the_data_and_what_it_trains() -> None:
    pipeline = read_pipeline_file(IRIS_FILE).pipeline
    assert derive_name(pipeline) == "iris-classifier"
    assert derive_name(pipeline, {"iris-classifier", "iris-classifier-2"}) == "iris-classifier-3"
    blank = Studio().pipeline
    assert derive_name(blank).startswith("pipeline-")


def test_every_edit_is_saved_as_a_draft_that_a_reload_brings_back(home: Path) -> None:
    at = fresh_app()
    assert at.query_params.get("draft") is None  # a blank canvas is not saved
    drop(at, "data.sample", "data-sample", "e1")
    s = studio_of(at)
    assert s.pipeline.metadata.name != BLANK_NAME and s.pipeline.metadata.name == "iris-pipeline"
    draft_id = at.query_params["draft"][0] if isinstance(at.query_params["draft"], list) else at.query_params["draft"]
    saved = open_store(home).get_draft(draft_id)
    assert saved is not None and "data-sample" in saved.pipeline_yaml and saved.name == "iris-pipeline"
    drop(at, "prepare.split", "prepare-split", "e2")
    assert "prepare-split" in open_store(home).get_draft(draft_id).pipeline_yaml  # the next edit too

    reloaded = fresh_app(draft=draft_id)  # a new session on the same address: a reload, a second tab, a restart
    again = studio_of(reloaded)
    assert [n.id for n in again.pipeline.spec.nodes] == ["data-sample", "prepare-split"]
    assert again.draft_id == draft_id and again.pipeline.metadata.name == "iris-pipeline"


def test_an_unknown_draft_in_the_address_says_so_and_starts_blank(home: Path) -> None:
    at = fresh_app(draft="20990101-000000-abcdef")
    assert not studio_of(at).pipeline.spec.nodes
    assert any("no draft" in e.value for e in at.error)


def test_replacing_a_canvas_with_unsaved_changes_asks_first(home: Path) -> None:
    at = fresh_app()
    drop(at, "data.sample", "data-sample", "e1")
    at.selectbox(key="gallery-choice").set_value("diabetes-regression.yaml")
    at.button(key="gallery-open").click()
    ran(at)
    s = studio_of(at)
    assert [n.id for n in s.pipeline.spec.nodes] == ["data-sample"]  # not replaced yet
    assert any("Replace the canvas with **diabetes-regression.yaml**" in w.value for w in at.warning)
    at.button(key="confirm-replace-no").click()
    ran(at)
    assert s.pending is None and [n.id for n in studio_of(at).pipeline.spec.nodes] == ["data-sample"]

    first_draft = studio_of(at).draft_id
    at.button(key="gallery-open").click()
    ran(at)
    at.button(key="confirm-replace-yes").click()
    ran(at)
    s = studio_of(at)
    assert s.pipeline.metadata.name == "diabetes-regression" and s.draft_id != first_draft
    assert open_store(home).get_draft(first_draft) is not None  # the replaced work is still a draft

    # An example just opened has no changes of its own: opening another one replaces it without asking.
    at.selectbox(key="gallery-choice").set_value("iris-classifier.yaml")
    at.button(key="gallery-open").click()
    ran(at)
    assert studio_of(at).pipeline.metadata.name == "iris-classifier" and studio_of(at).pending is None


def test_a_draft_opened_from_the_list_keeps_saving_to_itself(home: Path) -> None:
    store = open_store(home)
    text = IRIS_FILE.read_text(encoding="utf-8")
    store.save_draft("20260101-000000-aaaaaa", "iris-classifier", text)
    at = fresh_app()
    at.button(key="draft-open").click()
    ran(at)
    s = studio_of(at)
    assert s.draft_id == "20260101-000000-aaaaaa" and s.pipeline == parse_pipeline(text).pipeline


def test_opening_a_run_makes_no_draft_until_it_is_edited(home: Path) -> None:
    pipeline = read_pipeline_file(IRIS_FILE).pipeline
    store = open_store(home)
    store.create_run("r1", pipeline.metadata.name, dump_pipeline(pipeline), "plan: {}\n", "local", [])
    for _ in range(3):  # looked at three times, as reloads or from the Runs page
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params["run"] = "r1"
        ran(at)
        assert studio_of(at).run_id == "r1" and len(studio_of(at).pipeline.spec.nodes) == 6
    assert store.list_drafts() == []
    drop(at, "data.sample", "extra", "s1")
    (draft,) = store.list_drafts()
    assert "extra" in draft.pipeline_yaml
    assert at.query_params["draft"] in (draft.id, [draft.id])  # the address names it from then on
