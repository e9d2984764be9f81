"""A model file checked from its own bytes before skops imports, builds or calls anything it names.

skops rebuilds objects from ``schema.json``: every object names a type and a
loader, and loading imports the type and (for most loaders) calls it. This
module reads the zip and the schema itself, never importing a module the file
names, and refuses the file unless

- it is a zip of at most ``max_model_bytes()`` (``$PIPECANVAS_MAX_MODEL_BYTES``)
  unpacked, with stored or deflated entries only, a ``schema.json`` of at most
  ``MAX_SCHEMA_BYTES``, and a schema nested at most ``_MAX_DEPTH`` deep;
- it uses the skops format this check was written against (``_PROTOCOLS``:
  older formats have other loaders, which a file could opt into);
- every loader is one whose behaviour is known (``_TYPE_LOADERS``), and the
  type it names is on the exact allow-list (``nodes.model_types``); a function
  reference must be on the function list; bound methods, ``functools.partial``
  and ``operator`` callables are refused whatever they name.

What skops then loads is a fresh, uncompressed archive holding the schema as
parsed here, so skops and this check cannot read the file differently.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any

from .errors import ArtifactReadError

__all__ = ["MAX_MODEL_BYTES_ENV", "MAX_SCHEMA_BYTES", "checked_model_archive", "max_model_bytes"]

MAX_MODEL_BYTES_ENV = "PIPECANVAS_MAX_MODEL_BYTES"
_DEFAULT_MAX_MODEL_BYTES = 2 * 1024**3
MAX_SCHEMA_BYTES = 256 * 1024**2
_MAX_DIRECTORY_BYTES = 64 * 1024**2  # the zip's table of contents: about half a million entries
_MAX_DEPTH = 100  # built-in models nest about 20 deep
_CHUNK = 1024**2
_PROTOCOLS = frozenset({2})

# Loaders that build, call or look up the type they name (``Name()``, ``Name(array)``, ``Name(*args)``,
# ``Name.__new__`` + ``__setstate__``, an import); the name must be an allowed type.
_TYPE_LOADERS = frozenset({
    "ObjectNode", "ConstructorFromReduceNode", "TreeNode", "LossNode", "TypeNode", "CachedNode", "JsonNode",
    "DictNode", "DefaultDictNode", "ListNode", "SetNode", "TupleNode", "SliceNode", "BytesNode", "BytearrayNode",
    "NdArrayNode", "MaskedArrayNode", "DTypeNode", "RandomStateNode", "RandomGeneratorNode", "SparseMatrixNode",
})
_FUNCTION_LOADER = "FunctionNode"  # looks a function up; the model calls it later


def max_model_bytes() -> int:
    """The largest model file read, unpacked: ``$PIPECANVAS_MAX_MODEL_BYTES`` or 2 GiB."""
    raw = os.environ.get(MAX_MODEL_BYTES_ENV, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return _DEFAULT_MAX_MODEL_BYTES


def checked_model_archive(
    data: bytes, uri: str, types: frozenset[str], functions: frozenset[str]
) -> tuple[bytes, list[str]]:
    """The skops file ``data`` rebuilt from its checked parts, and the names it uses (to pass to skops as trusted).

    ``ArtifactReadError`` naming every type refused.
    """
    archive = _open_archive(data, uri)
    infos = {info.filename: info for info in archive.infolist()}
    if "schema.json" not in infos:
        raise ArtifactReadError(f"model artifact {uri} is not a skops model file: it has no schema.json")
    schema = _parse_schema(_read_entry(archive, infos["schema.json"], MAX_SCHEMA_BYTES, uri), uri)
    refused, used = _names(schema, types, functions, uri)
    if refused:
        shown = ", ".join(refused[:12]) + (f" and {len(refused) - 12} more" if len(refused) > 12 else "")
        raise ArtifactReadError(
            f"model artifact {uri} names types pipecanvas never writes in a model, so it was not loaded: {shown}"
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as clean:
        clean.writestr("schema.json", json.dumps(schema))
        for name, info in infos.items():
            if name != "schema.json":
                clean.writestr(name, _read_entry(archive, info, max_model_bytes(), uri))
    return out.getvalue(), used


def _open_archive(data: bytes, uri: str) -> zipfile.ZipFile:
    """The zip, after checking its table of contents and declared sizes (before reading any entry)."""
    end = _end_record(data)
    if end is None:
        raise ArtifactReadError(f"model artifact {uri} is not a skops model file (not a zip archive)")
    if end[zipfile._ECD_SIZE] > _MAX_DIRECTORY_BYTES:  # type: ignore[attr-defined]
        raise ArtifactReadError(f"model artifact {uri} lists more files than a model holds; it was not read")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ArtifactReadError(f"model artifact {uri} is not a skops model file: {exc}") from exc
    infos = archive.infolist()
    if len({info.filename for info in infos}) != len(infos):
        raise ArtifactReadError(f"model artifact {uri} holds two files of the same name; it was not read")
    odd = sorted({info.compress_type for info in infos} - {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
    if odd:
        raise ArtifactReadError(f"model artifact {uri} uses a zip compression pipecanvas never writes ({odd[0]})")
    unpacked = sum(info.file_size for info in infos)
    if unpacked > max_model_bytes():
        raise ArtifactReadError(
            f"model artifact {uri} unpacks to {unpacked:,} bytes, more than the {max_model_bytes():,} pipecanvas "
            f"reads (set ${MAX_MODEL_BYTES_ENV} to raise the limit)"
        )
    return archive


def _end_record(data: bytes) -> Any:
    """The zip's end-of-directory record (``None`` when ``data`` is no zip), read without parsing the directory."""
    try:
        return zipfile._EndRecData(io.BytesIO(data))  # type: ignore[attr-defined]
    except (OSError, ValueError, zipfile.BadZipFile):
        return None


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, uri: str) -> bytes:
    """One entry, unpacked a megabyte at a time so that a lying header cannot make one huge allocation."""
    if info.file_size > limit:
        raise ArtifactReadError(
            f"model artifact {uri}: {info.filename} unpacks to {info.file_size:,} bytes, more than the "
            f"{limit:,} pipecanvas reads"
        )
    parts, size = [], 0
    try:
        with archive.open(info) as entry:
            while chunk := entry.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ArtifactReadError(f"model artifact {uri}: {info.filename} is larger than it says")
                parts.append(chunk)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ArtifactReadError(f"model artifact {uri} is damaged ({info.filename}: {exc})") from exc
    return b"".join(parts)


def _parse_schema(raw: bytes, uri: str) -> dict[str, Any]:
    try:
        schema = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ArtifactReadError(f"model artifact {uri} is not a skops model file: its schema.json is not JSON") from exc
    if not isinstance(schema, dict):
        raise ArtifactReadError(f"model artifact {uri} is not a skops model file: its schema.json is not an object")
    protocol = schema.get("protocol")
    if type(protocol) is not int or protocol not in _PROTOCOLS or protocol != _skops_protocol():
        raise ArtifactReadError(
            f"model artifact {uri} was saved in skops format {protocol!r}, not the one pipecanvas reads "
            f"({_skops_protocol()}); run the step that made it again"
        )
    return schema


def _skops_protocol() -> int:
    from .skops_import import skops_io  # noqa: F401  (skops.io first, imported as that module says)
    from skops.io._protocol import PROTOCOL

    return int(PROTOCOL)


def _names(schema: Any, types: frozenset[str], functions: frozenset[str], uri: str) -> tuple[list[str], list[str]]:
    """(refused, used): each name in the schema that skops would import or call and that is not allowed,
    described; and every name it uses."""
    refused: set[str] = set()
    used: set[str] = set()
    stack: list[tuple[Any, int]] = [(schema, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise ArtifactReadError(f"model artifact {uri} nests objects deeper than any model pipecanvas writes")
        if isinstance(item, dict):
            if "__loader__" in item:
                reason = _refusal(item, types, functions)
                if reason:
                    refused.add(reason)
                else:
                    used.update(_used(item))
            stack.extend((value, depth + 1) for value in item.values())
        elif isinstance(item, list):
            stack.extend((value, depth + 1) for value in item)
    return sorted(refused), sorted(used)


def _used(node: dict[str, Any]) -> list[str]:
    name = f"{node['__module__']}.{node['__class__']}"
    bit_generator = _bit_generator(node) if node["__loader__"] == "RandomGeneratorNode" else None
    return [name, bit_generator] if bit_generator else [name]


def _refusal(node: dict[str, Any], types: frozenset[str], functions: frozenset[str]) -> str | None:
    """Why skops must not load ``node``, naming its type; ``None`` when it may."""
    loader, module, name = node.get("__loader__"), node.get("__module__"), node.get("__class__")
    if not (isinstance(loader, str) and isinstance(module, str) and isinstance(name, str)):
        return "an object whose type is not written as text"
    full = f"{module}.{name}"
    if loader == _FUNCTION_LOADER:
        return None if full in functions else f"{full} (a function)"
    if loader == "MethodNode":
        content = node.get("content")
        method = content.get("func") if isinstance(content, dict) else None
        return f"{full}.{method} (a bound method)"
    if loader == "PartialNode":
        return "functools.partial (a function with arguments bound)"
    if loader == "OperatorFuncNode":
        return f"operator.{name} (an operator function)"
    if loader not in _TYPE_LOADERS:
        return f"{full} (saved by skops' {loader}, which pipecanvas models never use)"
    if full not in types:
        return full
    if loader == "RandomGeneratorNode":
        bit_generator = _bit_generator(node)
        if bit_generator is None:
            return f"{full} without a readable bit generator"
        if bit_generator not in types:
            return bit_generator
    return None


def _bit_generator(node: dict[str, Any]) -> str | None:
    """``numpy.random.<name>``: skops calls that class by a name it reads from the generator's state."""
    try:
        raw = node["content"]["bit_generator"]["content"]["bit_generator"]["content"]
        name = json.loads(raw)
    except (KeyError, TypeError, ValueError):
        return None
    return f"numpy.random.{name}" if isinstance(name, str) else None
