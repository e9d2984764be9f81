"""Local input files copied into the cluster's artifact storage before a run, so no pod reads the user's disk.

A node that reads outside data (its type has a ``source_fingerprint``, as
``data.file`` does) and names a local file in its ``path`` param — a path
relative to the current folder, a file shipped with pipecanvas
(``assets/data/churn.csv``), an uploaded dataset under ``PIPECANVAS_HOME`` —
gets that file copied to ``{claim or bucket}/staged/{sha256}/{file name}``, and
the run's plan names that copy. Staged by content digest: the same file is
copied once however many runs use it, and a changed file is a new copy (and a
new cache key). URIs (``s3://…``) are left alone: the pods read them directly.

A local path that cannot be staged (it is not a file here, or the copy fails)
is a pre-flight error on its node.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import fsspec

from compiler.diagnostics import Diagnostic
from compiler.spec import Pipeline
from nodes.base import NodeType
from nodes.catalog import Catalog

__all__ = ["STAGED_FOLDER", "stage_local_inputs"]

STAGED_FOLDER = "staged"
_PATH_PARAM = "path"
_CHUNK = 1 << 20


def _reads_outside_data(node_type: type[NodeType] | None) -> bool:
    if node_type is None:
        return False
    own = getattr(node_type.source_fingerprint, "__func__", None)
    return own is not None and own is not NodeType.source_fingerprint.__func__


def _local_file(value: str) -> Path | None:
    """The file a local path names: as given, else beside the installed packages (the bundled sample data)."""
    path = Path(value).expanduser()
    if path.is_file():
        return path
    bundled = Path(__file__).resolve().parents[2] / value
    return bundled if not path.is_absolute() and bundled.is_file() else None


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy(source: Path, target: str) -> None:
    """Copy unless the same content is already there (its name is its digest); a partial copy never shows."""
    fs, target_path = fsspec.core.url_to_fs(target)
    if fs.exists(target_path) and fs.size(target_path) == source.stat().st_size:
        return
    partial = f"{target}.partial-{os.getpid()}"
    with source.open("rb") as reader, fsspec.open(partial, "wb", auto_mkdir=True) as writer:
        while chunk := reader.read(_CHUNK):
            writer.write(chunk)
    fs.mv(fsspec.core.url_to_fs(partial)[1], target_path)


def stage_local_inputs(pipeline: Pipeline, catalog: Catalog, storage_root: str) -> tuple[Pipeline, list[Diagnostic]]:
    """``pipeline`` with its local input files copied under ``storage_root`` and its params pointing there."""
    nodes, problems = [], []
    for node in pipeline.spec.nodes:
        value = node.params.get(_PATH_PARAM)
        if not isinstance(value, str) or "://" in value or not _reads_outside_data(catalog.get(node.type)):
            nodes.append(node)
            continue
        where = f"node '{node.id}': param '{_PATH_PARAM}'"
        source = _local_file(value)
        if source is None:
            problems.append(Diagnostic("error", f"{where}: '{value}' is not a file on this machine, so it cannot be "
                                                "copied to the cluster's storage for the pods (give a URI such as "
                                                "s3://bucket/file.csv to have the pods read it from there)",
                                       node=node.id, param=_PATH_PARAM))
            nodes.append(node)
            continue
        target = f"{storage_root.rstrip('/')}/{STAGED_FOLDER}/{_digest(source)}/{source.name}"
        try:
            _copy(source, target)
        except (OSError, ValueError, ImportError) as exc:
            problems.append(Diagnostic("error", f"{where}: could not copy '{value}' to {target} for the pods: {exc}",
                                       node=node.id, param=_PATH_PARAM))
            nodes.append(node)
            continue
        nodes.append(node.model_copy(update={"params": {**node.params, _PATH_PARAM: target}}))
    staged = pipeline.model_copy(update={"spec": pipeline.spec.model_copy(update={"nodes": nodes})})
    return staged, problems
