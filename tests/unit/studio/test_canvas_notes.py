"""Sticky notes: kept in the pipeline's ``ui`` section, round-tripping through the canvas graph and the YAML,
never part of what runs (cache keys and the plan do not see them).
"""

from __future__ import annotations

import pytest

from compiler import compile_plan, dump_pipeline, parse_pipeline
from nodes import default_catalog
from studio.canvas import apply_graph, pipeline_to_graph

@pytest.fixture
def iris(iris_doc, load_doc):
    return load_doc(iris_doc()).pipeline


NOTE = {"id": "note_1", "text": "Iris: 150 rows.\nSplit 80/20.", "position": {"x": 40, "y": -120},
        "width": 260, "height": 150}


def with_note(pipeline, note=NOTE):
    graph = pipeline_to_graph(pipeline)
    return apply_graph(pipeline, {**graph, "notes": [note]})


def test_a_note_from_the_canvas_is_saved_in_the_yaml_ui_section_and_read_back_the_same(iris) -> None:
    noted = with_note(iris)
    text = dump_pipeline(noted)
    assert "ui:\n  notes:\n    - id: note_1\n      text: |-\n        Iris: 150 rows.\n        Split 80/20." in text
    again = parse_pipeline(text.encode(), source="noted.yaml").pipeline
    assert again == noted
    assert dump_pipeline(again) == text
    assert pipeline_to_graph(again)["notes"] == [NOTE]


def test_notes_change_no_cache_key_and_no_plan(iris) -> None:
    catalog = default_catalog()
    before = compile_plan(iris, catalog)
    after = compile_plan(with_note(iris), catalog)
    assert [s.cache_key for s in after.steps] == [s.cache_key for s in before.steps]


def test_removing_the_last_note_drops_the_ui_section_and_a_graph_without_notes_keeps_them(iris) -> None:
    noted = with_note(iris)
    graph = pipeline_to_graph(noted)
    assert apply_graph(noted, {"nodes": graph["nodes"], "edges": graph["edges"]}).ui == noted.ui
    cleared = apply_graph(noted, {**graph, "notes": []})
    assert cleared.ui is None and "ui:" not in dump_pipeline(cleared).split("spec:")[0]
    assert "\nui:" not in dump_pipeline(cleared)


def test_malformed_notes_from_the_canvas_are_left_out(iris) -> None:
    graph = pipeline_to_graph(iris)
    noted = apply_graph(iris, {**graph, "notes": [NOTE, {"text": "no id"}, {**NOTE, "width": "wide", "id": "x"},
                                                  {**NOTE}]})
    assert [n.id for n in noted.ui.notes] == ["note_1"]


def test_the_palette_gets_keywords_that_find_nodes_by_algorithm_and_other_names() -> None:
    from studio.canvas import slim_catalog

    entries = {e["type"]: e for e in slim_catalog(default_catalog().describe())}
    words = {t: " ".join([t, e["title"], e["description"], *e["keywords"]]).lower() for t, e in entries.items()}
    assert "random forest" in words["train.classifier"] and "random forest" in words["train.regressor"]
    assert "xgboost" in words["train.classifier"] and "decision tree" in words["train.regressor"]
    assert "regression" in words["train.regressor"] and "csv" in words["data.file"]
    assert "params_schema" not in entries["train.classifier"]
