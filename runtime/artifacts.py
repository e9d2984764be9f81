"""The artifact store as the coordinator sees it: reuse cached outputs, record outputs, read step errors.

Artifacts live under each run's folder (``runs/<id>/artifacts`` by default,
any fsspec URI otherwise). A cache hit copies the earlier run's files into this
run's URIs, so every run folder is complete on its own and deleting an old run
never breaks a newer one.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from compiler.plan import PlannedStep
from nodes.artifacts import ArtifactKind

from .run_store import EndpointRecord, RunStore, StepRecord

__all__ = ["copy_outputs", "record_outputs", "last_error_line", "step_warnings"]

_log = logging.getLogger(__name__)


def copy_outputs(store: RunStore, source: StepRecord, step: PlannedStep) -> bool:
    """Copy ``source``'s recorded outputs to ``step``'s URIs; False when any of them is gone."""
    recorded = {port: uri for step_id, port, _, uri in store.artifacts(source.run_id) if step_id == source.step_id}
    if set(recorded) != set(step.outputs):
        return False
    try:
        for port, ref in step.outputs.items():
            _copy(recorded[port], ref.uri)
            _copy_companions(ref.kind, recorded[port], ref.uri)
    except (OSError, FileNotFoundError) as exc:
        _log.info("cache entry for %s unusable: %s", step.id, exc)
        return False
    return True


def _copy_companions(kind: ArtifactKind, source: str, target: str) -> None:
    """The files written beside an artifact (a model's details); one an older run lacks is skipped."""
    import fsspec

    from nodes.artifact_io import companion_uris

    for companion, copy in zip(companion_uris(kind, source), companion_uris(kind, target)):
        fs, path = fsspec.core.url_to_fs(companion)
        if fs.exists(path):
            _copy(companion, copy)


def _copy(source: str, target: str) -> None:
    import fsspec  # only a cache hit copies files; the run process starts without it

    fs_source, path_source = fsspec.core.url_to_fs(source)
    fs_target, path_target = fsspec.core.url_to_fs(target)
    if not fs_source.exists(path_source):
        raise FileNotFoundError(source)
    fs_target.makedirs(fs_target._parent(path_target), exist_ok=True)
    if fs_source is fs_target or type(fs_source) is type(fs_target):
        if getattr(fs_source, "protocol", None) in ("file", ("file", "local")) and _try_link(path_source, path_target):
            return
        fs_source.copy(path_source, path_target)
        return
    with fs_source.open(path_source, "rb") as reader, fs_target.open(path_target, "wb") as writer:
        writer.write(reader.read())


def _try_link(source: str, target: str) -> bool:
    """Hard-link local files (same bytes, no copy); artifacts are never modified in place."""
    try:
        if os.path.exists(target):
            os.unlink(target)
        os.link(source, target)
        return True
    except OSError:
        return False


def record_outputs(store: RunStore, run_id: str, step: PlannedStep) -> None:
    """Store the step's artifact URIs, its scalar metrics, and any endpoint it started."""
    from nodes.artifact_io import read_artifact

    store.add_artifacts(run_id, step.id, [(port, ref.kind.value, ref.uri) for port, ref in step.outputs.items()])
    for port, ref in step.outputs.items():
        if ref.kind == ArtifactKind.METRICS:
            store.add_metrics(run_id, step.id, read_artifact(ref.kind, ref.uri).scalars())
        elif ref.kind == ArtifactKind.ENDPOINT:
            endpoint = read_artifact(ref.kind, ref.uri)
            replaced = store.register_endpoint(EndpointRecord(
                name=endpoint.name, url=endpoint.url, backend=endpoint.backend, pid=endpoint.pid, run_id=run_id,
                step_id=step.id, state="running", started_at=time.time(), stopped_at=None,
                input_schema=endpoint.input_schema,
            ))
            if replaced and replaced.backend == "local" and replaced.pid and replaced.pid != endpoint.pid:
                from .endpoints import stop_endpoint

                stop_endpoint(replaced.pid)


def _log_tail(log_path: Path | str, size: int = 16384) -> list[str]:
    """The last ``size`` bytes of a step's log as lines (none when it cannot be read)."""
    try:
        with open(log_path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(log_path) - size))
            return handle.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return []


def step_warnings(log_path: Path | str | None, step_id: str) -> list[str]:
    """What the step's last attempt warned about (``warning: node '<id>': …`` lines), without the node prefix."""
    from .entrypoint import WARNING_PREFIX

    if not log_path:
        return []
    prefix = f"{WARNING_PREFIX}node '{step_id}': "
    found: list[str] = []
    for line in reversed(_log_tail(log_path)):
        if line.startswith("--- attempt"):
            break
        if line.startswith(prefix) and line[len(prefix):].strip() not in found:
            found.append(line[len(prefix):].strip())
    return found[::-1]


def last_error_line(log_path: Path) -> str | None:
    """The step's own explanation of its failure: the last ``error:`` line of its log."""
    from .entrypoint import ERROR_PREFIX

    for line in reversed(_log_tail(log_path)):
        if line.startswith(ERROR_PREFIX):
            return line[len(ERROR_PREFIX):].strip()
        if line.startswith("--- attempt"):
            return None
    return None
