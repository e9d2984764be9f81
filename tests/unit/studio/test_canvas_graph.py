"""The canvas view of a pipeline and the canvas's edits applied back (studio/canvas).

Python owns the pipeline: whatever the canvas sends, params, resources, retries
and timeouts of existing nodes survive, edges stay in ``node.port`` notation and
new nodes get valid, unique ids.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from compiler import EdgeSpec, NodeSpec, dump_pipeline, parse_pipeline, read_pipeline_file, validate_pipeline
from compiler.validate import NODE_ID_PATTERN
from nodes import Resources
from studio.canvas import apply_graph, fresh_node_id, pipeline_to_graph, slim_catalog
from studio.canvas.component import BUNDLE_DIR, Selection, read_result, read_selection

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples").glob("*.yaml"))
IRIS_FILE = Path(__file__).resolve().parents[3] / "examples" / "iris-classifier.yaml"


@pytest.fixture
def iris(iris_doc, load_doc):
    return load_doc(iris_doc()).pipeline


def node_ids(pipeline) -> list[str]:
    return [n.id for n in pipeline.spec.nodes]


def edge_pairs(pipeline) -> list[tuple[str, str]]:
    return [(e.from_, e.to) for e in pipeline.spec.edges]


# ---- pipeline -> graph ------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_survives_the_round_trip_through_the_canvas(path: Path, catalog) -> None:
    pipeline = read_pipeline_file(path).pipeline
    graph = pipeline_to_graph(pipeline, validate_pipeline(pipeline, catalog))
    assert dump_pipeline(apply_graph(pipeline, graph)) == dump_pipeline(pipeline)


def test_the_graph_has_saved_positions_and_edges_in_node_port_notation(catalog) -> None:
    pipeline = read_pipeline_file(IRIS_FILE).pipeline
    graph = pipeline_to_graph(pipeline, [])
    train = next(n for n in graph["nodes"] if n["id"] == "train")
    assert train["type"] == "train.classifier"
    assert train["position"] == {"x": 780, "y": 40}
    assert train["errors"] == [] and train["warnings"] == []
    assert {"from": "load.table", "to": "split.table"} in graph["edges"]
    assert {"from": "clean.preprocessor", "to": "serve.preprocessor"} in graph["edges"]
    assert len(graph["edges"]) == len(pipeline.spec.edges)


def test_errors_land_on_their_node_without_repeating_its_name(iris, catalog) -> None:
    iris.spec.edges = [e for e in iris.spec.edges if e.to != "train.train"]
    iris.node("split").params["test_fraction"] = 3
    graph = pipeline_to_graph(iris, validate_pipeline(iris, catalog))
    problems = {n["id"]: n["errors"] for n in graph["nodes"]}
    assert any("input 'train'" in message and "not connected" in message for message in problems["train"])
    assert all(not message.startswith("node 'train'") for message in problems["train"])
    assert any("test_fraction" in message for message in problems["split"])
    assert problems["load"] == [] and problems["serve"] == []


def test_an_edge_problem_is_shown_on_the_node_it_feeds(iris, catalog) -> None:
    iris.spec.edges = [e for e in iris.spec.edges if e.to != "evaluate.test"]
    iris.spec.edges.append(EdgeSpec(from_="clean.preprocessor", to="evaluate.test"))
    graph = pipeline_to_graph(iris, validate_pipeline(iris, catalog))
    evaluate = next(n for n in graph["nodes"] if n["id"] == "evaluate")
    assert any("cannot feed" in message for message in evaluate["errors"])


def test_node_settings_ride_along_as_config_and_gpus_are_flagged(iris) -> None:
    iris.node("train").resources = Resources(gpu=2)
    iris.node("train").retries = 2
    graph = pipeline_to_graph(iris, [])
    train = next(n for n in graph["nodes"] if n["id"] == "train")
    assert train["gpu"] == 2
    assert train["config"]["params"] == {"algorithm": "random_forest", "n_estimators": 50}
    assert train["config"]["retries"] == 2
    clean = next(n for n in graph["nodes"] if n["id"] == "clean")
    assert "gpu" not in clean and "config" not in clean  # the node type decides; nothing set


def test_a_file_without_positions_is_laid_out_left_to_right(iris) -> None:
    for node in iris.spec.nodes:
        node.ui = None
    where = {n["id"]: n["position"] for n in pipeline_to_graph(iris, [])["nodes"]}
    for source, target in edge_pairs(iris):
        assert where[source.split(".")[0]]["x"] < where[target.split(".")[0]]["x"]
    assert len({(p["x"], p["y"]) for p in where.values()}) == len(where)  # no two cards on one spot


# ---- graph -> pipeline -------------------------------------------------------------------------


def test_moving_nodes_saves_positions_and_keeps_everything_else() -> None:
    iris = read_pipeline_file(IRIS_FILE).pipeline  # has positions, retries and a timeout on 'train'
    graph = pipeline_to_graph(iris, [])
    for node in graph["nodes"]:
        node["position"] = {"x": node["position"]["x"] + 100, "y": 333}
    moved = apply_graph(iris, graph)
    train = moved.node("train")
    assert (train.ui.x, train.ui.y) == (iris.node("train").ui.x + 100, 333)
    assert train.params == iris.node("train").params
    assert (train.retries, train.timeout, train.resources) == (1, "10m", iris.node("train").resources)
    assert edge_pairs(moved) == edge_pairs(iris)
    assert iris.node("train").ui.y != 333  # the input pipeline is not modified


def test_params_of_existing_nodes_are_never_taken_from_the_canvas(iris) -> None:
    graph = pipeline_to_graph(iris, [])
    for node in graph["nodes"]:
        node["config"] = {"params": {"bogus": 1}}
    assert apply_graph(iris, graph).node("train").params == iris.node("train").params


def test_a_dropped_node_is_added_with_default_params_under_its_canvas_id(iris, catalog) -> None:
    graph = pipeline_to_graph(iris, [])
    graph["nodes"].append({"id": "train-regressor", "type": "train.regressor", "position": {"x": 10, "y": 500}})
    graph["edges"].append({"from": "clean.train", "to": "train-regressor.train"})
    changed = apply_graph(iris, graph)
    added = changed.node("train-regressor")
    assert added.type == "train.regressor" and added.params == {}
    assert (added.ui.x, added.ui.y) == (10, 500)
    assert ("clean.train", "train-regressor.train") in edge_pairs(changed)
    assert node_ids(changed)[:6] == node_ids(iris)  # existing nodes keep their order
    assert not [d for d in validate_pipeline(changed, catalog) if d.node == "train-regressor"]


def test_a_new_node_with_a_missing_invalid_or_taken_id_gets_a_fresh_one(iris) -> None:
    graph = pipeline_to_graph(iris, [])
    graph["nodes"] += [
        {"type": "train.classifier", "position": {"x": 0, "y": 0}},
        {"id": "Not Valid!", "type": "train.classifier", "position": {"x": 0, "y": 0}},
        {"id": "mine", "type": "evaluate.classifier", "position": {"x": 0, "y": 0}},
        {"id": "mine", "type": "evaluate.classifier", "position": {"x": 0, "y": 0}},
    ]
    graph["edges"].append({"from": "Not Valid!.model", "to": "mine.model"})
    changed = apply_graph(iris, graph)
    ids = node_ids(changed)
    assert len(ids) == len(set(ids)) == 10
    assert all(NODE_ID_PATTERN.match(i) for i in ids)
    assert ids[6:] == ["train-classifier", "train-classifier-2", "mine", "evaluate-classifier"]
    assert ("train-classifier-2.model", "mine.model") in edge_pairs(changed)  # the edge follows the renamed node


def test_a_pasted_node_keeps_the_settings_it_was_copied_with(iris) -> None:
    train = next(n for n in pipeline_to_graph(iris, [])["nodes"] if n["id"] == "train")
    graph = pipeline_to_graph(iris, [])
    graph["nodes"].append({**copy.deepcopy(train), "id": "train-classifier"})
    pasted = apply_graph(iris, graph).node("train-classifier")
    assert pasted.params == {"algorithm": "random_forest", "n_estimators": 50}


def test_settings_that_no_longer_fit_the_spec_fall_back_to_defaults(iris) -> None:
    graph = pipeline_to_graph(iris, [])
    graph["nodes"].append({"id": "t2", "type": "train.classifier", "position": {"x": 0, "y": 0},
                           "config": {"params": {"n_estimators": 5}, "retries": "many"}})
    assert apply_graph(iris, graph).node("t2") == NodeSpec(id="t2", type="train.classifier", ui={"x": 0, "y": 0})


def test_deleting_on_the_canvas_removes_nodes_and_edges_keeping_the_rest_in_order(iris) -> None:
    graph = pipeline_to_graph(iris, [])
    graph["nodes"] = [n for n in graph["nodes"] if n["id"] != "evaluate"]
    graph["edges"] = [e for e in graph["edges"] if not e["to"].startswith("evaluate.")]
    graph["edges"].reverse()  # the canvas's order does not reorder the file
    changed = apply_graph(iris, graph)
    assert node_ids(changed) == ["load", "split", "clean", "train", "serve"]
    assert edge_pairs(changed) == [p for p in edge_pairs(iris) if not p[1].startswith("evaluate.")]


def test_the_yaml_after_a_canvas_edit_reads_back_as_the_same_pipeline(iris) -> None:
    graph = pipeline_to_graph(iris, [])
    graph["nodes"].append({"id": "evaluate-2", "type": "evaluate.classifier", "position": {"x": 1.5, "y": 2}})
    changed = apply_graph(iris, graph)
    assert parse_pipeline(dump_pipeline(changed)).pipeline == changed


@pytest.mark.parametrize(
    ("node_type", "taken", "expected"),
    [
        ("train.classifier", set(), "train-classifier"),
        ("train.classifier", {"train-classifier"}, "train-classifier-2"),
        ("train.classifier", {"train-classifier", "train-classifier-2"}, "train-classifier-3"),
        ("plugin.big_model", set(), "plugin-big-model"),
        ("x" * 60 + ".y", set(), "x" * 36),
    ],
)
def test_fresh_ids_are_derived_from_the_type(node_type: str, taken: set[str], expected: str) -> None:
    assert fresh_node_id(node_type, taken) == expected
    assert NODE_ID_PATTERN.match(expected)


# ---- the component's answer ---------------------------------------------------------------------


def _sent(stamp: str, revision: int = 3) -> dict:
    return {"graph": {"nodes": [{"id": "a"}], "edges": [], "base_revision": revision, "stamp": stamp}}


def test_a_new_edit_is_returned_once() -> None:
    result, stamp = read_result(_sent("m1-1"), 3, None)
    assert result.graph == {"nodes": [{"id": "a"}], "edges": []} and stamp == "m1-1"
    again, _ = read_result(_sent("m1-1"), 3, "m1-1")
    assert again.graph is None


def test_an_edit_made_on_an_older_revision_is_dropped_but_marked_seen() -> None:
    result, stamp = read_result(_sent("m1-2", revision=2), 3, None)
    assert result.graph is None and stamp == "m1-2"


def test_events_pass_through() -> None:
    result, _ = read_result({"event": {"type": "connection_refused", "message": "m"}}, 1, None)
    assert result.event == {"type": "connection_refused", "message": "m"}
    assert read_result({"event": None}, 1, None)[0].event is None


def test_a_new_selection_is_returned_once_with_its_primary_among_the_nodes() -> None:
    sent = {"nodes": ["load", "train"], "primary": "train", "stamp": "m1-4"}
    picked, stamp = read_selection(sent, None)
    assert picked == Selection(("load", "train"), "train") and stamp == "m1-4"
    assert read_selection(sent, "m1-4") == (None, None)
    stray, _ = read_selection({"nodes": ["load"], "primary": "gone", "stamp": "m1-5"}, "m1-4")
    assert stray == Selection(("load",), None)
    cleared, _ = read_selection({"nodes": [], "primary": None, "stamp": "m1-6"}, "m1-5")
    assert cleared == Selection((), None)


def test_the_canvas_gets_the_catalog_without_params_schemas(catalog) -> None:
    slim = slim_catalog(catalog.describe())
    assert {entry["type"] for entry in slim} == set(catalog.type_ids())
    assert all("params_schema" not in entry and entry["inputs"] is not None for entry in slim)


def test_the_built_bundle_is_committed_with_a_default_export() -> None:
    js = (BUNDLE_DIR / "index.js").read_text(encoding="utf-8")
    assert "export{" in js.replace(" ", "") and "default" in js[-200:]
    assert (BUNDLE_DIR / "index.css").stat().st_size > 0


def _app() -> None:
    import streamlit as st

    from compiler import read_pipeline_file
    from studio.canvas import apply_graph, canvas, pending_graph, pipeline_to_graph

    pipeline = read_pipeline_file("examples/iris-classifier.yaml").pipeline
    edit = pending_graph("board", 1)
    if edit is not None:
        pipeline = apply_graph(pipeline, edit)
    result = canvas([], pipeline_to_graph(pipeline, []), 1, {}, None, key="board")
    st.write(f"nodes={[n.id for n in pipeline.spec.nodes]} late={result.graph}")


def test_an_app_reads_an_injected_canvas_edit_before_drawing(repo_root, monkeypatch) -> None:
    monkeypatch.chdir(repo_root)
    app = AppTest.from_function(_app, default_timeout=30).run()
    assert not app.exception
    app.session_state["board"] = {"graph": {"nodes": [{"id": "load", "type": "data.sample", "position": {"x": 0, "y": 0}}],
                                            "edges": [], "base_revision": 1, "stamp": "t-1"}}
    app.run()
    assert not app.exception
    assert app.markdown[-1].value == "nodes=['load'] late=None"
