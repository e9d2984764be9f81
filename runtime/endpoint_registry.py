"""Deployed endpoints as the store records them: list them, reap the ones nobody will finish, undeploy them.

Who owns a local model server's lifetime:

- while it is ``starting``, its deploy step (the row names the step's process);
- once the coordinator has recorded that step's success, the store: it is
  ``running`` until ``undeploy`` (or a redeploy) stops it, or ``crashed`` when
  it died by itself (the row keeps its last log line);
- a ``starting`` server whose step will never succeed (the step failed, was
  cancelled or timed out, its run process died, or its run ended) is stopped
  and marked ``failed``: by the coordinator as soon as it sees the step end
  (``stop_unfinished_servers``), and by any reader (``refresh_endpoints``:
  ``pipecanvas endpoints``, the studio's Endpoints page, ``undeploy``,
  ``resume``) that finds its owner gone.
"""

from __future__ import annotations

from .processes import process_alive, same_process
from .run_store import EndpointRecord, RunStore
from .runs import RunError
from .states import StepState

__all__ = ["refresh_endpoints", "stop_unfinished_servers", "undeploy"]

_STEP_MAY_STILL_SUCCEED = (StepState.QUEUED, StepState.RUNNING, StepState.SUCCEEDED)


def refresh_endpoints(store: RunStore, include_stopped: bool = False) -> list[EndpointRecord]:
    """Endpoints, after marking local servers that died ``crashed`` and stopping abandoned ``starting`` ones."""
    for endpoint in store.endpoints():
        if endpoint.backend != "local":
            continue
        if endpoint.state == "running" and not _server_alive(endpoint):
            store.end_endpoint(endpoint.name, "crashed", _last_words(endpoint) or "the server process is gone",
                               started_at=endpoint.started_at, from_states=("running",))
        elif endpoint.state == "starting" and _abandoned(store, endpoint):
            _stop_unfinished(store, endpoint, _why_abandoned(store, endpoint))
    return store.endpoints(include_stopped=include_stopped)


def stop_unfinished_servers(store: RunStore, run_id: str, step_id: str | None = None) -> list[str]:
    """Stop the local servers ``run_id`` (its step ``step_id``) left ``starting``: the coordinator calls
    this when a deploy step ended without success, and when a run ends or resumes. Returns their names."""
    stopped = []
    for endpoint in store.endpoints():
        if (endpoint.backend == "local" and endpoint.state == "starting" and endpoint.run_id == run_id
                and (step_id is None or endpoint.step_id == step_id)):
            reason = f"its deploy step '{endpoint.step_id}' of run {run_id} did not finish, so the server was stopped"
            if _stop_unfinished(store, endpoint, reason):
                stopped.append(endpoint.name)
    return stopped


def undeploy(store: RunStore, name: str, kubernetes: dict | None = None) -> EndpointRecord | None:
    """Stop endpoint ``name`` (starting, running or crashed) and mark it stopped.

    With ``kubernetes`` settings (context, namespace), a server the store does not know (its deploy step
    failed, or another machine ran it) is found on the cluster by label and deleted; returns None then.
    """
    refresh_endpoints(store)
    endpoint = store.endpoint(name)
    live = endpoint is not None and endpoint.state in ("starting", "running", "crashed")
    if not live and kubernetes is not None:
        _delete_unrecorded(name, kubernetes)
        return None
    if not live:
        listed = ", ".join(f"{e.name} ({e.state})" for e in store.endpoints()) or "none"
        raise RunError(f"no deployed endpoint '{name}'; deployed endpoints: {listed}")
    if endpoint.backend == "local" and endpoint.pid:
        from .endpoints import stop_endpoint

        stop_endpoint(endpoint.pid, process_start=endpoint.process_start)
    elif endpoint.backend == "kubernetes":
        _delete_on_cluster(store, endpoint)
    store.end_endpoint(name, "stopped", "undeployed", started_at=endpoint.started_at)
    return endpoint


def _server_alive(endpoint: EndpointRecord) -> bool:
    return same_process(endpoint.pid, endpoint.process_start)


def _abandoned(store: RunStore, endpoint: EndpointRecord) -> bool:
    """Whether a ``starting`` server's step can no longer make it ``running``."""
    if same_process(endpoint.owner_pid, endpoint.owner_start):
        return False  # its step is still at work
    run = store.get_run(endpoint.run_id) if endpoint.run_id else None
    step = store.step(run.id, endpoint.step_id) if run and endpoint.step_id else None
    if run is None or step is None or run.finished or not process_alive(run.pid):
        return True
    # the run goes on: its coordinator records the step's end (and stops the server if it failed)
    return not (step.state in _STEP_MAY_STILL_SUCCEED and step.attempt == (endpoint.attempt or step.attempt))


def _why_abandoned(store: RunStore, endpoint: EndpointRecord) -> str:
    run = store.get_run(endpoint.run_id) if endpoint.run_id else None
    if run is not None and not run.finished and not process_alive(run.pid):
        return (f"run {run.id} stopped (its process is gone) before its deploy step '{endpoint.step_id}' finished, "
                f"so the server was stopped; `pipecanvas resume {run.id}` deploys it again")
    return f"its deploy step '{endpoint.step_id}' of run {endpoint.run_id} stopped before finishing, so the server was stopped"


def _stop_unfinished(store: RunStore, endpoint: EndpointRecord, reason: str) -> bool:
    """Stop a ``starting`` server and mark it failed; False when its row changed meanwhile."""
    from .endpoints import stop_endpoint

    if endpoint.pid:
        stop_endpoint(endpoint.pid, process_start=endpoint.process_start)
    return store.end_endpoint(endpoint.name, "failed", reason, started_at=endpoint.started_at, from_states=("starting",))


def _last_words(endpoint: EndpointRecord) -> str | None:
    from .endpoints import server_log_tail

    tail = server_log_tail(endpoint.log_path, lines=1)
    return tail[-1].strip()[:300] if tail else None


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
