"""The Job the executor submits for one attempt of one step: the emitter's Job, made a single attempt.

The coordinator owns retries (as for local runs: the same counting, the same
"input errors are not retried" rule, the same events), so each attempt is its
own Job and Kubernetes never retries by itself: ``backoffLimit: 0``. Leaving
the emitter's ``backoffLimit: retries`` in place as well would give up to
(retries + 1)² pods. The attempt number is in the Job's name (a retry is a
new Job, and the old one stays visible until its TTL), in the label
``pipecanvas.io/attempt`` on the Job and its pods (so a watcher, or a runner
restarted mid-run, knows which attempt an object belongs to) and in
``PIPECANVAS_STEP_ATTEMPT``, as a local step process gets it.

``activeDeadlineSeconds`` becomes the node's own timeout (one attempt per
Job): the cluster stops a step that overruns even when no runner is watching.
Pod disruptions (eviction, preemption) still do not count as the attempt
failing: the emitter's ``podFailurePolicy`` ignores them and the Job makes a
new pod within the same attempt (servers from 1.26; on older ones a disruption
fails the attempt, see ``version``).
"""

from __future__ import annotations

from typing import Any

from compiler.emitters.kubernetes import (ENDPOINT_TYPE, KubernetesEmitOptions, dns_name, emit_job, emit_plan_configmap,
                                         resolve_run_id)
from compiler.plan import ExecutionPlan, PlannedStep

from .types import ATTEMPT_LABEL, OPTIONS_ENV

__all__ = ["attempt_job_name", "step_job", "plan_configmap", "ATTEMPT_ENV"]

ATTEMPT_ENV = "PIPECANVAS_STEP_ATTEMPT"


def attempt_job_name(plan: ExecutionPlan, step_id: str, run_id: str, attempt: int) -> str:
    """``{pipeline}-{step}-{run}-{attempt}``, made a valid name (shortened with a hash when too long)."""
    return dns_name(plan.pipeline, step_id, run_id, str(attempt))


def step_job(step: PlannedStep, plan: ExecutionPlan, options: KubernetesEmitOptions, attempt: int) -> dict[str, Any]:
    """The Job for attempt ``attempt`` (from 1) of ``step``: what the executor creates and pre-flight dry-runs."""
    job = emit_job(step, plan, options)
    run_id = resolve_run_id(plan, options)
    job["metadata"]["name"] = attempt_job_name(plan, step.id, run_id, attempt)
    job["metadata"]["labels"][ATTEMPT_LABEL] = str(attempt)
    job["metadata"].setdefault("annotations", {})[ATTEMPT_LABEL] = str(attempt)
    spec = job["spec"]
    spec["template"]["metadata"]["labels"][ATTEMPT_LABEL] = str(attempt)
    spec["backoffLimit"] = 0
    spec.pop("activeDeadlineSeconds", None)
    if step.timeout_seconds:
        spec["activeDeadlineSeconds"] = step.timeout_seconds
    container = spec["template"]["spec"]["containers"][0]
    container["env"].append({"name": ATTEMPT_ENV, "value": str(attempt)})
    if step.type == ENDPOINT_TYPE:
        container["env"].append({"name": OPTIONS_ENV, "value": options.model_dump_json(exclude_none=True)})
    return job


def plan_configmap(plan: ExecutionPlan, options: KubernetesEmitOptions) -> dict[str, Any]:
    """The run's plan as the ConfigMap every step pod mounts (when the plan does not travel on the storage)."""
    return emit_plan_configmap(plan, options)
