"""Data nodes: where a pipeline's rows come from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from .artifacts import ArtifactKind, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .errors import NodeInputError
from .file_source import DEFAULT_MAX_SIZE_MB, open_source

if TYPE_CHECKING:  # pandas is heavy; the catalog must import fast
    import pandas as pd

__all__ = ["SampleDataset", "FileTable"]

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
_FORMAT_BY_SUFFIX = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}


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
    outputs = (Port("table", ArtifactKind.TABLE, description="The dataset, with its target column set."),)
    Params = SampleParams
    resources = Resources(cpu="500m", memory="512Mi")
    warm_imports = ("sklearn.datasets",)

    def run(self, inputs: dict[str, Any], params: SampleParams, context: RunContext) -> dict[str, Any]:
        frame = _load_sample(params.dataset)
        target = _SAMPLE_TARGETS[params.dataset]
        context.log(f"loaded {params.dataset}: {len(frame)} rows, {frame.shape[1] - 1} feature columns, target {target!r}")
        return {"table": Table(frame, target)}


class FileParams(NodeParams):
    path: str = Field(
        ...,
        min_length=1,
        description="Where the file is: a local path or a URI such as s3://bucket/data.csv.",
    )
    format: Literal["auto", "csv", "parquet"] = Field(
        "auto", description="File format; 'auto' decides from the file name."
    )
    target: str | None = Field(
        None, description="The column the model should learn to predict. Leave empty for a table without one."
    )
    separator: str = Field(",", min_length=1, max_length=1, description="Column separator for CSV files.")
    max_size_mb: int = Field(
        DEFAULT_MAX_SIZE_MB, ge=1,
        description=f"Largest file to read, in MB, after decompression (default {DEFAULT_MAX_SIZE_MB}); "
        "a bigger file is refused instead of filling the memory.",
    )


class FileTable(NodeType):
    type_id = "data.file"
    title = "Table from file"
    description = "Reads a CSV or Parquet file, works out each column's type, and marks the column to predict."
    category = Category.DATA
    icon = "file"
    outputs = (Port("table", ArtifactKind.TABLE, description="The file's rows, with inferred column types."),)
    Params = FileParams
    resources = Resources(cpu="500m", memory="1Gi")

    @classmethod
    def source_fingerprint(cls, params: FileParams) -> str | None:
        """Size and modification time (or ETag) of the file, as fsspec reports them."""
        import fsspec

        try:
            fs, path = fsspec.core.url_to_fs(_locate(params.path))
            info = fs.info(path)
        except Exception:  # unreadable now: the step itself will say why when it runs
            return None
        keys = ("size", "mtime", "ETag", "etag", "md5", "LastModified", "last_modified", "created")
        return ";".join(f"{k}={info[k]}" for k in keys if info.get(k) is not None)

    def run(self, inputs: dict[str, Any], params: FileParams, context: RunContext) -> dict[str, Any]:
        frame = _read_table(params)
        if params.target is not None:
            _check_target(frame, params.target, params.path)
        context.log(f"read {len(frame)} rows and {frame.shape[1]} columns from {params.path!r}")
        return {"table": Table(frame, params.target)}


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
    import pandas as pd

    file_format = _resolve_format(params.path, params.format)
    try:
        with open_source(_locate(params.path), params.path, params.max_size_mb) as handle:
            if file_format == "parquet":
                frame = _read_parquet(handle)
            else:
                frame = pd.read_csv(handle, sep=_separator(params))
    except FileNotFoundError:
        raise NodeInputError(f"file {params.path!r} was not found") from None
    except pd.errors.EmptyDataError:
        raise NodeInputError(f"file {params.path!r} is empty") from None
    except (ImportError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise NodeInputError(_unreadable_message(params.path, file_format, exc)) from exc
    if frame.shape[1] == 0 or len(frame) == 0:
        raise NodeInputError(f"file {params.path!r} has no rows")
    return frame


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


def _read_parquet(handle: Any) -> "pd.DataFrame":
    """Parquet needs the whole file anyway; reading it first lets an empty file be named as such."""
    import io

    import pandas as pd

    data = handle.read()
    if not data:
        raise pd.errors.EmptyDataError("empty file")
    return pd.read_parquet(io.BytesIO(data))


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
    raise NodeInputError(
        f"cannot tell the format of {path!r} from its name; set 'format' to 'csv' or 'parquet'"
    )


def _separator(params: FileParams) -> str:
    """A ``.tsv`` file is tab-separated unless the user chose another separator than the default."""
    name = params.path.split("?", 1)[0].lower()
    if params.separator == "," and any(name.endswith(".tsv" + s) for s in ("", *_COMPRESSION_SUFFIXES)):
        return "\t"
    return params.separator


def _unreadable_message(path: str, file_format: str, exc: BaseException) -> str:
    """One line naming the file and, where it helps, the reader's own complaint."""
    shown = {"csv": "CSV", "parquet": "Parquet"}[file_format]
    if isinstance(exc, ImportError):
        return f"cannot open {path!r}: {exc}"
    if isinstance(exc, IsADirectoryError):
        return f"{path!r} is a folder, not a file"
    if isinstance(exc, UnicodeDecodeError):
        return f"file {path!r} could not be read as {shown}: it is not text (is it another format?)"
    lines = str(exc).strip().splitlines()
    detail = lines[0] if lines else type(exc).__name__
    if detail.startswith("Could not open Parquet input source"):
        detail = detail.split("': ", 1)[-1]
    return f"file {path!r} could not be read as {shown}: {detail}"


def _check_target(frame: "pd.DataFrame", target: str, path: str) -> None:
    """Fail early, listing the columns, when the target is not one of them."""
    import difflib

    columns = [str(c) for c in frame.columns]
    if target in columns:
        return
    message = f"target column {target!r} is not in the file {path!r}; columns are: {', '.join(columns)}"
    close = difflib.get_close_matches(target, columns, n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    raise NodeInputError(message)
