"""A node type that does next to nothing, so that timing a run measures the runtime alone.

``bench.step`` is pipecanvas's counterpart of the kfp component
``def step(x: int) -> int: return x + 1``: it reads an optional one-row table
holding ``x`` and returns a one-row table holding ``x + 1`` (``x = 0`` when
nothing is connected). ``benchmarks/local_run.py`` loads it into the catalog
through ``PIPECANVAS_NODE_MODULES=trivial_nodes`` with ``benchmarks/`` on
``PYTHONPATH``, so the run process and every step process find it too.

Only ``nodes`` is imported at module level, as every node module does; pandas
is imported inside ``run()``, where building a table needs it anyway.
"""

from __future__ import annotations

import time
from typing import Any

from nodes import ArtifactKind, Category, NodeType, Port, RunContext, Table

__all__ = ["BenchStep", "NODE_TYPES"]


class BenchStep(NodeType):
    """One trivial step: ``x + 1`` in a one-row table."""

    type_id = "bench.step"
    title = "Benchmark step"
    description = "Adds 1 to x: a step that does no work, for timing the runtime around it."
    category = Category.PREPARE
    inputs = (Port("table", ArtifactKind.TABLE, required=False, description="One row with a column 'x'."),)
    outputs = (Port("table", ArtifactKind.TABLE, description="One row with x + 1 (and when the step ran)."),)

    def run(self, inputs: dict[str, Any], params: Any, context: RunContext) -> dict[str, Any]:
        import pandas as pd

        ran_at = time.time()  # when the node's own code began, for the benchmark's whole-process line
        upstream = inputs.get("table")
        x = int(upstream.frame["x"].iloc[0]) if upstream is not None else 0
        return {"table": Table(pd.DataFrame({"x": [x + 1], "ran_at": [ran_at]}))}


NODE_TYPES = [BenchStep]
