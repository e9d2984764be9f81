"""numpy values as the plain Python values they stand for.

Model files, metrics and profiles hold only Python's own types: model metadata because every model file is
checked against an exact allow-list (``numpy.str_`` class labels would widen it), metrics and profiles because
they are written as JSON. One function does the conversion for all of them.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["python_value"]


def python_value(value: Any, *, nan_as_none: bool = False) -> Any:
    """``value`` with numpy scalars (and 0-d arrays) as Python numbers and strings, recursing into dicts, lists
    and tuples (tuples become lists). With ``nan_as_none``, a float NaN becomes None, as JSON has no NaN."""
    if isinstance(value, dict):
        return {python_value(key): python_value(item, nan_as_none=nan_as_none) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [python_value(item, nan_as_none=nan_as_none) for item in value]
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        value = item()
    if nan_as_none and isinstance(value, float) and math.isnan(value):
        return None
    return value
