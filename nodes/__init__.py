"""The node catalog: node types, their ports and params, and the artifacts they pass.

Import cost matters here (``pipecanvas validate`` loads the catalog), so node
modules import scikit-learn, pandas and torch inside ``run()`` only.
"""

from .artifacts import ArtifactKind, Endpoint, Metrics, Model, Table
from .base import DEFAULT_GPU_IMAGE, DEFAULT_IMAGE, Category, NodeParams, NodeType, Port, Resources
from .catalog import ENTRY_POINT_GROUP, Catalog, default_catalog
from .context import EndpointLauncher, RunContext
from .errors import NodeDefinitionError, NodeInputError, PipecanvasError

__all__ = [
    "ArtifactKind",
    "Catalog",
    "Category",
    "DEFAULT_GPU_IMAGE",
    "DEFAULT_IMAGE",
    "ENTRY_POINT_GROUP",
    "Endpoint",
    "EndpointLauncher",
    "Metrics",
    "Model",
    "NodeDefinitionError",
    "NodeInputError",
    "NodeParams",
    "NodeType",
    "PipecanvasError",
    "Port",
    "Resources",
    "RunContext",
    "Table",
    "default_catalog",
]
