"""The base of every "this run was refused before it started" error, light enough for the CLI to catch.

``runtime.machine.MachineError`` (this machine lacks a package or a GPU) and
``runtime.kubernetes.preflight.PreflightError`` (the cluster cannot run it) both
carry their findings, each on its node; a caller that prints them catches
``RunRefusedError`` without importing either backend's module (the pre-flight's
loads the Kubernetes client).
"""

from __future__ import annotations

from compiler.diagnostics import Diagnostic, errors_only
from nodes.errors import PipecanvasError

__all__ = ["RunRefusedError"]


class RunRefusedError(PipecanvasError):
    """A run refused before it started; ``diagnostics`` holds every finding (warnings too), the message its errors."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("; ".join(d.message for d in errors_only(self.diagnostics)))
