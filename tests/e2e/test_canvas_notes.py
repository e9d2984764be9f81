"""Sticky notes on the canvas (issue 12): add, write, move, resize and delete one; it is saved in the pipeline
YAML's ``ui`` section, so it survives Save YAML → Open a YAML file and a reload.
"""

from __future__ import annotations

import re
from pathlib import Path

from compiler import parse_pipeline
from studio_page import Canvas, wait_until  # tests/support


TEXT = "Iris: 150 rows.\nCheck the split ratio."


def _notes(page) -> list[dict]:
    return page.evaluate("window.__pipecanvas.getNotes()")


def _saved_yaml(page, path: Path) -> str:
    with page.expect_download() as download:
        page.get_by_role("button", name="Save YAML").click()
    download.value.save_as(path)
    return path.read_text(encoding="utf-8")


def _drag(page, start: tuple[float, float], by: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + by[0], start[1] + by[1], steps=12)
    page.mouse.up()


def test_a_note_is_written_moved_resized_saved_reopened_reloaded_and_deleted(page, browser, shot, tmp_path) -> None:
    canvas = Canvas(page)
    canvas.drop("data.sample", (160, 120))
    page.get_by_test_id("canvas-add-note").click()
    (note,) = _notes(page)
    text = page.get_by_test_id(f"note-text-{note['id']}")
    text.wait_for()
    page.keyboard.type(TEXT)  # a new note opens for writing
    canvas.pane.click(position={"x": 20, "y": 20})  # done writing
    wait_until(lambda: _notes(page)[0]["text"] == TEXT, "the note's text")
    canvas.settled()

    card = page.get_by_test_id(f"note-{note['id']}")
    box = card.bounding_box()
    _drag(page, (box["x"] + 60, box["y"] + 30), (0, 160))
    wait_until(lambda: _notes(page)[0]["position"]["y"] > note["position"]["y"] + 100, "the note to move")
    canvas.settled()
    card.click()
    corner = page.locator(".react-flow__resize-control.handle.bottom.right").bounding_box()
    _drag(page, (corner["x"] + corner["width"] / 2, corner["y"] + corner["height"] / 2), (80, 40))
    wait_until(lambda: _notes(page)[0]["width"] > note["width"] + 50, "the note to grow")
    canvas.settled()
    shot("note-written-moved-resized")
    placed = _notes(page)[0]

    saved = _saved_yaml(page, tmp_path / "noted.yaml")
    (kept,) = parse_pipeline(saved).pipeline.ui.notes
    assert (kept.text, kept.x, kept.y, kept.width, kept.height) == (
        TEXT, placed["position"]["x"], placed["position"]["y"], placed["width"], placed["height"])

    wait_until(lambda: re.search(r"[?&]draft=", page.url), "the address to name the draft")
    page.reload()
    page.get_by_test_id(f"note-{note['id']}").wait_for()
    assert _notes(page) == [placed]
    assert page.get_by_test_id(f"note-{note['id']}").inner_text().strip() == TEXT

    other = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    try:
        other.goto(page.url.split("?")[0])
        other.get_by_test_id("palette-data.sample").wait_for()
        other.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(tmp_path / "noted.yaml")
        other.get_by_test_id(f"note-{note['id']}").wait_for()
        assert _notes(other) == [placed]
    finally:
        other.context.close()

    page.get_by_test_id(f"note-{note['id']}").click()
    page.keyboard.press("Delete")
    wait_until(lambda: _notes(page) == [], "the note to go")
    canvas.settled()
    assert parse_pipeline(_saved_yaml(page, tmp_path / "cleared.yaml")).pipeline.ui is None
