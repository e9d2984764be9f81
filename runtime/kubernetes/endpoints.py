"""Model servers on Kubernetes: a deploy step's pod applies the emitter's Deployment and Service, then waits.

Used inside a ``deploy.endpoint`` step's pod (``PIPECANVAS_ENDPOINTS=kubernetes``,
set on every step Job): the step itself applies
``compiler.emitters.kubernetes.emit_endpoint``'s two documents through the API, with the
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

import urllib3
from kubernetes.client import ApiClient, AppsV1Api, CoreV1Api
from kubernetes.client.exceptions import ApiException

from compiler.emitters.kubernetes import KubernetesEmitOptions, emit_endpoint, endpoint_name, endpoint_url, label_value
from compiler.plan import ExecutionPlan, PlannedStep
from nodes.artifacts import Endpoint

from ..endpoints import EndpointStartError
from .config import api_message
from .status import pod_view
from .types import OPTIONS_ENV

__all__ = ["KubernetesEndpointLauncher", "cluster_endpoints", "delete_endpoint", "endpoint_selector"]

_FORBIDDEN, _NOT_FOUND, _CONFLICT = 403, 404, 409


class KubernetesEndpointLauncher:
    """Serves a deploy step's model from a Deployment and Service in the step's namespace."""

    def __init__(
        self, plan: ExecutionPlan, step: PlannedStep, options: KubernetesEmitOptions | None = None,
        api: ApiClient | None = None, *, ready_timeout: float = 300, poll_interval: float = 2.0,
        pending_grace: float = 60.0, fetch_schema: bool = True,
    ) -> None:
        self._plan, self._step, self._options, self._api = plan, step, options, api
        self.ready_timeout, self.poll_interval, self.fetch_schema = ready_timeout, poll_interval, fetch_schema
        self.pending_grace = pending_grace

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
        """Apply the server's Deployment and Service and wait until it is ready. ``port`` is not used here.

        Whatever goes wrong (a permission missing, the server never ready) ends as one ``EndpointStartError``
        in words, and a server this step created is removed again: a failed deploy leaves nothing running.
        """
        options, api = self._settings()
        if name != self._step.params.get("name") or model_uri != self._step.inputs["model"].uri:
            raise EndpointStartError(f"endpoint {name!r} does not match the plan's step '{self._step.id}'")
        apps, core = AppsV1Api(api), CoreV1Api(api)
        deployment, service = emit_endpoint(self._step, self._plan, options)
        namespace, target = options.namespace, endpoint_name(name)
        created: list[tuple[str, Any]] = []
        try:
            if _apply("deployments", apps.create_namespaced_deployment, apps.patch_namespaced_deployment, deployment):
                created.append(("Deployment", apps.delete_namespaced_deployment))
            if _apply("services", core.create_namespaced_service, core.patch_namespaced_service, service):
                created.append(("Service", core.delete_namespaced_service))
            self._wait_ready(apps, core, target, namespace, deployment["spec"]["selector"]["matchLabels"])
        except _Refused as exc:
            raise EndpointStartError(_removed(f"endpoint '{name}': {exc}", created, target, namespace)) from None
        except EndpointStartError as exc:
            raise EndpointStartError(_removed(str(exc), created, target, namespace)) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise EndpointStartError(_removed(f"endpoint '{name}': lost the connection to the cluster: {exc}",
                                              created, target, namespace)) from None
        url = endpoint_url(name, namespace)
        schema = _input_schema(url) if self.fetch_schema else {}
        return Endpoint(name=name, url=url, backend="kubernetes", pid=None, input_schema=schema)

    def _wait_ready(self, apps: AppsV1Api, core: CoreV1Api, name: str, namespace: str,
                    selector: dict[str, str]) -> None:
        """Until the Deployment's newest pods are available (its rollout finished), or ``ready_timeout``.

        The Deployment itself is read (its status comes with it: ``get deployments`` is enough). A server pod
        the scheduler cannot place, or whose image cannot be pulled, for longer than ``pending_grace``
        ends the wait early, in the scheduler's words ("Insufficient cpu").
        """
        deadline = time.monotonic() + self.ready_timeout
        stuck_since: dict[str, float] = {}
        while True:
            body = _call("get", "deployments", apps.read_namespaced_deployment, name, namespace)
            if _rolled_out(body):
                return
            waiting = self._waiting_pods(core, namespace, selector)
            now = time.monotonic()
            stuck_since = {pod: stuck_since.get(pod, now) for pod in waiting}
            stuck = [f"{pod} is {why}" for pod, why in waiting.items() if now - stuck_since[pod] >= self.pending_grace]
            if stuck or now > deadline:
                why = "; ".join(stuck) if stuck else _conditions(body, waiting)
                what = "cannot start" if stuck else f"was not ready within {self.ready_timeout:g}s"
                raise EndpointStartError(
                    f"endpoint '{name}' {what}: {why}; see `kubectl -n {namespace} describe deployment {name}`")
            time.sleep(self.poll_interval)

    @staticmethod
    def _waiting_pods(core: CoreV1Api, namespace: str, selector: dict[str, str]) -> dict[str, str]:
        """The server's pods that wait for a reason that will not fix itself soon, with that reason."""
        label_selector = ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
        body = _call("list", "pods", core.list_namespaced_pod, namespace, label_selector=label_selector)
        found = {}
        for pod in body.get("items") or []:
            view = pod_view(pod)
            if view.waiting and not (pod.get("metadata") or {}).get("deletionTimestamp"):
                found[view.name] = view.waiting
        return found


class _Refused(Exception):
    """The API server refused a call: which verb on which resource, in words that name the permission."""

    def __init__(self, verb: str, resource: str, exc: ApiException) -> None:
        message = api_message(exc)
        if exc.status == _FORBIDDEN:
            text = (f"the service account may not {verb} {resource} ({message}); the Role in deploy/rbac.yaml "
                    f"must grant '{verb}' on '{resource}'")
        else:
            text = f"could not {verb} {resource}: {message}"
        super().__init__(text)


def _call(verb: str, resource: str, function: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """One API call, its answer as plain JSON (never parsed into a model class); refusals as ``_Refused``."""
    try:
        response = function(*args, _preload_content=False, **kwargs)
    except ApiException as exc:
        raise _Refused(verb, resource, exc) from None
    try:
        return json.loads(response.data or b"{}")
    except ValueError:
        return {}


def _apply(resource: str, create: Any, patch: Any, document: dict[str, Any]) -> bool:
    """Create the object, or bring the existing one (an earlier deploy under this name) to this document.

    Returns True when it was created (so a failure may remove it), False when an existing one was updated.
    """
    namespace, name = document["metadata"]["namespace"], document["metadata"]["name"]
    try:
        create(namespace, document, _preload_content=False)
        return True
    except ApiException as exc:
        if exc.status != _CONFLICT:
            raise _Refused("create", resource, exc) from None
    _call("patch", resource, patch, name, namespace, document)
    return False


def _removed(message: str, created: list[tuple[str, Any]], name: str, namespace: str) -> str:
    """Delete what this deploy created; the message says so (or what could not be removed)."""
    left = []
    for kind, delete in reversed(created):
        try:
            delete(name, namespace, propagation_policy="Background", _preload_content=False)
        except ApiException as exc:
            if exc.status != _NOT_FOUND:
                left.append(f"{kind} {name} ({api_message(exc)})")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            left.append(f"{kind} {name} ({exc})")
    if left:
        return f"{message}; could not remove {', '.join(left)}: `pipecanvas undeploy {name}` removes it later"
    if created:
        return f"{message} (the server it had started was removed)"
    return message


def _rolled_out(deployment: dict[str, Any]) -> bool:
    metadata, status = deployment.get("metadata") or {}, deployment.get("status") or {}
    wanted = (deployment.get("spec") or {}).get("replicas", 1)
    return (status.get("observedGeneration", 0) >= metadata.get("generation", 0)
            and status.get("updatedReplicas", 0) >= wanted
            and status.get("availableReplicas", 0) >= wanted
            and status.get("replicas", 0) <= status.get("updatedReplicas", 0))


def _conditions(deployment: dict[str, Any], waiting: dict[str, str]) -> str:
    found = [f"{c.get('type')}: {c.get('message') or c.get('reason')}"
             for c in (deployment.get("status") or {}).get("conditions") or [] if c.get("status") != "True"]
    found += [f"{pod} is {why}" for pod, why in waiting.items()]
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


def endpoint_selector(name: str | None = None) -> str:
    """Label selector for the model servers pipecanvas made (one endpoint's, with ``name``)."""
    selector = "app.kubernetes.io/name=pipecanvas,app.kubernetes.io/component=endpoint"
    return selector + (f",pipecanvas.io/endpoint={label_value(name)}" if name else "")


def cluster_endpoints(namespace: str, api: ApiClient) -> list[dict[str, Any]]:
    """The model servers in ``namespace``, found by label (whatever the run store knows): name, url, ready."""
    try:
        body = _call("list", "deployments", AppsV1Api(api).list_namespaced_deployment, namespace,
                     label_selector=endpoint_selector())
    except _Refused as exc:
        raise EndpointStartError(f"cannot list the endpoints of namespace '{namespace}': {exc}") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise EndpointStartError(f"cannot reach the cluster to list the endpoints of namespace '{namespace}': "
                                 f"{exc}") from None
    found = []
    for deployment in body.get("items") or []:
        labels = (deployment.get("metadata") or {}).get("labels") or {}
        name = labels.get("pipecanvas.io/endpoint") or deployment["metadata"]["name"]
        found.append({"name": name, "url": endpoint_url(name, namespace), "ready": _rolled_out(deployment),
                      "run_id": labels.get("pipecanvas.io/run")})
    return found


def delete_endpoint(name: str, namespace: str, api: ApiClient) -> list[str]:
    """Delete the endpoint's Deployments and Services, found by label; return what was deleted ("Deployment iris").

    Every answer is read as plain JSON (``_preload_content=False``): an API server may answer a delete with
    the object or with a ``Status``, and neither must be parsed as the other.
    """
    apps, core = AppsV1Api(api), CoreV1Api(api)
    deleted = []
    for kind, resource, list_function, delete in (
        ("Deployment", "deployments", apps.list_namespaced_deployment, apps.delete_namespaced_deployment),
        ("Service", "services", core.list_namespaced_service, core.delete_namespaced_service),
    ):
        try:
            body = _call("list", resource, list_function, namespace, label_selector=endpoint_selector(name))
            for item in body.get("items") or []:
                target = item["metadata"]["name"]
                try:
                    delete(target, namespace, propagation_policy="Background", _preload_content=False)
                except ApiException as exc:
                    if exc.status != _NOT_FOUND:
                        raise _Refused("delete", resource, exc) from None
                deleted.append(f"{kind} {target}")
        except _Refused as exc:
            raise EndpointStartError(f"endpoint '{name}': {exc}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise EndpointStartError(f"endpoint '{name}': lost the connection to the cluster: {exc}") from None
    return deleted
