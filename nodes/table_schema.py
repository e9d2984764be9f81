"""Column types in words a form or an HTTP request can check: number, integer, boolean, string."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["column_kind", "infer_input_schema"]


def column_kind(series: "pd.Series") -> str:
    """``boolean``, ``integer``, ``number`` or ``string`` for one column."""
    from pandas.api import types

    if types.is_bool_dtype(series):
        return "boolean"
    if types.is_integer_dtype(series):
        return "integer"
    if types.is_numeric_dtype(series):
        return "number"
    return "string"


def infer_input_schema(frame: "pd.DataFrame", columns: Iterable[str]) -> dict[str, str]:
    """Map each of ``columns`` (in order) to its kind."""
    return {c: column_kind(frame[c]) for c in columns}
