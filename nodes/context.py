"""What a running node may use besides its inputs and params.

The runtime builds one ``RunContext`` per step. Nodes use it to log, to warn (a
result the analyst should not trust blindly: the runtime puts it on the node in
the studio), to find a scratch folder, and (deploy nodes) to ask the runtime for a model server; the
runtime decides how that server is started (a local process or a Kubernetes
Deployment), so a node never starts processes itself.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .artifacts import Endpoint

if TYPE_CHECKING:  # only a step makes a RunContext; validate and compile import this module without logging
    import logging

__all__ = ["RunContext", "EndpointLauncher"]


class EndpointLauncher(Protocol):
    """Starts a prediction server for a saved model and says where it listens."""

    def launch(self, name: str, model_uri: str, preprocessor_uri: str | None, port: int,
               ready_timeout: float | None = None) -> Endpoint:
        """``ready_timeout``: seconds to wait for the server to answer (None: the launcher's default)."""


@dataclass(init=False)
class RunContext:
    """Per-step facilities. ``input_uris`` maps each connected single input port to its artifact URI;
    ``input_sources`` maps each input that takes many edges to its feeders (``step.port``), in the order
    its list of artifacts arrives. ``cpus`` is how many cores the step's resources give it: trainers use
    that many and no more.

    ``work_dir`` is the step's scratch folder. Unless one is given, it is made on first use only: most
    nodes never need one, and making and removing a folder per step costs a trivial step a good part of
    its time on a disk that discards freed blocks at once. ``remove_scratch`` removes a folder it made."""

    run_id: str
    step_id: str
    input_uris: dict[str, str]
    input_sources: dict[str, list[str]]
    cpus: int
    endpoints: EndpointLauncher | None
    logger: logging.Logger
    warnings: list[str]

    def __init__(
        self, run_id: str = "adhoc", step_id: str = "step", work_dir: Path | None = None,
        input_uris: dict[str, str] | None = None, input_sources: dict[str, list[str]] | None = None, cpus: int = 1,
        endpoints: EndpointLauncher | None = None, logger: logging.Logger | None = None,
    ) -> None:
        self.run_id, self.step_id = run_id, step_id
        self._work_dir, self._made_work_dir = work_dir, False
        self.input_uris = dict(input_uris or {})
        self.input_sources = dict(input_sources or {})
        self.cpus, self.endpoints = cpus, endpoints
        if logger is None:
            import logging

            logger = logging.getLogger("pipecanvas.node")
        self.logger = logger
        self.warnings = []

    @property
    def work_dir(self) -> Path:
        if self._work_dir is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix=f"pipecanvas-{self.step_id}-"))
            self._made_work_dir = True
        return self._work_dir

    def remove_scratch(self) -> None:
        """Remove the scratch folder if this context made it (a folder given to it stays)."""
        if self._made_work_dir:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir, self._made_work_dir = None, False

    def log(self, message: str) -> None:
        self.logger.info(message)

    def warn(self, message: str) -> None:
        """Log ``message`` and keep it: the step succeeded, but its result needs a second look (shown on the node)."""
        self.logger.info("warning: %s", message)
        if message not in self.warnings:
            self.warnings.append(message)
