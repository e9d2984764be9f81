"""The data verbs on real files: select columns, filter rows, join, formula."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from nodes.artifacts import Table
from nodes.context import RunContext
from nodes.data import FileParams, FileTable
from nodes.errors import NodeInputError
from nodes.prepare_columns import ColumnsParams, SelectColumns
from nodes.prepare_formula import Formula, FormulaParams
from nodes.prepare_join import JoinParams, JoinTables
from nodes.prepare_rows import FilterRows, RowsParams
from real_files import real_file


@pytest.fixture
def context(tmp_path: Path) -> RunContext:
    return RunContext(work_dir=tmp_path)


def _load(name: str, target: str | None = None) -> Table:
    return FileTable.load_table(FileParams(path=real_file(name), target=target))[0]


def _columns(table: Table, context: RunContext, **params) -> Table:
    return SelectColumns().run({"table": table}, ColumnsParams(**params), context)["table"]


def _rows(table: Table, context: RunContext, **params) -> Table:
    return FilterRows().run({"table": table}, RowsParams(**params), context)["table"]


# --- prepare.columns --------------------------------------------------------------------------


def test_keep_always_keeps_the_target_and_rename_follows_it(context):
    table = _load("airquality.csv", "Ozone")

    out = _columns(table, context, keep=["Temp", "Wind"], rename={"Ozone": "ozone_ppb", "Temp": "temp_f"})

    assert list(out.frame.columns) == ["ozone_ppb", "Wind", "temp_f"]
    assert out.target == "ozone_ppb"
    assert out.frame["ozone_ppb"].isna().sum() == 37


def test_drop_and_retype(context):
    table = _load("mtcars.csv", "mpg")

    out = _columns(table, context, drop=["Unnamed: 0", "disp"], types={"cyl": "category"})

    assert "disp" not in out.frame.columns and out.ignored == []
    assert out.frame["cyl"].map(type).eq(str).all()


def test_unknown_column_and_dropping_the_target_are_named(context):
    table = _load("mtcars.csv", "mpg")

    with pytest.raises(NodeInputError, match=r"param 'keep' names 'hpp', which the table lacks \(did you mean 'hp'\?\)"):
        _columns(table, context, keep=["hpp"])
    with pytest.raises(NodeInputError, match="removes the target 'mpg'"):
        _columns(table, context, drop=["mpg"])


# --- prepare.rows -----------------------------------------------------------------------------


def test_drop_missing_target_rows(context):
    table = _load("airquality.csv", "Ozone")

    out = _rows(table, context, drop_missing=["Ozone"])

    assert len(out.frame) == 153 - 37
    assert out.target == "Ozone" and out.ignored == ["Unnamed: 0"]


def test_conditions_all_and_any(context):
    table = _load("penguins.csv", "species")
    frame = table.frame
    conditions = [{"column": "island", "operator": "==", "value": "Biscoe"},
                  {"column": "body_mass_g", "operator": ">=", "value": 5000}]

    both = _rows(table, context, conditions=conditions)
    either = _rows(table, context, conditions=conditions, match="any")

    assert len(both.frame) == ((frame.island == "Biscoe") & (frame.body_mass_g >= 5000)).sum()
    assert len(either.frame) == ((frame.island == "Biscoe") | (frame.body_mass_g >= 5000)).sum()


def test_is_missing_and_contains(context):
    table = _load("penguins.csv", "species")

    missing_sex = _rows(table, context, conditions=[{"column": "sex", "operator": "is missing"}])
    gentoo = _rows(table, context, conditions=[{"column": "species", "operator": "contains", "value": "too"}])

    assert len(missing_sex.frame) == table.frame["sex"].isna().sum() == 11
    assert set(gentoo.frame["species"]) == {"Gentoo"}


def test_a_text_value_against_numbers_is_named(context):
    with pytest.raises(NodeInputError, match="condition 1: column 'Age' holds numbers, but the value 'old'"):
        _rows(_load("Arthritis.csv"), context, conditions=[{"column": "Age", "operator": ">", "value": "old"}])


def test_duplicates_and_seeded_sample(context):
    table = _load("titanic_count.csv", "survived")
    plain = table.with_frame(table.frame.drop(columns="Unnamed: 0"))

    unique = _rows(plain, context, drop_duplicates=True)
    first = _rows(table, context, sample="rows", sample_rows=100, seed=3)
    again = _rows(table, context, sample="rows", sample_rows=100, seed=3)
    tenth = _rows(table, context, sample="fraction", sample_fraction=0.1)

    assert len(unique.frame) == len(plain.frame.drop_duplicates())
    assert len(first.frame) == 100
    pd.testing.assert_frame_equal(first.frame, again.frame)
    assert len(tenth.frame) == round(0.1 * len(table.frame))


def test_a_condition_without_a_value_is_named(context):
    with pytest.raises(NodeInputError, match="condition 1: '>' needs a value to compare 'Age' with"):
        _rows(_load("Arthritis.csv"), context, conditions=[{"column": "Age", "operator": ">"}])


# --- prepare.join -----------------------------------------------------------------------------


def _cars_and_origins() -> tuple[Table, Table]:
    cars = _load("Cars93.csv", "Price")
    origins = cars.frame[["Manufacturer", "Origin"]].drop_duplicates("Manufacturer").rename(columns={"Origin": "home"})
    return cars.with_frame(cars.frame.drop(columns="Origin")), Table(origins.iloc[:20].reset_index(drop=True))


def test_join_inner_left_outer_with_a_report(context):
    cars, origins = _cars_and_origins()

    results = {how: JoinTables().run({"left": cars, "right": origins}, JoinParams(on=["Manufacturer"], how=how), context)
               for how in ("inner", "left", "outer")}

    inner = results["inner"]
    matched = cars.frame["Manufacturer"].isin(origins.frame["Manufacturer"]).sum()
    assert len(inner["table"].frame) == matched == inner["report"].values["matched_rows"]
    assert inner["report"].values["left_rows"] == 93
    assert len(results["left"]["table"].frame) == 93
    assert results["left"]["table"].frame["home"].isna().sum() == 93 - matched
    assert results["outer"]["report"].values["joined_rows"] >= 93
    assert inner["table"].target == "Price" and "Unnamed: 0" in inner["table"].ignored


def test_join_keys_of_different_types_are_an_error(context):
    cars, origins = _cars_and_origins()
    numeric = Table(pd.DataFrame({"Manufacturer": [1, 2], "x": [0, 1]}))

    with pytest.raises(NodeInputError, match="key 'Manufacturer' holds text in the left table but numbers in the right"):
        JoinTables().run({"left": cars, "right": numeric}, JoinParams(on=["Manufacturer"]), context)
    with pytest.raises(NodeInputError, match="the right table lacks"):
        JoinTables().run({"left": cars, "right": origins}, JoinParams(on=["Model"]), context)


# --- prepare.formula --------------------------------------------------------------------------


def _formula(table: Table, context: RunContext, column: str, expression: str) -> pd.Series:
    return Formula().run({"table": table}, FormulaParams(column=column, expression=expression), context)["table"].frame[column]


def test_formula_arithmetic_functions_and_backticks(context):
    table = _load("airquality.csv", "Ozone")
    frame = table.frame

    got = _formula(table, context, "x", "round(log(`Solar.R` + 1) * 2, 2) + clip(Wind, 5, 10) ** 2")

    expected = np.round(np.log(frame["Solar.R"] + 1) * 2, 2) + np.clip(frame["Wind"], 5, 10) ** 2
    pd.testing.assert_series_equal(got, expected, check_names=False)


def test_formula_if_else_and_conditions(context):
    table = _load("airquality.csv", "Ozone")
    frame = table.frame

    label = _formula(table, context, "heat", "'hot' if Temp > 85 and not Month == 9 else 'mild'")
    flag = _formula(table, context, "calm", "if_else(abs(Wind - 10) < 2, 1, 0)")

    assert (label == "hot").sum() == ((frame.Temp > 85) & (frame.Month != 9)).sum()
    assert flag.sum() == ((frame.Wind - 10).abs() < 2).sum()


@pytest.mark.parametrize(
    ("expression", "message", "offset"),
    [
        ("Temp.__class__", "'.' is not allowed", 5),
        ("__import__('os').system('x')", "'.' is not allowed", 17),
        ("Wind + Temp[0]", "subscripts", 8),
        ("(lambda: 1)()", "not a function", 1),
        ("[t for t in Temp]", "comprehensions", 1),
        ("open('/etc/passwd')", "'open' is not a function here", 1),
        ("exp(Wind, 2)", "exp() takes 1 argument(s), got 2", 1),
        ("Wind +* 2", "not a valid expression", None),
    ],
)
def test_formula_refuses_what_is_not_allowed_and_points_at_it(expression, message, offset):
    with pytest.raises(ValidationError) as info:
        FormulaParams(column="x", expression=expression)

    text = str(info.value)
    assert message in text
    if offset is not None:
        assert f"(at character {offset})" in text


def test_formula_unknown_column_is_located(context):
    with pytest.raises(NodeInputError, match=r"there is no column 'Tmp' \(did you mean 'Temp'\?\) \(at character 8\)"):
        _formula(_load("airquality.csv"), context, "x", "Wind + Tmp")
