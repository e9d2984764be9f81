"""``data.save``: deliver a table as a CSV or Parquet file at a path or any fsspec URI.

An existing file is never replaced unless the ``overwrite`` param says so. The
step always runs (its effect is outside its outputs, so a deleted file is
written again); a file that already holds exactly the bytes it would write is
left alone, so re-running an unchanged pipeline does not trip over its own
earlier file.
"""

from __future__ import annotations

import io
from typing import Any, Literal

from pydantic import Field

from .artifacts import ArtifactKind, Metrics, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .errors import NodeInputError

__all__ = ["SaveTable"]


class SaveParams(NodeParams):
    path: str = Field(
        ..., min_length=1, max_length=2000,
        description="Where to write: a local path (e.g. scored.csv) or a URI such as s3://bucket/scored.parquet.",
    )
    format: Literal["auto", "csv", "parquet"] = Field("auto", description="File format; 'auto' decides from the name.")
    overwrite: bool = Field(False, description="Replace the file if it already exists (otherwise the step refuses).")
    index: bool = Field(False, description="Write the row numbers as a first column.")


class SaveTable(NodeType):
    type_id = "data.save"
    title = "Save table"
    description = "Writes a table to a CSV or Parquet file (local path or URI), refusing to overwrite unless asked."
    category = Category.DATA
    icon = "file-text"
    keywords = ("csv", "parquet", "export", "write", "output")
    inputs = (Port("table", ArtifactKind.TABLE, description="The rows to write, e.g. a 'Predict table' output."),)
    outputs = (Port("receipt", ArtifactKind.METRICS, description="What was written: where, how many rows and bytes."),)
    Params = SaveParams
    resources = Resources(cpu="500m", memory="1Gi")
    cacheable = False

    def run(self, inputs: dict[str, Any], params: SaveParams, context: RunContext) -> dict[str, Any]:
        import fsspec

        table = inputs.get("table")
        if not isinstance(table, Table):
            raise NodeInputError("the 'table' input must be a table")
        file_format = _format(params.path, params.format)
        try:
            fs, path = fsspec.core.url_to_fs(params.path)
        except (ValueError, ImportError) as exc:
            raise NodeInputError(f"cannot write to {params.path!r}: {exc}") from None
        if fs.isdir(path):
            raise NodeInputError(f"{params.path!r} is a folder; give a file name such as {params.path.rstrip('/')}/table.{file_format}")
        buffer = io.BytesIO()
        if file_format == "csv":
            buffer.write(table.frame.to_csv(index=params.index).encode("utf-8"))
        else:
            table.frame.to_parquet(buffer, index=params.index)
        if fs.exists(path) and not params.overwrite:
            if _holds(fs, path, buffer.getbuffer()):
                context.log(f"{params.path!r} already holds exactly these {len(table.frame)} rows; left as it is")
                return {"receipt": _receipt(params.path, file_format, table, len(buffer.getbuffer()), written=False)}
            raise NodeInputError(f"file {params.path!r} already exists; set 'overwrite' to true to replace it")
        try:
            with fsspec.open(params.path, "wb", auto_mkdir=True) as handle:
                handle.write(buffer.getbuffer())
        except OSError as exc:
            raise NodeInputError(f"cannot write {params.path!r}: {exc}") from None
        context.log(f"wrote {len(table.frame)} rows × {table.frame.shape[1]} columns to {params.path!r} ({file_format})")
        return {"receipt": _receipt(params.path, file_format, table, len(buffer.getbuffer()), written=True)}


def _receipt(path: str, file_format: str, table: Table, size: int, written: bool) -> Metrics:
    return Metrics({"path": path, "format": file_format, "rows": len(table.frame), "columns": table.frame.shape[1],
                    "bytes": size, "written": written})


def _holds(fs: Any, path: str, data: memoryview) -> bool:
    """Whether the file at ``path`` has exactly ``data`` as its bytes (sizes first, so a big file is rarely read)."""
    try:
        if fs.size(path) != len(data):
            return False
        with fs.open(path, "rb") as handle:
            return handle.read() == bytes(data)
    except OSError:
        return False


def _format(path: str, chosen: str) -> str:
    if chosen != "auto":
        return chosen
    name = path.split("?", 1)[0].lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise NodeInputError(f"cannot tell the format of {path!r} from its name; end it in .csv or .parquet, or set 'format'")
