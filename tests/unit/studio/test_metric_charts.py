"""The charts of the Outputs tab, read as the Vega-Lite an analyst's browser draws: titled axes, whole labels,
the new calibration / gain / lift charts and the normalised confusion matrix, on a real binary file."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from nodes.artifact_io import write_artifact
from nodes.artifacts import Table
from nodes.context import RunContext
from nodes.evaluate import EvaluateClassifier
from nodes.prepare import Split
from nodes.train import TrainClassifier
from real_files import real_file  # tests/support/real_files.py
from studio import metric_charts

LONG = "Iris-versicolor and a much longer class name"


@pytest.fixture(scope="module")
def binary() -> dict:
    frame = pd.read_csv(real_file("Pima.tr.csv")).drop(columns=["Unnamed: 0"])
    frame["type"] = frame["type"].map({"Yes": LONG, "No": "Absent"})  # sorted second: the positive class
    parts = Split().run({"table": Table(frame, "type")}, Split.Params(test_fraction=0.4), RunContext())
    model = TrainClassifier().run({"train": parts["train"]}, TrainClassifier.Params(algorithm="logistic_regression"),
                                  RunContext())["model"]
    node = EvaluateClassifier()
    return node.run({"model": model, "test": parts["test"]}, node.Params(normalize_confusion=True, threshold=0.4),
                    RunContext())["metrics"].values


def _axes(spec: dict) -> list[dict]:
    """Every axis and legend object in a (possibly layered) Vega-Lite spec."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("axis", "legend") and isinstance(value, dict):
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec)
    return found


def _all_charts(values: dict) -> dict:
    return {
        "confusion": metric_charts.confusion_chart(values["confusion_matrix"]),
        "roc": metric_charts.roc_chart(values["roc_curve"]),
        "calibration": metric_charts.calibration_chart(values["calibration"]),
        "gain": metric_charts.gain_chart(values["gain"]),
        "lift": metric_charts.lift_chart(values["gain"]),
    }


def test_every_axis_has_a_title_in_words_and_labels_are_never_cut(binary):
    for name, chart in _all_charts(binary).items():
        spec = chart.to_dict()
        axes = [a for a in _axes(spec) if "title" in a]
        assert axes, f"{name}: no titled axis"
        titles = {a["title"] for a in axes}
        assert not titles & {"x", "y", None}, f"{name}: an axis is titled by a field name: {titles}"
        assert all(a.get("labelLimit", 0) >= 400 for a in _axes(spec)), f"{name}: labels may be cut"
        assert spec["usermeta"]["embedOptions"]["renderer"] == "svg"
        layers = spec.get("layer", [spec])
        for channel in ("x", "y"):  # every layer titles an axis the same, so Vega-Lite merges nothing into "x, …"
            shown = {json.dumps(layer["encoding"][channel].get("axis", {}).get("title"))
                     for layer in layers if channel in layer.get("encoding", {})
                     and layer["encoding"][channel].get("type") == "quantitative"}
            assert len(shown) <= 1, f"{name}: layers title the {channel} axis differently: {shown}"


def test_long_class_names_tilt_along_the_x_axis_and_stay_whole(binary):
    spec = metric_charts.confusion_chart(binary["confusion_matrix"]).to_dict()
    x_axis = spec["layer"][0]["encoding"]["x"]["axis"]
    assert x_axis["labelAngle"] == -35 and x_axis["labelLimit"] >= 400
    assert spec["layer"][0]["encoding"]["y"]["axis"]["labelAngle"] == 0


def test_the_normalised_matrix_shows_rates_with_counts(binary):
    chart = metric_charts.confusion_chart(binary["confusion_matrix"]).to_dict()
    cells = next(iter(chart["datasets"].values()))
    assert "100 %" in chart["title"]
    for cell in cells:
        assert cell["shown"] == f"{cell['rate']:.0%} ({cell['count']})"
    counts_only = metric_charts.confusion_chart(binary["confusion_matrix"], normalized=False).to_dict()
    assert {c["shown"] for c in next(iter(counts_only["datasets"].values()))} == {
        str(c["count"]) for c in cells}


def test_calibration_draws_only_bins_with_rows_and_gain_ends_at_every_positive(binary):
    calibration = metric_charts.calibration_chart(binary["calibration"]).to_dict()
    drawn = [rows for rows in calibration["datasets"].values() if rows and "count" in rows[0]][0]
    assert sum(row["count"] for row in drawn) == binary["n_test"]
    assert all(row["count"] > 0 for row in drawn)
    gain = metric_charts.gain_chart(binary["gain"]).to_dict()
    curve = [rows for rows in gain["datasets"].values() if rows and "found" in rows[0]][0]
    assert (curve[-1]["rows"], curve[-1]["found"]) == (1.0, 1.0)


def _show(artifacts, warnings):
    from studio.outputs import show_outputs

    show_outputs(artifacts, warnings)


def test_the_outputs_tab_shows_the_threshold_and_the_binary_charts_once_each_warning(binary, tmp_path):
    values = dict(binary, warnings=["only 3 test row(s): …"])
    from nodes.artifacts import Metrics

    write_artifact("metrics", Metrics(values), str(tmp_path / "metrics.json"))
    at = AppTest.from_function(_show, args=([("metrics", "metrics", str(tmp_path / "metrics.json"))],
                                            ["only 3 test row(s): …", "the split could not be stratified: …"]))
    at.run(timeout=60)
    assert not at.exception
    assert [w.value for w in at.warning] == ["only 3 test row(s): …", "the split could not be stratified: …"]
    assert any(f"Predicted '{LONG}' when its probability is at least 0.4" in c.value for c in at.caption), [c.value for c in at.caption]
    charts = at.get("vega_lite_chart")
    assert len(charts) == 5  # confusion, ROC, calibration, gain, lift


def test_bars_of_long_names_name_each_in_full_down_the_side():
    spec = metric_charts.labelled_bars({LONG: 0.7, "Iris-setosa": 0.3}, "class", "probability", percent=True).to_dict()
    assert spec["encoding"]["y"]["field"] == "label" and spec["encoding"]["y"]["axis"]["labelLimit"] >= 400
    assert spec["encoding"]["y"]["sort"] == [LONG, "Iris-setosa"]
    assert spec["encoding"]["x"]["axis"]["title"] == "probability"
