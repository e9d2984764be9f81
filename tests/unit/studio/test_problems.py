"""One problem count: the run bar and the problems list count the same findings; an empty canvas has none."""

from __future__ import annotations

from compiler import Diagnostic, Metadata, Pipeline, validate_pipeline
from studio.problems import problems_of


def test_an_empty_canvas_is_not_a_problem(catalog) -> None:
    empty = Pipeline(metadata=Metadata(name="my-pipeline"))
    assert any("has no nodes yet" in d.message for d in validate_pipeline(empty, catalog))  # the CLI still says so
    problems = problems_of(empty, validate_pipeline(empty, catalog))
    assert problems.empty and problems.count == 0 and problems.all == ()
    assert problems.blocks_run  # nothing to run yet


def test_errors_and_warnings_are_counted_once_in_one_headline(iris_doc, load_doc, catalog) -> None:
    doc = iris_doc()
    doc["spec"]["nodes"][3]["params"]["n_estimators"] = 0
    pipeline = load_doc(doc).pipeline
    found = validate_pipeline(pipeline, catalog) + [Diagnostic("warning", "node 'load': a warning", node="load")]
    problems = problems_of(pipeline, found + found[:1])  # a finding reported twice counts once
    assert problems.headline() == f"{len(problems.errors)} error{'s' if len(problems.errors) > 1 else ''}, 1 warning"
    assert problems.count == len(problems.all) == len(set(found))
    assert problems.blocks_run


def test_a_preflight_finding_is_shown_but_does_not_block_the_next_run(iris_doc, load_doc, catalog) -> None:
    pipeline = load_doc(iris_doc()).pipeline
    preflight = [Diagnostic("error", "cluster: namespace 'x' not found")]
    problems = problems_of(pipeline, validate_pipeline(pipeline, catalog), preflight)
    assert problems.count == 1 and problems.headline() == "1 error"
    assert not problems.blocks_run
