"""Errors the compiler raises.

    nodes.errors.PipecanvasError
    └── SpecError            the pipeline cannot be used; ``diagnostics`` lists every problem found
        └── YamlError        the file itself could not be read as a pipeline (size, syntax, aliases...)
"""

from __future__ import annotations

from nodes.errors import PipecanvasError

from .diagnostics import Diagnostic, errors_only

__all__ = ["SpecError", "YamlError"]


class SpecError(PipecanvasError):
    """A pipeline with errors. Carries every diagnostic, warnings included, not only the first."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        errors = errors_only(self.diagnostics) or self.diagnostics
        super().__init__("\n".join(d.message for d in errors))

    @property
    def errors(self) -> list[Diagnostic]:
        return errors_only(self.diagnostics)


class YamlError(SpecError):
    """The text could not be read as a pipeline at all."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__([Diagnostic("error", message, line=line)])
