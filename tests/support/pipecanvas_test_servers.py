"""A deploy node for the endpoint lifecycle tests: it can stop at a chosen moment of starting its server.

``test.serve`` serves a saved model file through the real local launcher (the
one a ``deploy.endpoint`` step gets), and with ``hold`` it waits at one moment
of the launch until ``release_file`` appears, after writing its pid to
``pid_file``, so a test can kill or cancel the step exactly there:

- ``claimed``: the store has the endpoint's row, no server process exists yet;
- ``held``: the server process exists, recorded, but has not been let go (it has loaded nothing);
- ``released``: the server was let go and is loading or starting to listen;
- ``ready``: the server answers, the step has not finished.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Literal

from nodes import ArtifactKind, Category, NodeParams, NodeType, Port, RunContext

__all__ = ["ServeNode", "NODE_TYPES"]


class ServeParams(NodeParams):
    model_path: str
    name: str
    port: int = 0
    hold: Literal["", "claimed", "held", "released", "ready"] = ""
    pid_file: str | None = None
    release_file: str | None = None


def _hold(params: ServeParams, moment: str) -> None:
    if params.hold != moment:
        return
    if params.pid_file:
        partial = Path(f"{params.pid_file}.partial")
        partial.write_text(str(os.getpid()))
        partial.replace(params.pid_file)
    while not (params.release_file and Path(params.release_file).exists()):
        time.sleep(0.05)


def _launcher(params: ServeParams, context: RunContext):
    from runtime.endpoints import LocalEndpointLauncher
    from runtime.home import endpoints_dir
    from runtime.run_store import open_store

    class HoldingLauncher(LocalEndpointLauncher):
        def _start(self, argv, log_path):
            _hold(params, "claimed")
            return super()._start(argv, log_path)

        def _release(self, process):
            _hold(params, "held")
            super()._release(process)
            _hold(params, "released")

    attempt = os.environ.get("PIPECANVAS_STEP_ATTEMPT", "")
    return HoldingLauncher(open_store(), endpoints_dir(), run_id=context.run_id, step_id=context.step_id,
                           attempt=int(attempt) if attempt.isdigit() else None)


class ServeNode(NodeType):
    type_id = "test.serve"
    title = "Test serve"
    description = "Serves model_path, optionally stopping at one moment of the launch."
    category = Category.DEPLOY
    inputs = ()
    outputs = (Port("endpoint", ArtifactKind.ENDPOINT, description="Where the model answers."),)
    Params = ServeParams
    cacheable = False

    def run(self, inputs: dict[str, Any], params: ServeParams, context: RunContext) -> dict[str, Any]:
        endpoint = _launcher(params, context).launch(params.name, params.model_path, None, params.port)
        _hold(params, "ready")
        return {"endpoint": endpoint}


NODE_TYPES = [ServeNode]
