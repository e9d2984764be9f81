"""The Build page's problems, counted once: what the run bar says and what the list shows agree.

Everything the page knows about a pipeline's problems goes through ``problems_of``:
the compiler's checks, the data checks, what this machine lacks for a local run
(``runtime.machine``) and the last Kubernetes pre-flight. An empty canvas has
nothing to fix yet: it gets a start hint, not the compiler's "has no nodes yet".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from compiler import Diagnostic, Pipeline
from compiler.validate import NO_NODES

__all__ = ["Problems", "START_HINT", "problems_of"]

START_HINT = "Drag a node from the palette onto the canvas to start, or open an example from the sidebar."


@dataclass(frozen=True)
class Problems:
    """A pipeline's findings, errors first; ``empty`` when the canvas has no node yet."""

    errors: tuple[Diagnostic, ...]
    warnings: tuple[Diagnostic, ...]
    empty: bool = False
    #: the errors a new run would meet again; a pre-flight's findings are not among them (a run re-checks)
    blocking: tuple[Diagnostic, ...] = ()

    @property
    def all(self) -> tuple[Diagnostic, ...]:
        return self.errors + self.warnings

    @property
    def count(self) -> int:
        return len(self.errors) + len(self.warnings)

    @property
    def blocks_run(self) -> bool:
        return bool(self.blocking) or self.empty

    def headline(self) -> str:
        """``2 errors, 1 warning``: the one count the page shows, wherever it shows one."""
        parts = [_plural(len(self.errors), "error"), _plural(len(self.warnings), "warning")]
        return ", ".join(part for part in parts if part) or "no problems"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}" if count else ""


def problems_of(pipeline: Pipeline, found: Iterable[Diagnostic], preflight: Iterable[Diagnostic] = ()) -> Problems:
    """``found`` (the pipeline's own checks) and the last ``preflight``'s findings, each finding once."""
    seen: dict[tuple, Diagnostic] = {}
    for diagnostic in [*found, *preflight]:
        seen.setdefault((diagnostic.severity, diagnostic.message, diagnostic.node), diagnostic)
    empty = not pipeline.spec.nodes
    kept = [d for d in seen.values() if not (empty and d.node is None and d.message.endswith(NO_NODES))]
    errors = tuple(d for d in kept if d.severity == "error")
    rechecked = set(preflight) - set(found)
    return Problems(errors, tuple(d for d in kept if d.severity != "error"), empty,
                    tuple(d for d in errors if d not in rechecked))
