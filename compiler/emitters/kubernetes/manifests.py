"""ExecutionPlan → Kubernetes manifests: one ``batch/v1`` Job per step, plus model servers.

Every step becomes a Job running the same entrypoint argv as a local run. A
``deploy.endpoint`` step also gets a Deployment and a ClusterIP Service for
its model server; its Job records the endpoint (its pod may create or update
that Deployment through the namespaced Role in deploy/rbac.yaml). Documents
come in plan order, so emitting twice gives identical YAML.

Choices worth knowing:

- ``backoffLimit`` is the node's retries and ``activeDeadlineSeconds`` covers
  every attempt (``timeout × (retries + 1)``); the deadline counts from the
  Job's start, so time spent Pending counts too (a Kueue-queued Job starts
  when admitted). A step that fails with the entrypoint's input-error exit code
  is not retried, as locally; a pod evicted or preempted does not use a retry.
- Steps cannot call the Kubernetes API (no token is mounted), except
  ``deploy.endpoint`` steps, which may need to create their server.
- The plan is read from ``plan_uri`` on the shared storage (the executor
  writes it there). With ``plan_configmap`` it is shipped in a ConfigMap instead,
  mounted read-only at /etc/pipecanvas, and each step's ``--plan`` points there.
- Applying every Job at once (``kubectl apply -f``) starts every step at once;
  the executor submits each Job when its inputs exist. The order and the
  ``pipecanvas.io/depends-on`` annotation say what waits for what.
"""

from __future__ import annotations

from typing import Any

from compiler.plan import PLAN_FILE, ExecutionPlan, PlannedStep, compile_plan, dump_plan_yaml
from compiler.spec import Pipeline
from compiler.yaml_io import SourceMap, dump_yaml
from nodes.catalog import Catalog

from .checks import check_plan
from .names import dns_name, label_value
from .options import KubernetesEmitOptions, ManifestError
from .pods import (
    GPU_RESOURCE,
    PLAN_MOUNT_PATH,
    base_env,
    container_security_context,
    image_reference,
    literal,
    pod_spec,
    resource_requirements,
    storage_env_from,
    storage_mounts,
)

__all__ = [
    "ENDPOINT_TYPE",
    "INPUT_ERROR_EXIT_CODE",
    "SERVER_PORT",
    "compile_for_kubernetes",
    "dump_manifests",
    "emit_endpoint",
    "emit_job",
    "emit_kubernetes",
    "emit_plan_configmap",
    "endpoint_name",
    "endpoint_url",
    "job_name",
    "resolve_run_id",
    "run_selector",
]

ENDPOINT_TYPE = "deploy.endpoint"
#: runtime.entrypoint.EXIT_INPUT_ERROR (the compiler may not import the runtime; a test keeps them equal)
INPUT_ERROR_EXIT_CODE = 3
SERVER_PORT = 8080
#: what a deploy step's own pod requests (no CPU limit): it calls the API and waits for its server
DEPLOY_STEP_CPU = "50m"
DEPLOY_STEP_CPU_LIMIT = "1"
_STEP_CONTAINER = "step"
_SERVER_CONTAINER = "server"
_CONFIGMAP_LIMIT = 1_000_000  # the API server refuses ConfigMaps over 1 MiB, keys and metadata included


def resolve_run_id(plan: ExecutionPlan, options: KubernetesEmitOptions) -> str:
    """The run id the manifests carry: the given one, else the first 8 characters of the pipeline digest."""
    return options.resolved_run_id(plan.pipeline_digest)


def run_selector(run_id: str) -> str:
    """Label selector for a run's step Jobs and Pods (the executor watches and cleans up with it)."""
    return f"app.kubernetes.io/component=step,pipecanvas.io/run={run_id}"


def job_name(plan: ExecutionPlan, step_id: str, run_id: str) -> str:
    return dns_name(plan.pipeline, step_id, run_id)


def endpoint_name(name: str) -> str:
    """The Deployment's and the Service's name for the endpoint ``name``."""
    return dns_name(name)


def endpoint_url(name: str, namespace: str) -> str:
    """Where the endpoint answers inside the cluster (Service port 80)."""
    return f"http://{endpoint_name(name)}.{namespace}.svc.cluster.local"


def compile_for_kubernetes(
    pipeline: Pipeline,
    catalog: Catalog,
    options: KubernetesEmitOptions,
    source_map: SourceMap | None = None,
    fingerprint_sources: bool = False,
) -> tuple[ExecutionPlan, KubernetesEmitOptions]:
    """Compile with the artifact root the cluster's storage needs; returns the plan and options with the run id set.

    Without a run id the pipeline digest names the run, so the plan is compiled
    once to learn it (the digest does not depend on the artifact root).
    """
    run_id = options.run_id
    if run_id is None:
        digest = compile_plan(pipeline, catalog, options.storage_root, source_map).pipeline_digest
        run_id = options.resolved_run_id(digest)
        options = options.model_copy(update={"run_id": run_id})
    plan = compile_plan(pipeline, catalog, options.artifact_root(run_id), source_map, fingerprint_sources)
    return plan, options


def emit_kubernetes(plan: ExecutionPlan, options: KubernetesEmitOptions) -> list[dict[str, Any]]:
    """Every document for ``plan``: the plan ConfigMap (if asked for), then per step its Job and any server."""
    problems = check_plan(plan, options)
    if problems:
        raise ManifestError(problems)
    documents: list[dict[str, Any]] = []
    if options.plan_configmap:
        documents.append(emit_plan_configmap(plan, options))
    for step in plan.steps:
        documents.append(emit_job(step, plan, options))
        if step.type == ENDPOINT_TYPE:
            documents.extend(emit_endpoint(step, plan, options))
    return documents


def dump_manifests(documents: list[dict[str, Any]]) -> str:
    """One multi-document YAML text, as ``kubectl apply -f`` reads it."""
    return "".join(f"---\n{dump_yaml(document)}" for document in documents)


def _labels(plan: ExecutionPlan, run_id: str, component: str, step: PlannedStep) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "pipecanvas",
        "app.kubernetes.io/managed-by": "pipecanvas",
        "app.kubernetes.io/component": component,
        "pipecanvas.io/pipeline": label_value(plan.pipeline),
        "pipecanvas.io/run": run_id,
        "pipecanvas.io/step": label_value(step.id),
    }


def _annotations(step: PlannedStep) -> dict[str, str]:
    """The raw ids (labels may have had to shorten them) and the cache key, for the executor and for people."""
    found = {
        "pipecanvas.io/step-id": step.id,
        "pipecanvas.io/node-type": step.type,
        "pipecanvas.io/cache-key": step.cache_key,
    }
    if step.depends_on:
        found["pipecanvas.io/depends-on"] = _listed(step.depends_on)
    return found


#: an object's annotations may hold 256 KiB in all; a fan-in of thousands of steps listed whole went over it
_MOST_LISTED = 16 * 1024


def _listed(step_ids: list[str]) -> str:
    """The ids joined by ',', or as many as fit in ``_MOST_LISTED`` and how many more the plan lists."""
    text = ",".join(step_ids)
    if len(text) <= _MOST_LISTED:
        return text
    kept: list[str] = []
    size = 0
    for step_id in step_ids:
        size += len(step_id) + 1
        if size > _MOST_LISTED - 64:  # room for the tail
            break
        kept.append(step_id)
    return f"{','.join(kept)},… and {len(step_ids) - len(kept)} more (the plan lists every one)"


def _metadata(
    name: str, options: KubernetesEmitOptions, labels: dict[str, str], annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "namespace": options.namespace, "labels": labels}
    if annotations:
        found["annotations"] = annotations
    return found


def _step_args(step: PlannedStep, options: KubernetesEmitOptions) -> list[str]:
    """The step's argv after the program; with a plan ConfigMap, ``--plan`` names the mounted copy."""
    args = list(step.argv[1:])
    if options.plan_configmap:
        if "--plan" not in args[:-1]:
            raise ManifestError([f"node '{step.id}': the step's command has no --plan to point at the plan ConfigMap"])
        at = args.index("--plan") + 1
        args[at] = f"{PLAN_MOUNT_PATH}/{PLAN_FILE}"
    return args


def _deadline(step: PlannedStep) -> dict[str, int]:
    return {"activeDeadlineSeconds": step.timeout_seconds * (step.retries + 1)} if step.timeout_seconds else {}


def _failure_policy() -> dict[str, Any]:
    """Input errors fail the Job at once (a retry cannot help); evictions and preemptions do not count."""
    return {
        "rules": [
            # an empty onPodConditions: the 1.25 and 1.26 API schemas require the field even beside onExitCodes
            {"action": "FailJob", "onPodConditions": [],
             "onExitCodes": {"containerName": _STEP_CONTAINER, "operator": "In", "values": [INPUT_ERROR_EXIT_CODE]}},
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        ]
    }


def _step_resources(step: PlannedStep) -> dict[str, Any]:
    """The node's resources; a deploy step's pod only applies the server and waits, so it asks for little.

    Its server gets the node's CPU and GPUs. Were the step's pod to hold the same, a full node (or a cluster
    with one free GPU) could not place the server while the step waits for it: the server stays Pending on
    "Insufficient cpu" or "Insufficient nvidia.com/gpu" until the step gives up. The step still has a CPU
    limit, as every container does (a namespace quota on ``limits.cpu`` refuses a pod without one). Memory
    stays the node's: the step loads the model once to check it.
    """
    found = resource_requirements(step.resources)
    if step.type != ENDPOINT_TYPE:
        return found
    for part in ("requests", "limits"):
        found.get(part, {}).pop(GPU_RESOURCE, None)
    found.setdefault("requests", {})["cpu"] = DEPLOY_STEP_CPU
    found.setdefault("limits", {})["cpu"] = DEPLOY_STEP_CPU_LIMIT
    return found


def emit_job(step: PlannedStep, plan: ExecutionPlan, options: KubernetesEmitOptions) -> dict[str, Any]:
    """The ``batch/v1`` Job that runs ``step`` once, retrying up to its ``retries``."""
    run_id = resolve_run_id(plan, options)
    labels = _labels(plan, run_id, "step", step)
    job_labels = dict(labels)
    if step.kubernetes and step.kubernetes.queue:
        job_labels["kueue.x-k8s.io/queue-name"] = step.kubernetes.queue
    configmap = _configmap_name(plan, run_id) if options.plan_configmap else None
    container = {
        "name": _STEP_CONTAINER,
        "image": image_reference(step.image, options.image_registry),
        "command": [literal(part) for part in step.argv[:1]],
        "args": [literal(part) for part in _step_args(step, options)],
        "env": [*base_env(options, run_id), {"name": "PIPECANVAS_ENDPOINTS", "value": "kubernetes"}],
        **({"envFrom": storage_env_from(options)} if options.bucket_secret else {}),
        "resources": _step_resources(step),
        "securityContext": container_security_context(),
        "volumeMounts": storage_mounts(options, plan_configmap=configmap is not None),
    }
    gpus = 0 if step.type == ENDPOINT_TYPE else step.resources.gpu or 0  # a deploy step's GPUs are its server's
    spec = pod_spec([container], options, step.kubernetes, gpus=gpus, restart_policy="Never",
                    api_access=step.type == ENDPOINT_TYPE, plan_configmap=configmap)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(job_name(plan, step.id, run_id), options, job_labels, _annotations(step)),
        "spec": {
            "backoffLimit": step.retries,
            **_deadline(step),
            "ttlSecondsAfterFinished": options.ttl_seconds_after_finished,
            **({"podFailurePolicy": _failure_policy()} if options.pod_failure_policy else {}),
            "template": {"metadata": {"labels": labels, "annotations": _annotations(step)}, "spec": spec},
        },
    }


def _server_args(step: PlannedStep) -> list[str]:
    args = ["-m", "nodes.model_server", "--model", step.inputs["model"].uri]
    if "preprocessor" in step.inputs:
        args += ["--preprocessor", step.inputs["preprocessor"].uri]
    return args + ["--name", str(step.params["name"]), "--host", "0.0.0.0", "--port", str(SERVER_PORT)]


def _probe(**timing: int) -> dict[str, Any]:
    return {"httpGet": {"path": "/health", "port": "http"}, **timing}


def emit_endpoint(step: PlannedStep, plan: ExecutionPlan, options: KubernetesEmitOptions) -> list[dict[str, Any]]:
    """The model server of a ``deploy.endpoint`` step: a one-replica Deployment and its ClusterIP Service.

    Named after the endpoint (not the run), so deploying again under the same
    name rolls the server over to the new model instead of adding another.
    """
    if step.type != ENDPOINT_TYPE or "model" not in step.inputs:
        raise ManifestError([f"node '{step.id}': only a {ENDPOINT_TYPE} step with a model input has a model server"])
    run_id = resolve_run_id(plan, options)
    name = endpoint_name(str(step.params["name"]))
    selector = {"app.kubernetes.io/name": "pipecanvas", "app.kubernetes.io/component": "endpoint",
                "pipecanvas.io/endpoint": label_value(str(step.params["name"]))}
    labels = {**_labels(plan, run_id, "endpoint", step), **selector}
    container = {
        "name": _SERVER_CONTAINER,
        "image": image_reference(step.image, options.image_registry),
        "command": ["python"],
        "args": [literal(part) for part in _server_args(step)],
        "env": base_env(options, run_id),
        **({"envFrom": storage_env_from(options)} if options.bucket_secret else {}),
        "ports": [{"name": "http", "containerPort": SERVER_PORT, "protocol": "TCP"}],
        "resources": resource_requirements(step.resources),
        # loading a model from a bucket can take a while: up to 5 minutes before liveness starts counting
        "startupProbe": _probe(periodSeconds=5, failureThreshold=60),
        "readinessProbe": _probe(periodSeconds=5, failureThreshold=3),
        "livenessProbe": _probe(periodSeconds=10, failureThreshold=3),
        "securityContext": container_security_context(),
        "volumeMounts": storage_mounts(options),
    }
    spec = pod_spec([container], options, step.kubernetes, gpus=step.resources.gpu or 0, restart_policy="Always",
                    api_access=False)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(name, options, labels, _annotations(step)),
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": labels, "annotations": _annotations(step)}, "spec": spec},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(name, options, dict(labels), _annotations(step)),
        "spec": {
            "type": "ClusterIP",
            "selector": dict(selector),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    return [deployment, service]


def _configmap_name(plan: ExecutionPlan, run_id: str) -> str:
    return dns_name(plan.pipeline, "plan", run_id)


def emit_plan_configmap(plan: ExecutionPlan, options: KubernetesEmitOptions) -> dict[str, Any]:
    """The plan as ``plan.yaml`` in a ConfigMap, for clusters where nothing uploads it to the storage."""
    run_id = resolve_run_id(plan, options)
    text = dump_plan_yaml(plan)
    if len(text.encode("utf-8")) > _CONFIGMAP_LIMIT:
        raise ManifestError([
            f"the plan is {len(text.encode('utf-8')) / 1e6:.1f} MB, too big for a ConfigMap (1 MB); "
            "leave plan_configmap off and let the executor write it to the artifact storage"
        ])
    labels = {
        "app.kubernetes.io/name": "pipecanvas",
        "app.kubernetes.io/managed-by": "pipecanvas",
        "app.kubernetes.io/component": "plan",
        "pipecanvas.io/pipeline": label_value(plan.pipeline),
        "pipecanvas.io/run": run_id,
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(_configmap_name(plan, run_id), options, labels),
        "immutable": True,  # one plan per run: never edited, so the kubelet need not watch it
        "data": {PLAN_FILE: text},
    }
