"""Deploy nodes: put a model behind an HTTP endpoint."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .artifacts import ArtifactKind, Model
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .errors import NodeInputError

__all__ = ["EndpointDeploy"]


class EndpointParams(NodeParams):
    name: str = Field(
        ...,
        pattern=r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$",
        description="Endpoint name: lowercase letters, digits and '-', used in its URL and to undeploy it.",
    )
    port: int = Field(
        0, ge=0, le=65535,
        description="Port to listen on locally; 0 keeps the endpoint's previous port when it is free, else picks one.",
    )
    ready_timeout: float | None = Field(
        None, gt=0, le=3600,
        description="Seconds to wait for a local server to answer before the step fails; empty: "
                    "$PIPECANVAS_ENDPOINT_READY_TIMEOUT, else 120.",
    )


class EndpointDeploy(NodeType):
    type_id = "deploy.endpoint"
    title = "Deploy endpoint"
    description = "Serves the model over HTTP so other programs can ask it for predictions."
    category = Category.DEPLOY
    icon = "rocket"
    keywords = ("serve", "api", "http", "rest", "endpoint", "inference")
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
    cacheable = False  # a server is a running process, not a file that can be reused

    def run(self, inputs: dict[str, Any], params: EndpointParams, context: RunContext) -> dict[str, Any]:
        """Ask the runtime's launcher to serve the saved model; the server loads the files, not these objects."""
        if context.endpoints is None:
            raise NodeInputError("this run has no way to start endpoints")
        _check_roles(inputs)
        model_uri = context.input_uris.get("model")
        preprocessor_uri = context.input_uris.get("preprocessor")
        if model_uri is None or ("preprocessor" in inputs and preprocessor_uri is None):
            raise NodeInputError("the deploy node's inputs have no saved files to serve; rerun the pipeline")
        endpoint = context.endpoints.launch(params.name, model_uri, preprocessor_uri, params.port,
                                            ready_timeout=params.ready_timeout)
        context.log(f"endpoint {endpoint.name!r} is answering at {endpoint.url}")
        return {"endpoint": endpoint}


def _check_roles(inputs: dict[str, Any]) -> None:
    """A trained model on 'model' and, if connected, a cleaning recipe on 'preprocessor', not the other way round."""
    model: Model = inputs["model"]
    if model.task == "transform":
        raise NodeInputError("the 'model' input got a cleaning recipe; connect a trained model there")
    preprocessor: Model | None = inputs.get("preprocessor")
    if preprocessor is not None and preprocessor.task != "transform":
        raise NodeInputError("the 'preprocessor' input must come from a 'Clean and encode' node, not a trained model")
