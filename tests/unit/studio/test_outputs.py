"""The outputs view of the new nodes, rendered by Streamlit's AppTest from artifacts the nodes really made."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nodes.artifact_io import write_artifact
from nodes.compare import Compare
from nodes.context import RunContext
from nodes.train import TrainClassifier
from sample_tables import sample_frame, split_table  # tests/support/sample_tables.py
from studio.metric_charts import models_roc_chart
from studio.outputs import comparison_frame


def _show(artifacts: list[tuple[str, str, str]]) -> None:
    from studio.outputs import show_outputs

    show_outputs(artifacts)


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> tuple[dict, Path]:
    train, test = split_table(sample_frame("breast_cancer"), "diagnosis")
    models = [TrainClassifier().run({"train": train}, TrainClassifier.Params(**p), RunContext())["model"]
              for p in ({"algorithm": "naive_bayes"}, {"algorithm": "decision_tree", "max_depth": 2})]
    out = Compare().run({"models": models, "test": test}, Compare.Params(),
                        RunContext(input_sources={"models": ["bayes.model", "tree.model"]}))
    folder = tmp_path_factory.mktemp("compare")
    for port, kind in (("metrics", "metrics"), ("best", "model")):
        write_artifact(kind, out[port], str(folder / f"{port}.{'json' if kind == 'metrics' else 'skops'}"))
    write_artifact("model", models[1], str(folder / "tree.skops"))
    return out, folder


def test_the_comparison_marks_the_best_model_per_metric(compared):
    out, _ = compared
    comparison = out["metrics"].values["comparison"]
    frame = comparison_frame(comparison)
    for metric, winner in comparison["best"].items():
        assert metric in frame.set_index("model").loc[winner, "★"]
    chart = models_roc_chart(out["metrics"].values["roc_curves"]).to_dict()
    rows = [row for data in chart["datasets"].values() for row in data]
    assert {"bayes", "tree"} <= {row.get("model") for row in rows}


def test_the_compare_outputs_and_tree_rules_are_shown(compared):
    _, folder = compared
    at = AppTest.from_function(_show, args=([
        ("metrics", "metrics", str(folder / "metrics.json")),
        ("tree", "model", str(folder / "tree.skops")),
    ],))
    at.run(timeout=60)
    assert not at.exception
    assert any("Best by accuracy" in m.value for m in at.markdown)
    assert any("★" in frame.value.columns for frame in at.dataframe)  # the score table
    assert any("|---" in c.value or "class:" in c.value for c in at.code)  # the tree's rules


def test_tuning_cross_validation_and_importance_outputs_are_shown(tmp_path):
    from nodes.cross_validate import CrossValidate
    from nodes.explain import Importance
    from nodes.artifacts import Table
    from nodes.tune import Tune

    table = Table(sample_frame("iris"), "species")
    train, test = split_table(sample_frame("iris"), "species")
    tuned = Tune().run({"train": train}, Tune.Params(algorithm="knn", n_neighbors_values="1, 9", folds=3), RunContext())
    folds = CrossValidate().run({"model": tuned["model"], "table": table}, CrossValidate.Params(folds=3), RunContext())
    ranked = Importance().run({"model": tuned["model"], "test": test}, Importance.Params(n_repeats=2), RunContext())
    artifacts = []
    for name, kind, value in (("tune", "metrics", tuned["metrics"]), ("cv", "metrics", folds["metrics"]),
                              ("importance", "table", ranked["importance"])):
        path = str(tmp_path / f"{name}.{'json' if kind == 'metrics' else 'parquet'}")
        write_artifact(kind, value, path)
        artifacts.append((name, kind, path))
    at = AppTest.from_function(_show, args=(artifacts,))
    at.run(timeout=60)
    assert not at.exception
    assert any("Best accuracy" in m.value for m in at.markdown)
    assert len(at.dataframe) >= 4  # trials, cv summary, importance rows and profile
