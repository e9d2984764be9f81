"""Deployed endpoints as the store records them: list them (noticing ones that died) and undeploy them."""

from __future__ import annotations

from .processes import process_alive
from .run_store import EndpointRecord, RunStore
from .runs import RunError

__all__ = ["refresh_endpoints", "undeploy"]


def refresh_endpoints(store: RunStore, include_stopped: bool = False) -> list[EndpointRecord]:
    """Endpoints, with local ones whose server process is gone marked stopped first."""
    for endpoint in store.endpoints():
        if endpoint.backend == "local" and not process_alive(endpoint.pid):
            store.mark_endpoint_stopped(endpoint.name)
    return store.endpoints(include_stopped=include_stopped)


def undeploy(store: RunStore, name: str, kubernetes: dict | None = None) -> EndpointRecord | None:
    """Stop endpoint ``name`` and mark it stopped.

    With ``kubernetes`` settings (context, namespace), a server the store does not know (its deploy step
    failed, or another machine ran it) is found on the cluster by label and deleted; returns None then.
    """
    from .endpoints import stop_endpoint

    endpoint = store.endpoint(name)
    if (endpoint is None or endpoint.state != "running") and kubernetes is not None:
        _delete_unrecorded(name, kubernetes)
        return None
    if endpoint is None or endpoint.state != "running":
        running = ", ".join(e.name for e in store.endpoints()) or "none"
        raise RunError(f"no running endpoint '{name}'; running endpoints: {running}")
    if endpoint.backend == "local" and endpoint.pid:
        stop_endpoint(endpoint.pid)
    elif endpoint.backend == "kubernetes":
        _delete_on_cluster(store, endpoint)
    store.mark_endpoint_stopped(name)
    return endpoint


def _delete_on_cluster(store: RunStore, endpoint: EndpointRecord) -> None:
    """Delete the endpoint's Deployment and Service, reaching the cluster the way its run did."""
    from .kubernetes.config import api_client, api_message
    from .kubernetes.endpoints import delete_endpoint
    from .kubernetes.types import KubernetesSettings

    run = store.get_run(endpoint.run_id) if endpoint.run_id else None
    settings = KubernetesSettings.model_validate((run.options if run else {}).get("kubernetes") or {})
    try:
        delete_endpoint(endpoint.name, settings.namespace, api_client(settings.context))
    except Exception as exc:
        raise RunError(f"endpoint '{endpoint.name}' could not be deleted from namespace "
                       f"'{settings.namespace}': {api_message(exc)}") from None


def _delete_unrecorded(name: str, kubernetes: dict) -> None:
    from .kubernetes.config import api_client, api_message
    from .kubernetes.endpoints import delete_endpoint
    from .kubernetes.types import KubernetesSettings

    settings = KubernetesSettings.model_validate(kubernetes)
    try:
        deleted = delete_endpoint(name, settings.namespace, api_client(settings.context))
    except Exception as exc:
        raise RunError(f"endpoint '{name}' could not be deleted from namespace "
                       f"'{settings.namespace}': {api_message(exc)}") from None
    if not deleted:
        raise RunError(f"no endpoint '{name}' in namespace '{settings.namespace}' (nothing labelled "
                       f"pipecanvas.io/endpoint={name})")
