"""The studio as a workspace, in a real browser (issue 12, points 2–6 as they fall to this branch):

a Pipelines page with drafts and saved pipelines to open (asking first), rename and delete; "Run to here" runs a
node and its ancestors only, unchanged steps from the cache; Run marks the nodes queued at once; a node that
needs a package this machine lacks says so, with the command that fixes it; an empty canvas is a start hint,
not a problem, and the page counts problems once.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import time
from pathlib import Path

import pytest

from runtime.machine import gpu_count
from runtime.run_store import open_store
from studio_page import Canvas, form_node, open_example, run_line, wait_until  # tests/support


RUN_TIMEOUT_MS = 120_000
#: where the screenshots are also copied, to be looked at
SHOTS = Path("/tmp/shots-h12-state")

@pytest.fixture
def look(shot):
    """``look("stage")``: the ``shot`` fixture's screenshot, copied to /tmp/shots-h12-state/ as well."""

    def take(stage: str) -> Path:
        path = shot(stage)
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SHOTS / path.name)
        return path

    return take


def _select(canvas: Canvas, node_id: str) -> None:
    canvas.card(node_id).locator(".pc-node__title").click()
    wait_until(lambda: form_node(canvas.page) == node_id, f"the form of {node_id}")
    canvas.settled()


def _go(page, title: str) -> None:
    page.get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title, exact=True).wait_for() if title != "Build" else (
        page.get_by_test_id("palette-data.sample").wait_for())


def _states_until(canvas: Canvas, node_id: str, last: str, timeout: float = RUN_TIMEOUT_MS / 1000) -> list[str]:
    """Every state the node's badge shows, in turn, until it shows ``last``."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1] != last:
        assert time.monotonic() < deadline, f"{node_id} never showed {last}; it showed {seen}"
        state = canvas.status(node_id)
        if state and (not seen or seen[-1] != state):
            seen.append(state)
        canvas.page.wait_for_timeout(50)
    return seen


def _row(page, text: str):
    """The Pipelines page's rows (one bordered box each, keyed ``pipeline-<kind>-<id>``) holding ``text``."""
    return page.locator("div[class*='st-key-pipeline-']").filter(has_text=text)


def _run_id(page) -> str | None:
    line = page.get_by_test_id("stAlert").filter(has_text=re.compile(r"^Run \S+: "))
    match = re.match(r"Run (\S+):", line.first.inner_text()) if line.count() else None
    return match.group(1) if match else None


def test_the_pipelines_page_lists_drafts_to_rename_open_after_asking_and_delete(page, look) -> None:
    canvas = Canvas(page)
    open_example(page, "diabetes-regression.yaml")
    canvas.card("score-forest").wait_for()
    canvas.settled()
    page.mouse.move(900, 5)  # the Create button's tooltip would cover the gallery's dropdown
    page.wait_for_timeout(300)
    open_example(page, "blank canvas")  # nothing changed since it was opened: no question
    page.get_by_text("Drag a node from the palette onto the canvas to start").wait_for()
    canvas.drop("data.sample", (200, 160))
    wait_until(lambda: "draft=" in page.url, "the new pipeline to be saved as a draft")

    _go(page, "Pipelines")
    diabetes = _row(page, "diabetes-regression")
    iris = _row(page, "iris-pipeline")
    diabetes.first.wait_for()
    assert "6 nodes" in diabetes.first.inner_text() and "never run" in diabetes.first.inner_text()
    assert "on the canvas" in iris.first.inner_text() and "1 node" in iris.first.inner_text()
    assert iris.first.get_by_role("button", name="Delete").is_disabled()  # it would be saved again at the next edit
    look("pipelines-page")

    diabetes.first.get_by_role("button", name="Rename").click()
    page.locator("input[aria-label='New name']:visible").fill("diabetes-ridge")
    page.locator("button:visible", has_text="Save name").click()
    renamed = _row(page, "diabetes-ridge")
    renamed.first.wait_for()
    page.keyboard.press("Escape")
    renamed.first.get_by_role("button", name="Open").click()  # the canvas holds an unsaved iris-pipeline
    question = page.get_by_text(re.compile(r"Replace the canvas with draft diabetes-ridge\?"))
    question.wait_for()
    page.get_by_role("button", name="Keep editing").wait_for()
    look("open-asks-first")
    page.get_by_role("button", name="Replace", exact=True).click()
    canvas.card("score-forest").wait_for()
    assert page.get_by_role("textbox", name="Pipeline name").input_value() == "diabetes-ridge"

    _go(page, "Pipelines")
    iris = _row(page, "iris-pipeline")
    iris.first.get_by_role("button", name="Delete").click()
    page.get_by_text("Delete the draft iris-pipeline for good?").wait_for()
    page.get_by_role("button", name="Delete draft").click()
    iris.first.wait_for(state="detached")
    assert page.get_by_text("diabetes-ridge").count()
    look("draft-deleted")


def test_run_to_here_runs_the_node_and_its_ancestors_and_run_marks_nodes_queued_at_once(
        page, look, studio_home: Path) -> None:
    canvas = Canvas(page)
    open_example(page, "diabetes-regression.yaml")
    canvas.card("score-forest").wait_for()
    canvas.settled()
    _select(canvas, "ridge")
    page.get_by_role("button", name="Run to here").click()
    run_line(page, "succeeded").wait_for(timeout=RUN_TIMEOUT_MS)
    first = _run_id(page)
    for node_id in ("load", "split", "ridge"):
        assert canvas.status_once(node_id, "succeeded") == "succeeded"
    assert canvas.status("forest") in (None, "idle") and canvas.status("score-ridge") in (None, "idle")
    look("run-to-here")
    store = open_store(studio_home)
    try:
        assert {s.step_id for s in store.steps(first)} == {"load", "split", "ridge"}
        assert store.get_run(first).options["to"] == "ridge"
    finally:
        store.close()

    page.get_by_role("button", name="▶ Run", exact=True).click()
    seen = _states_until(canvas, "score-forest", "succeeded")
    # From the click on, the last node said it would run (queued) until it did; never "idle" once queued.
    assert "queued" in seen and "idle" not in seen[seen.index("queued"):], seen
    assert seen.index("queued") < seen.index("running") if "running" in seen else True, seen
    run_line(page, "succeeded").wait_for(timeout=RUN_TIMEOUT_MS)
    store = open_store(studio_home)
    try:
        states = {s.step_id: s.state.value for s in store.steps(_run_id(page))}
    finally:
        store.close()
    assert states["load"] == states["split"] == states["ridge"] == "cached"  # from the "Run to here"
    assert states["forest"] == states["score-forest"] == "succeeded"

    _go(page, "Pipelines")
    saved = _row(page, "(saved)")
    saved.first.wait_for()
    assert "diabetes-regression" in saved.first.inner_text() and "last run succeeded" in saved.first.inner_text()
    look("pipelines-with-a-saved-one")


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="PyTorch is installed here")
def test_a_node_needing_a_missing_package_says_so_with_the_fix_and_run_is_disabled(page, look) -> None:
    canvas = Canvas(page)
    open_example(page, "iris-mlp-gpu.yaml")
    canvas.card("network").wait_for()
    canvas.settled()
    page.get_by_test_id("errors-network").wait_for()
    assert "pip install 'pipecanvas[gpu]'" in page.get_by_test_id("errors-network").get_attribute("title")
    page.get_by_role("button", name=re.compile(r"needs PyTorch, which is not installed on this machine")).wait_for()
    assert page.get_by_role("button", name="▶ Run", exact=True).is_disabled()
    _select(canvas, "network")
    where = "Runs on a GPU here" if gpu_count() else "Runs on the CPU here: this machine has no GPU"
    page.get_by_text(where).wait_for()
    assert page.get_by_test_id("stCode").filter(has_text="pip install 'pipecanvas[gpu]'").count() == 1  # to copy
    assert page.get_by_role("button", name="Run to here").is_disabled()
    look("needs-pytorch")


def test_an_empty_canvas_is_a_start_hint_and_problems_are_counted_once(page, look) -> None:
    page.get_by_text("Drag a node from the palette onto the canvas to start").wait_for()
    assert page.get_by_text(re.compile(r"problem|has no nodes yet")).count() == 0
    look("empty-canvas")
    canvas = Canvas(page)
    canvas.drop("train.classifier", (300, 200))
    canvas.drop("evaluate.classifier", (700, 200))  # two unconnected inputs: more than one problem
    page.get_by_text(re.compile(r"Run is disabled: fix the errors")).wait_for()
    said = re.search(r"listed beside the canvas \((.+)\)", page.get_by_text(re.compile(r"Run is disabled: ")).inner_text())
    listed = re.search(r"Problems: (.+)", page.get_by_text(re.compile(r"^Problems: ")).inner_text())
    assert said and listed and said.group(1) == listed.group(1).strip(), (said, listed)
    # The list reads as a list: each problem as wide as the panel, its text from the left (not centred).
    boxes = page.locator("div[class*='st-key-problem-'] button").evaluate_all("""(buttons) => buttons
      .filter((b) => b.getBoundingClientRect().width > 0).map((b) => {
        const range = document.createRange();
        range.selectNodeContents(b.querySelector('p'));
        const text = range.getBoundingClientRect(), box = b.getBoundingClientRect();
        return {width: box.width, indent: text.left - box.left};
    })""")
    assert len(boxes) >= 2 and max(b["width"] for b in boxes) - min(b["width"] for b in boxes) < 2, boxes
    assert all(b["indent"] < 60 for b in boxes), boxes
    look("one-problem-count")
