"""What a step's Job or Pod, as the API server shows it, says about that step: pure functions over dicts.

The same step states as the local executor: a pod whose container started is
RUNNING; a Job that completed is SUCCEEDED; a Job that failed, or a container
that ended with a non-zero code, is FAILED with the code, the reason
(``OOMKilled``, ``DeadlineExceeded``…) and the container's name. A pod the
scheduler cannot place, or whose image cannot be pulled, is reported in the
scheduler's own words while the step waits. A pod stopped by a disruption
(eviction, preemption) is not a failure: its Job makes a new pod.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..executors.base import StepKey
from .types import ATTEMPT_LABEL, RUN_LABEL, STEP_ANNOTATION, STEP_CONTAINER, PodFailure, PodView
from ..states import StepState

__all__ = ["step_key", "resource_version", "job_verdict", "pod_view", "parse_time"]

#: container waiting reasons that will not fix themselves soon: worth showing on the node
_STUCK_REASONS = frozenset({
    "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError",
    "RunContainerError",
})
_JOB_REASONS = {
    "DeadlineExceeded": "it ran past its time limit",
    "BackoffLimitExceeded": "its pod failed",
    "PodFailurePolicy": "its pod failed in a way that retrying cannot fix",
}


def step_key(obj: dict[str, Any]) -> StepKey | None:
    """The attempt a Job or Pod belongs to, from its labels and annotations; None when it is not a step attempt."""
    metadata = obj.get("metadata") or {}
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    run, step, attempt = labels.get(RUN_LABEL), annotations.get(STEP_ANNOTATION), labels.get(ATTEMPT_LABEL)
    if not run or not step or not str(attempt or "").isdigit():
        return None
    return StepKey(run, step, int(attempt))


def resource_version(obj: dict[str, Any]) -> int | None:
    """The object's resourceVersion as a number (the API server's are etcd revisions), None if it has none."""
    value = str((obj.get("metadata") or {}).get("resourceVersion") or "")
    return int(value) if value.isdigit() else None


def parse_time(text: str | None) -> float | None:
    """An RFC 3339 time from the API (``2024-05-01T10:00:00Z``) as a Unix timestamp."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status") == "True":
            return condition
    return None


def job_verdict(job: dict[str, Any]) -> tuple[StepState, str | None] | None:
    """SUCCEEDED or FAILED (with why) once the Job has finished; QUEUED while it is suspended; else None."""
    if _condition(job, "Complete"):
        return StepState.SUCCEEDED, None
    failed = _condition(job, "Failed")
    if failed:
        reason = failed.get("reason") or ""
        words = _JOB_REASONS.get(reason, "it failed")
        message = (failed.get("message") or "").strip()
        return StepState.FAILED, f"the Job stopped: {words}" + (f" ({reason}: {message})" if message else "")
    if (job.get("spec") or {}).get("suspend"):
        queue = ((job.get("metadata") or {}).get("labels") or {}).get("kueue.x-k8s.io/queue-name")
        where = f" in queue '{queue}'" if queue else ""
        return StepState.QUEUED, f"waiting{where}: the Job is suspended until the cluster admits it"
    return None


def _step_container(status: dict[str, Any]) -> dict[str, Any]:
    statuses = status.get("containerStatuses") or []
    return next((s for s in statuses if s.get("name") == STEP_CONTAINER), statuses[0] if statuses else {})


def _waiting(pod: dict[str, Any], container: dict[str, Any]) -> str | None:
    """The scheduler's or the kubelet's words for why the pod does not start, when it is stuck."""
    status = pod.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            if condition.get("reason") == "Unschedulable":
                return f"Pending: {(condition.get('message') or 'no node can run it yet').strip()}"
    waiting = (container.get("state") or {}).get("waiting") or {}
    if waiting.get("reason") in _STUCK_REASONS:
        message = (waiting.get("message") or "").strip()
        return f"cannot start: {waiting['reason']}" + (f": {message}" if message else "")
    return None


def pod_view(pod: dict[str, Any]) -> PodView:
    """Whether the pod's step container started, ended, failed (and how), or is stuck waiting."""
    status = pod.get("status") or {}
    phase = status.get("phase")
    container = _step_container(status)
    state = container.get("state") or {}
    running, terminated = state.get("running"), state.get("terminated")
    started_at = parse_time((running or terminated or {}).get("startedAt"))
    ended = phase in ("Succeeded", "Failed") or terminated is not None
    failure = None
    if phase == "Failed" or (terminated is not None and terminated.get("exitCode") not in (0, None)):
        details = terminated or {}
        failure = PodFailure(
            container=container.get("name") or STEP_CONTAINER,
            exit_code=details.get("exitCode"),
            reason=details.get("reason") or status.get("reason"),
            message=details.get("message") or status.get("message"),
        )
    return PodView(
        name=str((pod.get("metadata") or {}).get("name", "")),
        started=phase == "Running" or running is not None or terminated is not None,
        started_at=started_at,
        terminated=ended,
        succeeded=phase == "Succeeded",
        failure=failure,
        disrupted=_condition(pod, "DisruptionTarget") is not None,
        waiting=None if ended else _waiting(pod, container),
    )
