"""Run to here: a node and what it depends on, as a pipeline of its own, with the whole pipeline's cache keys."""

from __future__ import annotations

import pytest

from compiler import SpecError, compile_plan
from compiler.slicing import upstream_slice


def test_the_slice_holds_the_node_and_its_ancestors_only(iris_doc, load_doc) -> None:
    pipeline = load_doc(iris_doc()).pipeline
    sliced = upstream_slice(pipeline, "train")
    assert [node.id for node in sliced.spec.nodes] == ["load", "split", "clean", "train"]
    assert all(not edge.to.startswith(("evaluate.", "serve.")) for edge in sliced.spec.edges)
    assert {edge.to for edge in sliced.spec.edges} == {"split.table", "clean.train", "clean.test", "train.train"}
    assert sliced.metadata == pipeline.metadata
    assert len(pipeline.spec.nodes) == 6  # the pipeline itself is unchanged


def test_kept_steps_keep_the_cache_keys_they_have_in_the_whole_pipeline(iris_doc, load_doc, catalog) -> None:
    pipeline = load_doc(iris_doc()).pipeline
    whole = {step.id: step.cache_key for step in compile_plan(pipeline, catalog, "/runs/a").steps}
    part = {step.id: step.cache_key for step in compile_plan(upstream_slice(pipeline, "clean"), catalog, "/runs/b").steps}
    assert part == {step: whole[step] for step in ("load", "split", "clean")}


def test_a_node_that_does_not_exist_is_named(iris_doc, load_doc) -> None:
    with pytest.raises(SpecError, match="there is no node 'trian' to run to"):
        upstream_slice(load_doc(iris_doc()).pipeline, "trian")
