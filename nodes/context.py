"""What a running node may use besides its inputs and params.

The runtime builds one ``RunContext`` per step. Nodes use it to log, to find a
scratch folder, and (deploy nodes) to ask the runtime for a model server; the
runtime decides how that server is started (a local process or a Kubernetes
Deployment), so a node never starts processes itself.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .artifacts import Endpoint

__all__ = ["RunContext", "EndpointLauncher"]


class EndpointLauncher(Protocol):
    """Starts a prediction server for a saved model and says where it listens."""

    def launch(self, name: str, model_uri: str, preprocessor_uri: str | None, port: int,
               ready_timeout: float | None = None) -> Endpoint:
        """``ready_timeout``: seconds to wait for the server to answer (None: the launcher's default)."""


@dataclass
class RunContext:
    """Per-step facilities. ``input_uris`` maps each connected single input port to its artifact URI;
    ``input_sources`` maps each input that takes many edges to its feeders (``step.port``), in the order
    its list of artifacts arrives. ``cpus`` is how many cores the step's resources give it: trainers use
    that many and no more."""

    run_id: str = "adhoc"
    step_id: str = "step"
    work_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pipecanvas-step-")))
    input_uris: dict[str, str] = field(default_factory=dict)
    input_sources: dict[str, list[str]] = field(default_factory=dict)
    cpus: int = 1
    endpoints: EndpointLauncher | None = None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("pipecanvas.node"))

    def log(self, message: str) -> None:
        self.logger.info(message)
