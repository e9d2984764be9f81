"""Data-quality findings on real files: what an analyst would want to be told before training."""

from __future__ import annotations

import pandas as pd
import pytest

from nodes.data import FileParams, FileTable
from nodes.data_quality import check_table, detect_id_columns, infer_task
from real_files import real_file


def _findings(name: str, target: str | None, **params):
    table, _ = FileTable.load_table(FileParams(path=real_file(name), target=target, **params))
    return {f.code: f for f in check_table(table.frame, table.target, table.ignored)}


@pytest.mark.parametrize(
    ("name", "target", "task", "n_classes"),
    [
        ("Arthritis.csv", "Improved", "classification", 3),
        ("mtcars.csv", "mpg", "regression", None),
        ("mtcars.csv", "cyl", "classification", 3),
        ("longley.csv", "TOTEMP", "regression", None),  # 16 whole numbers, one per row: a quantity
        ("birthwt.csv", "low", "classification", 2),
    ],
)
def test_infer_task(name, target, task, n_classes):
    frame = FileTable.load_table(FileParams(path=real_file(name)))[0].frame

    guess = infer_task(frame[target])

    assert (guess.task, guess.n_classes) == (task, n_classes)


def test_titanic_sorted_by_outcome_has_its_row_numbers_detected():
    frame = pd.read_csv(real_file("titanic_count.csv"))

    assert list(detect_id_columns(frame, "survived")) == ["Unnamed: 0"]


def test_continuous_numbers_are_never_ids():
    frame = pd.read_csv(real_file("seattle-weather.csv"))

    assert detect_id_columns(frame, "weather") == {}


def test_a_feature_derived_from_the_target_is_leakage():
    found = _findings("birthwt.csv", "low")

    assert found["leakage"].column == "bwt"
    assert "alone predicts the target 'low'" in found["leakage"].message


def test_honest_features_are_not_called_leakage():
    assert "leakage" not in _findings("penguins.csv", "species")
    assert "leakage" not in _findings("titanic_count.csv", "survived")


def test_missing_target_names_the_node_to_add():
    found = _findings("airquality.csv", "Ozone")

    assert found["missing_target"].severity == "error"
    assert "37 missing" in found["missing_target"].message
    assert "'Filter rows' (prepare.rows)" in found["missing_target"].message


def test_dates_written_as_text():
    assert _findings("seattle-weather.csv", "weather")["date_as_text"].column == "date"


def test_constant_column_high_cardinality_small_classes_and_duplicates():
    frame = pd.DataFrame({
        "same": ["x"] * 60,
        "name": [f"person {i}" for i in range(59)] + ["person 0"],
        "size": list(range(60)),
        "label": ["a"] * 30 + ["b"] * 29 + ["c"],
    })
    frame = pd.concat([frame, frame.iloc[:3]], ignore_index=True)

    found = {f.code: f for f in check_table(frame, "label")}

    assert found["constant"].column == "same"
    assert found["high_cardinality"].column == "name"
    assert "'c'" in found["small_classes"].message
    assert found["duplicates"].message.startswith("3 row(s)")
