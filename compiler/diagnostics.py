"""One validation finding, located so the studio can put it on a node and the CLI on a line."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = ["Diagnostic", "Severity", "errors_only"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """A problem in a pipeline, written for an analyst.

    ``message`` already starts with its location (``node 'train': ...``,
    ``edge 'a.table -> b.model': ...``, ``pipeline: ...``); the fields carry the
    same location in machine-readable form for the canvas.
    """

    severity: Severity
    message: str
    node: str | None = None
    edge: str | None = None
    param: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def format(self, source: str | None = None) -> str:
        """``FILE:LINE: error: message`` as compilers print it (FILE and LINE when known)."""
        where = ""
        if source:
            where = f"{source}:{self.line}: " if self.line else f"{source}: "
        return f"{where}{self.severity}: {_one_line(self.message)}"


def _one_line(text: str) -> str:
    """Control characters and line breaks from the file (e.g. in a node id) escaped, so one finding is one line."""
    return "".join(c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)


def errors_only(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]
