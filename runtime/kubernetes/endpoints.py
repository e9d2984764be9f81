"""Model servers on Kubernetes: a deploy step's pod applies the emitter's Deployment and Service, then waits.

Used inside a ``deploy.endpoint`` step's pod (``PIPECANVAS_ENDPOINTS=kubernetes``,
set on every step Job): the step itself applies
``compiler.emitters.emit_endpoint``'s two documents through the API, with the
pod's service account (the only step pods that get a token; deploy/rbac.yaml
lets it create and patch Deployments and Services), so the server starts only
once the model files exist, and the step succeeds only once the server
answers its readiness probe. The executor does not do this itself: the step
stays the one place where "deploy" happens, on every backend.

The endpoint is named after its ``name`` param, not the run, so deploying again
rolls the same Deployment over to the new model. It answers inside the cluster
at ``http://NAME.NAMESPACE.svc.cluster.local`` (Service port 80); the node's
``port`` param only matters locally. The emit options reach the pod as JSON
in ``PIPECANVAS_K8S_OPTIONS`` (names only, no secrets), set by the executor.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import Any

from kubernetes.client import ApiClient, AppsV1Api, CoreV1Api
from kubernetes.client.exceptions import ApiException

from compiler.emitters import KubernetesEmitOptions, emit_endpoint, endpoint_name, endpoint_url
from compiler.plan import ExecutionPlan, PlannedStep
from nodes.artifacts import Endpoint

from ..endpoints import EndpointStartError
from .config import api_message
from .types import OPTIONS_ENV

__all__ = ["KubernetesEndpointLauncher"]

_CONFLICT = 409


class KubernetesEndpointLauncher:
    """Serves a deploy step's model from a Deployment and Service in the step's namespace."""

    def __init__(
        self, plan: ExecutionPlan, step: PlannedStep, options: KubernetesEmitOptions | None = None,
        api: ApiClient | None = None, *, ready_timeout: float = 300, poll_interval: float = 2.0,
        fetch_schema: bool = True,
    ) -> None:
        self._plan, self._step, self._options, self._api = plan, step, options, api
        self.ready_timeout, self.poll_interval, self.fetch_schema = ready_timeout, poll_interval, fetch_schema

    def _settings(self) -> tuple[KubernetesEmitOptions, ApiClient]:
        """Options and a client, made on first use: steps that never deploy must not need an API token."""
        if self._options is None:
            raw = os.environ.get(OPTIONS_ENV)
            if not raw:
                raise EndpointStartError(f"this pod has no {OPTIONS_ENV}; run the pipeline with "
                                         "`pipecanvas run --backend kubernetes` to deploy endpoints on a cluster")
            options = KubernetesEmitOptions.model_validate_json(raw)
            namespace = os.environ.get("PIPECANVAS_NAMESPACE") or options.namespace
            self._options = options.model_copy(update={"namespace": namespace})
        if self._api is None:
            from .config import api_client

            self._api = api_client(None)
        return self._options, self._api

    def launch(self, name: str, model_uri: str, preprocessor_uri: str | None, port: int) -> Endpoint:
        """Apply the server's Deployment and Service and wait until it is ready. ``port`` is not used here."""
        options, api = self._settings()
        if name != self._step.params.get("name") or model_uri != self._step.inputs["model"].uri:
            raise EndpointStartError(f"endpoint {name!r} does not match the plan's step '{self._step.id}'")
        apps, core = AppsV1Api(api), CoreV1Api(api)
        deployment, service = emit_endpoint(self._step, self._plan, options)
        try:
            _apply(apps.create_namespaced_deployment, apps.patch_namespaced_deployment, deployment)
            _apply(core.create_namespaced_service, core.patch_namespaced_service, service)
        except ApiException as exc:
            raise EndpointStartError(f"cannot create endpoint {name!r}: {api_message(exc)}") from None
        self._wait_ready(apps, endpoint_name(name), options.namespace)
        url = endpoint_url(name, options.namespace)
        schema = _input_schema(url) if self.fetch_schema else {}
        return Endpoint(name=name, url=url, backend="kubernetes", pid=None, input_schema=schema)

    def _wait_ready(self, apps: AppsV1Api, name: str, namespace: str) -> None:
        """Until the Deployment's newest pods are available (its rollout finished), or ``ready_timeout``."""
        deadline = time.monotonic() + self.ready_timeout
        while True:
            body = json.loads(apps.read_namespaced_deployment_status(name, namespace, _preload_content=False).data)
            if _rolled_out(body):
                return
            if time.monotonic() > deadline:
                raise EndpointStartError(
                    f"endpoint '{name}' was not ready within {self.ready_timeout:g}s: {_conditions(body)}; see "
                    f"`kubectl -n {namespace} describe deployment {name}`")
            time.sleep(self.poll_interval)


def _apply(create: Any, patch: Any, document: dict[str, Any]) -> None:
    """Create the object, or bring the existing one (an earlier deploy under this name) to this document."""
    namespace, name = document["metadata"]["namespace"], document["metadata"]["name"]
    try:
        create(namespace, document, _preload_content=False)
    except ApiException as exc:
        if exc.status != _CONFLICT:
            raise
        patch(name, namespace, document, _preload_content=False)


def _rolled_out(deployment: dict[str, Any]) -> bool:
    metadata, status = deployment.get("metadata") or {}, deployment.get("status") or {}
    wanted = (deployment.get("spec") or {}).get("replicas", 1)
    return (status.get("observedGeneration", 0) >= metadata.get("generation", 0)
            and status.get("updatedReplicas", 0) >= wanted
            and status.get("availableReplicas", 0) >= wanted
            and status.get("replicas", 0) <= status.get("updatedReplicas", 0))


def _conditions(deployment: dict[str, Any]) -> str:
    found = [f"{c.get('type')}: {c.get('message') or c.get('reason')}"
             for c in (deployment.get("status") or {}).get("conditions") or [] if c.get("status") != "True"]
    return "; ".join(found) or "no pod of it became available"


def _input_schema(url: str) -> dict[str, str]:
    """The server's input columns (best effort: the endpoint works without them)."""
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{url}/schema", timeout=5) as response:
            body = json.loads(response.read())
    except (OSError, ValueError):
        return {}
    schema = body.get("input_schema") if isinstance(body, dict) else None
    return schema if isinstance(schema, dict) else {}


def delete_endpoint(name: str, namespace: str, api: ApiClient) -> list[str]:
    """Delete the endpoint's Deployment and Service; return what was already gone (not an error)."""
    target = endpoint_name(name)
    missing = []
    for kind, delete in (("Deployment", AppsV1Api(api).delete_namespaced_deployment),
                         ("Service", CoreV1Api(api).delete_namespaced_service)):
        try:
            delete(target, namespace, propagation_policy="Background")
        except ApiException as exc:
            if exc.status != 404:
                raise
            missing.append(f"{kind} {target}")
    return missing
