"""What each input column held at training: recorded in the model's details, read back with limits.

A "try it" form offers these values (issue 12): numbers start at the training
median, a text column is a dropdown of its categories. The details file is
untrusted when the studio reads it, so oversized or malformed values are refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier

from nodes.artifact_io import read_artifact, write_artifact
from nodes.artifacts import ArtifactKind, Model
from nodes.errors import ArtifactReadError
from nodes.model_meta import meta_uri, read_model_meta
from nodes.training_values import MAX_CATEGORIES, MAX_CATEGORY_CHARS, training_values


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "tenure": [1, 5, 9, 40],
        "charges": [10.0, 20.0, None, 100.0],
        "contract": ["monthly", "yearly", "monthly", None],
        "senior": [True, False, False, True],
    })


def test_numbers_get_their_median_and_text_its_categories_most_frequent_first() -> None:
    values = training_values(_frame(), ["tenure", "charges", "contract", "senior"])
    assert values["tenure"] == {"median": 7.0}
    assert values["charges"] == {"median": 20.0}  # the gap is not counted
    assert values["contract"] == {"categories": ["monthly", "yearly"], "more": False}
    assert "senior" not in values  # a toggle needs neither


def test_a_column_with_many_categories_keeps_the_most_frequent_and_says_there_were_more() -> None:
    common = [f"c{i:03d}" for i in range(MAX_CATEGORIES)]
    frame = pd.DataFrame({"city": common * 2 + ["rare-1", "rare-2", "x" * (MAX_CATEGORY_CHARS + 1)] * 1})
    values = training_values(frame, ["city"])["city"]
    assert len(values["categories"]) == MAX_CATEGORIES and values["more"] is True
    assert set(values["categories"]) == set(common)
    assert all(len(c) <= MAX_CATEGORY_CHARS for c in values["categories"])


def test_a_trained_model_writes_them_into_its_details_and_its_file(tmp_path: Path) -> None:
    frame = _frame()
    model = Model(DummyClassifier().fit(frame[["tenure"]], [0, 1, 0, 1]), "classification", list(frame.columns),
                  "churned", [0, 1], "dummy", {"tenure": "integer"}, training_values(frame, frame.columns))
    uri = str(tmp_path / "model.skops")
    write_artifact(ArtifactKind.MODEL, model, uri)
    summary = read_model_meta(uri)
    assert summary.training_values["tenure"].median == 7.0
    assert summary.training_values["contract"].categories == ["monthly", "yearly"]
    assert read_artifact(ArtifactKind.MODEL, uri).training_values == model.training_values  # kept when re-saved


def test_the_train_node_records_them(tmp_path: Path) -> None:
    from nodes.artifacts import Table
    from nodes.train import model_artifact

    frame = _frame().assign(churned=[0, 1, 0, 1])
    model = model_artifact(DummyClassifier(), Table(frame, "churned"), "classification", "dummy", [0, 1])
    assert model.training_values["contract"]["categories"] == ["monthly", "yearly"]
    assert "churned" not in model.training_values


def _details(tmp_path: Path, training: object) -> str:
    uri = str(tmp_path / "model.skops")
    Path(meta_uri(uri)).write_text(json.dumps({"task": "classification", "feature_columns": ["a"],
                                               "training_values": training}))
    return uri


@pytest.mark.parametrize("training, why", [
    ({"a": {"categories": ["x" * (MAX_CATEGORY_CHARS + 1)]}}, "a category longer than any pipecanvas keeps"),
    ({"a": {"categories": [f"c{i}" for i in range(MAX_CATEGORIES + 1)]}}, "more categories than pipecanvas keeps"),
    ({"a": {"median": "NaN"}}, "a median that is not a number"),
    ({"a": {"categories": [{"nested": 1}]}}, "a category that is not text"),
    ({"a": ["not", "an", "object"]}, "a column that is not an object"),
])
def test_details_with_values_pipecanvas_never_writes_are_refused(tmp_path: Path, training: object, why: str) -> None:
    with pytest.raises(ArtifactReadError, match="not what pipecanvas writes"):
        read_model_meta(_details(tmp_path, training))


def test_details_from_before_these_values_still_read(tmp_path: Path) -> None:
    uri = str(tmp_path / "model.skops")
    Path(meta_uri(uri)).write_text(json.dumps({"task": "classification", "feature_columns": ["a"]}))
    assert read_model_meta(uri).training_values == {}
