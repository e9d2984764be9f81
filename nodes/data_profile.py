"""A data node's profile before anything runs: first rows, and per column its type, gaps, values and spread.

``profile_source(node_type, params)`` reads the table the way the node's step
will (``load_table``), plus, for CSV files, which cell texts were read as
missing, and summarises every column. It is plain data (dataclasses of
numbers and strings) so the studio can compute it in a worker and cache it by
the file's content digest. ``benchmarks/profile.py`` times it on 100k and 1M rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .data_quality import TaskGuess, infer_task
from .python_values import python_value

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ColumnProfile", "TableProfile", "profile_table", "profile_source", "HEAD_ROWS"]

HEAD_ROWS = 20
_BINS = 20
_TOP = 8


@dataclass
class ColumnProfile:
    name: str
    kind: str  # number, integer, boolean, text, date
    role: str  # feature, id, target
    missing: int
    distinct: int
    minimum: Any = None
    maximum: Any = None
    top: list[tuple[str, int]] = field(default_factory=list)
    #: (left edge, right edge, count) for numbers; empty for text (``top`` shows those)
    histogram: list[tuple[float, float, int]] = field(default_factory=list)
    #: cell texts read as missing, with how often each appeared
    missing_strings: dict[str, int] = field(default_factory=dict)


@dataclass
class TableProfile:
    rows: int
    columns: list[ColumnProfile]
    head: "pd.DataFrame"
    target: str | None
    task: TaskGuess | None
    left_out: dict[str, str]

    def column(self, name: str) -> ColumnProfile | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def profile_source(node_type: Any, params: Any) -> TableProfile:
    """The profile of what ``node_type``'s step would output for ``params``; raises what reading raises."""
    table, left_out = node_type.load_table(params)
    strings = _missing_strings(node_type, params)
    return profile_table(table.frame, table.target, table.ignored, left_out, strings)


def profile_table(
    frame: "pd.DataFrame", target: str | None, ignored: list[str] = (), left_out: dict[str, str] | None = None,  # type: ignore[assignment]
    missing_strings: dict[str, dict[str, int]] | None = None,
) -> TableProfile:
    columns = []
    for name in frame.columns:
        role = "target" if name == target else ("id" if name in ignored else "feature")
        columns.append(_profile_column(frame[name], str(name), role, (missing_strings or {}).get(str(name), {})))
    task = infer_task(frame[target]) if target is not None and target in frame.columns else None
    return TableProfile(len(frame), columns, frame.head(HEAD_ROWS).copy(), target, task, dict(left_out or {}))


def _profile_column(series: "pd.Series", name: str, role: str, strings: dict[str, int]) -> ColumnProfile:
    import numpy as np
    from pandas.api import types

    values = series.dropna()
    profile = ColumnProfile(name, _kind(series), role, int(series.isna().sum()), int(values.nunique()),
                            missing_strings=strings)
    if profile.kind in ("number", "integer") and len(values):
        numbers = values.to_numpy(dtype="float64")
        profile.minimum, profile.maximum = python_value(values.min()), python_value(values.max())
        finite = numbers[np.isfinite(numbers)]
        if len(finite):
            counts, edges = np.histogram(finite, bins=min(_BINS, max(1, profile.distinct)))
            profile.histogram = [(float(edges[i]), float(edges[i + 1]), int(c)) for i, c in enumerate(counts)]
    elif profile.kind == "date" and len(values):
        profile.minimum, profile.maximum = str(values.min()), str(values.max())
    if profile.kind in ("text", "boolean", "integer") or (types.is_numeric_dtype(series) and profile.distinct <= _TOP):
        top = values.astype(str).value_counts().head(_TOP)
        profile.top = [(str(k), int(v)) for k, v in top.items()]
    return profile


def _kind(series: "pd.Series") -> str:
    from pandas.api import types

    if types.is_bool_dtype(series):
        return "boolean"
    if types.is_datetime64_any_dtype(series):
        return "date"
    if types.is_integer_dtype(series):
        return "integer"
    if types.is_numeric_dtype(series):
        return "number"
    return "text"


def _missing_strings(node_type: Any, params: Any) -> dict[str, dict[str, int]]:
    """For CSV files: per column, how often each of ``missing_values`` appeared as a whole cell."""
    reader = getattr(node_type, "raw_text_frame", None)
    if reader is None:
        return {}
    raw = reader(params)
    if raw is None:
        return {}
    found: dict[str, dict[str, int]] = {}
    wanted = list(params.missing_values)
    for column in raw.columns:
        counts = raw[column][raw[column].isin(wanted)].value_counts()
        if len(counts):
            found[str(column)] = {("(empty)" if k == "" else str(k)): int(v) for k, v in counts.items()}
    return found
