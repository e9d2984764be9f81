"""A data node's column roles and types, applied to the frame it read.

Roles decide what a model learns from: ``feature`` columns are learned from,
``id`` columns stay in the table (to join on, to look rows up) but are never
learned from, ``ignore`` columns are dropped. ``auto`` makes a column a feature
unless it looks like a row number or an id (``data_quality.detect_id_columns``),
which is what keeps an exported row-number column from scoring a model that
is worth nothing. Types override what the reader inferred.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from .artifacts import Table
from .errors import NodeInputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_MISSING_VALUES", "apply_columns", "convert_column"]

#: What R (``write.csv``: NA), spreadsheets (an empty cell, #N/A) and databases (NULL) write for "no value".
#: Not "None": it is often a real category ("Improved: None/Some/Marked"), unlike pandas' own default list.
DEFAULT_MISSING_VALUES = ("", "NA", "N/A", "#N/A", "NaN", "nan", "NULL", "null")

_TRUE = frozenset({"true", "yes", "y", "t", "1", "1.0"})
_FALSE = frozenset({"false", "no", "n", "f", "0", "0.0"})


def apply_columns(frame: "pd.DataFrame", params: Any) -> tuple[Table, dict[str, str]]:
    """The table after ``params.columns`` (roles, types) and ``params.exclude_ids``.

    Returns the table and, for each column kept out of the features, why. A role
    or type for a column the file lacks is an error that lists the columns.
    """
    from .data_quality import detect_id_columns

    settings = params.columns
    _check_named(frame, list(settings), params.path)
    target = params.target
    if target is not None and target in settings and settings[target].role in ("ignore", "id"):
        raise NodeInputError(f"column {target!r} is the target, so its role cannot be {settings[target].role!r}")
    for column, setting in settings.items():
        if setting.type != "auto":
            frame[column] = convert_column(frame[column], setting.type, column)
    dropped = [c for c, s in settings.items() if s.role == "ignore"]
    frame = frame.drop(columns=dropped)
    left_out = {c: "marked 'id' on the data node" for c, s in settings.items() if s.role == "id"}
    if params.exclude_ids:
        chosen = {c for c, s in settings.items() if s.role != "auto"}
        for column, reason in detect_id_columns(frame, target).items():
            if column not in chosen:
                left_out[column] = reason + "; set its role to 'feature' on the data node to use it"
    ordered = {c: left_out[c] for c in frame.columns if c in left_out}
    return Table(frame, target, ignored=list(ordered)), ordered


def convert_column(series: "pd.Series", kind: str, column: str) -> "pd.Series":
    """``series`` as ``number``, ``category``, ``text``, ``date`` or ``boolean``; values that do not fit are errors."""
    import pandas as pd

    present = series.notna()
    if kind == "number":
        converted = pd.to_numeric(series, errors="coerce")
    elif kind in ("category", "text"):
        converted = series.astype(object).where(~present, series.astype(str)).astype(object)
        converted = converted.where(present, None)
        return converted
    elif kind == "date":
        converted = pd.to_datetime(series, errors="coerce", format="mixed")
    else:
        text = series.astype(str).str.strip().str.lower()
        converted = pd.Series(pd.NA, index=series.index, dtype="boolean")
        converted[text.isin(_TRUE) & present] = True
        converted[text.isin(_FALSE) & present] = False
    bad = present & converted.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in series[bad].astype(str).unique()[:3])
        raise NodeInputError(
            f"column {column!r} cannot be read as {kind}: {int(bad.sum())} value(s) do not fit, e.g. {examples}; "
            "change its type on the data node, or add the texts to 'missing_values'"
        )
    return converted


def _check_named(frame: "pd.DataFrame", named: list[str], path: str) -> None:
    columns = [str(c) for c in frame.columns]
    for column in named:
        if column not in columns:
            close = difflib.get_close_matches(column, columns, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise NodeInputError(
                f"param 'columns' names {column!r}, which is not in the file {path!r}{hint}; "
                f"columns are: {', '.join(columns)}"
            )
