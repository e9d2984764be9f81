"""Codecs between in-memory artifacts and files, one format per artifact kind.

The runtime decides where an artifact lives (a URI) and calls these functions
around a node's ``run()``; the model server uses them to load what it serves.
Every read and write goes through fsspec, so local paths, ``file://`` and
``memory://`` URIs (and any other fsspec protocol that is installed) all work.

Formats:

- Table → Parquet (pyarrow); the target column's name is kept in the schema
  metadata under ``pipecanvas.target``, pandas dtypes in pandas' own metadata.
- Model → one skops file holding ``{"estimator": ..., "meta": {...}}``, plus
  ``<uri>.meta.json`` beside it (``nodes.model_meta``: what the studio shows,
  so it never loads a model). Loading never unpickles: ``nodes.model_check``
  reads the file's schema itself and refuses it unless every type it names is
  on the exact list of what pipecanvas writes (``nodes.model_types``), before
  anything is imported or built.
- Metrics → JSON of the values; Endpoint → JSON of its fields.

Reading a missing, corrupt or untrusted file raises ``ArtifactReadError`` naming
the URI.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Callable
from typing import IO, Any

from .artifacts import ARTIFACT_TYPES, ArtifactKind, Endpoint, Metrics, Model, Table
from .errors import ArtifactReadError
from .python_values import python_value

__all__ = [
    "FILE_EXTENSIONS",
    "TARGET_METADATA_KEY",
    "ArtifactReadError",
    "companion_uris",
    "read_artifact",
    "write_artifact",
]

FILE_EXTENSIONS: dict[ArtifactKind, str] = {
    ArtifactKind.TABLE: "parquet",
    ArtifactKind.MODEL: "skops",
    ArtifactKind.METRICS: "json",
    ArtifactKind.ENDPOINT: "json",
}

TARGET_METADATA_KEY = b"pipecanvas.target"
IGNORED_METADATA_KEY = b"pipecanvas.ignored"

_MODEL_META_FIELDS = ("task", "feature_columns", "target", "classes", "algorithm", "input_schema", "training_values")


def write_artifact(kind: ArtifactKind | str, value: Any, uri: str) -> None:
    """Save ``value`` (the in-memory artifact of ``kind``) at ``uri``, creating folders as needed."""
    import fsspec

    kind = ArtifactKind(kind)
    expected = ARTIFACT_TYPES[kind]
    if not isinstance(value, expected):
        raise TypeError(f"a {kind} artifact must be a {expected.__name__}, not {type(value).__name__}")
    buffer = io.BytesIO()  # encode fully first, so a value that cannot be encoded leaves no half-written file
    _WRITERS[kind](value, buffer)
    if kind == ArtifactKind.MODEL:
        from .model_meta import meta_uri, model_meta_bytes

        with fsspec.open(meta_uri(uri), "wb", auto_mkdir=True) as file:
            file.write(model_meta_bytes(value))
    with fsspec.open(uri, "wb", auto_mkdir=True) as file:
        file.write(buffer.getbuffer())


def companion_uris(kind: ArtifactKind | str, uri: str) -> list[str]:
    """Files ``write_artifact`` writes beside ``uri`` for this kind; whoever moves or copies the artifact moves them too."""
    if ArtifactKind(kind) == ArtifactKind.MODEL:
        from .model_meta import meta_uri

        return [meta_uri(uri)]
    return []


def read_artifact(kind: ArtifactKind | str, uri: str) -> Any:
    """Load the artifact of ``kind`` saved at ``uri``; ``ArtifactReadError`` if it cannot be trusted or read."""
    import fsspec

    kind = ArtifactKind(kind)
    try:
        with fsspec.open(uri, "rb") as file:
            return _READERS[kind](file, uri)
    except ArtifactReadError:
        raise
    except FileNotFoundError as exc:
        raise ArtifactReadError(f"{kind} artifact {uri} does not exist") from exc
    except Exception as exc:  # corrupt or foreign files fail in many library-specific ways
        raise ArtifactReadError(f"{kind} artifact {uri} cannot be read: {exc}") from exc


# --- tables ---------------------------------------------------------------------------------------


def _write_table(table: Table, file: IO[bytes]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table.frame)
    metadata = dict(arrow.schema.metadata or {})
    if table.target is not None:
        metadata[TARGET_METADATA_KEY] = table.target.encode("utf-8")
    if table.ignored:
        metadata[IGNORED_METADATA_KEY] = json.dumps([str(c) for c in table.ignored]).encode("utf-8")
    pq.write_table(arrow.replace_schema_metadata(metadata), file)


def _read_table(file: IO[bytes], uri: str) -> Table:
    import pyarrow.parquet as pq

    arrow = pq.read_table(file)
    raw_target = (arrow.schema.metadata or {}).get(TARGET_METADATA_KEY)
    frame = arrow.to_pandas()
    target = raw_target.decode("utf-8") if raw_target is not None else None
    if target is not None and target not in frame.columns:
        raise ArtifactReadError(f"table artifact {uri} names target column {target!r}, which it does not contain")
    raw_ignored = (arrow.schema.metadata or {}).get(IGNORED_METADATA_KEY)
    ignored = json.loads(raw_ignored) if raw_ignored else []
    if not (isinstance(ignored, list) and all(isinstance(c, str) and c in frame.columns for c in ignored)):
        raise ArtifactReadError(f"table artifact {uri} names ignored columns it does not contain")
    return Table(frame=frame, target=target, ignored=ignored)


# --- models ---------------------------------------------------------------------------------------


def _write_model(model: Model, file: IO[bytes]) -> None:
    from .skops_import import skops_io

    meta = {name: python_value(getattr(model, name)) for name in _MODEL_META_FIELDS}
    file.write(skops_io.dumps({"estimator": model.estimator, "meta": meta}))


def _read_model(file: IO[bytes], uri: str) -> Model:
    from .model_check import checked_model_archive, max_model_bytes
    from .model_types import allowed_model_types
    from .skops_import import skops_io

    limit = max_model_bytes()
    data = file.read(limit + 1)
    if len(data) > limit:
        raise ArtifactReadError(
            f"model artifact {uri} is larger than the {limit:,} bytes pipecanvas reads; "
            "set $PIPECANVAS_MAX_MODEL_BYTES to raise the limit"
        )
    types, functions = allowed_model_types()
    checked, names = checked_model_archive(data, uri, types, functions)
    content = skops_io.loads(checked, trusted=names)
    return _model_from_content(content, uri)


def _model_from_content(content: Any, uri: str) -> Model:
    from .model_contents import check_model_contents

    if not isinstance(content, dict) or "estimator" not in content or not isinstance(content.get("meta"), dict):
        raise ArtifactReadError(f"model artifact {uri} is a skops file but not a pipecanvas model")
    meta = content["meta"]
    missing = [name for name in ("task", "feature_columns") if name not in meta]
    if missing:
        raise ArtifactReadError(f"model artifact {uri} lacks {', '.join(missing)} in its metadata")
    known = {name: meta[name] for name in _MODEL_META_FIELDS if meta.get(name) is not None}
    check_model_contents(content["estimator"], uri)
    return Model(estimator=content["estimator"], **known)


# --- metrics and endpoints ------------------------------------------------------------------------


def _write_metrics(metrics: Metrics, file: IO[bytes]) -> None:
    file.write(json.dumps(metrics.values, indent=2).encode("utf-8"))


def _read_metrics(file: IO[bytes], uri: str) -> Metrics:
    values = json.loads(file.read())
    if not isinstance(values, dict):
        raise ArtifactReadError(f"metrics artifact {uri} must hold a JSON object of named values")
    return Metrics(values=values)


def _write_endpoint(endpoint: Endpoint, file: IO[bytes]) -> None:
    file.write(json.dumps(dataclasses.asdict(endpoint), indent=2).encode("utf-8"))


def _read_endpoint(file: IO[bytes], uri: str) -> Endpoint:
    fields = json.loads(file.read())
    if not isinstance(fields, dict) or not {"name", "url"} <= fields.keys():
        raise ArtifactReadError(f"endpoint artifact {uri} must be a JSON object with at least 'name' and 'url'")
    known = {f.name for f in dataclasses.fields(Endpoint)}
    return Endpoint(**{k: v for k, v in fields.items() if k in known})


_WRITERS: dict[ArtifactKind, Callable[[Any, IO[bytes]], None]] = {
    ArtifactKind.TABLE: _write_table,
    ArtifactKind.MODEL: _write_model,
    ArtifactKind.METRICS: _write_metrics,
    ArtifactKind.ENDPOINT: _write_endpoint,
}

_READERS: dict[ArtifactKind, Callable[[IO[bytes], str], Any]] = {
    ArtifactKind.TABLE: _read_table,
    ArtifactKind.MODEL: _read_model,
    ArtifactKind.METRICS: _read_metrics,
    ArtifactKind.ENDPOINT: _read_endpoint,
}
