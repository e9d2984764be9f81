"""The diamond benchmark's sink: a node type with one table input per middle step.

No built-in node takes hundreds of inputs, and kfp's sink cannot either (it
uses ``.after()``), so both sides get the same dependency shape.
``benchmarks/compile.py`` loads it into ``pipecanvas compile`` through
``PIPECANVAS_NODE_MODULES=sink_nodes`` with ``benchmarks/`` on ``PYTHONPATH``,
and says how many inputs it has in ``PIPECANVAS_BENCH_SINK_INPUTS``.
Only ``nodes`` is imported, as in every node module.
"""

from __future__ import annotations

import os

from nodes import ArtifactKind, Category, NodeType, Port

__all__ = ["INPUTS_ENV", "NODE_TYPES", "sink_node_type"]

INPUTS_ENV = "PIPECANVAS_BENCH_SINK_INPUTS"


def sink_node_type(inputs: int) -> type[NodeType]:
    """``bench.sink`` with table inputs ``in_0000`` … ``in_<inputs-1>``."""
    attributes = {
        "type_id": "bench.sink",
        "title": "Benchmark sink",
        "description": "Consumes every middle step of the diamond benchmark.",
        "category": Category.EVALUATE,
        "inputs": tuple(Port(f"in_{i:04d}", ArtifactKind.TABLE) for i in range(inputs)),
        "__module__": __name__,
    }
    return type("BenchSink", (NodeType,), attributes)


NODE_TYPES = (sink_node_type(int(os.environ.get(INPUTS_ENV, "1"))),)
