"""The dataset store: files brought in from a laptop (CLI or browser upload), kept once by content.

A dataset is named in a pipeline by its file name and sha256 digest
(``data.file`` params ``path`` and ``digest``), so the pipeline means the same
bytes tomorrow and on another machine; ``nodes.dataset_files`` says where the
store keeps them. Files are streamed to disk while they are hashed (never held
whole in memory), written to a temporary name and moved into place, so a
half-written upload is never visible. Adding the same content again only adds
its name.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from nodes.dataset_files import META_FILE, dataset_folder, datasets_root, find_dataset
from nodes.errors import PipecanvasError

__all__ = ["DatasetError", "StoredDataset", "SUPPORTED_SUFFIXES", "add_dataset", "list_datasets", "remove_dataset"]

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".xlsx", ".csv.gz", ".tsv.gz")
_CHUNK = 1 << 20
_NAME = re.compile(r"^[\w][\w .()+,=@-]{0,199}$")


class DatasetError(PipecanvasError):
    """A dataset cannot be added, found or removed as asked."""


@dataclass(frozen=True)
class StoredDataset:
    digest: str
    names: tuple[str, ...]
    size: int
    added: float
    path: Path

    @property
    def name(self) -> str:
        return self.names[0]

    def params(self) -> dict[str, str]:
        """What a data.file node's params need to read this dataset."""
        return {"path": self.name, "digest": self.digest}


def add_dataset(source: Path | BinaryIO, name: str | None = None, home: Path | None = None) -> StoredDataset:
    """Store ``source`` (a path or a binary stream) under ``name`` (default: the path's file name)."""
    if name is None:
        if not isinstance(source, Path):
            raise DatasetError("a stream needs a name")
        name = source.name
    name = _checked_name(name)
    root = datasets_root(home)
    (root / "sha256").mkdir(parents=True, exist_ok=True)
    digest, size, temporary = _stream_to_disk(source, root)
    folder = dataset_folder(digest, home)
    assert folder is not None
    try:
        if find_dataset(digest, home) is None:
            folder.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, folder / name)
            _write_meta(folder, {"names": [name], "size": size, "added": time.time()})
        else:
            meta = _read_meta(folder)
            if name not in meta["names"]:
                meta["names"].append(name)
                _write_meta(folder, meta)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return _stored(folder)


def list_datasets(home: Path | None = None) -> list[StoredDataset]:
    """Every stored dataset, newest first."""
    base = datasets_root(home) / "sha256"
    if not base.is_dir():
        return []
    found = [_stored(folder) for folder in base.iterdir() if folder.is_dir() and (folder / META_FILE).exists()]
    return sorted(found, key=lambda d: d.added, reverse=True)


def remove_dataset(which: str, home: Path | None = None) -> StoredDataset:
    """Remove the dataset named ``which`` (a file name, its digest, or a unique digest prefix)."""
    prefix = which.removeprefix("sha256:")
    matches = [d for d in list_datasets(home)
               if which in d.names or (len(prefix) >= 6 and d.digest.removeprefix("sha256:").startswith(prefix))]
    if not matches:
        raise DatasetError(f"no dataset is named {which!r}; `pipecanvas datasets list` shows them")
    if len(matches) > 1:
        raise DatasetError(f"{which!r} names {len(matches)} datasets; give more of the digest")
    shutil.rmtree(matches[0].path.parent)
    return matches[0]


def _checked_name(name: str) -> str:
    name = Path(name).name.strip()
    if not _NAME.match(name):
        raise DatasetError(f"{name!r} is not a usable file name (letters, digits, spaces and . _ - ( ) only)")
    if not name.lower().endswith(SUPPORTED_SUFFIXES):
        raise DatasetError(f"{name!r} is not a file pipecanvas reads; use {', '.join(SUPPORTED_SUFFIXES)}")
    return name


def _stream_to_disk(source: Path | BinaryIO, root: Path) -> tuple[str, int, str]:
    """Copy chunk by chunk into a temporary file in the store while hashing; (digest, size, temporary path)."""
    hasher, size = hashlib.sha256(), 0
    handle, temporary = tempfile.mkstemp(dir=root, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out:
            stream = open(source, "rb") if isinstance(source, Path) else source
            try:
                while chunk := stream.read(_CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            finally:
                if isinstance(source, Path):
                    stream.close()
    except FileNotFoundError:
        Path(temporary).unlink(missing_ok=True)
        raise DatasetError(f"file {str(source)!r} was not found") from None
    except IsADirectoryError:
        Path(temporary).unlink(missing_ok=True)
        raise DatasetError(f"{str(source)!r} is a folder, not a file") from None
    if size == 0:
        Path(temporary).unlink(missing_ok=True)
        raise DatasetError("the file is empty")
    return f"sha256:{hasher.hexdigest()}", size, temporary


def _read_meta(folder: Path) -> dict:
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    names = [n for n in meta.get("names", []) if isinstance(n, str)] or [p.name for p in folder.iterdir() if p.name != META_FILE]
    return {"names": names, "size": int(meta.get("size") or 0), "added": float(meta.get("added") or 0)}


def _write_meta(folder: Path, meta: dict) -> None:
    temporary = folder / f".{META_FILE}.partial"
    temporary.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(temporary, folder / META_FILE)


def _stored(folder: Path) -> StoredDataset:
    meta = _read_meta(folder)
    digest = f"sha256:{folder.name}"
    path = find_dataset(digest, folder.parent.parent.parent) or folder / meta["names"][0]
    return StoredDataset(digest, tuple(meta["names"]), meta["size"], meta["added"], path)
