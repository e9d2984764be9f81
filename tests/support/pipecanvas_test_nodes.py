"""Node types that exist only for the runtime's tests: they count, sleep, fail on purpose.

They pass a one-number ``Metrics`` artifact (``{"value": n}``) instead of a
table, so a step process imports no pandas and a behaviour test spends its time
on the runtime, not on imports. Each step adds 1 to the number it receives, and
the coordinator records every step's metrics in the run store, so a test can
read there which steps really ran and in what order their data flowed.

Steps find these types through ``PIPECANVAS_NODE_MODULES=pipecanvas_test_nodes``
with ``tests/support`` on ``PYTHONPATH`` (see ``tests/integration/conftest.py``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from nodes import ArtifactKind, Category, Metrics, NodeInputError, NodeParams, NodeType, Port, RunContext

__all__ = ["SourceNode", "SleepNode", "FlakyNode", "BadInputNode", "BigNode", "NODE_TYPES"]

_COUNT_IN = (Port("count", ArtifactKind.METRICS, required=False, description="{'value': n} from upstream."),)
_COUNT_OUT = (Port("count", ArtifactKind.METRICS, description="{'value': n + 1}."),)


def _next(inputs: dict[str, Any]) -> int:
    upstream = inputs.get("count")
    return int(upstream.values["value"]) + 1 if upstream is not None else 1


class _CountingNode(NodeType):
    abstract = True
    category = Category.PREPARE
    inputs = _COUNT_IN
    outputs = _COUNT_OUT


class SourceNode(_CountingNode):
    """The start of a chain: ``{"value": start}``."""

    class Params(NodeParams):
        start: int = 0

    type_id = "test.source"
    title = "Test source"
    description = "Emits {'value': start}."
    inputs = ()

    def run(self, inputs: dict[str, Any], params: Params, context: RunContext) -> dict[str, Any]:
        return {"count": Metrics({"value": params.start})}


class SleepNode(_CountingNode):
    """Sleeps, then counts; writes its pid first so a test can kill it while it sleeps."""

    class Params(NodeParams):
        seconds: float = 1.0
        pid_file: str | None = None
        release_file: str | None = None

    type_id = "test.sleep"
    title = "Test sleep"
    description = "Sleeps `seconds` (less if `release_file` appears), then adds 1."

    def run(self, inputs: dict[str, Any], params: Params, context: RunContext) -> dict[str, Any]:
        if params.pid_file:
            partial = Path(f"{params.pid_file}.partial")
            partial.write_text(str(os.getpid()))
            partial.replace(params.pid_file)
        context.log(f"sleeping {params.seconds}s")
        deadline = time.monotonic() + params.seconds
        while time.monotonic() < deadline:
            if params.release_file and Path(params.release_file).exists():
                context.log("released early")
                break
            time.sleep(0.05)
        return {"count": Metrics({"value": _next(inputs)})}


class FlakyNode(_CountingNode):
    """Fails with an unexpected error on its first ``fail_times`` attempts, then counts."""

    class Params(NodeParams):
        fail_times: int = 1

    type_id = "test.flaky"
    title = "Test flaky"
    description = "Raises RuntimeError while PIPECANVAS_STEP_ATTEMPT <= fail_times."

    def run(self, inputs: dict[str, Any], params: Params, context: RunContext) -> dict[str, Any]:
        attempt = int(os.environ.get("PIPECANVAS_STEP_ATTEMPT", "1"))
        if attempt <= params.fail_times:
            raise RuntimeError(f"flaky failure on attempt {attempt}")
        return {"count": Metrics({"value": _next(inputs), "attempt": attempt})}


class BadInputNode(_CountingNode):
    """Always rejects its data, as a node does when the user wired the wrong column."""

    type_id = "test.bad_input"
    title = "Test bad input"
    description = "Raises NodeInputError."

    def run(self, inputs: dict[str, Any], params: NodeParams, context: RunContext) -> dict[str, Any]:
        raise NodeInputError("target column 'price' is not in the table; columns are: a, b")


class BigNode(_CountingNode):
    """Counts, and pads its output with ``megabytes`` of text: an artifact too big for a small disk."""

    class Params(NodeParams):
        megabytes: float = 1.0

    type_id = "test.big"
    title = "Test big output"
    description = "Adds 1 and writes `megabytes` of padding with it."

    def run(self, inputs: dict[str, Any], params: Params, context: RunContext) -> dict[str, Any]:
        return {"count": Metrics({"value": _next(inputs), "padding": "x" * int(params.megabytes * 1024 * 1024)})}


NODE_TYPES = [SourceNode, SleepNode, FlakyNode, BadInputNode, BigNode]
