"""Where the real files of the acceptance corpus live (``tests/data/real``, sources in its SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["REAL", "real_file"]

REAL = Path(__file__).resolve().parents[1] / "data" / "real"


def real_file(name: str) -> str:
    path = REAL / name
    assert path.exists(), f"{name} is not in tests/data/real"
    return str(path)
