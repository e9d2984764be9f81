"""Never lose work, in a real browser: the first drop is saved as a draft the address names; a second tab (or a
reload, or a restarted studio: a new session either way) opens it; replacing the canvas asks first.
"""

from __future__ import annotations

import re

from studio_page import Canvas, open_example, wait_until  # tests/support


def test_an_edit_is_a_draft_a_second_tab_opens_and_replacing_it_asks_first(page, browser, shot) -> None:
    canvas = Canvas(page)
    canvas.drop("data.sample", (200, 160))
    canvas.drop("prepare.split", (500, 160))
    wait_until(lambda: re.search(r"[?&]draft=", page.url), "the address to name the draft")
    name = page.get_by_role("textbox", name="Pipeline name")
    assert name.input_value() == "iris-pipeline"  # derived from the data, not "my-pipeline"
    address = page.url

    other = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    try:
        other.goto(address)
        second = Canvas(other)
        second.card("prepare-split").wait_for()
        assert set(second.positions()) == {"data-sample", "prepare-split"}
        assert second.positions() == canvas.positions()
        assert other.get_by_role("textbox", name="Pipeline name").input_value() == "iris-pipeline"
    finally:
        other.context.close()

    open_example(page, "diabetes-regression.yaml")
    question = page.get_by_text(re.compile(r"Replace the canvas with diabetes-regression\.yaml\?"))
    question.wait_for()
    shot("asks-before-replacing")
    page.get_by_role("button", name="Keep editing").click()
    question.wait_for(state="detached")
    assert set(canvas.positions()) == {"data-sample", "prepare-split"}
    open_example(page, "diabetes-regression.yaml")
    page.get_by_role("button", name="Replace", exact=True).click()
    canvas.card("score-forest").wait_for()
    assert page.get_by_role("textbox", name="Pipeline name").input_value() == "diabetes-regression"
