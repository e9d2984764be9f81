"""predict.table and data.save: score new rows (raw, through the cleaning recipe) and deliver them as a file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nodes.artifacts import Table
from nodes.context import RunContext
from nodes.data_save import SaveTable
from nodes.errors import NodeInputError
from nodes.predict import PredictTable
from nodes.prepare import Clean
from nodes.train import TrainClassifier, TrainRegressor
from sample_tables import sample_frame, split_table  # tests/support/sample_tables.py


def _predict(model, table, preprocessor=None, **params):
    inputs = {"model": model, "table": table} | ({"preprocessor": preprocessor} if preprocessor else {})
    return PredictTable().run(inputs, PredictTable.Params(**params), RunContext())["table"]


def test_scored_iris_rows_keep_their_columns_and_gain_prediction_and_probabilities(iris_model):
    frame = sample_frame("iris")
    out = _predict(iris_model, Table(frame, "species")).frame
    assert list(out.columns[: frame.shape[1]]) == list(frame.columns)
    assert list(out.columns[frame.shape[1]:]) == [
        "prediction", "probability_setosa", "probability_versicolor", "probability_virginica"]
    assert (out["prediction"] == frame["species"]).mean() > 0.95
    assert np.allclose(out.filter(like="probability_").sum(axis=1), 1)
    best = out.filter(like="probability_").to_numpy().argmax(axis=1)
    assert list(np.asarray(iris_model.classes)[best]) == list(out["prediction"])


def test_raw_rows_go_through_the_cleaning_recipe_first():
    frame = sample_frame("iris")
    frame["colour"] = np.where(frame.index % 2 == 0, "blue", None)  # text with gaps: needs the recipe
    train, test = split_table(frame, "species")
    cleaned = Clean().run({"train": train, "test": test}, Clean.Params(), RunContext())
    model = TrainClassifier().run({"train": cleaned["train"]}, TrainClassifier.Params(algorithm="logistic_regression"),
                                  RunContext())["model"]
    raw = Table(test.frame.drop(columns=["species"]), None)
    out = _predict(model, raw, cleaned["preprocessor"], probabilities=False).frame
    assert list(out.columns) == list(raw.frame.columns) + ["prediction"]
    assert (out["prediction"].to_numpy() == test.frame["species"].to_numpy()).mean() > 0.9
    with pytest.raises(NodeInputError, match="hold text; connect the model's 'Clean and encode' preprocessor"):
        _predict(model, Table(test.frame.assign(**{"colour_blue": "x"}), None))


def test_a_regressor_adds_only_a_prediction():
    train, test = split_table(sample_frame("diabetes"), "progression", stratify=False)
    model = TrainRegressor().run({"train": train}, TrainRegressor.Params(algorithm="ridge"), RunContext())["model"]
    out = _predict(model, test, prediction_column="predicted_progression").frame
    assert list(out.columns) == list(test.frame.columns) + ["predicted_progression"]
    assert out["predicted_progression"].dtype.kind == "f"


def test_a_name_clash_is_refused(iris_model):
    frame = sample_frame("iris").assign(prediction=1)
    with pytest.raises(NodeInputError, match="already has column\\(s\\) 'prediction'"):
        _predict(iris_model, Table(frame, "species"))


def test_save_writes_csv_and_parquet_and_refuses_to_overwrite(tmp_path):
    frame = sample_frame("iris").head(12)
    for name in ("scored.csv", "deep/folder/scored.parquet"):
        path = tmp_path / name
        SaveTable().run({"table": Table(frame, "species")}, SaveTable.Params(path=str(path)), RunContext())
        back = pd.read_csv(path) if name.endswith(".csv") else pd.read_parquet(path)
        pd.testing.assert_frame_equal(back, frame.reset_index(drop=True), check_dtype=False)
    target = str(tmp_path / "scored.csv")
    with pytest.raises(NodeInputError, match="already exists; set 'overwrite' to true"):
        SaveTable().run({"table": Table(frame.head(3), None)}, SaveTable.Params(path=target), RunContext())
    assert len(pd.read_csv(target)) == 12  # untouched
    SaveTable().run({"table": Table(frame.head(3), None)}, SaveTable.Params(path=target, overwrite=True), RunContext())
    assert len(pd.read_csv(target)) == 3


def test_save_to_an_fsspec_uri_and_unknown_extension():
    import fsspec

    frame = sample_frame("iris").head(5)
    SaveTable().run({"table": Table(frame, None)}, SaveTable.Params(path="memory://out/t.parquet"), RunContext())
    with fsspec.open("memory://out/t.parquet", "rb") as handle:
        assert len(pd.read_parquet(handle)) == 5
    with pytest.raises(NodeInputError, match="cannot tell the format of 'out.xlsx'"):
        SaveTable().run({"table": Table(frame, None)}, SaveTable.Params(path="out.xlsx"), RunContext())


def test_saving_the_same_rows_again_is_not_refused(tmp_path):
    """Re-running an unchanged pipeline finds its own file: nothing to replace, so no error and no rewrite."""
    frame = sample_frame("iris").head(8)
    target = tmp_path / "same.parquet"
    params = SaveTable.Params(path=str(target))
    SaveTable().run({"table": Table(frame, None)}, params, RunContext())
    before = target.stat().st_mtime_ns
    receipt = SaveTable().run({"table": Table(frame, None)}, params, RunContext())["receipt"].values
    assert target.stat().st_mtime_ns == before
    assert (receipt["written"], receipt["rows"], receipt["bytes"]) == (False, 8, target.stat().st_size)
    with pytest.raises(NodeInputError, match="already exists"):
        SaveTable().run({"table": Table(frame.head(7), None)}, params, RunContext())
