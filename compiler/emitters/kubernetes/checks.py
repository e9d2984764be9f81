"""What must hold before a plan becomes manifests, each problem named on its node.

The pipeline validator does not know the cluster, so these checks do: the
plan's artifacts live on the storage the pods mount, the Kubernetes options a
user typed are things the API server accepts (a Kueue queue or node selector
cannot be sanitised like a name: it must match what exists), and no two deploy
steps claim the same endpoint. Every problem is reported, not the first.
"""

from __future__ import annotations

import re

from compiler.plan import ExecutionPlan, PlannedStep

from .names import is_label_value
from .options import KubernetesEmitOptions

__all__ = ["check_plan", "is_label_key"]

_DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}\Z)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_ENDPOINT_TYPE = "deploy.endpoint"


def is_label_key(key: str) -> bool:
    """A label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters."""
    prefix, _, name = key.rpartition("/")
    if prefix and not _DNS_SUBDOMAIN.match(prefix):
        return False
    return bool(name) and is_label_value(name)


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _storage_problems(plan: ExecutionPlan, options: KubernetesEmitOptions) -> list[str]:
    root = options.storage_root
    where = f"the bucket {root}" if options.bucket else f"the volume mounted at {root}"
    if not _under(plan.artifact_root, root) or "/../" in f"{plan.artifact_root}/":
        expected = options.artifact_root(options.resolved_run_id(plan.pipeline_digest))
        return [
            f"the plan's artifacts go to '{plan.artifact_root}', which the pods cannot reach: "
            f"compile with artifact_root='{expected}' (on {where})"
        ]
    if not options.plan_configmap and not _under(plan.plan_uri, root):
        return [f"the plan file '{plan.plan_uri}' is not on {where}; the pods could not read it"]
    return []


def _scheduling_problems(step: PlannedStep) -> list[str]:
    options = step.kubernetes
    if options is None:
        return []
    problems = []
    where = f"node '{step.id}'"
    if options.queue is not None and not (is_label_value(options.queue) and _DNS_SUBDOMAIN.match(options.queue)):
        problems.append(f"{where}: queue '{options.queue}' is not a valid Kueue LocalQueue name")
    for key, value in (options.node_selector or {}).items():
        if not is_label_key(key):
            problems.append(f"{where}: nodeSelector key '{key}' is not a valid label key")
        if not is_label_value(value):
            problems.append(f"{where}: nodeSelector value '{value}' (for '{key}') is not a valid label value")
    for number, toleration in enumerate(options.tolerations or [], start=1):
        if toleration.operator == "Exists" and toleration.value:
            problems.append(f"{where}: toleration {number} has operator Exists, so it cannot have a value")
        if not toleration.key and toleration.operator != "Exists":
            problems.append(f"{where}: toleration {number} has no key, so its operator must be Exists")
        if toleration.key and not is_label_key(toleration.key):
            problems.append(f"{where}: toleration {number} key '{toleration.key}' is not a valid label key")
        if toleration.toleration_seconds is not None and toleration.effect != "NoExecute":
            problems.append(f"{where}: toleration {number} has tolerationSeconds, so its effect must be NoExecute "
                            "(the API server refuses it otherwise)")
    return problems


def _step_problems(step: PlannedStep, options: KubernetesEmitOptions) -> list[str]:
    problems = _scheduling_problems(step)
    if not step.argv:
        problems.append(f"node '{step.id}': the step has no command")
    elif options.plan_configmap and "--plan" not in step.argv[:-1]:
        problems.append(f"node '{step.id}': the step's command has no --plan to point at the plan ConfigMap")
    if step.type == _ENDPOINT_TYPE and ("model" not in step.inputs or not isinstance(step.params.get("name"), str)):
        problems.append(f"node '{step.id}': a deploy step needs a connected model and an endpoint name")
    return problems


def _endpoint_problems(plan: ExecutionPlan) -> list[str]:
    owners: dict[str, list[str]] = {}
    for step in plan.steps:
        if step.type == _ENDPOINT_TYPE and isinstance(step.params.get("name"), str):
            owners.setdefault(step.params["name"], []).append(step.id)
    return [
        f"nodes {', '.join(repr(s) for s in steps)} all deploy the endpoint '{name}'; "
        "on a cluster each name is one server"
        for name, steps in owners.items()
        if len(steps) > 1
    ]


def check_plan(plan: ExecutionPlan, options: KubernetesEmitOptions) -> list[str]:
    """Every reason the plan cannot run on the cluster these options describe (empty when it can)."""
    problems = _storage_problems(plan, options)
    for step in plan.steps:
        problems.extend(_step_problems(step, options))
    return problems + _endpoint_problems(plan)
