"""Which steps of a run the canvas no longer matches: an edit marks the node and everything downstream of it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from compiler import Pipeline, compile_plan, parse_pipeline
from nodes import default_catalog
from studio.outdated import freshness

IRIS = Path(__file__).resolve().parents[3] / "examples" / "iris-classifier.yaml"
CATALOG = default_catalog()


def iris() -> Pipeline:
    return parse_pipeline(IRIS.read_bytes()).pipeline


def recorded_steps(pipeline: Pipeline) -> list[SimpleNamespace]:
    """The steps a run of ``pipeline`` records (what the run store keeps of its plan)."""
    plan = compile_plan(pipeline, CATALOG, "memory://run", fingerprint_sources=True)
    return [SimpleNamespace(step_id=s.id, type=s.type, cache_key=s.cache_key, params=s.params,
                            inputs={port: ref.step for port, ref in s.inputs.items()}) for s in plan.steps]


def with_param(pipeline: Pipeline, node_id: str, name: str, value: object) -> Pipeline:
    edited = pipeline.model_copy(deep=True)
    edited.node(node_id).params[name] = value
    return edited


def test_the_pipeline_that_ran_is_fresh() -> None:
    fresh = freshness(iris(), CATALOG, recorded_steps(iris()))
    assert fresh.outdated == frozenset() and not fresh.changed


def test_an_edited_param_marks_its_node_and_everything_downstream_but_not_upstream() -> None:
    fresh = freshness(with_param(iris(), "train", "n_estimators", 7), CATALOG, recorded_steps(iris()))
    assert fresh.outdated == {"train", "evaluate", "serve"} and fresh.changed
    fresh = freshness(with_param(iris(), "split", "test_fraction", 0.4), CATALOG, recorded_steps(iris()))
    assert fresh.outdated == {"split", "clean", "train", "evaluate", "serve"}


def test_an_invalid_value_still_marks_the_node_and_its_downstream() -> None:
    fresh = freshness(with_param(iris(), "train", "n_estimators", -5), CATALOG, recorded_steps(iris()))
    assert fresh.outdated == {"train", "evaluate", "serve"} and fresh.changed


def test_a_new_node_changes_the_pipeline_without_outdating_the_steps_that_ran() -> None:
    grown = iris().model_copy(deep=True)
    extra = grown.node("evaluate").model_copy(update={"id": "evaluate-2"})
    grown.spec.nodes.append(extra)
    fresh = freshness(grown, CATALOG, recorded_steps(iris()))
    assert fresh.outdated == frozenset() and fresh.changed
