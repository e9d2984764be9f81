"""Data nodes: bundled sample datasets and tables read from files or fsspec URIs."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import pandas as pd
import pytest

from nodes.context import RunContext
from nodes.data import FileParams, FileTable, SampleDataset, SampleParams
from nodes.errors import NodeInputError

CHURN_CSV = Path(__file__).resolve().parents[3] / "assets" / "data" / "churn.csv"


@pytest.fixture
def context(tmp_path: Path) -> RunContext:
    return RunContext(work_dir=tmp_path)


def _read(context: RunContext, **params) -> "pd.DataFrame":
    table = FileTable().run({}, FileParams(**params), context)["table"]
    assert table.target == params.get("target")
    return table.frame


# --- data.sample ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "target", "shape", "classes"),
    [
        ("iris", "species", (150, 5), {"setosa", "versicolor", "virginica"}),
        ("wine", "cultivar", (178, 14), {"class_0", "class_1", "class_2"}),
        ("breast_cancer", "diagnosis", (569, 31), {"malignant", "benign"}),
        ("digits", "digit", (1797, 65), set(range(10))),
    ],
)
def test_sample_classification_datasets_have_named_target(context, dataset, target, shape, classes):
    table = SampleDataset().run({}, SampleParams(dataset=dataset), context)["table"]

    assert table.target == target
    assert table.frame.shape == shape
    assert set(table.frame[target].unique()) == classes
    assert "target" not in table.frame.columns
    assert all(pd.api.types.is_numeric_dtype(table.frame[c]) for c in table.feature_columns)


def test_sample_class_names_match_scikit_learn_labels(context):
    """breast_cancer's index 0 is 'malignant' (212 rows): names must not be shuffled when mapped."""
    frame = SampleDataset().run({}, SampleParams(dataset="breast_cancer"), context)["table"].frame

    assert (frame["diagnosis"] == "malignant").sum() == 212
    assert (frame["diagnosis"] == "benign").sum() == 357


def test_sample_digits_keeps_integer_labels(context):
    frame = SampleDataset().run({}, SampleParams(dataset="digits"), context)["table"].frame

    assert pd.api.types.is_integer_dtype(frame["digit"])
    assert "pixel_0_0" in frame.columns


def test_sample_diabetes_is_regression_with_float_target(context):
    table = SampleDataset().run({}, SampleParams(dataset="diabetes"), context)["table"]

    assert table.target == "progression"
    assert table.frame.shape == (442, 11)
    assert pd.api.types.is_float_dtype(table.frame["progression"])
    assert table.frame["progression"].nunique() > 100


def test_sample_keeps_scikit_learn_feature_names(context):
    frame = SampleDataset().run({}, SampleParams(dataset="iris"), context)["table"].frame

    assert list(frame.columns) == [
        "sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)", "species",
    ]


# --- data.file: reading ---------------------------------------------------------


def test_file_reads_churn_csv_with_inferred_types(context):
    frame = _read(context, path=str(CHURN_CSV), target="churned")

    assert frame.shape == (500, 9)
    assert pd.api.types.is_integer_dtype(frame["tenure_months"])
    assert pd.api.types.is_float_dtype(frame["monthly_charges"])
    assert pd.api.types.is_float_dtype(frame["support_calls"])  # integers with gaps
    assert not pd.api.types.is_numeric_dtype(frame["contract"])
    assert set(frame["churned"]) == {"yes", "no"}
    assert frame["total_charges"].isna().sum() > 0


def test_file_reads_fsspec_memory_uri(context):
    uri = f"memory://pipecanvas-test-{uuid.uuid4().hex}/churn.csv"
    with fsspec.open(uri, "wb") as handle:
        handle.write(CHURN_CSV.read_bytes())
    try:
        from_memory = _read(context, path=uri, target="churned")
    finally:
        fsspec.filesystem("memory").rm(uri)

    pd.testing.assert_frame_equal(from_memory, _read(context, path=str(CHURN_CSV), target="churned"))


@pytest.mark.parametrize("name", ["churn.parquet", "churn.pq"])
def test_file_reads_parquet_by_extension(context, tmp_path, name):
    original = pd.read_csv(CHURN_CSV)
    original.to_parquet(tmp_path / name)

    frame = _read(context, path=str(tmp_path / name), target="churned")

    pd.testing.assert_frame_equal(frame, original)


def test_file_format_param_overrides_the_name(context, tmp_path):
    pd.read_csv(CHURN_CSV).to_parquet(tmp_path / "export.bin")

    frame = _read(context, path=str(tmp_path / "export.bin"), format="parquet", target="churned")

    assert len(frame) == 500


def test_file_reads_tab_separated_and_custom_separator(context, tmp_path):
    (tmp_path / "t.tsv").write_text("height\tweight\n1.5\t60\n1.8\t80\n")
    (tmp_path / "s.csv").write_text("height;weight\n1.5;60\n1.8;80\n")

    tsv = _read(context, path=str(tmp_path / "t.tsv"))
    semicolon = _read(context, path=str(tmp_path / "s.csv"), separator=";")

    assert list(tsv.columns) == list(semicolon.columns) == ["height", "weight"]
    assert tsv["weight"].tolist() == [60, 80]


GERMAN_EXCEL = "Alter;Einkommen;Stadt;gekündigt\n" + "".join(
    f"{20 + i % 40};{1000 + i * 7},{i % 100:02d};{'Köln' if i % 3 else 'Zürich'};{'ja' if i % 4 == 0 else 'nein'}\n"
    for i in range(120)
)


def test_file_reads_a_european_excel_export_as_it_is(context, tmp_path):
    """Excel on a German system: semicolons, decimal commas, Windows-1252 umlauts; no param set."""
    (tmp_path / "kunden.csv").write_bytes(GERMAN_EXCEL.encode("cp1252"))

    frame = _read(context, path=str(tmp_path / "kunden.csv"), target="gekündigt")

    assert list(frame.columns) == ["Alter", "Einkommen", "Stadt", "gekündigt"]
    assert pd.api.types.is_float_dtype(frame["Einkommen"]) and frame["Einkommen"].iloc[1] == pytest.approx(1007.01)
    assert set(frame["Stadt"]) == {"Köln", "Zürich"}


def test_file_reads_numbers_with_thousands_points(context, tmp_path):
    (tmp_path / "umsatz.csv").write_text("Kunde;Umsatz\nA;1.234,56\nB;999,50\nC;12.000\n")

    frame = _read(context, path=str(tmp_path / "umsatz.csv"))

    assert frame["Umsatz"].tolist() == [1234.56, 999.5, 12000.0]


def test_file_reads_excel_unicode_text(context, tmp_path):
    """Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated, saved as .txt."""
    (tmp_path / "export.txt").write_text("name\tscore\n" + "".join(f"Zoë {i}\t{i}\n" for i in range(30)), encoding="utf-16")

    frame = _read(context, path=str(tmp_path / "export.txt"))

    assert list(frame.columns) == ["name", "score"] and frame["name"].iloc[0] == "Zoë 0"
    assert frame["score"].sum() == sum(range(30))


def test_file_utf_8_at_its_start_and_windows_1252_later_is_read_as_windows_1252(context, tmp_path):
    """The first accented name comes after the bytes the dialect is worked out from."""
    rows = "".join(f"plain {i},{i}\n" for i in range(8000)) + "Zürich,1\n"
    (tmp_path / "late.csv").write_bytes(("town,n\n" + rows).encode("cp1252"))

    frame = _read(context, path=str(tmp_path / "late.csv"))

    assert frame["town"].iloc[-1] == "Zürich" and len(frame) == 8001


def test_file_read_again_as_windows_1252_keeps_the_thousands_points(context, tmp_path):
    rows = "".join(f"K{i};1.{i % 1000:03d},50\n" for i in range(6000)) + "Zürich;2.000,25\n"
    (tmp_path / "late.csv").write_bytes(("Kunde;Umsatz\n" + rows).encode("cp1252"))

    frame = _read(context, path=str(tmp_path / "late.csv"))

    assert frame["Kunde"].iloc[-1] == "Zürich"
    assert frame["Umsatz"].iloc[-1] == 2000.25 and frame["Umsatz"].iloc[1] == 1001.5


def test_file_read_in_the_wrong_encoding_says_which_param_to_set(context, tmp_path):
    (tmp_path / "kunden.csv").write_bytes(GERMAN_EXCEL.encode("cp1252"))

    with pytest.raises(NodeInputError) as caught:
        _read(context, path=str(tmp_path / "kunden.csv"), encoding="utf-8")

    assert "could not be read as CSV: it is not utf-8 text (it holds the byte 0xfc); set 'encoding'" in str(caught.value)
    assert _read(context, path=str(tmp_path / "kunden.csv"), encoding="cp1252")["Stadt"].iloc[0] == "Zürich"


def test_file_separator_and_decimal_set_by_the_user_are_used(context, tmp_path):
    (tmp_path / "pipes.csv").write_text("a|b\n1,5|x\n2,5|y\n")

    as_text = _read(context, path=str(tmp_path / "pipes.csv"), separator="|", decimal=".")
    as_numbers = _read(context, path=str(tmp_path / "pipes.csv"), separator="|", decimal=",")

    assert as_text["a"].tolist() == ["1,5", "2,5"]
    assert as_numbers["a"].tolist() == [1.5, 2.5]


def test_file_with_the_wrong_separator_set_says_which_it_looks_like(context, tmp_path):
    (tmp_path / "kunden.csv").write_bytes(GERMAN_EXCEL.encode("cp1252"))

    with pytest.raises(NodeInputError) as caught:
        _read(context, path=str(tmp_path / "kunden.csv"), separator=",", target="gekündigt")

    assert str(caught.value).endswith(
        "(one column: the file looks separated by semicolon (;); set 'separator' to auto)"
    )


def test_file_with_a_title_above_the_header_reads_with_skip_rows(context, tmp_path):
    """Bank and ERP exports write a title and a date before the table."""
    (tmp_path / "export.csv").write_bytes(("Umsatzbericht\nStand: 01.12.2026\n" + GERMAN_EXCEL).encode("cp1252"))

    with pytest.raises(NodeInputError) as caught:
        _read(context, path=str(tmp_path / "export.csv"))
    frame = _read(context, path=str(tmp_path / "export.csv"), skip_rows=2, target="gekündigt")

    assert "set 'skip_rows' to how many there are" in str(caught.value)
    assert list(frame.columns) == ["Alter", "Einkommen", "Stadt", "gekündigt"]
    assert pd.api.types.is_float_dtype(frame["Einkommen"])


def test_file_an_explicit_comma_on_a_tsv_file_still_means_tabs(context, tmp_path):
    """``separator: ","`` was the default before ``auto``, and pipelines saved then write it out."""
    (tmp_path / "t.tsv").write_text("height\tweight\n1.5\t60\n")

    assert list(_read(context, path=str(tmp_path / "t.tsv"), separator=",").columns) == ["height", "weight"]


def test_file_a_workbook_named_csv_says_to_set_the_format(context, tmp_path):
    pd.DataFrame({"a": [1, 2]}).to_excel(tmp_path / "book.xlsx", index=False)
    (tmp_path / "book.xlsx").rename(tmp_path / "book.csv")

    with pytest.raises(NodeInputError, match="it is a zip archive, such as an Excel workbook; set 'format' to 'excel'"):
        _read(context, path=str(tmp_path / "book.csv"))
    assert _read(context, path=str(tmp_path / "book.csv"), format="excel")["a"].tolist() == [1, 2]


def test_file_profile_text_is_read_in_the_same_dialect(tmp_path):
    (tmp_path / "kunden.csv").write_bytes(GERMAN_EXCEL.encode("cp1252"))
    params = FileParams(path=str(tmp_path / "kunden.csv"))

    raw = FileTable.raw_text_frame(params)

    assert list(raw.columns) == ["Alter", "Einkommen", "Stadt", "gekündigt"]
    assert raw["Einkommen"].iloc[1] == "1007,01"  # as written: the profile counts cell texts


def test_file_reads_gzipped_csv(context, tmp_path):
    pd.read_csv(CHURN_CSV).to_csv(tmp_path / "churn.csv.gz", index=False)

    assert len(_read(context, path=str(tmp_path / "churn.csv.gz"))) == 500


# --- data.file: errors ----------------------------------------------------------


def test_file_missing_says_not_found(context, tmp_path):
    path = str(tmp_path / "nope.csv")
    with pytest.raises(NodeInputError, match=r"file '.*nope\.csv' was not found"):
        _read(context, path=path)


def test_file_missing_target_lists_columns(context):
    with pytest.raises(NodeInputError) as info:
        _read(context, path=str(CHURN_CSV), target="churn")

    message = str(info.value)
    assert "target column 'churn' is not in the file" in message
    assert "tenure_months, monthly_charges" in message
    assert "did you mean 'churned'" in message


def test_file_unknown_extension_asks_for_format(context, tmp_path):
    (tmp_path / "data.json").write_text("{}")
    with pytest.raises(NodeInputError, match="set 'format'"):
        _read(context, path=str(tmp_path / "data.json"))


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "is empty"),
        ("empty.parquet", b"", "is empty"),
        ("header.csv", b"a,b,c\n", "has no rows"),
        ("binary.csv", bytes(range(256)) * 4, "could not be read as CSV"),
        ("ragged.csv", b"a,b\n1,2\n3,4,5,6\n", "could not be read as CSV: .*Expected 2 fields"),
        ("text.parquet", b"a,b\n1,2\n", "could not be read as Parquet"),
    ],
)
def test_file_unusable_content_is_a_node_input_error(context, tmp_path, name, content, expected):
    (tmp_path / name).write_bytes(content)

    with pytest.raises(NodeInputError, match=expected) as info:
        _read(context, path=str(tmp_path / name))
    assert name in str(info.value)


def test_parquet_decimals_are_numbers_and_nested_cells_are_text(context, tmp_path):
    """A Parquet decimal column was 300 categories of prices; lists and records broke every check ("unhashable")."""
    import decimal
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 40
    table = pa.table({
        "price": pa.array([decimal.Decimal(f"{i}.25") for i in range(rows)], pa.decimal128(8, 2)),
        "tags": pa.array([["a", "b"][: i % 3] for i in range(rows)], pa.list_(pa.string())),
        "addr": pa.array([{"city": "X", "zip": i} for i in range(rows)]),
        "churned": pa.array(["yes" if i % 2 else "no" for i in range(rows)]),
    })
    pq.write_table(table, tmp_path / "nested.parquet")

    frame = _read(context, path=str(tmp_path / "nested.parquet"), target="churned")

    assert frame["price"].dtype == float and frame["price"].iloc[3] == 3.25
    assert json.loads(frame["tags"].iloc[2]) == ["a", "b"] and json.loads(frame["tags"].iloc[0]) == []
    assert json.loads(frame["addr"].iloc[5]) == {"city": "X", "zip": 5}


def test_a_workbook_with_a_stray_cell_far_away_is_refused_before_it_is_read(context, tmp_path):
    """One value at XFD1048576 made the used range 17 billion cells: reading took 24 GB and the system stopped it."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["age", "churned"])
    for i in range(30):
        sheet.append([20 + i, "yes" if i % 2 else "no"])
    sheet["XFD1048576"] = "x"
    workbook.save(tmp_path / "stray.xlsx")

    with pytest.raises(NodeInputError, match=r"used range runs to XFD1048576 \(17,179,869,184 cells\).*stray cells"):
        _read(context, path=str(tmp_path / "stray.xlsx"), target="churned")

    # a crafted file without the <dimension> Excel writes is measured from its cells
    import re
    import zipfile

    with zipfile.ZipFile(tmp_path / "stray.xlsx") as original:
        parts = {name: original.read(name) for name in original.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(rb"<dimension[^>]*/>", b"", parts[sheet])
    with zipfile.ZipFile(tmp_path / "undimensioned.xlsx", "w") as crafted:
        for name, data in parts.items():
            crafted.writestr(name, data)
    with pytest.raises(NodeInputError, match=r"used range runs to XFD1048576"):
        _read(context, path=str(tmp_path / "undimensioned.xlsx"), target="churned")


@pytest.mark.parametrize("name, fmt, message", [
    ("old.xls", "auto", "is an old-format Excel workbook \\(.xls\\)"),
    ("locked.xlsx", "auto", "old-format \\(.xls\\) or password-protected workbook"),
])
def test_workbooks_that_cannot_be_read_say_what_to_save_them_as(context, tmp_path, name, fmt, message):
    # an old .xls and an encrypted .xlsx are both OLE compound files: "File is not a zip file" said nothing useful
    (tmp_path / name).write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048)
    with pytest.raises(NodeInputError, match=message):
        _read(context, path=str(tmp_path / name), format=fmt)


def test_an_excel_column_with_numbers_and_text_is_read_as_text_as_in_a_csv(context, tmp_path):
    """Kept mixed, the data node's output could not be saved (pyarrow's ArrowTypeError)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["amount", "churned"])
    for i in range(30):
        sheet.append(["-" if i == 3 else 10.5 + i, "yes" if i % 2 else "no"])
    workbook.save(tmp_path / "mixed.xlsx")

    table = FileTable().run({}, FileParams(path=str(tmp_path / "mixed.xlsx"), target="churned"), context)["table"]
    assert table.frame["amount"].tolist()[2:5] == ["12.5", "-", "14.5"]
    from nodes.artifact_io import write_artifact

    write_artifact("table", table, str(tmp_path / "out.parquet"))  # saving is where it failed


def _workbook(path, sheets: dict[str, list[list]]) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)


def test_excel_reads_the_sheet_named_and_says_which_sheets_there_are(context, tmp_path):
    data = [["age", "churned"]] + [[20 + i, "yes" if i % 2 else "no"] for i in range(30)]
    _workbook(tmp_path / "book.xlsx", {"README": [["Notes"], ["exported 2026-11-30"]], "data": data})

    frame = _read(context, path=str(tmp_path / "book.xlsx"), sheet="data", target="churned")
    assert list(frame.columns) == ["age", "churned"] and len(frame) == 30
    with pytest.raises(NodeInputError, match="columns are: Notes \\(the workbook's sheets are 'README', 'data'; "
                                             "set 'sheet' to read another\\)"):
        _read(context, path=str(tmp_path / "book.xlsx"), target="churned")
    with pytest.raises(NodeInputError, match="it has no sheet named 'Daten'; its sheets are: 'README', 'data'"):
        _read(context, path=str(tmp_path / "book.xlsx"), sheet="Daten", target="churned")


def test_an_excel_title_above_the_header_hints_at_skip_rows(context, tmp_path):
    rows = [["Customer churn report Q3"], [], ["age", "churned"]] + [[20 + i, "no"] for i in range(10)]
    _workbook(tmp_path / "report.xlsx", {"Sheet1": rows})

    with pytest.raises(NodeInputError, match="set 'skip_rows' to how many there are"):
        _read(context, path=str(tmp_path / "report.xlsx"), target="churned")
    assert len(_read(context, path=str(tmp_path / "report.xlsx"), skip_rows=2, target="churned")) == 10
