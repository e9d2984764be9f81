"""What each input column held at training time, so a "try it" form can offer real values.

A form that defaults numbers to 0 and takes categories as free text invites a
confident prediction for a row the model never saw the like of. So a model
records, per input column, the median of a numeric column and the categories
of a text column (the ``MAX_CATEGORIES`` most frequent, most frequent first;
``more`` says there were others). The values are plain JSON (they go into the model's details file,
which the studio reads without loading the model); a category longer than
``MAX_CATEGORY_CHARS`` is left out, as it is no value anyone picks from a list,
and all columns together keep at most ``MAX_TOTAL_CATEGORY_CHARS`` of text, so
the details file stays far below the size the studio reads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .table_schema import column_kind

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_CATEGORIES", "MAX_CATEGORY_CHARS", "MAX_TOTAL_CATEGORY_CHARS", "training_values"]

MAX_CATEGORIES = 200
MAX_CATEGORY_CHARS = 200
MAX_TOTAL_CATEGORY_CHARS = 1_000_000


def training_values(frame: "pd.DataFrame", columns: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{column: {"median": float}}`` for numeric columns, ``{column: {"categories": [...], "more": bool}}`` for
    text and category columns; boolean columns and columns with no values get nothing."""
    found: dict[str, dict[str, Any]] = {}
    budget = MAX_TOTAL_CATEGORY_CHARS
    for column in columns:
        series = frame[column]
        kind = column_kind(series)  # the input schema's kind, so the two cannot disagree on a column
        if kind == "boolean":
            continue
        if kind in ("integer", "number"):
            median = series.median(skipna=True)
            if median is not None and math.isfinite(float(median)):
                found[str(column)] = {"median": float(median)}
            continue
        categories = _categories(series, budget)
        if categories is not None:
            found[str(column)] = categories
            budget -= sum(map(len, categories["categories"]))
    return found


def _categories(series: "pd.Series", budget: int) -> dict[str, Any] | None:
    """The most frequent categories (most frequent first) within ``budget`` characters; None for an empty column."""
    counts = series.dropna().astype(str).value_counts(sort=True)
    if counts.empty:
        return None
    kept: list[str] = []
    for value in counts.index:
        if len(kept) == MAX_CATEGORIES or len(value) > budget:
            break
        if len(value) <= MAX_CATEGORY_CHARS:
            kept.append(value)
            budget -= len(value)
    return {"categories": kept, "more": len(kept) < len(counts)}
