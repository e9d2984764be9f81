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


def test_a_constant_number_is_shown_as_the_number_it_is():
    frame = pd.DataFrame({"zero": [0] * 20, "half": [0.5] * 20, "y": list(range(20))})

    messages = [f.message for f in check_table(frame, "y") if f.code == "constant"]

    assert messages[0].startswith("column 'zero' holds only 0, so")
    assert messages[1].startswith("column 'half' holds only 0.5, so")


def test_many_constant_columns_are_one_finding():
    frame = pd.DataFrame({**{f"s{i}": [1.0] * 30 for i in range(40)}, "x": range(30), "y": [0, 1] * 15})

    found = [f for f in check_table(frame, "y") if f.code == "constant"]

    assert len(found) == 1 and found[0].column is None
    assert found[0].message.startswith("40 columns hold a single value each ('s0', 's1', 's2', 's3', 's4' and 35 more)")


def test_numbers_kept_as_text_by_a_missing_marker_name_the_marker(tmp_path):
    """UCI's files write '?' for a missing value; the column is read as text until '?' is a missing value."""
    rows = "".join(f"{'?' if i % 7 == 0 else 40 + i},{'-' if i % 9 == 0 else i / 10},{i % 2}\n" for i in range(80))
    (tmp_path / "uci.csv").write_text("age,dose,sick\n" + rows)

    table, _ = FileTable.load_table(FileParams(path=str(tmp_path / "uci.csv"), target="sick"))
    found = [f for f in check_table(table.frame, "sick") if f.code == "numbers_as_text"]

    assert [f.column for f in found] == ["age", "dose"]
    assert found[0].message == (
        "column 'age' holds numbers except for '?' in 12 row(s), so it was read as text; add '?' to "
        "'missing_values' on the data node to read it as numbers with those cells missing"
    )
    fixed, _ = FileTable.load_table(FileParams(path=str(tmp_path / "uci.csv"), target="sick",
                                              missing_values=["", "?", "-"]))
    assert not [f for f in check_table(fixed.frame, "sick") if f.code == "numbers_as_text"]
    assert pd.api.types.is_numeric_dtype(fixed.frame["age"]) and fixed.frame["age"].isna().sum() == 12


def test_text_with_a_few_numbers_is_not_called_numbers():
    frame = pd.DataFrame({"grade": ["A", "B", "C", "1", "2"] * 20, "y": [0, 1] * 50})

    assert "numbers_as_text" not in {f.code for f in check_table(frame, "y")}


@pytest.mark.parametrize("name", ["Arthritis.csv", "mtcars.csv", "longley.csv", "birthwt.csv", "airquality.csv", "penguins.csv", "survey.csv", "Cars93.csv"])
def test_the_duplicate_count_is_pandas_own_on_real_files_copied_into_themselves(name):
    """The count goes through row hashes first (a run pays for it before it starts): it must be exactly
    ``duplicated().sum()``, with missing values, text and numbers, for rows repeated at random places."""
    from nodes.data_quality import _duplicate_count

    frame = FileTable.load_table(FileParams(path=real_file(name)))[0].frame
    copied = frame.sample(n=min(7, len(frame)), random_state=1)
    grown = pd.concat([frame, copied, copied.iloc[:2]], ignore_index=True).sample(frac=1.0, random_state=2)
    grown.iloc[::5, 0] = None  # missing values repeat as values too
    assert _duplicate_count(grown) == int(grown.duplicated().sum())
    assert _duplicate_count(frame.drop_duplicates()) == 0


def test_a_column_of_one_value_is_constant_however_it_is_stored():
    frame = pd.DataFrame({
        "ones": [1.0, None, 1.0, 1.0] * 10,  # missing values do not count as a second value
        "empty": [None] * 40,
        "flag": [True] * 40,
        "level": pd.Categorical(["low"] * 40),
        "varies": [1.0, 2.0, None, 1.0] * 10,
        "late": ["a"] * 39 + ["b"],  # differs only in the last row
        "y": [0, 1] * 20,
    })
    constant = {f.column for f in check_table(frame, "y") if f.code == "constant"}
    assert constant == {"ones", "empty", "flag", "level"}


def _frame_with(column: dict, rows: int = 60) -> pd.DataFrame:
    import numpy as np

    rng = np.random.default_rng(0)
    return pd.DataFrame({"age": rng.integers(18, 80, rows), **column, "churned": rng.choice(["yes", "no"], rows)})


def test_infinite_values_are_an_error_that_names_the_column_and_what_to_do():
    ratio = [1.5, float("inf"), -float("inf")] + [0.5] * 57
    found = {f.code: f for f in check_table(_frame_with({"ratio": ratio}), "churned")}

    assert found["infinite_values"].severity == "error" and found["infinite_values"].column == "ratio"
    assert "in 2 row(s)" in found["infinite_values"].message
    assert "check_failed" not in found  # the leakage check leaves the infinities to this finding


def test_an_infinite_target_is_an_error():
    frame = pd.DataFrame({"x": range(60), "y": [float(i) for i in range(59)] + [float("inf")]})
    found = {f.code: f for f in check_table(frame, "y")}

    assert found["infinite_target"].severity == "error" and "in 1 row(s)" in found["infinite_target"].message
    assert "check_failed" not in found


def test_a_check_that_cannot_judge_odd_cells_says_so_and_the_others_still_run():
    import numpy as np

    # lists in cells, as a table handed over in memory can hold: comparing or hashing them fails
    frame = _frame_with({"tags": [np.array(["a", "b"][: i % 3]) for i in range(60)], "same": ["x"] * 60})
    found = check_table(frame, "churned")

    assert any(f.code == "constant" and f.column == "same" for f in found)
    failed = [f for f in found if f.code == "check_failed"]
    assert failed and all(f.severity == "warning" and "could not judge this data" in f.message for f in failed)


def test_a_time_stamp_in_every_row_is_left_out_as_a_date_not_as_a_name():
    frame = pd.DataFrame({"signup": pd.date_range("2026-01-01", periods=40, freq="h", tz="Europe/Berlin"),
                          "age": range(40), "churned": ["yes", "no"] * 20})
    reason = detect_id_columns(frame, "churned")["signup"]
    assert reason.startswith("a date or time, different in every row") and "name" not in reason
