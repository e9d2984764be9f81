"""The results table the benchmark scripts print: rich (a pipecanvas dependency), text columns left, figures right."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

__all__ = ["print_table"]


def print_table(title: str, header: Sequence[str], cells: Sequence[Sequence[str]], text_columns: int = 1) -> None:
    """Print ``cells`` under ``header``; the first ``text_columns`` columns are left-aligned.

    Piped into a file, the table keeps 140 columns rather than rich's default 80, so no figure wraps.
    """
    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i < text_columns else "right")
    for line in cells:
        table.add_row(*line)
    console = Console()
    (console if console.is_terminal else Console(width=140)).print(table)
