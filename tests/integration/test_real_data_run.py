"""Real files through ``pipecanvas run``: the data checks stop a wrong run before it starts; an honest one runs."""

from __future__ import annotations

import json
from pathlib import Path

from compiler import dump_yaml
from nodes.artifact_io import read_artifact
from real_files import real_file


def _write(tmp_path: Path, pipeline_doc, name: str, target: str, trainer: str, rows: bool = False) -> Path:
    nodes = [{"id": "load", "type": "data.file", "params": {"path": real_file(name), "target": target}},
             {"id": "split", "type": "prepare.split"}, {"id": "clean", "type": "prepare.clean"},
             {"id": "train", "type": trainer}]
    edges = [("load.table", "split.table"), ("split.train", "clean.train"), ("split.test", "clean.test"),
             ("clean.train", "train.train")]
    if rows:
        nodes.insert(1, {"id": "rows", "type": "prepare.rows", "params": {"drop_missing": [target]}})
        edges[0:1] = [("load.table", "rows.table"), ("rows.table", "split.table")]
    path = tmp_path / "real.yaml"
    path.write_text(dump_yaml(pipeline_doc(nodes, edges, name="real-data")), encoding="utf-8")
    return path


def test_a_classifier_on_a_continuous_target_stops_before_a_run(cli, tmp_path, pipeline_doc, home):
    result = cli("run", _write(tmp_path, pipeline_doc, "mtcars.csv", "mpg", "train.classifier"), "--json")

    assert result.returncode == 2
    assert "node 'train': the target 'mpg'" in result.stderr and "train.regressor" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (home / "runs").exists() or not any((home / "runs").iterdir())


def test_missing_targets_dropped_by_the_named_node_run_through_every_step(cli, tmp_path, pipeline_doc, home):
    result = cli("run", _write(tmp_path, pipeline_doc, "airquality.csv", "Ozone", "train.regressor", rows=True),
                 "--json")

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert {s["state"] for s in summary["steps"]} == {"succeeded"}
    [model_file] = list(home.glob("runs/*/artifacts/train/model.skops"))
    model = read_artifact("model", str(model_file))
    assert "Unnamed: 0" not in model.feature_columns
    assert set(model.feature_columns) == {"Solar.R", "Wind", "Temp", "Month", "Day"}
