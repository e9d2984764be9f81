"""Pydantic validation errors rewritten for an analyst.

Pydantic says ``Input should be greater than or equal to 1``; we say
``must be ≥ 1 (got 0)``. One place turns an error dict into words, so the spec
loader and the param checks read the same.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

__all__ = ["describe_error", "suggest"]

_MAX_SHOWN = 40


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else _plain(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _plain(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else an empty string."""
    match = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _number(ctx: dict[str, Any], key: str) -> str:
    """A bound as the user would write it: ``lt=1`` on a float field is ``1``, not ``1.0``."""
    value = ctx.get(key)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return _plain(value)


_BOUNDS = {
    "greater_than": ("must be > ", "gt"),
    "greater_than_equal": ("must be ≥ ", "ge"),
    "less_than": ("must be < ", "lt"),
    "less_than_equal": ("must be ≤ ", "le"),
}

_TYPES = {
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "dict_type": "must be a mapping (key: value lines)",
    "model_type": "must be a mapping (key: value lines)",
    "model_attributes_type": "must be a mapping (key: value lines)",
    "list_type": "must be a list",
    "none_required": "must be empty",
}


def describe_error(error: dict[str, Any], field_choices: Iterable[str] = ()) -> str:
    """The part after the location: ``must be ≥ 1 (got 0)``, ``is required``, ``unknown key 'x'``."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "invalid_key":
        return f"is not a known setting (a key must be text, got {_shown(value)})"
    if kind == "extra_forbidden":
        return "is not a known setting" + suggest(str(error["loc"][-1]), field_choices)
    if kind in _BOUNDS:
        words, key = _BOUNDS[kind]
        return f"{words}{_number(ctx, key)} (got {_shown(value)})"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        return f"must be one of {expected} (got {_shown(value)})" + suggest(str(value), _literal_choices(expected))
    if kind == "enum":
        return f"must be one of {ctx.get('expected', '')} (got {_shown(value)})"
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else f"must be at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters (got {len(str(value))})"
    if kind == "string_pattern_mismatch":
        return f"has the wrong form (got {_shown(value)}; expected to match {ctx.get('pattern')})"
    if kind in _TYPES:
        return f"{_TYPES[kind]} (got {_shown(value)})"
    if kind == "value_error" and ctx.get("error") is not None:  # a field validator's ValueError: its own words
        message = str(ctx["error"])
        if not message.startswith(("is ", "must ")):  # "param 'x' is invalid: ..." reads; "param 'x' this ..." not
            message = f"is invalid: {message}"
    else:
        message = str(error.get("msg", "is invalid"))
    return message[:1].lower() + message[1:] + f" (got {_shown(value)})"


def _literal_choices(expected: str) -> list[str]:
    return [part.strip().strip("'\"") for part in expected.replace(" or ", ",").split(",") if part.strip()]
