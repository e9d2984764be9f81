"""Checks that read the data: on the data node and the train node, in validate, before a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import SpecError, compile_plan
from compiler.data_checks import check_data
from real_files import real_file
from studio.cli import main


def _doc(pipeline_doc, make_node, name: str, target: str, trainer: str, extra_params: dict | None = None):
    nodes = [
        make_node("load", "data.file", params={"path": real_file(name), "target": target, **(extra_params or {})}),
        make_node("split", "prepare.split"),
        make_node("clean", "prepare.clean"),
        make_node("train", trainer),
    ]
    edges = [("load.table", "split.table"), ("split.train", "clean.train"), ("split.test", "clean.test"),
             ("clean.train", "train.train")]
    return pipeline_doc(nodes, edges)


def _check(load_doc, catalog, document):
    loaded = load_doc(document)
    return check_data(loaded.pipeline, catalog, loaded.source_map)


def test_classifier_on_a_continuous_target_is_an_error_naming_the_regressor(pipeline_doc, make_node, load_doc, catalog):
    found = _check(load_doc, catalog, _doc(pipeline_doc, make_node, "mtcars.csv", "mpg", "train.classifier"))

    errors = [d for d in found if d.severity == "error"]
    assert [d.node for d in errors] == ["train"]
    assert "'Train regressor' (train.regressor)" in errors[0].message
    assert errors[0].line is not None


def test_regressor_on_a_text_target_is_an_error_naming_the_classifier(pipeline_doc, make_node, load_doc, catalog):
    found = _check(load_doc, catalog, _doc(pipeline_doc, make_node, "kyphosis.csv", "Kyphosis", "train.regressor"))

    assert [d.message for d in found if d.severity == "error"] == [
        "node 'train': the target 'Kyphosis' from node 'load' holds categories (2 different values), not numbers; "
        "use a 'Train classifier' (train.classifier) node instead"
    ]


def test_missing_target_is_an_error_on_the_data_node(pipeline_doc, make_node, load_doc, catalog):
    found = _check(load_doc, catalog, _doc(pipeline_doc, make_node, "airquality.csv", "Ozone", "train.regressor"))

    errors = [d for d in found if d.severity == "error"]
    assert [d.node for d in errors] == ["load"]
    assert "drop_missing: [Ozone]" in errors[0].message


def test_row_names_are_a_warning_on_the_data_node(pipeline_doc, make_node, load_doc, catalog):
    found = _check(load_doc, catalog, _doc(pipeline_doc, make_node, "titanic_count.csv", "survived", "train.classifier"))

    assert not [d for d in found if d.severity == "error"]
    assert any(d.node == "load" and "'Unnamed: 0' is left out of the features" in d.message for d in found)


def test_unreadable_data_is_one_warning(pipeline_doc, make_node, load_doc, catalog, tmp_path):
    document = _doc(pipeline_doc, make_node, "mtcars.csv", "mpg", "train.regressor")
    document["spec"]["nodes"][0]["params"]["path"] = str(tmp_path / "gone.csv")

    found = _check(load_doc, catalog, document)

    assert [(d.severity, d.node) for d in found] == [("warning", "load")]
    assert "could not be read to check it" in found[0].message


def test_a_run_compiles_only_when_the_data_suits_it(pipeline_doc, make_node, load_doc, catalog, tmp_path):
    bad = load_doc(_doc(pipeline_doc, make_node, "mtcars.csv", "mpg", "train.classifier")).pipeline
    good = load_doc(_doc(pipeline_doc, make_node, "mtcars.csv", "mpg", "train.regressor")).pipeline

    compile_plan(bad, catalog, str(tmp_path))  # the file alone is valid
    with pytest.raises(SpecError, match="train.regressor"):
        compile_plan(bad, catalog, str(tmp_path), fingerprint_sources=True)
    plan = compile_plan(good, catalog, str(tmp_path), fingerprint_sources=True)
    assert any("Unnamed: 0" in w for w in plan.warnings)


def test_validate_prints_data_findings_and_fails_on_data_errors(pipeline_doc, make_node, tmp_path, capsys, monkeypatch):
    from compiler import dump_yaml

    monkeypatch.setenv("PIPECANVAS_HOME", str(tmp_path / "home"))
    path = Path(tmp_path / "p.yaml")
    path.write_text(dump_yaml(_doc(pipeline_doc, make_node, "mtcars.csv", "mpg", "train.classifier")))

    code = main(["validate", str(path)])

    err = capsys.readouterr().err
    assert code == 2
    assert "error: node 'train': the target 'mpg'" in err
    assert "warning: node 'load': column 'Unnamed: 0' is left out of the features" in err


def test_validate_keeps_its_data_findings_until_the_data_changes(tmp_path, capsys, monkeypatch):
    """A second validate prints the same findings (from PIPECANVAS_HOME); editing the CSV checks it again."""
    from compiler import dump_yaml

    monkeypatch.setenv("PIPECANVAS_HOME", str(tmp_path / "home"))
    data = tmp_path / "rows.csv"
    data.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{'yes' if i % 2 else 'no'}\n" for i in range(40)))
    path = tmp_path / "p.yaml"
    path.write_text(dump_yaml({"apiVersion": "pipecanvas/v1", "kind": "Pipeline", "metadata": {"name": "p"},
                               "spec": {"nodes": [{"id": "load", "type": "data.file",
                                                   "params": {"path": str(data), "target": "y"}}], "edges": []}}))

    def validate() -> str:
        assert main(["validate", str(path)]) == 0
        return capsys.readouterr().err

    first = validate()
    assert list((tmp_path / "home" / "cache" / "data-findings").glob("*.json"))
    assert validate() == first
    data.write_text("a,b,c,y\n" + "".join(f"{i},{i % 3},same,{'yes' if i % 2 else 'no'}\n" for i in range(41)))
    assert "column 'c' holds only 'same'" in validate()


def test_a_local_files_fingerprint_is_what_fsspec_reports(tmp_path, monkeypatch):
    """The data node reads a local file's size and times with os.stat; a run's cache keys must not change.
    A path under ``~`` is expanded as fsspec expands it, so it too has a fingerprint (no stale cache hit)."""
    import os

    import fsspec

    from nodes.data import FileParams, FileTable

    monkeypatch.setenv("HOME", str(tmp_path))
    data = tmp_path / "t.csv"
    data.write_text("a,b\n1,2\n")
    os.symlink(data, tmp_path / "link.csv")
    for path in (str(data), str(tmp_path / "link.csv"), "~/t.csv"):
        info = fsspec.filesystem("file").info(path)
        expected = f"size={info['size']};mtime={info['mtime']};created={info['created']}"
        assert FileTable.source_fingerprint(FileParams(path=path)) == expected


def test_moving_a_node_or_editing_a_note_answers_from_the_store(tmp_path, monkeypatch):
    """The canvas's ``ui`` (positions, notes) is no part of the stored findings' key: the data is not read again."""
    from compiler import data_findings_store, parse_pipeline
    from nodes import default_catalog

    data = tmp_path / "rows.csv"
    data.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{'yes' if i % 2 else 'no'}\n" for i in range(40)))
    folder = tmp_path / "findings"
    catalog = default_catalog()

    def document(x: int, note: str) -> str:
        return ("apiVersion: pipecanvas/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  nodes:\n"
                f"    - id: load\n      type: data.file\n      params: {{path: {str(data)!r}, target: y}}\n"
                f"      ui: {{x: {x}, y: 40}}\n  edges: []\nui:\n  notes:\n    - {{id: n1, text: {note!r}}}\n")

    first = parse_pipeline(document(10, "first"))
    found = data_findings_store.check_data_stored(first.pipeline, catalog, first.source_map, folder)
    assert list(folder.glob("*.json"))

    def no_second_read(*args, **kwargs):
        raise AssertionError("check_data was called again")

    monkeypatch.setattr(data_findings_store, "check_data", no_second_read)
    moved = parse_pipeline(document(300, "moved the loader"))
    assert data_findings_store.check_data_stored(moved.pipeline, catalog, moved.source_map, folder) == found
