"""``pipecanvas datasets add / list / rm``: the dataset store from the command line (``runtime.datasets``)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from .cli import _say, app, err, out

__all__ = ["datasets_app"]

datasets_app = typer.Typer(help="Files kept in the dataset store, named in pipelines by name and content digest.",
                           no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")


@datasets_app.command("add")
def add_command(file: Path = typer.Argument(..., help="A CSV, TSV, Parquet or Excel (.xlsx) file."),
                name: str = typer.Option(None, "--name", help="The name to store it under (default: the file's).")) -> None:
    """Store a file once by its content; print the data node params that name it."""
    from runtime.datasets import add_dataset

    stored = add_dataset(file, name)
    _say(out, f"added {stored.name} ({_size(stored.size)}) as {stored.digest}")
    _say(out, "use it in a data.file node with:")
    _say(out, f"  path: {stored.name}\n  digest: {stored.digest}")


@datasets_app.command("list")
def list_command() -> None:
    """The stored datasets, newest first."""
    from runtime.datasets import list_datasets

    found = list_datasets()
    if not found:
        _say(err, "no datasets yet; add one with `pipecanvas datasets add FILE`")
        return
    from rich.table import Table as RichTable  # rich only where a table is drawn (README: what is imported when)

    table = RichTable("name", "digest", "size", "added", title="pipecanvas datasets")
    for dataset in found:
        table.add_row(", ".join(dataset.names), dataset.digest[:19] + "…", _size(dataset.size),
                      time.strftime("%Y-%m-%d %H:%M", time.localtime(dataset.added)))
    out.print(table)


@datasets_app.command("rm")
def remove_command(which: str = typer.Argument(..., help="A dataset's name or (a prefix of) its digest.")) -> None:
    """Remove a dataset from the store (pipelines naming it then ask for it again)."""
    from runtime.datasets import remove_dataset

    removed = remove_dataset(which)
    _say(out, f"removed {', '.join(removed.names)} ({removed.digest})")


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"
