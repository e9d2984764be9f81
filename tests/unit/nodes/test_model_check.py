"""Crafted model files: each would run something if skops loaded it; pipecanvas refuses each, naming the type,
and nothing runs (a marker file is never created, the process does not exit)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io
from sklearn.preprocessing import FunctionTransformer

from crafted_models import PAYLOADS, crafted_model, model_file_with
from nodes import model_check, model_types
from nodes.artifact_io import read_artifact, write_artifact
from nodes.artifacts import ArtifactKind, Model
from nodes.errors import ArtifactReadError

_LOAD_WITH_SKOPS_ALONE = (
    "import skops.io, sys\n"
    "data = open(sys.argv[1], 'rb').read()\n"
    "skops.io.loads(data, trusted=skops.io.get_untrusted_types(data=data))\n"
    "print('survived')\n"
)


def _write(tmp_path: Path, data: bytes, name: str = "crafted.skops") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _read(uri: str):
    return read_artifact(ArtifactKind.MODEL, uri)


@pytest.mark.parametrize("payload", [p for p, (_, _, effect) in PAYLOADS.items() if effect])
def test_each_payload_really_runs_when_skops_alone_loads_it(tmp_path: Path, payload):
    """The corpus is live: without pipecanvas' check each of these files creates the marker or ends the process."""
    marker = tmp_path / "marker"
    uri = _write(tmp_path, crafted_model(payload, marker))
    result = subprocess.run([sys.executable, "-c", _LOAD_WITH_SKOPS_ALONE, uri], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    if PAYLOADS[payload][2] == "marker":
        assert marker.exists(), result.stderr
    else:
        assert "survived" not in result.stdout


@pytest.mark.parametrize("payload", list(PAYLOADS))
def test_crafted_model_is_refused_naming_the_type_and_nothing_runs(tmp_path: Path, payload):
    marker = tmp_path / "marker"
    uri = _write(tmp_path, crafted_model(payload, marker))
    with pytest.raises(ArtifactReadError) as refused:
        _read(uri)
    message = str(refused.value)
    assert PAYLOADS[payload][1] in message and uri in message
    assert "never writes" in message
    assert not marker.exists()
    assert "numpy.f2py.__main__" not in sys.modules  # the check imported nothing the file names


def test_every_refused_name_is_listed_at_once(tmp_path: Path):
    marker = tmp_path / "marker"
    uri = _write(tmp_path, crafted_model("runstring via map", marker))
    with pytest.raises(ArtifactReadError) as refused:
        _read(uri)
    assert "builtins.map" in str(refused.value)
    assert "numpy.testing._private.utils.runstring (a function)" in str(refused.value)


def test_a_numpy_function_reference_is_refused(tmp_path: Path):
    """numpy is no longer trusted as a package: only the functions pipecanvas' own models refer to are."""
    data = skops.io.dumps({"estimator": FunctionTransformer(func=np.log1p), "meta": {"task": "x", "feature_columns": []}})
    with pytest.raises(ArtifactReadError, match=r"numpy\.log1p \(a function\)"):
        _read(_write(tmp_path, data))


def test_a_bound_method_is_refused(tmp_path: Path):
    inner = {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode", "content": {},
             "key_types": {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "content": []}}
    method = {"__class__": "dict", "__module__": "builtins", "__loader__": "MethodNode",
              "content": {"func": "clear", "obj": inner}}
    with pytest.raises(ArtifactReadError, match=r"builtins\.dict\.clear \(a bound method\)"):
        _read(_write(tmp_path, model_file_with(method)))


def test_a_random_generator_naming_a_numpy_function_as_its_bit_generator_is_refused(tmp_path: Path):
    """skops calls ``numpy.random.<name>`` with the name read from the generator's state."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    fitted = HistGradientBoostingClassifier(max_iter=2).fit([[0.0], [1.0], [0.0], [1.0]], [0, 1, 0, 1])
    data = skops.io.dumps({"estimator": fitted, "meta": {"task": "classification", "feature_columns": ["a"]}})
    assert b'\\"PCG64\\"' in zipfile.ZipFile(io.BytesIO(data)).read("schema.json")
    assert _read(_write(tmp_path, data, "real.skops")).estimator.predict([[1.0]]) is not None
    crafted = _rewrite_schema(data, lambda text: text.replace('\\"PCG64\\"', '\\"seed\\"'))
    with pytest.raises(ArtifactReadError, match=r"numpy\.random\.seed"):
        _read(_write(tmp_path, crafted))


def test_an_older_skops_format_is_refused(tmp_path: Path):
    """Older protocols have other loaders (and other places a name hides), so a file cannot opt into them."""
    data = model_file_with({"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
                            "content": "1", "is_json": True}, protocol=0)
    with pytest.raises(ArtifactReadError, match="skops format 0"):
        _read(_write(tmp_path, data))


def test_an_unknown_loader_is_refused(tmp_path: Path):
    state = {"__class__": "RandomForestQuantileRegressor", "__module__": "quantile_forest",
             "__loader__": "QuantileForestNode"}
    with pytest.raises(ArtifactReadError, match="QuantileForestNode"):
        _read(_write(tmp_path, model_file_with(state)))


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path):
    with pytest.raises(ArtifactReadError, match="not a zip archive"):
        _read(_write(tmp_path, b"PK\x03\x04 but no archive follows" + b"\x00" * 100))


def test_a_zip_without_a_schema_is_refused(tmp_path: Path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("model.npy", b"\x00")
    with pytest.raises(ArtifactReadError, match="no schema.json"):
        _read(_write(tmp_path, out.getvalue()))


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path, monkeypatch):
    """An entry that unpacks far beyond the limit is refused from its declared size, without inflating it."""
    monkeypatch.setenv(model_check.MAX_MODEL_BYTES_ENV, str(1024**2))
    data = _with_entry(model_file_with(_json_state(1)), "bomb.npy", b"\x00" * (8 * 1024**2), zipfile.ZIP_DEFLATED)
    assert len(data) < 1024**2 / 8
    with pytest.raises(ArtifactReadError, match="unpacks to 8,"):
        _read(_write(tmp_path, data))


def test_a_model_file_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(model_check.MAX_MODEL_BYTES_ENV, "1000")
    with pytest.raises(ArtifactReadError, match="larger than the 1,000 bytes.*PIPECANVAS_MAX_MODEL_BYTES"):
        _read(_write(tmp_path, model_file_with(_json_state("x" * 2000))))


def test_an_oversized_schema_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(model_check, "MAX_SCHEMA_BYTES", 500)
    with pytest.raises(ArtifactReadError, match="schema.json unpacks to"):
        _read(_write(tmp_path, model_file_with(_json_state("x" * 1000))))


def test_a_compression_pipecanvas_never_writes_is_refused(tmp_path: Path):
    """bz2 and lzma have no bounded decompression in zipfile; skops writes stored entries."""
    data = _with_entry(model_file_with(_json_state(1)), "extra.bin", b"x" * 100, zipfile.ZIP_BZIP2)
    with pytest.raises(ArtifactReadError, match="compression"):
        _read(_write(tmp_path, data))


def test_nesting_deeper_than_any_model_is_refused(tmp_path: Path):
    state = _json_state(1)
    for _ in range(200):
        state = {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "content": [state]}
    with pytest.raises(ArtifactReadError, match="deeper"):
        _read(_write(tmp_path, model_file_with(state)))


def test_a_plugin_declares_the_types_its_models_hold(tmp_path: Path, monkeypatch):
    """A class outside the built-in list loads once an installed node type names it in ``model_types``."""
    import model_plugin_nodes

    model = Model(model_plugin_nodes.Forecaster(3), task="regression", feature_columns=["a"])
    uri = str(tmp_path / "plugin.skops")
    write_artifact(ArtifactKind.MODEL, model, uri)
    model_types.allowed_model_types.cache_clear()
    with pytest.raises(ArtifactReadError, match="model_plugin_nodes.Forecaster"):
        _read(uri)
    monkeypatch.setenv("PIPECANVAS_NODE_MODULES", "model_plugin_nodes")
    model_types.allowed_model_types.cache_clear()
    try:
        assert _read(uri).estimator.horizon == 3
    finally:
        monkeypatch.delenv("PIPECANVAS_NODE_MODULES")
        model_types.allowed_model_types.cache_clear()


def _json_state(value) -> dict:
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode", "content": json.dumps(value),
            "is_json": True}


def _with_entry(data: bytes, name: str, content: bytes, compression: int) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for entry in source.namelist():
            target.writestr(entry, source.read(entry))
        target.writestr(zipfile.ZipInfo(name), content, compress_type=compression)
    return out.getvalue()


def _rewrite_schema(data: bytes, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for entry in source.namelist():
            content = source.read(entry)
            if entry == "schema.json":
                content = change(content.decode()).encode()
            target.writestr(entry, content)
    return out.getvalue()
