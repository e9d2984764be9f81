"""The run process's warm-up goes a piece at a time, and a library that cannot be imported does not stop it."""

from __future__ import annotations

import sys

from runtime.executors.warm_fork import PRELOAD_MODULES, Warmup


def test_the_warm_up_goes_a_piece_at_a_time_and_ends_with_the_node_types_imports() -> None:
    warmup = Warmup(("json", "pandas"))  # pandas is a base module already: not imported twice
    pieces = 0
    while not warmup.advance():
        pieces += 1
    # each base module, the catalog, a table's round trip, then json: between any two, the executor can fork a step
    assert pieces + 1 == len(PRELOAD_MODULES) + 3
    assert warmup.done and warmup.missing == []
    assert "json" in sys.modules
    assert warmup.advance() is True  # nothing left: further waits sleep


def test_a_library_that_cannot_be_imported_is_left_to_the_steps_that_need_it() -> None:
    warmup = Warmup(("pipecanvas_no_such_library", "json"))
    while not warmup.advance():
        pass
    assert warmup.missing == ["pipecanvas_no_such_library"]
    assert "json" in sys.modules


def test_a_run_warms_the_model_file_format_for_the_first_step_with_a_model_port() -> None:
    """Every node that reads or writes a model needs skops (nodes.skops_import): it follows from the ports, so the
    cleaning step (its preprocessor output) warms it too, before the trainer, in the plan's order."""
    from compiler import parse_pipeline
    from compiler.plan import compile_plan
    from nodes import ArtifactKind, default_catalog
    from runtime.run_process import _warm_imports

    catalog = default_catalog()
    for node_type in catalog:
        has_model = any(p.kind == ArtifactKind.MODEL for p in (*node_type.inputs, *node_type.outputs))
        assert ("nodes.skops_import" in node_type.modules_to_warm()) == has_model, node_type.type_id
    doc = """apiVersion: pipecanvas/v1
kind: Pipeline
metadata: {name: warm}
spec:
  nodes:
    - {id: load, type: data.sample, params: {dataset: iris}}
    - {id: split, type: prepare.split}
    - {id: clean, type: prepare.clean}
    - {id: train, type: train.classifier}
  edges:
    - {from: load.table, to: split.table}
    - {from: split.train, to: clean.train}
    - {from: split.test, to: clean.test}
    - {from: clean.train, to: train.train}
"""
    modules = _warm_imports(compile_plan(parse_pipeline(doc).pipeline, catalog, "/tmp/warm-test"), catalog)
    assert modules.index("nodes.skops_import") < modules.index("sklearn.ensemble")
    assert modules.count("nodes.skops_import") == 1
