"""Read pipeline files safely and write them canonically.

A pipeline file is untrusted input. Reading it: at most 5 MB, UTF-8 text, the
safe loader only, at most 100 aliases and 200,000 values once aliases are
expanded (so a "billion laughs" file is refused before it is built), nesting at
most 64 deep, no duplicate keys, and a mapping at the root. Structural problems
come back as located diagnostics, never a traceback.

Writing is canonical: key order follows the models, no anchors, block style,
multi-line text as ``|`` blocks. Load → dump → load gives an equal model and
dumping twice gives the same bytes, so pipelines diff cleanly in git.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Any

import yaml
from pydantic import ValidationError

from .diagnostics import Diagnostic
from .errors import SpecError, YamlError
from .pydantic_messages import describe_error
from .spec import Pipeline

__all__ = [
    "PIPELINE_LIMITS",
    "PLAN_LIMITS",
    "ReadLimits",
    "MAX_BYTES",
    "MAX_ALIASES",
    "MAX_VALUES",
    "MAX_DEPTH",
    "SourceMap",
    "LoadedPipeline",
    "load_yaml_document",
    "read_capped",
    "parse_pipeline",
    "read_pipeline_file",
    "dump_yaml",
    "dump_pipeline",
]

MAX_BYTES = 5 * 1024 * 1024
MAX_ALIASES = 100
MAX_VALUES = 200_000
MAX_DEPTH = 64


@dataclass(frozen=True)
class ReadLimits:
    """How big a document of one kind may be, in bytes and in values (aliases expanded)."""

    max_bytes: int
    max_values: int
    #: what the messages call these documents ("pipeline files")
    kind: str


PIPELINE_LIMITS = ReadLimits(MAX_BYTES, MAX_VALUES, "pipeline files")
#: A plan is pipecanvas's expansion of a pipeline: about 600 bytes and 30 values a step, against as little as
#: 25 bytes and 5 values a node in the pipeline file. With the pipeline limits a pipeline of 6000 nodes compiled,
#: and then its plan could not be read back by a step's pod or a resume. These cover the plan of any pipeline
#: that fits the pipeline limits; aliases and depth are limited as for pipelines.
PLAN_LIMITS = ReadLimits(64 * 1024 * 1024, 10 * MAX_VALUES, "plans")
_EMPTY = "the file is empty; a pipeline needs apiVersion, kind, metadata and spec"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Path_ = tuple[Any, ...]


@dataclass
class SourceMap:
    """Line numbers (1-based) of values in the file, by path such as ``("spec", "nodes", 2)``."""

    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, *path: Any) -> int | None:
        return self.lines.get(tuple(path))


@dataclass
class LoadedPipeline:
    pipeline: Pipeline
    source_map: SourceMap
    source: str


def _too_big(size: str, limits: ReadLimits) -> YamlError:
    return YamlError(f"the file is {size}; {limits.kind} may be at most {limits.max_bytes // (1024 * 1024)} MB")


def _decode(data: bytes | str, limits: ReadLimits) -> str:
    if isinstance(data, str):
        raw_len = len(data.encode("utf-8", errors="replace"))
        text = data
    else:
        raw_len = len(data)
        if raw_len <= limits.max_bytes and b"\x00" in data:
            raise YamlError("this is not a pipeline file: it contains binary data")
        try:
            text = data.decode("utf-8-sig") if raw_len <= limits.max_bytes else ""
        except UnicodeDecodeError:
            raise YamlError("this is not a pipeline file: it is not UTF-8 text") from None
    if raw_len > limits.max_bytes:
        raise _too_big(f"{raw_len / 1e6:.1f} MB", limits)
    if "\x00" in text:
        raise YamlError("this is not a pipeline file: it contains binary data")
    return text


def _too_deep(node: yaml.Node) -> YamlError:
    return YamlError(f"the file is nested more than {MAX_DEPTH} levels deep", line=node.start_mark.line + 1)


def _twice(key: str, first_line: int, key_node: yaml.Node) -> YamlError:
    return YamlError(f"key '{key}' appears twice in the same mapping (first on line {first_line})",
                     line=key_node.start_mark.line + 1)


class _Walk:
    """Checks the composed node tree (aliases, size, depth, duplicate keys) and records line numbers."""

    def __init__(self, max_values: int) -> None:
        self.max_values = max_values
        self.sizes: dict[int, int] = {}
        self.open: set[int] = set()
        self.lines: dict[Path_, int] = {}

    def size(self, node: yaml.Node, path: Path_, depth: int) -> int:
        key = id(node)
        if key in self.sizes:
            return self.sizes[key]
        if key in self.open:
            raise YamlError("the file refers to itself through an alias (*name inside &name)", line=node.start_mark.line + 1)
        if depth > MAX_DEPTH:
            raise _too_deep(node)
        if path is not None:
            self.lines.setdefault(path, node.start_mark.line + 1)
        self.open.add(key)
        total = 1 + sum(self.size(child, child_path, depth + 1) for child, child_path in self._children(node, path))
        self.open.discard(key)
        if total > self.max_values:
            raise YamlError(
                f"the file expands to more than {self.max_values:,} values (aliases repeat too much); it is refused",
                line=node.start_mark.line + 1,
            )
        self.sizes[key] = total
        return total

    @staticmethod
    def _children(node: yaml.Node, path: Path_):
        if isinstance(node, yaml.SequenceNode):
            for index, child in enumerate(node.value):
                yield child, (path + (index,) if path is not None else None)
        elif isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key is not None and key != "<<":
                    if key in seen:
                        raise _twice(key, seen[key], key_node)
                    seen[key] = key_node.start_mark.line + 1
                yield key_node, None
                yield value_node, (path + (key,) if path is not None and key is not None else None)


_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


class _NotPlain(Exception):
    """The tree holds something ``_PlainTree`` leaves to PyYAML: a tagged collection, a merge key, a complex key."""


class _PlainTree:
    """Builds a tree without aliases in one pass, checking the limits and recording lines as it goes.

    Almost every pipeline file is plain mappings, lists and scalars, with no alias. For those, walking the
    composed tree once to check it (``_Walk``) and once more in PyYAML's constructor to build it cost twice
    what one pass does (0.07 s against 0.025 s for a 1000-node file). The limits, messages and line numbers
    are ``_Walk``'s; scalars other than plain text (numbers, booleans, null, dates) are built by the safe
    constructor. Anything else raises ``_NotPlain``, and the file is read the two-pass way.
    """

    def __init__(self, loader: Any, max_values: int) -> None:
        self.max_values = max_values
        self.construct = loader.construct_object
        self.lines: dict[Path_, int] = {}
        self.count = 0
        #: scalars other than text by (tag, text): a pipeline repeats the same numbers and booleans in every
        #: node, and the safe constructor builds only immutable values from scalars, so one may be shared
        self.scalars: dict[tuple[str, str], Any] = {}

    def value(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _too_deep(node)
        self.count += 1
        if self.count > self.max_values:
            raise YamlError(f"the file has more than {self.max_values:,} values; it is refused", line=node.start_mark.line + 1)
        self.lines.setdefault(path, node.start_mark.line + 1)
        kind = node.__class__
        if kind is yaml.ScalarNode:
            if node.tag == _STR:
                return node.value
            key = (node.tag, node.value)
            if key not in self.scalars:
                self.scalars[key] = self.construct(node)
            return self.scalars[key]
        if kind is yaml.SequenceNode and node.tag == _SEQ:
            return [self.value(child, path + (index,), depth + 1) for index, child in enumerate(node.value)]
        if kind is not yaml.MappingNode or node.tag != _MAP:
            raise _NotPlain
        built: dict[Any, Any] = {}
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not yaml.ScalarNode or key_node.value == "<<":
                raise _NotPlain
            raw = key_node.value
            if raw in first_lines:
                raise _twice(raw, first_lines[raw], key_node)
            first_lines[raw] = key_node.start_mark.line + 1
            self.count += 1
            key = raw if key_node.tag == _STR else self.construct(key_node)
            built[key] = self.value(value_node, path + (raw,), depth + 1)
        return built


def _build_document(loader: Any, node: yaml.Node, may_share: bool, max_values: int) -> tuple[Any, dict[Path_, int]]:
    """The document and its line numbers: in one pass when it can be (``_PlainTree``), else checked, then built."""
    if not may_share:
        try:
            tree = _PlainTree(loader, max_values)
            return tree.value(node, (), 0), tree.lines
        except _NotPlain:
            pass
    walk = _Walk(max_values)
    walk.size(node, (), 0)
    return loader.construct_document(node), walk.lines


def _count_aliases(text: str) -> int:
    count = 0
    loader = _Loader(text)
    try:
        while loader.check_event():
            if isinstance(loader.get_event(), yaml.AliasEvent):
                count += 1
                if count > MAX_ALIASES:
                    break
    finally:
        loader.dispose()
    return count


def load_yaml_document(data: bytes | str, limits: ReadLimits = PIPELINE_LIMITS) -> tuple[Any, SourceMap]:
    """Safely load one YAML document with the limits above (``limits`` for its size). Raises ``YamlError``."""
    text = _decode(data, limits)
    if not text.strip():
        raise YamlError(_EMPTY)
    try:
        if "*" in text and _count_aliases(text) > MAX_ALIASES:
            raise YamlError(f"the file uses more than {MAX_ALIASES} aliases (*name); it is refused")
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise YamlError(_EMPTY)
            document, lines = _build_document(loader, node, may_share="*" in text, max_values=limits.max_values)
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as exc:
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        line = text.encode("utf-8")[: exc.position].count(b"\n") + 1
        raise YamlError(f"this is not valid YAML: it contains the character #x{code:04x}, which YAML does not allow", line=line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(f"this is not valid YAML: {problem}", line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"this is not valid YAML: {exc}") from None
    except RecursionError:
        raise YamlError(f"the file is nested more than {MAX_DEPTH} levels deep") from None
    return document, SourceMap(lines)


def _location(loc: tuple[Any, ...], document: Any) -> tuple[str, str | None, str | None]:
    """(prefix, node id, edge label) for an error at ``loc`` in the raw document."""
    if len(loc) >= 3 and loc[0] == "spec" and loc[1] in ("nodes", "edges") and isinstance(loc[2], int):
        items = document.get("spec", {}).get(loc[1]) if isinstance(document.get("spec"), dict) else None
        raw = items[loc[2]] if isinstance(items, list) and loc[2] < len(items) else None
        rest = ".".join(str(part) for part in loc[3:])
        if loc[1] == "nodes":
            node_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            where = f"node '{node_id}'" if node_id else f"node #{loc[2] + 1}"
            return (f"{where}: {'field ' + repr(rest) if len(loc) > 3 else 'the node'}", node_id, None)
        label = f"{raw.get('from', '?')} -> {raw.get('to', '?')}" if isinstance(raw, dict) else None
        where = f"edge '{label}'" if label else f"edge #{loc[2] + 1}"
        return (f"{where}: {'field ' + repr(rest) if len(loc) > 3 else 'the edge'}", None, label)
    dotted = ".".join(str(part) for part in loc)
    return (f"pipeline: field '{dotted}'" if loc else "pipeline: the file", None, None)


def _field_choices(loc: tuple[Any, ...]) -> list[str]:
    from . import spec

    models = {
        (): spec.Pipeline,
        ("metadata",): spec.Metadata,
        ("spec",): spec.PipelineBody,
        ("spec", "defaults"): spec.Defaults,
        ("spec", "nodes"): spec.NodeSpec,
        ("spec", "edges"): spec.EdgeSpec,
    }
    parent = tuple(p for p in loc[:-1] if not isinstance(p, int))
    if parent and parent[-1] == "resources":
        return list(spec.Resources.model_fields)
    if parent and parent[-1] == "ui":
        return list(spec.UiPosition.model_fields)
    model = models.get(parent)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _structure_diagnostics(exc: ValidationError, document: dict[str, Any], source_map: SourceMap) -> list[Diagnostic]:
    found = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        prefix, node_id, edge = _location(loc, document)
        message = f"{prefix} {describe_error(error, _field_choices(loc))}"
        line = next((source_map.line(*loc[:n]) for n in range(len(loc), 0, -1) if source_map.line(*loc[:n])), None)
        found.append(Diagnostic("error", message, node=node_id, edge=edge, line=line))
    return found


def parse_pipeline(data: bytes | str, source: str = "<text>") -> LoadedPipeline:
    """Text or bytes → ``LoadedPipeline``. Raises ``SpecError`` listing every structural problem."""
    document, source_map = load_yaml_document(data)
    if document is None:  # "---" or "null" alone
        raise YamlError(_EMPTY)
    if not isinstance(document, dict):
        kind = {list: "a list", str: "a line of text", bool: "true or false", int: "a number", float: "a number"}.get(
            type(document), f"a {type(document).__name__}"
        )
        raise YamlError(f"a pipeline file must be a mapping with apiVersion, kind, metadata and spec, not {kind}")
    try:
        pipeline = Pipeline.model_validate(document)
    except ValidationError as exc:
        raise SpecError(_structure_diagnostics(exc, document, source_map)) from None
    return LoadedPipeline(pipeline, source_map, source)


def read_pipeline_file(path: str | Path) -> LoadedPipeline:
    """Read a pipeline file from disk. A missing or unreadable file is a ``YamlError``, not an OSError."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_BYTES:
            raise _too_big(f"{size / 1e6:.1f} MB", PIPELINE_LIMITS)
        data = read_capped(file.open("rb"), MAX_BYTES)
        if len(data) > MAX_BYTES:
            raise _too_big(f"larger than {MAX_BYTES // (1024 * 1024)} MB", PIPELINE_LIMITS)
    except FileNotFoundError:
        raise YamlError(f"file '{path}' was not found") from None
    except IsADirectoryError:
        raise YamlError(f"'{path}' is a folder, not a pipeline file") from None
    except OSError as exc:
        raise YamlError(f"file '{path}' could not be read: {exc.strerror or exc}") from None
    return parse_pipeline(data, source=str(path))


def read_capped(handle: Any, max_bytes: int) -> bytes:
    """At most ``max_bytes`` + 1 bytes from ``handle`` (then closed), so that a caller can tell "too big" from an
    endless source: a pipe or a device such as ``/dev/zero`` has no size to check first."""
    with handle:
        return handle.read(max_bytes + 1)


class _CanonicalDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        # indent list items under their key, as people write them by hand
        return super().increase_indent(flow, False)


# Line breaks other than "\n": PyYAML writes them raw in plain, quoted and block text, and reads them
# back as a newline or a space; escaped in double quotes they survive.
_OTHER_BREAKS = ("\x85", "\u2028", "\u2029")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if any(mark in value for mark in _OTHER_BREAKS):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_CanonicalDumper.add_representer(str, _represent_str)


def dump_yaml(document: Any) -> str:
    """Canonical YAML for any plain document (pipelines, plans, manifests)."""
    return yaml.dump(
        document, Dumper=_CanonicalDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=120
    )


#: The last few canonical texts, by the document's ``repr``: see ``dump_pipeline``.
_RECENT_TEXTS: OrderedDict[str, str] = OrderedDict()
_RECENT_LIMIT = 8
_RECENT_LOCK = Lock()


def dump_pipeline(pipeline: Pipeline) -> str:
    """The pipeline's canonical YAML.

    A studio page run asks for the text of the same pipeline several times (the
    download button, the autosave, the unsaved-changes check when a run or a file
    is opened), and PyYAML's writer takes about 50 ms for 250 nodes, which the
    browser waits for. So the last few texts are kept, keyed by the plain
    document's ``repr`` (a millisecond): any change, even one made in place,
    changes the key, so a kept text is never stale.
    """
    document = pipeline.to_document()
    key = repr(document)
    with _RECENT_LOCK:
        text = _RECENT_TEXTS.get(key)
        if text is not None:
            _RECENT_TEXTS.move_to_end(key)
            return text
    text = dump_yaml(document)
    with _RECENT_LOCK:
        _RECENT_TEXTS[key] = text
        while len(_RECENT_TEXTS) > _RECENT_LIMIT:
            _RECENT_TEXTS.popitem(last=False)
    return text
