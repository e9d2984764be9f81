"""A crafted model file in the artifact store, read by a real step process: refused with a located message, and
nothing it asks for runs (the payload would create a marker file, or exit the step process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import parse_pipeline
from crafted_models import PAYLOADS, crafted_model

PIPELINE = """\
apiVersion: pipecanvas/v1
kind: Pipeline
metadata:
  name: crafted
spec:
  nodes:
    - id: load
      type: data.sample
      params: {dataset: iris}
    - id: split
      type: prepare.split
    - id: train
      type: train.classifier
      params: {algorithm: logistic_regression}
    - id: evaluate
      type: evaluate.classifier
      params: {average: AVERAGE}
  edges:
    - {from: load.table, to: split.table}
    - {from: split.train, to: train.train}
    - {from: train.model, to: evaluate.model}
    - {from: split.test, to: evaluate.test}
"""


def _pipeline(average: str):
    return parse_pipeline(PIPELINE.replace("AVERAGE", average)).pipeline


def _model_uri(store, run_id: str) -> str:
    return next(uri for step, port, _, uri in store.artifacts(run_id) if (step, port) == ("train", "model"))


@pytest.mark.parametrize("payload", ["runstring via map", "f2py main"])
def test_a_cache_hit_that_copies_a_crafted_model_fails_the_reading_step_and_runs_nothing(
    runs, store, tmp_path: Path, payload
):
    """Run 1 trains; its model file is then replaced. Run 2 reuses the training step (a cache hit copies the
    file) and a changed evaluate step reads it in its own process."""
    first = runs.run(_pipeline("macro"), timeout=120)
    assert first.state.value == "succeeded", runs.describe(first.id)
    marker = tmp_path / "marker"
    Path(_model_uri(store, first.id)).write_bytes(crafted_model(payload, marker))

    second = runs.run(_pipeline("weighted"), timeout=120)

    states = runs.states(second.id)
    assert states["train"] == "cached" and states["evaluate"] == "failed", runs.describe(second.id)
    error = store.step(second.id, "evaluate").error
    assert "node 'evaluate'" in error and PAYLOADS[payload][1] in error and "never writes" in error
    assert "Traceback" not in error
    assert not marker.exists()
