"""A real local run whose split cannot be stratified and whose evaluation has too few test rows: each warning
is left on its own node, for the canvas badge and the Outputs tab, and a cache hit keeps it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from compiler import parse_pipeline
from real_files import real_file  # tests/support

pytestmark = pytest.mark.slow


def _pipeline(csv: Path):
    import yaml

    nodes = [{"id": "load", "type": "data.file", "params": {"path": str(csv), "target": "Kyphosis"}},
             {"id": "split", "type": "prepare.split", "params": {"test_fraction": 0.1}},
             {"id": "train", "type": "train.classifier", "params": {"algorithm": "logistic_regression"}},
             {"id": "evaluate", "type": "evaluate.classifier"}]
    edges = [("load.table", "split.table"), ("split.train", "train.train"), ("train.model", "evaluate.model"),
             ("split.test", "evaluate.test")]
    document = {"apiVersion": "pipecanvas/v1", "kind": "Pipeline", "metadata": {"name": "kyphosis"},
                "spec": {"nodes": nodes, "edges": [{"from": a, "to": b} for a, b in edges]}}
    return parse_pipeline(yaml.safe_dump(document, sort_keys=False)).pipeline


def test_warnings_reach_their_nodes_and_survive_a_cache_hit(runs, tmp_path, monkeypatch):
    from studio import run_status

    frame = pd.read_csv(real_file("kyphosis.csv")).drop(columns=["Unnamed: 0"])
    frame.loc[frame.index[0], "Kyphosis"] = "unclear"  # a third class with a single row: no stratified split
    csv = tmp_path / "kyphosis.csv"
    frame.to_csv(csv, index=False)
    monkeypatch.setattr(run_status, "store", lambda: runs.store)

    run = runs.run(_pipeline(csv), timeout=180)
    assert run.state == "succeeded", runs.describe(run.id)
    by_node = {}
    for diagnostic in run_status.run_warnings(runs.store.steps(run.id)):
        by_node.setdefault(diagnostic.node, []).append(diagnostic.message)
    assert set(by_node) == {"split", "evaluate"}, by_node
    assert "could not be stratified" in by_node["split"][0] and "'unclear'" in by_node["split"][0]
    assert by_node["split"][0].startswith("node 'split': ")
    assert "only 9 test row(s)" in by_node["evaluate"][0]

    again = runs.run(_pipeline(csv), timeout=180)
    assert runs.states(again.id)["split"] == "cached"
    assert [d.message for d in run_status.run_warnings(runs.store.steps(again.id))] == [m for ms in by_node.values() for m in ms]
