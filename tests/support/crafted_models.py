"""Hand-written skops files that would make a loader run something, modelled on what skops itself writes.

Each payload, loaded by skops with its types trusted, creates (or truncates)
the ``marker`` path or exits the process; ``tests/unit/nodes/test_model_check.py``
proves that for each before checking pipecanvas refuses it. The file around
the payload is a real pipecanvas model file (``{"estimator": ..., "meta": ...}``)
with the estimator's state replaced.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import skops.io

__all__ = ["PAYLOADS", "crafted_model", "model_file_with"]

META = {"task": "classification", "feature_columns": ["a"], "target": "y", "classes": ["x", "y"],
        "algorithm": "random_forest", "input_schema": {"a": "number"}}


def _json(value: Any) -> dict[str, Any]:
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode", "content": json.dumps(value),
            "is_json": True}


def _node(loader: str, module: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"__class__": name, "__module__": module, "__loader__": loader, **fields}


def _tuple(*items: dict[str, Any]) -> dict[str, Any]:
    return _node("TupleNode", "builtins", "tuple", content=list(items))


def _list(*items: dict[str, Any]) -> dict[str, Any]:
    return _node("ListNode", "builtins", "list", content=list(items))


def _call(module: str, name: str, *args: dict[str, Any]) -> dict[str, Any]:
    """``module.name(*args)``, as skops saves an object whose ``__reduce__`` is its own type."""
    return _node("ConstructorFromReduceNode", module, name, content=_tuple(*args))


def _code(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').close()"


def _runstring_via_map(marker: Path) -> dict[str, Any]:
    """``list(map(numpy.testing._private.utils.runstring, [code], [{}]))``: the issue's example."""
    runstring = _node("FunctionNode", "numpy.testing._private.utils", "runstring")
    empty = _node("DictNode", "builtins", "dict", content={}, key_types=_list())
    mapped = _call("builtins", "map", runstring, _list(_json(_code(marker))), _list(empty))
    return _call("builtins", "list", mapped)


def _memmap(marker: Path) -> dict[str, Any]:
    """``numpy.memmap(path, "uint8", "w+", 0, [16])``: creates or truncates any file."""
    return _call("numpy", "memmap", _json(str(marker)), _json("uint8"), _json("w+"), _json(0), _json([16]))


def _exec(marker: Path) -> dict[str, Any]:
    return _call("builtins", "exec", _json(_code(marker)))


def _open(marker: Path) -> dict[str, Any]:
    return _call("builtins", "open", _json(str(marker)), _json("w"))


def _popen(marker: Path) -> dict[str, Any]:
    return _call("subprocess", "Popen", _list(_json("touch"), _json(str(marker))))


def _eval_as_dict_key_type(marker: Path) -> dict[str, Any]:
    """A dict whose key type is ``eval``: skops rebuilds each key as ``key_type(key)``."""
    return _node("DictNode", "builtins", "dict", content={_code(marker): _json(1)},
                 key_types=_list(_node("TypeNode", "builtins", "eval")))


def _filter(marker: Path) -> dict[str, Any]:
    """``list(filter(exec, [code]))``."""
    exec_ = _node("FunctionNode", "builtins", "exec")
    return _call("builtins", "list", _call("builtins", "filter", exec_, _list(_json(_code(marker)))))


def _f2py_main(marker: Path) -> dict[str, Any]:
    """Importing ``numpy.f2py.__main__`` runs f2py's command line, which exits the process."""
    return _node("ObjectNode", "numpy.f2py.__main__", "main", content=_node(
        "DictNode", "builtins", "dict", content={}, key_types=_list()))


def _partial(marker: Path) -> dict[str, Any]:
    runstring = _node("FunctionNode", "numpy.testing._private.utils", "runstring")
    return _node("PartialNode", "functools", "partial", content={
        "func": runstring, "args": _tuple(_json(_code(marker))), "kwds": _node(
            "DictNode", "builtins", "dict", content={}, key_types=_list()), "namespace": _json(None)})


def _methodcaller(marker: Path) -> dict[str, Any]:
    return _node("OperatorFuncNode", "operator", "methodcaller", attrs=_tuple(_json("touch")))


def _eval_reference(marker: Path) -> dict[str, Any]:
    """A FunctionTransformer whose function is ``builtins.eval``: called on every transform."""
    return _node("ObjectNode", "sklearn.preprocessing._function_transformer", "FunctionTransformer", content=_node(
        "DictNode", "builtins", "dict", content={"func": _node("FunctionNode", "builtins", "eval")},
        key_types=_list(_node("TypeNode", "builtins", "str"))))


#: name → (state builder, the type the refusal must name, what loading it with skops alone does:
#: "marker" creates the marker file, "exit" ends the process, None builds a callable that runs later)
PAYLOADS: dict[str, tuple[Callable[[Path], dict[str, Any]], str, str | None]] = {
    "runstring via map": (_runstring_via_map, "builtins.map", "marker"),
    "exec via filter": (_filter, "builtins.filter", "marker"),
    "numpy.memmap": (_memmap, "numpy.memmap", "marker"),
    "builtins.exec": (_exec, "builtins.exec", "marker"),
    "builtins.open": (_open, "builtins.open", "marker"),
    "subprocess.Popen": (_popen, "subprocess.Popen", "marker"),
    "eval as a dict key type": (_eval_as_dict_key_type, "builtins.eval", "marker"),
    "f2py main": (_f2py_main, "numpy.f2py.__main__.main", "exit"),
    "functools.partial": (_partial, "functools.partial", None),
    "operator.methodcaller": (_methodcaller, "operator.methodcaller", None),
    "eval as a transformer's function": (_eval_reference, "builtins.eval (a function)", None),
}


def model_file_with(estimator_state: dict[str, Any], **schema_changes: Any) -> bytes:
    """A pipecanvas model file (as ``write_artifact`` writes it) whose estimator is ``estimator_state``."""
    real = skops.io.dumps({"estimator": 0, "meta": META})
    schema = json.loads(zipfile.ZipFile(io.BytesIO(real)).read("schema.json"))
    schema["content"]["estimator"] = estimator_state
    schema.update(schema_changes)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("schema.json", json.dumps(schema))
    return out.getvalue()


def crafted_model(payload: str, marker: Path) -> bytes:
    build, _, _ = PAYLOADS[payload]
    return model_file_with(build(marker))
