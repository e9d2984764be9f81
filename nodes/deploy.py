"""Deploy nodes: put a model behind an HTTP endpoint."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .artifacts import ArtifactKind
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext

__all__ = ["EndpointDeploy"]


class EndpointParams(NodeParams):
    name: str = Field(
        ...,
        pattern=r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$",
        description="Endpoint name: lowercase letters, digits and '-', used in its URL and to undeploy it.",
    )
    port: int = Field(0, ge=0, le=65535, description="Port to listen on locally; 0 picks a free one.")


class EndpointDeploy(NodeType):
    type_id = "deploy.endpoint"
    title = "Deploy endpoint"
    description = "Serves the model over HTTP so other programs can ask it for predictions."
    category = Category.DEPLOY
    icon = "rocket"
    inputs = (
        Port("model", ArtifactKind.MODEL, description="The trained model to serve."),
        Port(
            "preprocessor",
            ArtifactKind.MODEL,
            required=False,
            description="Optional cleaning recipe from 'Clean and encode', applied to each request first.",
        ),
    )
    outputs = (Port("endpoint", ArtifactKind.ENDPOINT, description="Where the model answers: its URL."),)
    Params = EndpointParams
    resources = Resources(cpu="250m", memory="512Mi")

    def run(self, inputs: dict[str, Any], params: EndpointParams, context: RunContext) -> dict[str, Any]:
        raise NotImplementedError
