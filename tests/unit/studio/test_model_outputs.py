"""A train node's Outputs tab shows the model's details file and never loads the model file itself.

The model file of a real run is replaced by crafted ones (payloads that create a
marker file or exit the process when loaded); opening the tab runs none of them
and shows what the details file says.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from compiler import parse_pipeline
from crafted_models import PAYLOADS, crafted_model
from nodes import artifact_io
from nodes.artifacts import ArtifactKind
from runtime.run_store import open_store
from runtime.runs import start_run, wait_for_run
from studio.session import Studio

REPO_ROOT = Path(__file__).resolve().parents[3]
APP = str(REPO_ROOT / "studio" / "app.py")

PIPELINE = """\
apiVersion: pipecanvas/v1
kind: Pipeline
metadata:
  name: outputs
spec:
  nodes:
    - id: load
      type: data.sample
      params: {dataset: iris}
    - id: train
      type: train.classifier
      params: {algorithm: random_forest, n_estimators: 5}
  edges:
    - {from: load.table, to: train.train}
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """(home, run id, model uri) of a finished run that trained a 5-tree forest on iris."""
    home = tmp_path_factory.mktemp("outputs") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPECANVAS_HOME", str(home))
        patch.chdir(REPO_ROOT)
        store = open_store()
        run_id = start_run(parse_pipeline(PIPELINE).pipeline, store=store)
        run = wait_for_run(store, run_id, timeout=120)
        assert run.state.value == "succeeded", run.error
        uri = next(u for step, port, _, u in store.artifacts(run_id) if (step, port) == ("train", "model"))
        yield home, run_id, uri


def _outputs_tab(home: Path, run_id: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PIPECANVAS_HOME", str(home))
    monkeypatch.chdir(REPO_ROOT)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["run"] = run_id
    at.run()
    state: Studio = at.session_state["studio"]
    state.selected = "train"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _cells(at: AppTest) -> str:
    return " ".join(str(frame.value.to_dict()) for frame in at.dataframe)


@pytest.mark.parametrize("payload", [p for p, (_, _, effect) in PAYLOADS.items() if effect])
def test_opening_outputs_with_a_crafted_model_runs_nothing_and_shows_the_details(
    trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload
):
    home, run_id, uri = trained
    marker = tmp_path / "marker"
    original = Path(uri).read_bytes()
    Path(uri).write_bytes(crafted_model(payload, marker))
    loads: list[str] = []
    monkeypatch.setitem(artifact_io._READERS, ArtifactKind.MODEL, lambda file, u: loads.append(u))
    try:
        at = _outputs_tab(home, run_id, monkeypatch)
    finally:
        Path(uri).write_bytes(original)
    assert not marker.exists()
    assert loads == []  # the studio never asked for the model to be loaded
    assert any("**model** — classification model" in m.value for m in at.markdown)
    cells = _cells(at)
    assert "random_forest" in cells and "RandomForestClassifier" in cells and "species" in cells
    assert "sepal length (cm)" in cells and "setosa, versicolor, virginica" in cells
    assert "n_estimators" in cells


def test_a_details_file_that_is_not_what_pipecanvas_writes_is_a_warning(trained, monkeypatch):
    home, run_id, uri = trained
    details = Path(uri + ".meta.json")
    original = details.read_bytes()
    details.write_text('{"task": ["not", "text"]}')
    try:
        at = _outputs_tab(home, run_id, monkeypatch)
    finally:
        details.write_bytes(original)
    assert any("are not what pipecanvas writes" in w.value for w in at.warning)


def test_a_model_without_a_details_file_says_so(trained, monkeypatch):
    home, run_id, uri = trained
    details = Path(uri + ".meta.json")
    original = details.read_bytes()
    details.unlink()
    try:
        at = _outputs_tab(home, run_id, monkeypatch)
    finally:
        details.write_bytes(original)
    assert any("saved without a details file" in c.value for c in at.caption)
