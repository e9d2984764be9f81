"""The root of pipecanvas's exception hierarchy, and the errors a node raises.

    PipecanvasError                  every error pipecanvas raises on purpose
    ├── NodeDefinitionError          a node type is declared wrongly (a bug in its module)
    ├── NodeInputError               a node got data it cannot use (the user's data or wiring)
    ├── ArtifactReadError            a saved artifact is missing, corrupt or holds untrusted types
    ├── compiler.errors.SpecError    a pipeline file or spec is invalid (defined in compiler/)
    ├── studio.compile_output.OutputError  `compile -o` would replace a pipeline, or cannot write there
    └── runtime.errors.*             run-time failures (defined in runtime/)

The base lives in the lowest layer so that every layer above can subclass it
without importing upwards.
"""

from __future__ import annotations

__all__ = ["PipecanvasError", "NodeDefinitionError", "NodeInputError", "ArtifactReadError"]


class PipecanvasError(Exception):
    """Base class: an error pipecanvas expects and can explain to a user."""


class NodeDefinitionError(PipecanvasError):
    """A node type class is declared inconsistently (raised when the class is created)."""


class NodeInputError(PipecanvasError):
    """A node's inputs or params do not fit the data, e.g. a target column that is missing.

    The message is written for an analyst; the runtime prefixes it with the node id.
    """


class ArtifactReadError(PipecanvasError):
    """A saved artifact cannot be loaded: missing, corrupt, or holding types pipecanvas does not trust.

    The message names the artifact's URI so the user can find the file.
    """
