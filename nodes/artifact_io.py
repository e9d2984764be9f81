"""Codecs between in-memory artifacts and files, one format per artifact kind.

The runtime decides where an artifact lives (a URI) and calls these functions
around a node's ``run()``; the model server uses them to load what it serves.
Every read and write goes through fsspec, so local paths, ``file://`` and
``memory://`` URIs (and any other fsspec protocol that is installed) all work.

Formats:

- Table → Parquet (pyarrow); the target column's name is kept in the schema
  metadata under ``pipecanvas.target``, pandas dtypes in pandas' own metadata.
- Model → one skops file holding ``{"estimator": ..., "meta": {...}}``. Loading
  never unpickles and trusts only types from a short list of packages (see
  ``TRUSTED_MODULES``); anything else is refused before any object is built.
- Metrics → JSON of the values; Endpoint → JSON of its fields.

Reading a missing, corrupt or untrusted file raises ``ArtifactReadError`` naming
the URI.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, Any

from .artifacts import ARTIFACT_TYPES, ArtifactKind, Endpoint, Metrics, Model, Table
from .errors import ArtifactReadError

__all__ = [
    "FILE_EXTENSIONS",
    "TARGET_METADATA_KEY",
    "TRUSTED_MODULES",
    "ArtifactReadError",
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

TRUSTED_MODULES = frozenset({"sklearn", "numpy", "scipy", "builtins", "collections", "nodes"})
"""Top-level packages whose classes a model file may contain.

``nodes`` is here because networks trained by ``train.mlp`` are saved as
``nodes.mlp_estimator`` objects. Beyond the package, a type that skops would
build or call must be a class; a plain function may only be referenced (e.g.
a ``FunctionTransformer``'s ``func``), and never one from ``builtins``.
"""

_MODEL_META_FIELDS = ("task", "feature_columns", "target", "classes", "algorithm", "input_schema")
_REFERENCE_LOADERS = frozenset({"FunctionNode"})  # skops looks these up but never calls them


def write_artifact(kind: ArtifactKind | str, value: Any, uri: str) -> None:
    """Save ``value`` (the in-memory artifact of ``kind``) at ``uri``, creating folders as needed."""
    import fsspec

    kind = ArtifactKind(kind)
    expected = ARTIFACT_TYPES[kind]
    if not isinstance(value, expected):
        raise TypeError(f"a {kind} artifact must be a {expected.__name__}, not {type(value).__name__}")
    buffer = io.BytesIO()  # encode fully first, so a value that cannot be encoded leaves no half-written file
    _WRITERS[kind](value, buffer)
    with fsspec.open(uri, "wb", auto_mkdir=True) as file:
        file.write(buffer.getbuffer())


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
    import skops.io

    meta = {name: getattr(model, name) for name in _MODEL_META_FIELDS}
    file.write(skops.io.dumps({"estimator": model.estimator, "meta": meta}))


def _read_model(file: IO[bytes], uri: str) -> Model:
    import skops.io

    data = file.read()
    try:
        untrusted = skops.io.get_untrusted_types(data=data)
    except Exception as exc:
        raise ArtifactReadError(f"model artifact {uri} is not a skops model file: {exc}") from exc
    refused = _refused_types(data, untrusted)
    if refused:
        raise ArtifactReadError(
            f"model artifact {uri} contains types pipecanvas does not trust, so it was not loaded: {', '.join(refused)}"
        )
    content = skops.io.loads(data, trusted=untrusted)
    return _model_from_content(content, uri)


def _model_from_content(content: Any, uri: str) -> Model:
    if not isinstance(content, dict) or "estimator" not in content or not isinstance(content.get("meta"), dict):
        raise ArtifactReadError(f"model artifact {uri} is a skops file but not a pipecanvas model")
    meta = content["meta"]
    missing = [name for name in ("task", "feature_columns") if name not in meta]
    if missing:
        raise ArtifactReadError(f"model artifact {uri} lacks {', '.join(missing)} in its metadata")
    known = {name: meta[name] for name in _MODEL_META_FIELDS if meta.get(name) is not None}
    return Model(estimator=content["estimator"], **known)


def _refused_types(data: bytes, untrusted: list[str]) -> list[str]:
    """The untrusted type names we will not load, given how the file uses each."""
    uses = _type_uses(data)
    refused = []
    for name in untrusted:
        if not _is_acceptable(name, uses.get(name)):
            refused.append(name)
    return refused


def _is_acceptable(name: str, use: tuple[str, str, set[str]] | None) -> bool:
    """Whether ``name`` comes from a trusted package and is a class wherever skops would build or call it."""
    if name.split(".")[0] not in TRUSTED_MODULES or use is None:
        return False
    module, attribute, loaders = use
    is_class = _resolves_to_class(module, attribute)
    if module == "builtins" and not is_class:
        return False  # eval, exec, open, __import__ ...: never, not even as a reference
    return is_class or loaders <= _REFERENCE_LOADERS


def _resolves_to_class(module: str, attribute: str) -> bool:
    """Import ``module`` (its package is trusted) and check ``attribute`` is a class, not a function."""
    try:
        obj: Any = importlib.import_module(module)
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return False
    return isinstance(obj, type)


def _type_uses(data: bytes) -> dict[str, tuple[str, str, set[str]]]:
    """Map each ``module.Class`` named in the skops schema to (module, attribute, loaders using it)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read("schema.json"))
    uses: dict[str, tuple[str, str, set[str]]] = {}
    for node in _schema_nodes(schema):
        module, attribute = node["__module__"], node["__class__"]
        entry = uses.setdefault(f"{module}.{attribute}", (module, attribute, set()))
        entry[2].add(str(node.get("__loader__")))
    return uses


def _schema_nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every dict in the schema that names a type, however deeply nested."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("__module__"), str) and isinstance(item.get("__class__"), str):
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


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
