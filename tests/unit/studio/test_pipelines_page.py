"""The Pipelines page and the Build page's start, driven through Streamlit's AppTest.

An empty canvas is a start hint, not a problem; the Pipelines page lists drafts and saved pipelines and
renames and deletes drafts (deleting asks first). Opening one is covered in the browser
(tests/e2e/test_workspace_browser.py): it switches pages.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from compiler import dump_pipeline, read_pipeline_file
from runtime.run_store import open_store
from studio.problems import START_HINT

REPO_ROOT = Path(__file__).resolve().parents[3]
APP = str(REPO_ROOT / "studio" / "app.py")


def _pipelines_script() -> None:
    from studio.page_pipelines import pipelines_page

    pipelines_page()


def ran(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_empty_canvas_shows_how_to_start_and_no_problem(home) -> None:
    at = ran(AppTest.from_file(APP, default_timeout=60))
    assert any(START_HINT in info.value for info in at.info)
    assert not any("problem" in w.value.lower() for w in at.warning)
    assert not any("has no nodes yet" in m.value for m in at.markdown)
    run = at.button(key="run")
    assert run.disabled and run.help == "Add a node to the canvas first"


def test_drafts_are_listed_renamed_and_deleted_after_a_question(home) -> None:
    store = open_store(home)
    diabetes = read_pipeline_file(REPO_ROOT / "examples" / "diabetes-regression.yaml").pipeline
    store.save_draft("d-1", "diabetes-regression", dump_pipeline(diabetes))
    at = ran(AppTest.from_function(_pipelines_script, default_timeout=60))
    assert any("**diabetes-regression** :gray[(draft)]" in m.value for m in at.markdown)
    assert any("6 nodes · never run" in c.value for c in at.caption)

    at.text_input(key="rename-to-d-1").set_value("diabetes-ridge")
    at.button(key="rename-d-1").click()
    ran(at)
    assert store.get_draft("d-1").name == "diabetes-ridge"
    assert any("**diabetes-ridge**" in m.value for m in at.markdown)

    at.text_input(key="rename-to-d-1").set_value("Diabetes Ridge")
    at.button(key="rename-d-1").click()
    ran(at)
    assert any("cannot be a pipeline name" in e.value for e in at.error)
    assert store.get_draft("d-1").name == "diabetes-ridge"

    at.button(key="delete-d-1").click()
    ran(at)
    assert any("for good?" in w.value for w in at.warning) and store.get_draft("d-1") is not None
    at.button(key="delete-yes-d-1").click()
    ran(at)
    assert store.get_draft("d-1") is None
    assert any("No pipelines yet" in i.value for i in at.info)
