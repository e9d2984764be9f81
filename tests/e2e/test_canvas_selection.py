"""Selection is what you see: the highlighted cards are the ones the form shows and the ones Delete removes.

Issue 9, point 3: from the second click on, the canvas highlighted the node
clicked before while the form showed the one just clicked, and Delete removed
the highlighted one. Every check here waits for the page's rerun to finish
(the stale highlight came with it) before comparing the three.
"""

from __future__ import annotations

from studio_page import Canvas, form_node, open_example, wait_until  # tests/support


DIABETES = ["load", "split", "ridge", "forest", "score-ridge", "score-forest"]


def _open_diabetes(page) -> Canvas:
    canvas = Canvas(page)
    open_example(page, "diabetes-regression.yaml")
    canvas.card("score-forest").wait_for()
    canvas.settled()
    return canvas


def _click(canvas: Canvas, node_id: str, modifiers: list[str] | None = None) -> None:
    canvas.card(node_id).locator(".pc-node__title").click(modifiers=modifiers or [])
    canvas.settled()


def _agree(canvas: Canvas, highlighted: set[str], form: str | None) -> None:
    """The cards drawn selected, React Flow's own selection and the form all say the same, after the rerun."""
    wait_until(lambda: form_node(canvas.page) == form, f"the form to show {form!r} (shows {form_node(canvas.page)!r})")
    canvas.settled()
    canvas.page.wait_for_timeout(300)  # a stale selection pushed by the rerun would have landed by now
    assert canvas.highlighted() == highlighted
    assert {n["id"] for n in canvas.nodes() if n["selected"]} == highlighted
    assert form_node(canvas.page) == form


def _delete_with_key(canvas: Canvas, key: str) -> None:
    canvas.page.keyboard.press(key)
    canvas.settled()


def test_five_clicks_in_turn_highlight_show_and_delete_the_clicked_node(page, shot) -> None:
    canvas = _open_diabetes(page)
    for node_id in ["load", "split", "ridge", "forest", "score-ridge"]:
        _click(canvas, node_id)
        _agree(canvas, {node_id}, node_id)
    shot("fifth-click")

    _delete_with_key(canvas, "Delete")
    wait_until(lambda: "score-ridge" not in canvas.positions(), "score-ridge to be deleted")
    assert set(canvas.positions()) == set(DIABETES) - {"score-ridge"}
    _agree(canvas, set(), None)

    # Back to a node clicked earlier: still the one highlighted, shown and deleted.
    _click(canvas, "split")
    _agree(canvas, {"split"}, "split")
    _click(canvas, "forest")
    _agree(canvas, {"forest"}, "forest")
    _delete_with_key(canvas, "Backspace")
    wait_until(lambda: "forest" not in canvas.positions(), "forest to be deleted")
    assert set(canvas.positions()) == set(DIABETES) - {"score-ridge", "forest"}
    shot("after-two-deletes")


def test_a_shift_multi_selection_is_highlighted_whole_and_deleted_whole(page, shot) -> None:
    canvas = _open_diabetes(page)
    _click(canvas, "load")
    _agree(canvas, {"load"}, "load")
    _click(canvas, "ridge", ["Shift"])
    _agree(canvas, {"load", "ridge"}, "ridge")  # the form shows the node clicked last
    _click(canvas, "score-forest", ["Shift"])
    _agree(canvas, {"load", "ridge", "score-forest"}, "score-forest")
    assert page.get_by_text("3 nodes selected").count() == 1
    shot("three-selected")

    _delete_with_key(canvas, "Delete")
    wait_until(lambda: len(canvas.positions()) == 3, "the three selected nodes to be deleted")
    assert set(canvas.positions()) == {"split", "forest", "score-ridge"}
    _agree(canvas, set(), None)


def test_the_context_menu_deletes_the_card_it_was_opened_on_and_a_paste_is_what_delete_removes(page, shot) -> None:
    canvas = _open_diabetes(page)
    _click(canvas, "ridge")
    _agree(canvas, {"ridge"}, "ridge")
    canvas.card("split").locator(".pc-node__title").click(button="right")
    canvas.settled()
    _agree(canvas, {"split"}, "split")  # right-clicking a card selects it, and the form follows
    page.get_by_test_id("menu-delete").click()
    wait_until(lambda: "split" not in canvas.positions(), "split to be deleted from the context menu")
    assert set(canvas.positions()) == set(DIABETES) - {"split"}
    _agree(canvas, set(), None)

    # The case: copy a card, paste it, press Delete: the pasted card goes, nothing else.
    _click(canvas, "forest")
    _agree(canvas, {"forest"}, "forest")
    before = set(canvas.positions())
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    wait_until(lambda: len(canvas.positions()) == len(before) + 1, "the pasted card")
    (pasted,) = set(canvas.positions()) - before
    _agree(canvas, {pasted}, pasted)
    shot("pasted")
    _delete_with_key(canvas, "Delete")
    wait_until(lambda: pasted not in canvas.positions(), "the pasted card to be deleted")
    assert set(canvas.positions()) == set(DIABETES) - {"split"}
