"""State you can trust: an edit marks what it outdates, an invalid value blocks Run, and Resume runs the fix.

Issue 12, point 3: after an edit the nodes stayed "Succeeded" with the old
outputs; Resume re-ran the stored pipeline, not the fixed one; −5 typed in a
field that must be ≥ 1 was dropped without a word while Run stayed enabled.
"""

from __future__ import annotations

import re
from pathlib import Path

from runtime.run_store import open_store
from studio_page import Canvas, form_node, open_example, run_line, wait_until  # tests/support


RUN_TIMEOUT = 120.0
DIABETES = ["load", "split", "ridge", "forest", "score-ridge", "score-forest"]


def _select(canvas: Canvas, node_id: str) -> None:
    canvas.card(node_id).locator(".pc-node__title").click()
    wait_until(lambda: form_node(canvas.page) == node_id, f"the form of {node_id}")
    canvas.settled()  # the previous node's form is gone once the page run has finished


def _number(page, label: str):
    return page.get_by_test_id("stNumberInput").filter(has_text=label).locator("input")


def _text(page, label: str):
    return page.get_by_test_id("stTextInput").filter(has_text=label).locator("input")


def _outdated(canvas: Canvas) -> set[str]:
    badges = canvas.page.locator("[data-outdated=true]")
    return {badges.nth(i).get_attribute("data-testid").removeprefix("status-") for i in range(badges.count())}


def _run_id(page) -> str | None:
    """The run the line beside the Run button names."""
    line = page.get_by_test_id("stAlert").filter(has_text=re.compile(r"^Run \S+: "))
    match = re.match(r"Run (\S+):", line.first.inner_text()) if line.count() else None
    return match.group(1) if match else None


def test_an_edit_marks_the_changed_node_and_its_downstream_outdated_and_an_invalid_value_blocks_run(
        page, shot, studio_home: Path) -> None:
    canvas = Canvas(page)
    open_example(page, "diabetes-regression.yaml")
    canvas.card("score-forest").wait_for()
    page.get_by_role("button", name="▶ Run").click()
    run_line(page, "succeeded").wait_for(timeout=RUN_TIMEOUT * 1000)
    first = _run_id(page)
    assert _outdated(canvas) == set()

    _select(canvas, "ridge")
    alpha = _number(page, "alpha")
    alpha.fill("3.5")
    alpha.press("Enter")
    wait_until(lambda: _outdated(canvas) == {"ridge", "score-ridge"}, "ridge and its evaluation to be outdated")
    assert "Outdated" in canvas.card("ridge").inner_text()
    for node_id in ["load", "split", "forest", "score-forest"]:  # upstream and the other branch are still current
        assert "Succeeded" in page.get_by_test_id(f"status-{node_id}").inner_text()
    page.get_by_role("tab", name="Outputs").click()
    page.get_by_text("From the previous run").wait_for()
    shot("ridge-outdated")

    # −5 in a field that must be ≥ 1: kept as typed, an error badge on the node, Run disabled and saying why.
    _select(canvas, "forest")
    page.get_by_role("tab", name="Properties").click()
    trees = _number(page, "n estimators")
    trees.fill("-5")
    trees.press("Enter")
    page.get_by_test_id("errors-forest").wait_for()
    assert "n_estimators" in page.get_by_test_id("errors-forest").get_attribute("title")
    assert trees.input_value() == "-5"
    run = page.get_by_role("button", name="▶ Run")
    assert run.is_disabled()
    page.get_by_text(re.compile("Run is disabled: 1 error to fix")).wait_for()
    assert "forest" in _outdated(canvas)  # what ran was not -5
    shot("invalid-value-blocks-run")
    trees.fill("20")
    trees.press("Enter")
    page.get_by_test_id("errors-forest").wait_for(state="detached")
    assert run.is_enabled()

    run.click()
    wait_until(lambda: _run_id(page) != first, "a new run", timeout=30)
    run_line(page, "succeeded").wait_for(timeout=RUN_TIMEOUT * 1000)
    wait_until(lambda: _outdated(canvas) == set(), "no node outdated after the new run")
    store = open_store(studio_home)
    try:
        states = {s.step_id: s.state.value for s in store.steps(_run_id(page))}
        assert store.step(_run_id(page), "ridge").params["alpha"] == 3.5
    finally:
        store.close()
    assert states["load"] == states["split"] == "cached"  # unchanged upstream steps come from the cache
    assert states["ridge"] == states["forest"] == "succeeded"


def test_resume_after_a_fix_runs_the_fixed_pipeline_reusing_the_unchanged_steps(page, shot, studio_home: Path) -> None:
    canvas = Canvas(page)
    open_example(page, "churn-csv.yaml")
    canvas.card("customers").wait_for()
    canvas.settled()
    _select(canvas, "customers")
    path = _text(page, "path")
    path.fill("assets/data/no-such-file.csv")  # validates, fails when it runs
    path.press("Enter")
    page.wait_for_timeout(500)
    canvas.settled()
    page.get_by_role("button", name="▶ Run").click()
    run_line(page, "failed").wait_for(timeout=RUN_TIMEOUT * 1000)
    failed = _run_id(page)
    shot("failed")

    _select(canvas, "customers")
    path = _text(page, "path")
    path.fill("assets/data/churn.csv")
    path.press("Enter")
    wait_until(lambda: "customers" in _outdated(canvas), "the fixed node to be outdated")
    resume = page.get_by_role("button", name="Resume")
    assert resume.is_enabled()
    resume.click()
    wait_until(lambda: _run_id(page) != failed, "Resume to start a run of the fixed pipeline", timeout=30)
    run_line(page, "succeeded").wait_for(timeout=RUN_TIMEOUT * 1000)
    store = open_store(studio_home)
    try:
        assert store.step(_run_id(page), "customers").params["path"] == "assets/data/churn.csv"
    finally:
        store.close()
    shot("resumed-with-the-fix")
