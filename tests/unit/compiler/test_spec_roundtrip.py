"""The spec models mirror the file: what is built in Python, written and read back is the same pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import (
    Defaults,
    EdgeSpec,
    Metadata,
    NodeSpec,
    Pipeline,
    PipelineBody,
    UiPosition,
    dump_pipeline,
    parse_pipeline,
)
from nodes import Resources

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples").glob("*.yaml"))


def round_trip(pipeline: Pipeline) -> Pipeline:
    text = dump_pipeline(pipeline)
    again = parse_pipeline(text).pipeline
    assert dump_pipeline(again) == text
    return again


def test_the_examples_shipped_with_the_repo_exist() -> None:
    names = {path.name for path in EXAMPLES}
    assert {"iris-classifier.yaml", "diabetes-regression.yaml", "churn-csv.yaml"} <= names


def test_a_pipeline_built_in_python_round_trips() -> None:
    pipeline = Pipeline(
        metadata=Metadata(name="built", description="Made in code"),
        spec=PipelineBody(
            defaults=Defaults(image="registry.example.com/pc:1", resources=Resources(cpu="1", memory="1Gi")),
            nodes=[
                NodeSpec(id="load", type="data.sample", params={"dataset": "wine"}, ui=UiPosition(x=1.5, y=2)),
                NodeSpec(id="split", type="prepare.split", resources=Resources(gpu=0), retries=3, timeout="2h"),
            ],
            edges=[EdgeSpec(from_="load.table", to="split.table")],
        ),
    )
    assert round_trip(pipeline) == pipeline


def test_edges_use_from_in_the_file_and_from_underscore_in_python() -> None:
    edge = EdgeSpec.model_validate({"from": "a.table", "to": "b.table"})
    assert edge.from_ == "a.table"
    assert edge.label == "a.table -> b.table"
    assert EdgeSpec(from_="a.table", to="b.table") == edge


@pytest.mark.parametrize(
    "description",
    [
        "yes",
        "no",
        "null",
        "~",
        "true",
        "1e3",
        "0x1F",
        "012",
        "3.0",
        ".inf",
        "2024-01-01",
        ": x",
        "- item",
        "key: value",
        "# not a comment",
        "&anchor",
        "*alias",
        "!tag",
        "'quoted'",
        '"double"',
        "[1, 2]",
        "{a: 1}",
        "  leading spaces",
        "trailing spaces  ",
        "line one\nline two",
        "ends with a newline\n",
        "\nstarts with a newline",
        "trailing space before break \nnext",
        "tab\tinside",
        "windows\r\nline",
        "next\x85line",
        "unicode\u2028line\u2029breaks",
        "mixed\nnewline\x85and next line",
        "日本語のパイプライン — ünïcödé ✓",
        "emoji 🚀 and :rocket:",
        "",
    ],
    ids=repr,
)
def test_descriptions_that_look_like_yaml_come_back_as_the_same_text(description: str) -> None:
    pipeline = Pipeline(metadata=Metadata(name="words", description=description))
    assert round_trip(pipeline).metadata.description == description


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_round_trip_to_an_equal_model(path: Path) -> None:
    pipeline = parse_pipeline(path.read_text(encoding="utf-8")).pipeline
    assert round_trip(pipeline) == pipeline


def test_to_document_uses_file_keys_and_drops_unset_fields() -> None:
    pipeline = Pipeline(
        metadata=Metadata(name="doc"),
        spec=PipelineBody(nodes=[NodeSpec(id="clean", type="prepare.clean")], edges=[EdgeSpec(from_="a.b", to="c.d")]),
    )
    assert pipeline.to_document() == {
        "apiVersion": "pipecanvas/v1",
        "kind": "Pipeline",
        "metadata": {"name": "doc"},
        "spec": {"nodes": [{"id": "clean", "type": "prepare.clean"}], "edges": [{"from": "a.b", "to": "c.d"}]},
    }


def test_node_lookup_by_id() -> None:
    pipeline = Pipeline(metadata=Metadata(name="x"), spec=PipelineBody(nodes=[NodeSpec(id="a", type="data.sample")]))
    assert pipeline.node("a").type == "data.sample"
    assert pipeline.node("b") is None


def test_resources_written_as_numbers_keep_their_meaning() -> None:
    assert Resources.model_validate({"cpu": 0.5, "memory": 1e9}).model_dump(exclude_none=True) == {"cpu": "0.5", "memory": "1e+09"}


def test_merged_resources_fill_only_the_unset_fields() -> None:
    node = Resources(memory="8Gi")
    assert node.merged_over(Resources(cpu="2", memory="1Gi", gpu=1)) == Resources(cpu="2", memory="8Gi", gpu=1)
    assert node.merged_over(None) == node
