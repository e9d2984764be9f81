"""The Build page as an editor, at 1280×720: the panel beside the canvas, the wheel pans and ctrl+wheel zooms,
fit view stays readable, a drop lands under the pointer without moving the view, a paste lands clear of cards,
and the palette finds algorithms by the names analysts type.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from studio_page import Canvas, open_example, wait_until  # tests/support

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(),
        reason="the browser tests drive Debian's chromium (/usr/bin/chromium): `apt-get install chromium` (.ci/run does)",
    ),
]
pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is a dev extra: pip install -e '.[dev]'")

READABLE_ZOOM = 0.65  # Canvas.tsx


@pytest.fixture
def small_page(page):
    page.set_viewport_size({"width": 1280, "height": 720})
    return page


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_the_canvas_is_an_editor(small_page, shot) -> None:
    page = small_page
    canvas = Canvas(page)
    before = canvas.settled()
    canvas.drop("data.sample", (160, 140))
    assert canvas.under("data-sample", (160, 140)) and canvas.viewport() == before  # the first drop stays put

    open_example(page, "diabetes-regression.yaml")
    page.get_by_role("button", name="Replace", exact=True).click()
    canvas.card("score-forest").wait_for()
    fitted = canvas.settled()
    assert fitted["zoom"] >= READABLE_ZOOM - 1e-9

    canvas.card("ridge").locator(".pc-node__title").click()
    canvas.settled()
    tabs = page.get_by_role("tab", name="Properties").bounding_box()
    flow = page.get_by_test_id("pipecanvas").bounding_box()
    assert tabs["x"] >= flow["x"] + flow["width"] - 1, "the properties panel is not beside the canvas"
    assert tabs["y"] < flow["y"] + flow["height"] / 2
    assert flow["y"] + flow["height"] <= 720 + 1, "the canvas does not fit in the window"
    shot("editor-1280x720")

    page.mouse.move(*canvas.point((300, 200)))
    page.mouse.wheel(0, 120)
    panned = canvas.settled()
    assert panned["zoom"] == fitted["zoom"] and panned["y"] != fitted["y"]  # the wheel pans
    page.keyboard.down("Control")
    page.mouse.wheel(0, -120)
    page.keyboard.up("Control")
    zoomed = canvas.settled()
    assert zoomed["zoom"] > panned["zoom"]  # ctrl+wheel zooms

    canvas.card("split").locator(".pc-node__title").click()
    canvas.settled()
    before = set(canvas.positions())
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    wait_until(lambda: len(canvas.positions()) == len(before) + 1, "the pasted card")
    (pasted,) = set(canvas.positions()) - before
    canvas.settled()
    mine = canvas.card(pasted).bounding_box()
    for node_id in before:
        assert not _overlap(mine, canvas.card(node_id).bounding_box()), f"the paste lies on {node_id}"


def test_the_palette_finds_algorithms_by_name(page) -> None:
    search = page.get_by_test_id("palette-search")
    for word, expected in [("forest", "palette-train.regressor"), ("xgboost", "palette-train.classifier"),
                           ("regression", "palette-train.regressor")]:
        search.fill(word)
        page.get_by_test_id(expected).wait_for()
    search.fill("xgboost")
    assert page.get_by_test_id("palette-data.sample").count() == 0
