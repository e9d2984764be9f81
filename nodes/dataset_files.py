"""Where the dataset store keeps uploaded files, so a data node can find one by its content digest.

Layout (``$PIPECANVAS_HOME/datasets``)::

    sha256/<64 hex digits>/<file name>   the file, stored once however often it is added
    sha256/<64 hex digits>/meta.json     its names, size and when it was added

Adding, listing and removing are ``runtime.datasets``'s job; a node only reads.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["datasets_root", "dataset_folder", "find_dataset", "META_FILE"]

META_FILE = "meta.json"
_DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")


def datasets_root(home: Path | None = None) -> Path:
    base = home or Path(os.environ.get("PIPECANVAS_HOME") or Path.home() / ".pipecanvas").expanduser()
    return base / "datasets"


def dataset_folder(digest: str, home: Path | None = None) -> Path | None:
    """The folder for ``sha256:<hex>``; None when the digest is not written that way."""
    match = _DIGEST.match(digest)
    return datasets_root(home) / "sha256" / match.group(1) if match else None


def find_dataset(digest: str, home: Path | None = None) -> Path | None:
    """The stored file with this digest, or None when this machine's store lacks it."""
    folder = dataset_folder(digest, home)
    if folder is None or not folder.is_dir():
        return None
    files = [p for p in folder.iterdir() if p.name != META_FILE and p.is_file() and not p.name.startswith(".")]
    return files[0] if len(files) == 1 else None
