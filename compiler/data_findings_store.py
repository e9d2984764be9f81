"""The data checks' findings kept on disk, so ``pipecanvas validate`` of an unchanged pipeline and unchanged data
answers at once.

Reading a table to check it imports pandas and scikit-learn, which costs a whole
process seconds (3.3 s of CPU on this project's busy two-CPU machine, against
0.5 s for the rest of ``validate``); the findings on the same
pipeline over the same data are the same every time. Each entry is keyed by:

* ``FINDINGS_VERSION`` (bump it when a check changes what it reports),
* the pipeline as its document plus the line of every value (the findings
  carry line numbers), both without the canvas's ``ui`` (node positions and
  notes, which no check reads): moving a node answers from the store,
* every data node's ``source_fingerprint`` (the dataset's digest, or the
  file's size and times): editing the CSV makes a new key,
* every data node's type version and params as its model resolves them,
  defaults included: a new param, or a new default for one (a CSV's separator
  became ``auto``), is a new key although the file's text is the same.

A data node without a fingerprint (its data may change unseen) means nothing
is stored, as in the in-memory cache of ``compiler.data_checks``. The store is
an optimisation only: a folder that cannot be read or written is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from nodes.catalog import Catalog

from .data_checks import check_data, data_nodes
from .diagnostics import Diagnostic
from .spec import Pipeline
from .yaml_io import SourceMap

__all__ = ["FINDINGS_VERSION", "MAX_ENTRIES", "check_data_stored"]

#: bump when a check in ``compiler.data_checks`` or ``nodes.data_quality`` changes what it reports
FINDINGS_VERSION = 3
MAX_ENTRIES = 200


def check_data_stored(pipeline: Pipeline, catalog: Catalog, source_map: SourceMap, folder: Path) -> list[Diagnostic]:
    """``check_data``'s findings, from ``folder`` when this pipeline over this data was checked before."""
    key = _key(pipeline, catalog, source_map)
    entry = folder / f"{key}.json" if key else None
    if entry is not None:
        try:
            return [Diagnostic(**item) for item in json.loads(entry.read_text(encoding="utf-8"))]
        except (OSError, ValueError, TypeError):
            pass  # not there yet, or unreadable: check again
    found = check_data(pipeline, catalog, source_map)
    if entry is not None:
        _store(entry, found)
    return found


def _key(pipeline: Pipeline, catalog: Catalog, source_map: SourceMap) -> str | None:
    """The entry's name, or None when some data node's data cannot be fingerprinted."""
    fingerprints = []
    for node, node_type, params in data_nodes(pipeline, catalog):  # the nodes check_data reads
        fingerprint = node_type.source_fingerprint(params)
        if fingerprint is None:
            return None
        fingerprints.append([node.id, fingerprint, node_type.version, params.model_dump(mode="json")])
    if not fingerprints:
        return None  # nothing is read, so nothing is worth keeping
    lines = sorted([[str(part) for part in path], line] for path, line in source_map.lines.items() if not _is_ui(path))
    material = json.dumps([FINDINGS_VERSION, _document_without_ui(pipeline), lines, fingerprints],
                          sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


def _document_without_ui(pipeline: Pipeline) -> dict:
    """The pipeline's document less what only the canvas reads (``ui`` of the pipeline and of each node)."""
    doc = pipeline.to_document()
    doc.pop("ui", None)
    for node in doc["spec"]["nodes"]:
        node.pop("ui", None)
    return doc


def _is_ui(path: tuple) -> bool:
    """Whether a source-map path is under the pipeline's ``ui`` or a node's (``("spec", "nodes", 2, "ui", "x")``)."""
    return path[:1] == ("ui",) or (path[:2] == ("spec", "nodes") and path[3:4] == ("ui",))


def _store(entry: Path, found: list[Diagnostic]) -> None:
    """Write the entry atomically and keep the newest ``MAX_ENTRIES``; any OSError leaves things as they were."""
    partial = entry.with_suffix(f".{os.getpid()}.partial")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps([d.to_json() for d in found]), encoding="utf-8")
        os.replace(partial, entry)
        entries = sorted(entry.parent.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[MAX_ENTRIES:]:
            old.unlink(missing_ok=True)
    except OSError:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
