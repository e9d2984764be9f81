"""The command line's two streams: plain one-line messages at once, rich tables and JSON when asked for.

``say`` writes a message as is (no markup, no emoji codes, never wrapped),
coloured only on a terminal, without importing rich: ``validate`` and
``compile`` print nothing else, so they never pay for rich. ``print`` and
``rich`` hand tables and live views to a rich ``Console``, made on first use.
"""

from __future__ import annotations

import os
import sys
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Output"]

_ANSI = {"red": "31", "yellow": "33", "green": "32", "bold": "1", "dim": "2"}


class Output:
    """Standard output (``Output()``) or standard error (``Output(stderr=True)``), looked up at each write."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr

    @property
    def stream(self) -> IO[str]:
        return sys.stderr if self._stderr else sys.stdout

    def say(self, text: str, style: str | None = None) -> None:
        """Write ``text`` and a newline; ``style`` (red, yellow…) colours it on a terminal."""
        stream = self.stream
        if style and _colour(stream):
            codes = ";".join(_ANSI[word] for word in style.split() if word in _ANSI)
            text = f"\x1b[{codes}m{text}\x1b[0m" if codes else text
        stream.write(text + "\n")
        stream.flush()

    @cached_property
    def rich(self) -> "Console":
        """The rich Console for this stream (rich is imported here, the first time a table is printed)."""
        from rich.console import Console

        return Console(stderr=self._stderr, highlight=False)

    def print(self, *objects: Any, **options: Any) -> None:
        """``rich.console.Console.print``: tables, markup such as ``[bold]``, styles."""
        self.rich.print(*objects, **options)

    def json(self, value: Any, indent: int | None = 2) -> None:
        """Write ``value`` as JSON and a newline, for ``--json`` (json is imported only when asked for)."""
        import json

        self.stream.write(json.dumps(value, indent=indent) + "\n")


def _colour(stream: IO[str]) -> bool:
    """Colour as rich decides it: never with NO_COLOR, always with FORCE_COLOR, else on a capable terminal."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM", "") not in ("dumb", "unknown")
