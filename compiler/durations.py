"""Durations as people write them in a pipeline: ``90s``, ``30m``, ``2h``, ``1h30m``, ``1d``."""

from __future__ import annotations

import re

__all__ = ["parse_duration", "format_duration"]

_PART = re.compile(r"(\d+)([smhd])", re.ASCII)
_WHOLE = re.compile(r"^(\d+[smhd])+\Z", re.ASCII)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """Seconds in ``text``; raises ValueError for anything else (a bare number is seconds)."""
    value = text.strip().lower()
    if value.isascii() and value.isdigit():
        return int(value)
    if not _WHOLE.match(value):
        raise ValueError(text)
    return sum(int(n) * _UNIT[u] for n, u in _PART.findall(value))


def format_duration(seconds: int) -> str:
    """The shortest ``1h30m``-style spelling of ``seconds``."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            count, seconds = divmod(seconds, size)
            if count or unit == "s":
                parts.append(f"{count}{unit}")
    return "".join(parts)
