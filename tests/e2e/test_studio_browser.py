"""The studio in a real browser: build the iris pipeline from the palette, run it, read its accuracy, save it.

Everything goes through what an analyst touches: palette items dragged onto
the canvas, handles dragged onto handles, the properties form, the Run
button, the node's Outputs tab and the Save YAML download. The canvas's test
hooks (``data-testid`` and ``window.__pipecanvas``) are only read. Screenshots
of each stage land in tests/e2e/artifacts/.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compiler import dump_pipeline, parse_pipeline, validate_pipeline
from nodes import default_catalog

from studio_page import Canvas, run_line, wait_until  # tests/support


RUN_TIMEOUT = 90.0

#: Where each node type is dropped, in pixels from the canvas pane's top-left corner: two columns, top to
#: bottom, inside the ~600 px the canvas has beside the node panel (a card is 228 px wide).
SPOTS = {
    "data.sample": (130, 110),
    "prepare.split": (130, 330),
    "train.classifier": (440, 110),
    "evaluate.classifier": (470, 340),
}
WIRES = [  # (from handle, to handle), as node.port on the canvas ids the palette gives
    ("data-sample.table", "prepare-split.table"),
    ("prepare-split.train", "train-classifier.train"),
    ("train-classifier.model", "evaluate-classifier.model"),
    ("prepare-split.test", "evaluate-classifier.test"),
]


def build_from_palette(canvas: Canvas) -> dict[str, str]:
    """Drop the four iris nodes at their spots; returns type -> node id."""
    ids = {}
    for node_type, spot in SPOTS.items():
        ids[node_type] = canvas.drop(node_type, spot)
        assert canvas.under(ids[node_type], spot), f"{node_type} did not appear where it was dropped"
    return ids


def yaml_view(page: Any) -> Any:
    """The sidebar's read-only YAML view, opened first when closed (it is drawn only while open)."""
    sidebar = page.get_by_test_id("stSidebar")
    code = sidebar.locator(".st-key-yaml-view code")  # the sidebar has other code (where runs keep results)
    if code.count() == 0:
        sidebar.get_by_text("YAML (read-only)").click()
        code.first.wait_for(state="attached")
    return code


def download_yaml(page: Any, tmp_path: Path, name: str) -> str:
    with page.expect_download() as download:
        page.get_by_role("button", name="Save YAML").click()
    path = tmp_path / name
    download.value.save_as(path)
    return path.read_text(encoding="utf-8")


def wait_for_states(canvas: Canvas, ids: list[str], state: str, watch: dict[str, Any],
                    on_change: Callable[[dict[str, str | None]], None] = lambda statuses: None,
                    ) -> list[dict[str, str | None]]:
    """Poll the status badges until every node shows ``state``, checking at each poll that nothing moved.

    ``watch`` holds the viewport and node positions from before the run; every status change must leave
    both exactly as they were. Returns the distinct status snapshots seen, in order.
    """
    seen: list[dict[str, str | None]] = []
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        statuses = {node_id: canvas.status(node_id) for node_id in ids}
        if not seen or statuses != seen[-1]:
            seen.append(statuses)
            assert canvas.viewport() == watch["viewport"], f"the viewport moved when the statuses became {statuses}"
            assert canvas.positions() == watch["positions"], f"nodes moved when the statuses became {statuses}"
            on_change(statuses)
        if all(value == state for value in statuses.values()):
            return seen
        assert "failed" not in statuses.values(), f"a step failed: {statuses}"
        assert time.monotonic() < deadline, f"not every node {state} after {RUN_TIMEOUT:.0f}s: {seen}"
        canvas.page.wait_for_timeout(200)


def test_build_run_and_save_the_iris_pipeline_from_the_palette(page, shot, tmp_path: Path) -> None:
    canvas = Canvas(page)
    assert canvas.nodes() == []
    shot("blank-canvas")

    ids = build_from_palette(canvas)
    assert list(ids.values()) == ["data-sample", "prepare-split", "train-classifier", "evaluate-classifier"]
    missing = page.get_by_test_id("errors-prepare-split")
    missing.wait_for()
    assert "input 'table'" in missing.get_attribute("title")
    assert page.get_by_role("button", name="▶ Run").is_disabled()
    shot("nodes-dropped-with-missing-inputs")

    for source, target in WIRES:
        canvas.connect(source, target)
        canvas.wait_for_edge(source, target)
    assert canvas.edges() == set(WIRES)
    for node_id in ids.values():  # the badges clear once Python has validated the connected pipeline
        page.get_by_test_id(f"errors-{node_id}").wait_for(state="detached")
    shot("connected")

    canvas.card("train-classifier").locator(".pc-node__title").click()
    trees = page.get_by_test_id("stNumberInput").filter(has_text="n estimators").locator("input")
    trees.fill("50")
    trees.press("Enter")
    yaml_view(page).filter(has_text="n_estimators: 50").wait_for(state="attached")
    run = page.get_by_role("button", name="▶ Run")
    assert run.is_enabled()
    shot("train-selected-with-50-trees")

    watch = {"viewport": canvas.settled(), "positions": canvas.positions()}
    run.click()
    seen = wait_for_states(canvas, list(ids.values()), "succeeded", watch)
    assert len(seen) >= 2, "the canvas never showed the run's progress"
    for node_id in ids.values():
        assert "Succeeded" in page.get_by_test_id(f"status-{node_id}").inner_text()
    run_line(page, "succeeded").wait_for()
    shot("run-succeeded")

    canvas.card("evaluate-classifier").locator(".pc-node__title").click()
    page.get_by_role("tab", name="Outputs").click()
    accuracy = page.get_by_test_id("stMetric").filter(has_text="accuracy").get_by_test_id("stMetricValue")
    accuracy.wait_for()
    assert float(accuracy.inner_text()) >= 0.9
    shot("evaluate-outputs")

    saved = download_yaml(page, tmp_path, "saved.yaml")
    loaded = parse_pipeline(saved)
    assert [d for d in validate_pipeline(loaded.pipeline, default_catalog(), loaded.source_map) if d.severity == "error"] == []
    pipeline = loaded.pipeline
    assert {(e.from_, e.to) for e in pipeline.spec.edges} == set(WIRES)
    assert {n.id: n.type for n in pipeline.spec.nodes} == {node_id: t for t, node_id in ids.items()}
    assert pipeline.node("train-classifier").params == {"n_estimators": 50}
    saved_positions = {n.id: (n.ui.x, n.ui.y) for n in pipeline.spec.nodes}
    assert saved_positions == {i: (round(x), round(y)) for i, (x, y) in canvas.positions().items()}  # saved to the pixel
    assert saved == dump_pipeline(pipeline)

    canvas.move("evaluate-classifier", (300, 420))  # change the canvas, then open the saved file over it
    canvas.card("train-classifier").locator(".pc-node__title").click()
    page.get_by_role("tab", name="Properties").click()
    trees.fill("70")
    trees.press("Enter")
    yaml_view(page).filter(has_text="n_estimators: 70").wait_for(state="attached")
    assert canvas.positions() != saved_positions
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(tmp_path / "saved.yaml")
    page.get_by_role("button", name="Replace", exact=True).click()  # the canvas changed since it was saved: asked first
    wait_until(lambda: canvas.positions() == saved_positions, "the canvas to show the reopened file")
    assert canvas.edges() == set(WIRES)
    # The canvas can show the file before the rerun that opened it has drawn the sidebar; "Save YAML" still
    # points at the file of 70 trees until then, which that rerun deletes (a CI run's download was canceled).
    yaml_view(page).filter(has_text="n_estimators: 50").wait_for(state="attached")
    assert download_yaml(page, tmp_path, "reopened.yaml") == saved
    shot("reopened-from-yaml")


def test_an_incompatible_connection_is_refused_and_says_why(page, shot) -> None:
    canvas = Canvas(page)
    build_from_palette(canvas)
    start, end = canvas.handle("train-classifier.model", "out"), canvas.handle("evaluate-classifier.test", "in")
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 40, steps=10)
    # While dragging from a model output, only the model input lights up.
    assert "pc-handle--ok" in page.get_by_test_id("handle-evaluate-classifier-in-model").get_attribute("class")
    assert "pc-handle--dim" in page.get_by_test_id("handle-evaluate-classifier-in-test").get_attribute("class")
    assert "pc-handle--dim" in page.get_by_test_id("handle-prepare-split-in-table").get_attribute("class")
    shot("dragging-from-a-model-output")
    page.mouse.move(*end, steps=10)
    page.mouse.up()
    toast = page.get_by_test_id("canvas-toast")
    toast.wait_for()
    assert "cannot feed" in toast.inner_text()
    assert "model" in toast.inner_text() and "table" in toast.inner_text()
    shot("refused")
    page.wait_for_timeout(500)
    assert canvas.edges() == set()
    assert "input 'test'" in page.get_by_test_id("errors-evaluate-classifier").get_attribute("title")


def test_status_updates_leave_a_zoomed_and_panned_view_alone_and_a_reload_keeps_the_run(page, shot) -> None:
    canvas = Canvas(page)
    page.get_by_label("New from the gallery").click()
    page.get_by_role("option", name="diabetes-regression.yaml").click()
    page.get_by_role("button", name="Create", exact=True).click()
    canvas.card("score-forest").wait_for()
    fitted = canvas.settled()
    page.get_by_role("button", name="Zoom In").click()
    canvas.settled()
    page.mouse.move(*canvas.point((120, 90)))  # zoom with ctrl+wheel off-centre: the view pans too
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    watch = {"viewport": canvas.settled(), "positions": canvas.positions()}
    assert watch["viewport"]["zoom"] > fitted["zoom"] and watch["viewport"]["x"] != fitted["x"]
    shot("zoomed-and-panned")

    page.get_by_role("button", name="▶ Run").click()
    shots: list[Path] = []

    def shoot_while_running(statuses: dict[str, str | None]) -> None:
        if not shots and "running" in statuses.values():
            shots.append(shot("running"))

    seen = wait_for_states(canvas, list(watch["positions"]), "succeeded", watch, shoot_while_running)
    assert any(any(state in ("queued", "running") for state in snapshot.values()) for snapshot in seen), (
        f"no status update was seen while the run went on: {json.dumps(seen)}")
    run_line(page, "succeeded").wait_for()
    assert canvas.viewport() == watch["viewport"] and canvas.positions() == watch["positions"]
    shot("run-finished-view-unchanged")

    # A reload is a new Streamlit session; the address names the run, so it comes back with its statuses.
    assert re.search(r"[?&]run=", page.url), f"the Build page's address does not name the run: {page.url}"
    page.reload()
    canvas.card("score-forest").wait_for()
    run_line(page, "succeeded").wait_for()
    for node_id in watch["positions"]:
        assert "Succeeded" in page.get_by_test_id(f"status-{node_id}").inner_text()
    assert canvas.positions() == watch["positions"]
    shot("reloaded-same-run")
