"""data.file on real exports: missing-value strings, row-name and id columns, column roles and types, Excel."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nodes.artifact_io import read_artifact, write_artifact
from nodes.context import RunContext
from nodes.data import FileParams, FileTable
from nodes.errors import NodeInputError
from nodes.prepare import Split, SplitParams
from real_files import real_file


@pytest.fixture
def context(tmp_path: Path) -> RunContext:
    return RunContext(work_dir=tmp_path)


def _table(context: RunContext, **params):
    return FileTable().run({}, FileParams(**params), context)["table"]


def test_none_is_a_category_by_default_and_na_is_missing(context):
    arthritis = _table(context, path=real_file("Arthritis.csv"), target="Improved")
    airquality = _table(context, path=real_file("airquality.csv"), target="Ozone")

    assert arthritis.frame["Improved"].value_counts().to_dict() == {"None": 42, "Marked": 28, "Some": 14}
    assert airquality.frame["Ozone"].isna().sum() == 37
    assert pd.api.types.is_numeric_dtype(airquality.frame["Ozone"])


def test_missing_values_param_decides_what_counts_as_missing(context):
    arthritis = _table(context, path=real_file("Arthritis.csv"), target="Improved", missing_values=["None"])

    assert arthritis.frame["Improved"].isna().sum() == 42


def test_row_names_and_id_columns_stay_in_the_table_but_are_not_features(context, caplog):
    caplog.set_level("INFO")
    table = _table(context, path=real_file("Arthritis.csv"), target="Improved")

    assert table.ignored == ["Unnamed: 0", "ID"]
    assert "Unnamed: 0" in table.frame.columns
    assert table.feature_columns == ["Treatment", "Sex", "Age"]
    assert "column 'Unnamed: 0' is not used as a feature" in caplog.text
    assert context.warnings == []  # the node's badge has them from validate's data checks, not twice


def test_a_named_row_number_column_is_left_out(context):
    table = _table(context, path=real_file("longley.csv"), target="TOTEMP")

    assert table.ignored == ["Obs"]
    assert "YEAR" in table.feature_columns  # unique and monotone, but not the row numbers


def test_roles_override_detection(context):
    setting = {"Unnamed: 0": {"role": "feature"}, "Sex": {"role": "ignore"}, "Age": {"role": "id"}}
    table = _table(context, path=real_file("Arthritis.csv"), target="Improved", columns=setting)

    assert "Sex" not in table.frame.columns
    assert table.ignored == ["ID", "Age"]
    assert table.feature_columns == ["Unnamed: 0", "Treatment"]


def test_exclude_ids_off_keeps_every_column_a_feature(context):
    table = _table(context, path=real_file("Arthritis.csv"), target="Improved", exclude_ids=False)

    assert table.ignored == []
    assert "ID" in table.feature_columns


def test_types_override_what_was_read(context):
    columns = {"cyl": {"type": "category"}, "am": {"type": "boolean"}, "mpg": {"type": "text"}}
    frame = _table(context, path=real_file("mtcars.csv"), columns=columns).frame

    assert set(frame["cyl"]) == {"4", "6", "8"}
    assert frame["am"].dtype == "boolean" and frame["am"].sum() == 13
    assert frame["mpg"].iloc[0] == "21.0"


def test_dates_and_numbers_from_text(context, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("day,amount\n2024-01-05,1.5\n2024-02-10,2\n")
    frame = _table(context, path=str(path), columns={"day": {"type": "date"}, "amount": {"type": "number"}}).frame

    assert pd.api.types.is_datetime64_any_dtype(frame["day"])
    assert frame["day"].dt.month.tolist() == [1, 2]


def test_a_value_that_does_not_fit_its_type_is_named(context):
    with pytest.raises(NodeInputError, match=r"column 'Treatment' cannot be read as number: 84 value\(s\).*'Treated'"):
        _table(context, path=real_file("Arthritis.csv"), columns={"Treatment": {"type": "number"}})


def test_a_setting_for_an_unknown_column_lists_the_columns(context):
    with pytest.raises(NodeInputError, match=r"names 'Sexx'.*did you mean 'Sex'.*columns are: Unnamed: 0, ID"):
        _table(context, path=real_file("Arthritis.csv"), columns={"Sexx": {"role": "ignore"}})


def test_the_target_cannot_be_ignored(context):
    with pytest.raises(NodeInputError, match="'Improved' is the target"):
        _table(context, path=real_file("Arthritis.csv"), target="Improved", columns={"Improved": {"role": "ignore"}})


def test_excel_with_blank_cells(context, tmp_path):
    original = pd.DataFrame({"name": ["a", "b", None], "score": [1.0, None, 3.0], "level": ["None", "High", "Low"]})
    original.to_excel(tmp_path / "book.xlsx", index=False)

    frame = _table(context, path=str(tmp_path / "book.xlsx"), target="level").frame

    assert frame["score"].isna().sum() == 1 and frame["name"].isna().sum() == 1
    assert frame["level"].tolist() == ["None", "High", "Low"]


def test_a_csv_named_xlsx_is_a_located_error(context, tmp_path):
    (tmp_path / "fake.xlsx").write_text("a,b\n1,2\n")

    with pytest.raises(NodeInputError, match="fake.xlsx' could not be read as Excel"):
        _table(context, path=str(tmp_path / "fake.xlsx"))


def test_ignored_columns_survive_split_and_the_artifact_file(context, tmp_path):
    table = _table(context, path=real_file("Arthritis.csv"), target="Improved")
    parts = Split().run({"table": table}, SplitParams(), context)
    uri = str(tmp_path / "train.parquet")
    write_artifact("table", parts["train"], uri)

    back = read_artifact("table", uri)

    assert back.ignored == ["Unnamed: 0", "ID"]
    assert back.feature_columns == ["Treatment", "Sex", "Age"]
