"""Where ``pipecanvas compile -o`` writes, checked before anything is written.

A typo in ``-o`` must not cost the user their pipeline: ``compile iris.yaml -o
iris.yaml`` used to replace the pipeline with its plan, without a word. So an
output that is the pipeline being compiled, or any other file that holds a
pipeline, is refused; and a path that cannot be written (a folder, a missing
or read-only place) is said in one line instead of an "unexpected error".
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from nodes.errors import PipecanvasError

__all__ = ["OutputError", "check_output", "write_text", "write_folder"]

#: a top-level ``kind: Pipeline`` line, as pipecanvas writes it and as people do by hand
_PIPELINE_KIND = re.compile(r"^kind:[ \t]*[\"']?Pipeline[\"']?[ \t]*(#.*)?$", re.MULTILINE)
_HEAD_BYTES = 64 * 1024


class OutputError(PipecanvasError):
    """The output path cannot or must not be written; the message says which and what to do.

    A ``PipecanvasError``, so the CLI prints it as ``error: …`` and exits 2, as for any input it refuses.
    """


def check_output(pipeline_file: Path, output: Path, what: str = "plan") -> None:
    """Refuse ``output`` when writing it would replace a pipeline; raises ``OutputError``.

    ``what`` (``plan`` or ``manifests``) names the file the message suggests instead.
    """
    if output.is_dir():
        return  # a folder of manifests, or an error for a file target: ``write_text`` says so
    if _same_file(pipeline_file, output):
        raise OutputError(f"{output} is the pipeline being compiled; writing there would replace the pipeline. "
                          f"Choose another file, e.g. {output.with_name(f'{output.stem}-{what}.yaml')}")
    if output.is_file() and _holds_a_pipeline(output):
        raise OutputError(f"{output} holds a pipeline (kind: Pipeline); compile does not overwrite pipelines. "
                          "Choose another file, or remove that one first")


def write_text(output: Path, text: str) -> None:
    """Write ``text`` to ``output``, making its folder; a failure is an ``OutputError`` naming the path."""
    if output.is_dir():
        raise OutputError(f"{output} is a folder; give a file name, e.g. {output / 'plan.yaml'}")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {output}: {exc.strerror or exc}") from None


def write_folder(folder: Path, files: dict[str, str]) -> None:
    """Write each named text into ``folder`` (made if missing); a failure is an ``OutputError``."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file; give a folder for one file per object, or a name ending in .yaml")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write into {folder}: {exc.strerror or exc}") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist (yet)
        return False


def _holds_a_pipeline(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    return bool(_PIPELINE_KIND.search(head))
