"""The Build page as an editor (issue 12, point 1): the canvas fills the window with the node's panel beside it;
the wheel pans and ctrl+wheel zooms; fit view stays readable; drops land under the pointer, pastes clear of other
cards; the palette finds nodes by algorithm and other names.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from compiler import Pipeline, dump_pipeline

from studio_page import Canvas, form_node, open_example, wait_until  # tests/support


#: The least zoom a fit view may leave (placement.ts READABLE_ZOOM): card titles at 9.5 px or more.
READABLE_ZOOM = 0.7
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _benchmark_yaml() -> str:
    """The 250-node pipeline ``benchmarks/canvas.py`` draws (benchmarks/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("canvas_benchmark", REPO_ROOT / "benchmarks" / "canvas.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return dump_pipeline(Pipeline.model_validate(bench.pipeline_document()))


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


@pytest.mark.parametrize("size", [(1280, 720), (1600, 1000), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_panel_is_beside_the_canvas_which_fills_the_window(browser, studio_url: str, size) -> None:
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(studio_url)
        page.get_by_test_id("palette-data.sample").wait_for()
        canvas = Canvas(page)
        open_example(page, "iris-classifier.yaml")
        canvas.card("split").wait_for()
        canvas.settled()
        canvas.card("split").locator(".pc-node__title").click()  # in view at every size (fit from the start)
        wait_until(lambda: form_node(page) == "split", "the form of the clicked node")
        canvas.settled()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"layout-{width}x{height}.png"))
        flow = page.locator(".react-flow").first.bounding_box()
        panel = page.locator(".st-key-side-panel").bounding_box()
        properties = page.get_by_role("tab", name="Properties").bounding_box()
        # Beside: right of the canvas, starting level with it; not below it.
        assert panel["x"] >= flow["x"] + flow["width"] - 1, (flow, panel)
        assert abs(panel["y"] - flow["y"]) < 40 and properties["y"] < flow["y"] + flow["height"] / 2, (flow, panel)
        # The canvas reaches the bottom of the window, and the page does not scroll.
        assert height - 40 <= flow["y"] + flow["height"] <= height, (flow, height)
        assert page.get_by_test_id("pipecanvas").bounding_box()["width"] >= 0.45 * width  # palette included
        assert canvas.viewport()["zoom"] >= READABLE_ZOOM
        assert _cards_under_the_toolbar(page) == [], "a fitted view puts cards under the canvas toolbar"
    finally:
        context.close()


@pytest.mark.parametrize("size", [(800, 600), (900, 700), (1024, 700), (1280, 720)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_run_buttons_show_their_whole_label(browser, studio_url: str, size) -> None:
    """At 1024 pixels with the sidebar open the bar's buttons read "▶ …", "Ca…", "Re…" (Streamlit cuts a label
    that does not fit with an ellipsis); an analyst must see which button is which. 800 pixels is a 1280-pixel
    laptop screen at 160% zoom, with the sidebar still open."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    try:
        page = context.new_page()
        page.goto(studio_url)
        page.get_by_test_id("palette-data.sample").wait_for()
        labels = page.evaluate("""() => ['run', 'cancel', 'resume'].map(key => {
            const label = document.querySelector(`.st-key-${key} button [data-testid="stMarkdownContainer"]`);
            return [label.innerText, label.scrollWidth <= label.clientWidth];
        })""")
        assert labels == [["▶ Run", True], ["Cancel", True], ["Resume", True]], labels
    finally:
        context.close()


def test_the_wheel_pans_and_ctrl_wheel_zooms(page, shot) -> None:
    canvas = Canvas(page)
    open_example(page, "iris-classifier.yaml")
    canvas.card("train").wait_for()
    before = canvas.settled()
    page.mouse.move(*canvas.point((200, 200)))
    page.mouse.wheel(0, 150)
    down = canvas.settled()
    assert down["zoom"] == before["zoom"] and down["y"] < before["y"] and down["x"] == before["x"], (before, down)
    page.mouse.wheel(150, 0)
    across = canvas.settled()
    assert across["zoom"] == before["zoom"] and across["x"] < down["x"], (down, across)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -150)
    page.keyboard.up("Control")
    zoomed = canvas.settled()
    assert zoomed["zoom"] > across["zoom"], (across, zoomed)
    shot("panned-and-zoomed")


def test_fit_view_keeps_the_250_node_pipeline_readable(page, shot) -> None:
    canvas = Canvas(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        {"name": "canvas-bench.yaml", "mimeType": "application/x-yaml", "buffer": _benchmark_yaml().encode()})
    page.wait_for_function("window.__pipecanvas.getNodes().length === 250")
    opened = canvas.settled()
    assert opened["zoom"] >= READABLE_ZOOM
    page.keyboard.down("Control")
    page.mouse.move(*canvas.point((300, 300)))
    page.mouse.wheel(0, 600)  # zoomed far out
    page.keyboard.up("Control")
    assert canvas.settled()["zoom"] < READABLE_ZOOM
    page.get_by_test_id("canvas-fit").click()
    fitted = canvas.settled()
    assert fitted["zoom"] >= READABLE_ZOOM, fitted
    # Shown from its start: the first branch's first card is in view.
    flow = page.locator(".react-flow").first.bounding_box()
    first = canvas.card("load-00").bounding_box()
    assert flow["x"] <= first["x"] and first["x"] + first["width"] <= flow["x"] + flow["width"]
    assert page.get_by_role("img", name="Minimap").count() or page.locator(".react-flow__minimap").count()
    assert _cards_under_the_toolbar(page) == [], "the start of the pipeline is shown under the canvas toolbar"
    shot("fitted-250-nodes")


def _cards_under_the_toolbar(page) -> list[str]:
    """The ids of the cards whose box meets the floating toolbar's (undo, Note, Auto-layout, Fit view)."""
    return page.locator(".react-flow__node").evaluate_all("""(cards) => {
        const bar = document.querySelector('[data-testid="stBidiComponentIsolated"]')
            ? [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
                .map((h) => h.shadowRoot && h.shadowRoot.querySelector('.pc-toolbar')).find(Boolean)
            : document.querySelector('.pc-toolbar');
        const t = bar.getBoundingClientRect();
        return cards.filter((c) => {
            const r = c.getBoundingClientRect();
            return r.width > 0 && r.left < t.right && r.right > t.left && r.top < t.bottom && r.bottom > t.top;
        }).map((c) => c.dataset.id);
    }""")


def test_a_drop_lands_under_the_pointer_and_the_first_one_leaves_the_view_alone(page, shot) -> None:
    canvas = Canvas(page)
    empty = canvas.settled()
    for node_type, spot in (("data.sample", (160, 140)), ("prepare.split", (430, 260))):
        node_id = canvas.drop(node_type, spot)
        view = canvas.viewport()
        assert view == empty, "a drop moved the view"
        box = canvas.card(node_id).bounding_box()
        x, y = canvas.point(spot)
        # The card's header (110 x 24 canvas units in from its top-left corner) is where the pointer let go.
        assert abs(box["x"] + 110 * view["zoom"] - x) <= 3 and abs(box["y"] + 24 * view["zoom"] - y) <= 3, (box, x, y)
    shot("dropped")


def test_a_paste_lands_offset_and_clear_of_every_card(page, shot) -> None:
    canvas = Canvas(page)
    open_example(page, "iris-classifier.yaml")
    canvas.card("train").wait_for()
    canvas.settled()
    canvas.card("split").locator(".pc-node__title").click()
    canvas.settled()
    original = set(canvas.positions())
    before = set(original)
    for _ in range(2):  # the second paste must clear the first
        page.keyboard.press("Control+c")
        page.keyboard.press("Control+v")
        wait_until(lambda: len(canvas.positions()) > len(before), "the pasted card")
        canvas.settled()
        before = set(canvas.positions())
    pasted = sorted(set(canvas.positions()) - original)
    assert len(pasted) == 2
    boxes = {n["id"]: canvas.card(n["id"]).bounding_box() for n in canvas.nodes()}
    for node_id in pasted:
        assert canvas.positions()[node_id] != canvas.positions()["split"]
        for other, box in boxes.items():
            assert other == node_id or not _overlap(boxes[node_id], box), f"{node_id} covers {other}"
    shot("pasted-twice")


@pytest.mark.parametrize(("word", "found"), [
    ("forest", {"train.classifier", "train.regressor"}),
    ("regression", {"train.regressor", "evaluate.regressor"}),
    ("xgboost", {"train.classifier", "train.regressor"}),
    ("boosting", {"train.classifier", "train.regressor"}),
    ("tree", {"train.classifier", "train.regressor"}),
    ("csv", {"data.file"}),
    ("score", {"evaluate.classifier", "evaluate.regressor", "predict.table"}),
])
def test_palette_search_finds_nodes_by_algorithm_and_other_names(page, word: str, found: set[str]) -> None:
    page.get_by_test_id("palette-search").fill(word)
    items = page.locator(".pc-palette__item")
    wait_until(lambda: items.count() < 15, "the palette to filter")
    shown = {items.nth(i).get_attribute("data-testid").removeprefix("palette-") for i in range(items.count())}
    assert found <= shown, f"{word!r} shows {sorted(shown)}"
    assert "deploy.endpoint" not in shown


def _inside(card: dict[str, float], flow: dict[str, float]) -> bool:
    return flow["x"] <= card["x"] and card["x"] + card["width"] <= flow["x"] + flow["width"] and \
        flow["y"] <= card["y"] and card["y"] + card["height"] <= flow["y"] + flow["height"]


def test_a_problem_clicked_in_the_panel_brings_its_node_into_sight(browser, studio_url: str) -> None:
    """At 1280x720 the iris pipeline is wider than the pane at a readable zoom, so the trainer starts off the
    right edge; clicking its problem selects it, pans until the whole card shows, and leaves the zoom alone."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.goto(studio_url)
        page.get_by_test_id("palette-data.sample").wait_for()
        canvas = Canvas(page)
        text = (REPO_ROOT / "examples" / "iris-classifier.yaml").read_text(encoding="utf-8")
        bad = text.replace("n_estimators: 200", "n_estimators: -5")
        assert bad != text
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            {"name": "iris-bad.yaml", "mimeType": "application/x-yaml", "buffer": bad.encode()})
        canvas.card("train").wait_for(state="attached")
        before = canvas.settled()
        flow = page.locator(".react-flow").first.bounding_box()
        assert not _inside(canvas.card("train").bounding_box(), flow), "the trainer was in sight already"

        page.get_by_role("button", name=re.compile(r"node 'train': param 'n_estimators' must be ≥ 1")).first.click()
        wait_until(lambda: form_node(page) == "train", "the trainer's form")
        after = canvas.settled()

        assert canvas.highlighted() == {"train"}
        assert _inside(canvas.card("train").bounding_box(), page.locator(".react-flow").first.bounding_box())
        assert after["zoom"] == before["zoom"], (before, after)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "problem-brought-into-sight-1280x720.png"))
    finally:
        context.close()
