"""Data nodes: where a pipeline's rows come from."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .artifacts import ArtifactKind, Table
from .algorithms import LABELS_KEY
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .csv_dialect import (
    AUTO, DECIMAL_LABELS, FALLBACK_ENCODING, SAMPLE_BYTES, SEPARATOR_LABELS, CsvDialect, detect_dialect,
    normalized_encoding,
)
from .errors import NodeInputError
from .column_roles import DEFAULT_MISSING_VALUES, apply_columns
from .file_source import DEFAULT_MAX_SIZE_MB, open_source

if TYPE_CHECKING:  # pandas is heavy; the catalog must import fast
    import pandas as pd

__all__ = ["SampleDataset", "FileTable", "FileParams", "ColumnSetting", "COLUMN_WIDGET", "COLUMNS_WIDGET"]

# The name each bundled dataset's target column gets, in the analyst's words.
_SAMPLE_TARGETS = {
    "iris": "species",
    "wine": "cultivar",
    "breast_cancer": "diagnosis",
    "digits": "digit",
    "diabetes": "progression",
}
# Datasets whose class indices are shown as names; digits keeps its integers 0-9.
_NAMED_CLASSES = frozenset({"iris", "wine", "breast_cancer"})

_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zip", ".zst")
_FORMAT_BY_SUFFIX = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "excel", ".xlsm": "excel",
}

#: A param naming one column (or a list of them) carries this, so the studio offers the upstream table's columns.
COLUMN_WIDGET = {"x-pipecanvas-widget": "column"}
COLUMNS_WIDGET = {"x-pipecanvas-widget": "columns"}


class SampleParams(NodeParams):
    dataset: Literal["iris", "wine", "breast_cancer", "diabetes", "digits"] = Field(
        "iris",
        description="A small dataset bundled with scikit-learn (nothing is downloaded). "
        "iris, wine, breast_cancer and digits are classification tasks; diabetes is regression.",
    )


class SampleDataset(NodeType):
    type_id = "data.sample"
    title = "Sample dataset"
    description = "Loads a small, well-known example dataset so you can try a pipeline right away."
    category = Category.DATA
    icon = "database"
    keywords = ("example", "iris", "diabetes", "demo", "load")
    outputs = (Port("table", ArtifactKind.TABLE, description="The dataset, with its target column set."),)
    Params = SampleParams
    resources = Resources(cpu="500m", memory="512Mi")
    warm_imports = ("sklearn.datasets",)

    def run(self, inputs: dict[str, Any], params: SampleParams, context: RunContext) -> dict[str, Any]:
        frame = _load_sample(params.dataset)
        target = _SAMPLE_TARGETS[params.dataset]
        context.log(f"loaded {params.dataset}: {len(frame)} rows, {frame.shape[1] - 1} feature columns, target {target!r}")
        return {"table": Table(frame, target)}


class ColumnSetting(BaseModel):
    """How one column is used: its role, and its type when the one read from the file is wrong."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["auto", "feature", "ignore", "id"] = Field(
        "auto",
        description="feature: a model learns from it; id: kept in the table but never learned from; "
        "ignore: left out of the table; auto: a feature unless it looks like a row number or an id.",
    )
    type: Literal["auto", "number", "category", "text", "date", "boolean"] = Field(
        "auto", description="The column's type; auto keeps what was read from the file."
    )


class FileParams(NodeParams):
    path: str = Field(
        ...,
        min_length=1,
        description="Where the file is: a local path or a URI such as s3://bucket/data.csv. For an uploaded "
        "dataset, its file name.",
    )
    digest: str | None = Field(
        None,
        pattern=r"^sha256:[0-9a-f]{64}$",
        description="The content digest of an uploaded dataset (sha256:...). When set, the file is taken from "
        "the dataset store (pipecanvas datasets add) by its content, wherever the pipeline runs.",
    )
    format: Literal["auto", "csv", "parquet", "excel"] = Field(
        "auto", description="File format; 'auto' decides from the file name (.csv, .tsv, .parquet, .xlsx)."
    )
    target: str | None = Field(
        None,
        description="The column the model should learn to predict. Leave empty for a table without one.",
        json_schema_extra=COLUMN_WIDGET,
    )
    separator: Literal["auto", ",", ";", "\t", "|", " "] = Field(
        AUTO,
        description="Column separator for CSV files; 'auto' finds it from the file's first lines (a .tsv file is "
        "tab-separated).",
        json_schema_extra={LABELS_KEY: SEPARATOR_LABELS},
    )
    encoding: str = Field(
        AUTO,
        description="The CSV file's text encoding; 'auto' reads UTF-8 (with or without a byte-order mark) and "
        "UTF-16, and otherwise Windows-1252, as Excel saves in Europe and the Americas. Set it for other files, "
        "e.g. cp1250 or shift_jis.",
    )
    decimal: Literal["auto", ".", ","] = Field(
        AUTO,
        description="How decimals are written in a CSV file: 1.5 or 1,5; 'auto' reads 1,5 as a number when "
        "columns are not comma-separated and no number is written with a point.",
        json_schema_extra={LABELS_KEY: DECIMAL_LABELS},
    )
    sheet: str | None = Field(
        None, max_length=31,
        description="The sheet of an Excel workbook to read, by name (empty: the first sheet).",
    )
    skip_rows: int = Field(
        0, ge=0, le=10_000,
        description="Lines above the header to skip: a title, a date or notes that some exports write before the "
        "table (rows, for an Excel sheet).",
    )
    missing_values: list[str] = Field(
        default_factory=lambda: list(DEFAULT_MISSING_VALUES),
        max_length=100,
        description="Cell texts that mean 'no value' (R and spreadsheet exports write NA or leave the cell "
        "empty). 'None' is not among them by default: it is often a real category.",
    )
    exclude_ids: bool = Field(
        True,
        description="Leave row numbers and id-like columns (unique in every row: exported row names, 1..n, "
        "'id' columns) out of the features; a warning names them. A column's role overrides this.",
    )
    columns: dict[str, ColumnSetting] = Field(
        default_factory=dict,
        description="Per column: its role (feature, id, ignore) and type (number, category, text, date, boolean).",
    )
    max_size_mb: int = Field(
        DEFAULT_MAX_SIZE_MB, ge=1,
        description=f"Largest file to read, in MB, after decompression (default {DEFAULT_MAX_SIZE_MB}); "
        "a bigger file is refused instead of filling the memory.",
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        return normalized_encoding(value)

    @field_validator("decimal")
    @classmethod
    def _not_the_separator(cls, value: str, info: ValidationInfo) -> str:
        if value == "," and info.data.get("separator") == ",":
            raise ValueError("must not be ',' when 'separator' is ',' too: 1,5 would be split into two columns")
        return value


class FileTable(NodeType):
    type_id = "data.file"
    title = "Table from file"
    description = (
        "Reads a CSV, TSV, Parquet or Excel file (or an uploaded dataset), works out each column's type, "
        "and marks the column to predict."
    )
    category = Category.DATA
    icon = "file"
    keywords = ("csv", "tsv", "parquet", "excel", "xlsx", "upload", "load", "read", "import")
    outputs = (Port("table", ArtifactKind.TABLE, description="The file's rows, with inferred column types."),)
    Params = FileParams
    resources = Resources(cpu="500m", memory="1Gi")

    @classmethod
    def source_fingerprint(cls, params: FileParams) -> str | None:
        """The dataset's content digest, or else the file's size and modification time (or ETag)."""
        if params.digest is not None:
            return params.digest
        location = _locate(params.path)
        try:
            info = _local_info(location) if "://" not in location else _remote_info(location)
        except Exception:  # unreadable now: the step itself will say why when it runs
            return None
        keys = ("size", "mtime", "ETag", "etag", "md5", "LastModified", "last_modified", "created")
        return ";".join(f"{k}={info[k]}" for k in keys if info.get(k) is not None)

    @classmethod
    def load_table(cls, params: FileParams) -> tuple[Table, dict[str, str]]:
        """The table this node outputs, and the columns it left out of the features with the reason.

        The compiler's data checks call this too, so ``pipecanvas validate`` sees what a run would see.
        """
        frame = _read_table(params)
        if params.target is not None:
            _check_target(frame, params.target, params.path)
        return apply_columns(frame, params)

    @classmethod
    def raw_text_frame(cls, params: FileParams) -> "pd.DataFrame | None":
        """A CSV's cells exactly as written (nothing read as missing), for the profile; None for other formats."""
        if _resolve_format(params.path, params.format) != "csv":
            return None
        return _read_csv(params, dtype=str, keep_default_na=False, na_filter=False)

    def run(self, inputs: dict[str, Any], params: FileParams, context: RunContext) -> dict[str, Any]:
        table, left_out = self.load_table(params)
        context.log(f"read {len(table.frame)} rows and {table.frame.shape[1]} columns from {params.path!r}")
        for column, reason in left_out.items():
            # a log line only: validate's data checks already warn on the node, with how to change it
            context.log(f"column {column!r} is not used as a feature: it is {reason}")
        return {"table": table}


def _load_sample(name: str) -> "pd.DataFrame":
    """One of scikit-learn's bundled datasets as a frame whose target column has a meaningful name.

    Class indices become their names (``setosa``, ``malignant``...) so that
    predictions, metrics and endpoint answers read naturally.
    """
    import numpy as np
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    target = _SAMPLE_TARGETS[name]
    frame = bunch.frame.rename(columns={"target": target})
    if name in _NAMED_CLASSES:
        names = np.asarray(bunch.target_names, dtype=object)
        frame[target] = names[bunch.target.to_numpy()]
    return frame


def _read_table(params: FileParams) -> "pd.DataFrame":
    """The file's rows, read through fsspec so a local path and any fsspec URI work alike.

    Every way the file can be unusable (missing, empty, not a table) becomes a
    ``NodeInputError`` that names the file.
    """
    import zipfile

    import pandas as pd

    file_format = _resolve_format(params.path, params.format)
    try:
        if file_format == "csv":
            frame = _read_csv(params, na_values=params.missing_values, keep_default_na=False)
        else:
            with open_source(_source(params), params.path, params.max_size_mb) as handle:
                frame = (_read_parquet(handle) if file_format == "parquet"
                         else _read_excel(handle, params.missing_values, params.skip_rows, params.sheet))
    except FileNotFoundError:
        raise NodeInputError(f"file {params.path!r} was not found") from None
    except pd.errors.EmptyDataError:
        raise NodeInputError(f"file {params.path!r} is empty") from None
    except (ImportError, OSError, ValueError, UnicodeDecodeError, KeyError, zipfile.BadZipFile) as exc:  # openpyxl
        raise NodeInputError(_unreadable_message(params.path, file_format, exc)) from exc
    if frame.shape[1] == 0 or len(frame) == 0:
        raise NodeInputError(f"file {params.path!r} has no rows")
    return frame if file_format == "csv" else _plain_values(frame)


def _plain_values(frame: "pd.DataFrame") -> "pd.DataFrame":
    """A Parquet or Excel table's cells as the nodes handle them: numbers and text.

    Parquet can hold decimals (``Decimal`` objects: counted as categories, 300 "classes" of prices) and
    lists, maps and records (arrays and dicts: every check and node that hashes a value failed with
    "unhashable type"). Decimals become floats; nested values become their JSON text, so the column is
    seen for what it is (text, one value per row) and can be left out or used as a category. An Excel
    column with numbers in some cells and text ("n/a") in others becomes text, as that column of a CSV
    does (the data checks then say which text keeps it from being numbers); kept mixed, saving the table
    failed with pyarrow's "ArrowTypeError".
    """
    import numpy as np
    from pandas.api.types import infer_dtype

    for column in frame.columns[frame.dtypes == object]:
        inferred = infer_dtype(frame[column], skipna=True)  # one pass in C: text columns stop here
        if inferred == "decimal":
            frame[column] = frame[column].astype(float)
            continue
        if not inferred.startswith("mixed"):
            continue
        kinds = {type(value) for value in frame[column].dropna()}
        if any(issubclass(kind, (list, tuple, dict, set, np.ndarray)) for kind in kinds):
            frame[column] = frame[column].map(_as_json_text, na_action="ignore")
        elif str in kinds and len(kinds) > 1:  # numbers or dates beside text, as a CSV reader would read it: text
            frame[column] = frame[column].map(str, na_action="ignore")
    return frame


def _as_json_text(value: Any) -> Any:
    """A nested cell as JSON text (arrays as lists); anything else as it is."""
    import json

    import numpy as np

    if isinstance(value, (list, tuple, dict, set, np.ndarray)):
        return json.dumps(_json_ready(value), ensure_ascii=False, default=str)
    return value


def _json_ready(item: Any) -> Any:
    """``item`` with numpy arrays and scalars, tuples and sets turned into what ``json.dumps`` writes."""
    import numpy as np

    if isinstance(item, np.ndarray):
        item = item.tolist()
    if isinstance(item, (list, tuple, set)):
        return [_json_ready(v) for v in item]
    if isinstance(item, dict):
        return {str(k): _json_ready(v) for k, v in item.items()}
    return item.item() if isinstance(item, np.generic) else item


def _source(params: FileParams) -> str:
    """Where the bytes are: the dataset store's copy for an uploaded dataset, else the path."""
    return _dataset_file(params) if params.digest is not None else _locate(params.path)


def _read_csv(params: FileParams, **options: Any) -> "pd.DataFrame":
    """The CSV file read in its own dialect (``csv_dialect``), from one pass over the file.

    A file whose start is UTF-8 but whose later bytes are not (a Windows export whose first accented name
    comes after the sample) is read again as Windows-1252 when the encoding is ``auto``.
    """
    import pandas as pd

    with open_source(_source(params), params.path, params.max_size_mb) as handle:
        dialect = _dialect(handle, params)
        try:
            return pd.read_csv(handle, **dialect.read_options(), skiprows=params.skip_rows, **options)
        except UnicodeDecodeError:
            if params.encoding != AUTO or dialect.encoding != "utf-8":
                raise
    fallback = replace(dialect, encoding=FALLBACK_ENCODING)  # the separator and marks found stay
    with open_source(_source(params), params.path, params.max_size_mb) as handle:
        return pd.read_csv(handle, **fallback.read_options(), skiprows=params.skip_rows, **options)


def _dialect(handle: Any, params: FileParams) -> CsvDialect:
    """The file's dialect from its first bytes, peeked so that pandas still reads the file from its start."""
    head = handle.peek(SAMPLE_BYTES)[:SAMPLE_BYTES]
    return detect_dialect(head, params.encoding, _separator(params), params.decimal,
                          whole_file=len(head) < SAMPLE_BYTES, skip_lines=params.skip_rows)


def _locate(path: str) -> str:
    """A relative path that is not in the current folder is looked up beside the installed packages.

    That is where the sample files in ``assets/data`` live, in a checkout and in
    the runtime image alike, so the shipped examples run from any folder.
    """
    from pathlib import Path

    if "://" in path or Path(path).is_absolute() or Path(path).exists():
        return path
    bundled = Path(__file__).resolve().parent.parent / path
    return str(bundled) if bundled.exists() else path


def _local_info(path: str) -> dict[str, Any]:
    """What fsspec's local ``info`` says of a file's size and times, read with ``os.stat`` (fsspec itself costs
    ``validate`` about 0.1 s to import). The same values, so a step's cache key does not depend on which path
    computed it; a test compares the two."""
    import os

    found = os.stat(os.path.expanduser(path))  # through a link, and ``~`` expanded, as fsspec reports it
    return {"size": found.st_size, "mtime": found.st_mtime, "created": getattr(found, "st_birthtime", found.st_ctime)}


def _remote_info(url: str) -> dict[str, Any]:
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    return fs.info(path)


def _read_parquet(handle: Any) -> "pd.DataFrame":
    """Parquet needs the whole file anyway; reading it first lets an empty file be named as such."""
    import io

    import pandas as pd

    data = handle.read()
    if not data:
        raise pd.errors.EmptyDataError("empty file")
    return pd.read_parquet(io.BytesIO(data))


#: the most cells a sheet's used range may span: 50 million is a 1M-row table of 50 columns. One stray cell
#: at XFD1048576 makes the range 17 billion cells, and reading them all took 24 GB before the system stopped it
MAX_SHEET_CELLS = 50_000_000
#: the first bytes of an OLE compound file: an old .xls workbook, or a password-protected .xlsx
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _read_excel(handle: Any, missing_values: list[str], skip_rows: int = 0, sheet: str | None = None) -> "pd.DataFrame":
    """One sheet of an .xlsx workbook, the first unless ``sheet`` names another (openpyxl needs a seekable
    file, so it is read first). The frame's ``attrs["sheets"]`` lists the workbook's sheets, for messages."""
    import io

    import pandas as pd

    data = handle.read()
    if not data:
        raise pd.errors.EmptyDataError("empty file")
    if data.startswith(_OLE_MAGIC):
        raise ValueError("it is an old-format (.xls) or password-protected workbook, which cannot be read; "
                         "open it in Excel and save it as .xlsx without a password, or as CSV")
    names, chosen = _check_sheet(io.BytesIO(data), sheet)
    frame = pd.read_excel(io.BytesIO(data), engine="openpyxl", sheet_name=chosen, na_values=missing_values,
                          keep_default_na=False, skiprows=skip_rows)
    frame.attrs["sheets"] = names
    return frame


def _check_sheet(data: Any, wanted: str | None) -> tuple[list[str], str | int]:
    """The workbook's sheet names and the sheet to read; refuses a sheet that is not there, and one whose used
    range (what Excel records, and what a reader fills in) is absurdly big."""
    import openpyxl

    workbook = openpyxl.load_workbook(data, read_only=True, data_only=True)
    try:
        names = list(workbook.sheetnames)
        if wanted is not None and wanted not in names:
            raise ValueError(f"it has no sheet named {wanted!r}; its sheets are: {', '.join(map(repr, names))}")
        sheet = workbook[wanted] if wanted is not None else (workbook.worksheets[0] if workbook.worksheets else None)
        if sheet is not None and (sheet.max_row is None or sheet.max_column is None):
            sheet.calculate_dimension(force=True)  # no <dimension> in the file (a crafted one): count the cells
        rows, columns = (sheet.max_row or 0, sheet.max_column or 0) if sheet is not None else (0, 0)
    finally:
        workbook.close()
    if rows * columns > MAX_SHEET_CELLS:
        from openpyxl.utils import get_column_letter

        which = f"sheet {wanted!r}" if wanted is not None else "its first sheet"
        raise ValueError(f"{which}'s used range runs to {get_column_letter(columns)}{rows} ({rows * columns:,} "
                         f"cells), far more than can be read: delete the stray cells far from the table (Ctrl+End "
                         "in Excel shows the last one) and save it, or save the table as CSV")
    return names, wanted if wanted is not None else 0


def _resolve_format(path: str, file_format: str) -> str:
    """The format to read, from the param or else from the file name (ignoring a compression suffix)."""
    if file_format != "auto":
        return file_format
    name = path.split("?", 1)[0].lower()
    for suffix in _COMPRESSION_SUFFIXES:
        name = name.removesuffix(suffix)
    for suffix, found in _FORMAT_BY_SUFFIX.items():
        if name.endswith(suffix):
            return found
    if name.endswith(".xls"):
        raise NodeInputError(f"{path!r} is an old-format Excel workbook (.xls), which cannot be read; open it in "
                             "Excel and save it as .xlsx, or as CSV")
    raise NodeInputError(
        f"cannot tell the format of {path!r} from its name; set 'format' to 'csv', 'parquet' or 'excel'"
    )


#: what to do about a title above the header: a CSV's lines, a sheet's rows
_SKIP_ROWS_HINT = " (if {} above the header hold a title or notes, set 'skip_rows' to how many there are)"
#: pandas' complaint when the first line has one field and a later one more: often a title above the header
_TITLE_ABOVE_HEADER = re.compile(r"Expected 1 fields in line \d+, saw \d+")


def _separator(params: FileParams) -> str:
    """A ``.tsv`` file is tab-separated unless the user chose another separator than auto or a comma (the default
    before ``auto``, kept so older pipelines read their TSV files as before)."""
    name = params.path.split("?", 1)[0].lower()
    if params.separator in (AUTO, ",") and any(name.endswith(".tsv" + s) for s in ("", *_COMPRESSION_SUFFIXES)):
        return "\t"
    return params.separator


def _unreadable_message(path: str, file_format: str, exc: BaseException) -> str:
    """One line naming the file and, where it helps, the reader's own complaint."""
    shown = {"csv": "CSV", "parquet": "Parquet", "excel": "Excel"}[file_format]
    if isinstance(exc, ImportError):
        return f"cannot open {path!r}: {exc}"
    if isinstance(exc, IsADirectoryError):
        return f"{path!r} is a folder, not a file"
    if isinstance(exc, UnicodeDecodeError):
        byte = exc.object[exc.start] if isinstance(exc.object, bytes) and exc.start < len(exc.object) else None
        found = f" (it holds the byte 0x{byte:02x})" if byte is not None else ""
        return (f"file {path!r} could not be read as {shown}: it is not {exc.encoding} text{found}; set 'encoding' "
                "to the one it was saved in, e.g. cp1252 for a Windows export, or to 'auto'")
    lines = str(exc).strip().splitlines()
    detail = lines[0] if lines else type(exc).__name__
    if detail.startswith("Could not open Parquet input source"):
        detail = detail.split("': ", 1)[-1]
    if _TITLE_ABOVE_HEADER.search(detail):
        detail += _SKIP_ROWS_HINT.format("lines")
    return f"file {path!r} could not be read as {shown}: {detail}"


def _dataset_file(params: FileParams) -> str:
    """Where the dataset store keeps the file with this digest; a located error when this machine lacks it."""
    from .dataset_files import find_dataset

    found = find_dataset(params.digest or "")
    if found is None:
        short = (params.digest or "")[:19]
        raise NodeInputError(
            f"dataset {params.path!r} ({short}…) is not in the dataset store here; add that file with "
            f"`pipecanvas datasets add {params.path}` or upload it again on the data node"
        )
    return str(found)


def _check_target(frame: "pd.DataFrame", target: str, path: str) -> None:
    """Fail early, listing the columns, when the target is not one of them."""
    import difflib

    columns = [str(c) for c in frame.columns]
    if target in columns:
        return
    message = f"target column {target!r} is not in the file {path!r}; columns are: {', '.join(columns)}"
    close = difflib.get_close_matches(target, columns, n=1)
    split_by = next((s for s in (";", "\t", "|", ",") if len(columns) == 1 and s in columns[0]), None)
    if split_by is not None:
        message += f" (one column: the file looks separated by {SEPARATOR_LABELS[split_by]}; set 'separator' to auto)"
    elif close:
        message += f" (did you mean {close[0]!r}?)"
    unnamed = sum(column.startswith("Unnamed: ") for column in columns)
    if unnamed and unnamed >= len(columns) / 2:  # a title row above the header: pandas names the empty cells so
        message += _SKIP_ROWS_HINT.format("rows")
    sheets = frame.attrs.get("sheets") or []
    if len(sheets) > 1:
        message += f" (the workbook's sheets are {', '.join(map(repr, sheets))}; set 'sheet' to read another)"
    raise NodeInputError(message)
