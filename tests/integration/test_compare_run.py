"""A real local run of a pipeline whose compare node takes three models (one process per step): the
entrypoint hands the node every model, the best one feeds batch scoring, and the scored rows land in a file."""

from __future__ import annotations

import pandas as pd
import pytest

from compiler import read_pipeline_file
from nodes.artifact_io import read_artifact

pytestmark = pytest.mark.slow


def test_compare_gets_every_model_and_its_best_scores_a_saved_file(runs, tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "iris-compare.yaml"
    pipeline = read_pipeline_file(example).pipeline
    out = tmp_path / "scored" / "iris.csv"
    document = pipeline.to_document()
    document["spec"]["nodes"].append({"id": "save", "type": "data.save", "params": {"path": str(out)}})
    document["spec"]["edges"].append({"from": "score.table", "to": "save.table"})
    run = runs.run(type(pipeline).model_validate(document), timeout=240)
    assert run.state == "succeeded", runs.describe(run.id)

    artifacts = {(step, port): uri for step, port, _kind, uri in runs.store.artifacts(run.id)}
    comparison = read_artifact("metrics", artifacts[("compare", "metrics")]).values["comparison"]
    assert sorted(row["model"] for row in comparison["rows"]) == ["bayes", "boost", "tree"]
    best_f1 = max(row["f1"] for row in comparison["rows"])
    assert next(r for r in comparison["rows"] if r["model"] == comparison["best"]["f1"])["f1"] == best_f1
    best = read_artifact("model", artifacts[("compare", "best")])
    chosen = read_artifact("model", artifacts[(comparison["best"]["f1"], "model")])
    assert best.algorithm == chosen.algorithm

    scored = pd.read_csv(out)
    assert {"prediction", "probability_setosa"} <= set(scored.columns)
    assert (scored["prediction"] == scored["species"]).mean() > 0.85

    again = runs.run(type(pipeline).model_validate(document), timeout=240)
    assert again.state == "succeeded", runs.describe(again.id)
    assert runs.states(again.id)["save"] == "succeeded"  # its own earlier file, unchanged: not refused
