"""The evaluation outputs in a real browser: compare's table, tune's trials, importance, the binary classifier's
threshold, calibration and gain, the normalised confusion matrix, and a split's warning on its node badge.

The runs are made through the runtime API in the studio's own home (a real local run, one process per step),
then opened by their address (``/?run=<id>``), the way a bookmark or a reload does. Screenshots at 1600×1000
land in tests/e2e/artifacts/ (``PIPECANVAS_SHOTS`` names another folder).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from compiler import parse_pipeline
from real_files import real_file  # tests/support
from studio_page import Canvas, form_node, wait_until


SHOTS = Path(os.environ.get("PIPECANVAS_SHOTS") or Path(__file__).resolve().parent / "artifacts")
SIZE = {"width": 1600, "height": 1000}
LONG = "diabetic (WHO criteria, tested)"  # a long class name: it must be shown whole on every axis and legend


def _node(node_id: str, node_type: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, **({"params": params} if params else {})}


def _pipeline(name: str, nodes: list[dict[str, Any]], edges: list[tuple[str, str]]) -> Any:
    import yaml

    document = {"apiVersion": "pipecanvas/v1", "kind": "Pipeline", "metadata": {"name": name},
                "spec": {"nodes": nodes, "edges": [{"from": a, "to": b} for a, b in edges]}}
    return parse_pipeline(yaml.safe_dump(document, sort_keys=False)).pipeline


def _evaluation_pipeline(csv: Path) -> Any:
    nodes = [
        _node("load", "data.file", path=str(csv), target="type"),
        _node("split", "prepare.split", test_fraction=0.4),
        _node("logistic", "train.classifier", algorithm="logistic_regression"),
        _node("tree", "train.classifier", algorithm="decision_tree", max_depth=3),
        _node("compare", "evaluate.compare"),
        _node("evaluate", "evaluate.classifier", threshold=0.3, normalize_confusion=True),
        _node("importance", "explain.importance", n_repeats=3),
        _node("tune", "train.tune", algorithm="decision_tree", folds=3),
    ]
    edges = [("load.table", "split.table"), ("split.train", "logistic.train"), ("split.train", "tree.train"),
             ("logistic.model", "compare.models"), ("tree.model", "compare.models"), ("split.test", "compare.test"),
             ("logistic.model", "evaluate.model"), ("split.test", "evaluate.test"),
             ("logistic.model", "importance.model"), ("split.test", "importance.test"), ("split.train", "tune.train")]
    return _pipeline("pima-evaluation", nodes, edges)


def _lonely_class_pipeline(csv: Path) -> Any:
    return _pipeline("lonely-class", [_node("load", "data.file", path=str(csv), target="species"),
                                      _node("split", "prepare.split")], [("load.table", "split.table")])


@pytest.fixture(scope="module")
def runs(studio_home: Path, studio_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Two finished runs in the studio's home: the evaluation pipeline on Pima, and a split of penguins where
    one species has a single row."""
    from runtime.run_store import open_store
    from runtime.runs import start_run, wait_for_run

    folder = tmp_path_factory.mktemp("files")
    pima = pd.read_csv(real_file("Pima.tr.csv")).drop(columns=["Unnamed: 0"])
    pima["type"] = pima["type"].map({"Yes": LONG, "No": "absent"})  # sorted second: the positive class
    pima.to_csv(folder / "pima.csv", index=False)
    penguins = pd.read_csv(real_file("penguins.csv")).dropna()
    lonely = pd.concat([penguins[penguins.species != "Chinstrap"], penguins[penguins.species == "Chinstrap"].head(1)])
    lonely.to_csv(folder / "penguins.csv", index=False)
    store = open_store(studio_home)
    found = {}
    for name, pipeline in (("evaluation", _evaluation_pipeline(folder / "pima.csv")),
                           ("lonely", _lonely_class_pipeline(folder / "penguins.csv"))):
        run_id = start_run(pipeline, store=store, home=studio_home)
        run = wait_for_run(store, run_id, timeout=300)
        assert run.state == "succeeded", [(s.step_id, s.state.value, s.error) for s in store.steps(run_id)]
        found[name] = run_id
    return found


def _open(page: Any, studio_url: str, run_id: str, first_node: str) -> Canvas:
    page.set_viewport_size(SIZE)
    page.goto(f"{studio_url}/?run={run_id}")
    canvas = Canvas(page)
    canvas.card(first_node).wait_for()
    canvas.settled()  # opening a run makes its draft: that page run ends before the first click
    return canvas


def _outputs(page: Any, canvas: Canvas, node_id: str) -> Any:
    canvas.card(node_id).locator(".pc-node__title").click()
    wait_until(lambda: form_node(page) == node_id, f"the panel of {node_id}")
    page.get_by_role("tab", name="Outputs").click()
    panel = page.get_by_role("tabpanel").filter(has=page.get_by_text(re.compile(r"^(succeeded|cached) · attempt")))
    panel.wait_for()
    return panel


def _shoot(page: Any, target: Any, name: str) -> None:
    """The viewport (1600×1000) with ``target`` scrolled into it, saved as ``evaluation-<name>.png``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    target.scroll_into_view_if_needed()
    page.wait_for_timeout(600)  # Vega draws after the element appears
    page.screenshot(path=str(SHOTS / f"evaluation-{name}.png"))


def _chart_text(chart: Any) -> str:
    """Every text the Vega chart drew (titles, axis labels, legend), as one string: charts are drawn as SVG."""
    chart.locator("svg text").first.wait_for(state="attached")
    # a title broken into lines is one <text> of <tspan> lines: read it as the sentence it is
    return " | ".join(chart.locator("svg text").evaluate_all(
        "els => els.map(e => e.querySelector('tspan') ? [...e.querySelectorAll('tspan')].map(t => t.textContent.trim())"
        ".join(' ') : e.textContent)"))


def _charts(panel: Any) -> Any:
    return panel.locator("[data-testid=stVegaLiteChart]")


def test_compare_marks_the_best_model_and_overlays_roc(runs, page, studio_url) -> None:
    canvas = _open(page, studio_url, runs["evaluation"], "compare")
    panel = _outputs(page, canvas, "compare")
    panel.get_by_text(re.compile(r"Best by accuracy: .* of 2 models")).wait_for()
    table = panel.get_by_test_id("stDataFrame").first
    table.wait_for()
    _shoot(page, table, "compare-table")
    # the compare node's own 2-row table output is drawn at the height of its rows, not padded to 230 px
    output = panel.get_by_test_id("stDataFrame").filter(has_text="logistic_regression").first
    output.wait_for()
    assert output.bounding_box()["height"] < 160, output.bounding_box()
    chart = _charts(panel).first
    chart.wait_for()
    text = _chart_text(chart)
    assert "false positive rate" in text and "x," not in text
    assert LONG in text, f"the positive class is cut in the legend: {text}"
    _shoot(page, chart, "compare-roc")


def test_tune_shows_its_trials_as_a_chart_and_a_table(runs, page, studio_url) -> None:
    canvas = _open(page, studio_url, runs["evaluation"], "tune")
    panel = _outputs(page, canvas, "tune")
    panel.get_by_text(re.compile(r"Best accuracy: .* with")).wait_for()
    chart = _charts(panel).first
    text = _chart_text(chart)
    assert "mean accuracy across folds" in text and "defaults" in text
    assert panel.get_by_test_id("stDataFrame").count() >= 1
    _shoot(page, chart, "tune-trials")


def test_importance_is_a_bar_chart_of_the_columns(runs, page, studio_url) -> None:
    canvas = _open(page, studio_url, runs["evaluation"], "importance")
    panel = _outputs(page, canvas, "importance")
    chart = _charts(panel).first
    text = _chart_text(chart)
    assert "drop in score" in text and "glu" in text
    _shoot(page, chart, "importance")


def test_the_binary_classifier_shows_threshold_calibration_gain_and_rates(runs, page, studio_url) -> None:
    canvas = _open(page, studio_url, runs["evaluation"], "evaluate")
    panel = _outputs(page, canvas, "evaluate")
    panel.get_by_text(re.compile(rf"Predicted '{re.escape(LONG)}' when its probability is at least 0\.3")).wait_for()
    charts = _charts(panel)
    page.wait_for_function("n => document.querySelectorAll('[data-testid=stVegaLiteChart]').length >= n", arg=5)
    names = ["confusion", "roc", "calibration", "gain", "lift"]
    texts = {name: _chart_text(charts.nth(i)) for i, name in enumerate(names)}
    assert "rows add up to 100 %" in texts["confusion"] and "%" in texts["confusion"]
    assert LONG in texts["confusion"], f"a long class name is cut on the confusion matrix: {texts['confusion']}"
    assert "predicted class" in texts["confusion"] and "actual class" in texts["confusion"]
    assert "Calibration" in texts["calibration"] and "mean predicted probability" in texts["calibration"]
    assert "Cumulative gain" in texts["gain"] and "share of test rows" in texts["gain"]
    assert f"Calibration for '{LONG}'" in texts["calibration"] and f"gain for '{LONG}'" in texts["gain"]
    assert "lift" in texts["lift"]
    for name, text in texts.items():
        assert "…" not in text, f"the {name} chart cut a label: {text}"
    _shoot(page, charts.nth(0), "confusion-normalised")
    _shoot(page, charts.nth(2), "calibration")
    _shoot(page, charts.nth(3), "gain")
    _shoot(page, charts.nth(4), "lift")


def test_a_split_that_could_not_be_stratified_warns_on_its_node(runs, page, studio_url) -> None:
    canvas = _open(page, studio_url, runs["lonely"], "split")
    badge = page.get_by_test_id("warnings-split")
    badge.wait_for()
    assert "could not be stratified" in badge.get_attribute("title") and "Chinstrap" in badge.get_attribute("title")
    assert "stratified" not in (page.get_by_test_id("warnings-load").get_attribute("title")
                                if page.get_by_test_id("warnings-load").count() else "")
    panel = _outputs(page, canvas, "split")
    alert = panel.get_by_test_id("stAlert").filter(has_text="could not be stratified")
    alert.wait_for()
    _shoot(page, canvas.card("split"), "split-warning")
