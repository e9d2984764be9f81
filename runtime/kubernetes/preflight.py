"""Pre-flight: before a Kubernetes run creates anything, find every reason it could not run, each on its node.

Checked, in this order (a missing namespace or an unreachable cluster stops
the rest, which would only repeat it):

- the plan fits the options (``compiler.emitters.kubernetes.check_plan``) and this
  machine can read the artifacts the steps write (the coordinator records
  their metrics from there);
- the namespace exists;
- the server's version: what an older one lacks, in words (``version``), and the
  Jobs dry-run as they will be created there;
- RBAC lets us do what the run will do (SelfSubjectAccessReview per verb);
- for each GPU step, some node offers that many ``nvidia.com/gpu``
  (allocatable, among the nodes its nodeSelector allows) — a warning, not an
  error, when nodes may not be listed, or when a Kueue queue manages the GPUs;
- the artifact claim, the bucket Secret, the image pull Secrets and the service
  account exist (Secrets often cannot be read, by design: a warning then);
- the API server accepts every Job (and the plan ConfigMap) in a server-side
  dry run (``dryRun=All``): admission webhooks, quotas, Pod Security.

Findings are ``compiler.diagnostics.Diagnostic`` (``node`` set when a step is
concerned), like the validator's, so the CLI and the studio show them alike.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import astuple
from typing import Any

import fsspec
import urllib3
from kubernetes.client import ApiClient, AuthorizationV1Api, BatchV1Api, CoreV1Api
from kubernetes.client.exceptions import ApiException

from compiler.diagnostics import Diagnostic
from compiler.emitters.kubernetes import GPU_RESOURCE, KubernetesEmitOptions, check_plan
from compiler.plan import ExecutionPlan, PlannedStep

from ..refusals import RunRefusedError
from .config import api_message
from .jobs import plan_configmap, step_job
from .permissions import permissions_for
from .version import fit_options, server_version, version_findings

__all__ = ["PreflightError", "preflight"]

_FORBIDDEN, _NOT_FOUND = 403, 404
_NODE = re.compile(r"^node '((?:[^'\\]|\\.)*)'")



class PreflightError(RunRefusedError):
    """The cluster cannot run the pipeline as asked; ``diagnostics`` holds every finding (warnings too)."""


def _error(message: str, node: str | None = None) -> Diagnostic:
    return Diagnostic("error", message, node=node)


def _warning(message: str, node: str | None = None) -> Diagnostic:
    return Diagnostic("warning", message, node=node)


def preflight(plan: ExecutionPlan, options: KubernetesEmitOptions, api: ApiClient) -> list[Diagnostic]:
    """Every problem (errors and warnings) that would stop or hamper running ``plan`` with ``options``."""
    found = [_error(p if _NODE.match(p) else f"cluster: {p}", _node_of(p)) for p in check_plan(plan, options)]
    found += _runner_storage(options)
    core = CoreV1Api(api)
    stop = _namespace(core, options.namespace, api)
    if stop:
        return found + stop
    version = server_version(api)
    found += version_findings(version, options.namespace)
    options = fit_options(options, version)
    try:
        permissions, denied = _permissions(AuthorizationV1Api(api), options)
        found += permissions
        for step in plan.steps:
            found += _gpus(core, step)
        found += _named_objects(core, options)
        if ("create", "jobs") not in denied:  # else every dry run would only repeat "forbidden"
            found += _dry_runs(BatchV1Api(api), core, plan, options)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        found.append(_error(f"cluster: lost the connection to {api.configuration.host} while checking: {exc}"))
    return found


def _node_of(message: str) -> str | None:
    match = _NODE.match(message)
    return match.group(1) if match else None


def _runner_storage(options: KubernetesEmitOptions) -> list[Diagnostic]:
    """The coordinator reads each step's metrics where the step wrote them: this machine must reach the storage."""
    if options.pvc:
        if os.path.isdir(options.mount_path):
            return []
        return [_error(
            f"cluster: the artifacts go to claim '{options.pvc}', mounted at {options.mount_path} in the pods, but "
            f"this machine has no {options.mount_path} to read the steps' results from: run pipecanvas in the "
            f"cluster with the claim mounted there (--mount-path), or keep the artifacts in a bucket (--bucket)")]
    return _bucket_reachable(str(options.bucket))


def _bucket_reachable(bucket: str) -> list[Diagnostic]:
    """The bucket's filesystem is installed, and the bucket exists for the credentials this machine has.

    Credentials come from this machine's environment (AWS_* variables, a profile, workload identity), never
    from the run's settings; the pods get theirs from the bucket Secret.
    """
    protocol, _, rest = bucket.partition("://")
    try:
        fsspec.get_filesystem_class(protocol)
    except (ImportError, ValueError) as exc:
        hint = " (pip install 'pipecanvas[s3]')" if protocol in ("s3", "s3a") else ""
        return [_error(f"cluster: this machine cannot read the bucket {bucket}: {exc}{hint}")]
    if protocol == "memory":  # the tests' in-process store has no buckets to check
        return []
    name = rest.split("/", 1)[0]
    try:
        options = {"config_kwargs": {"connect_timeout": 5, "read_timeout": 10, "retries": {"max_attempts": 2}}} \
            if protocol in ("s3", "s3a") else {}
        exists = fsspec.filesystem(protocol, **options).exists(name)
    except Exception as exc:  # noqa: BLE001  (each store has its own errors: no credentials, no network…)
        return [_error(f"cluster: this machine cannot reach the bucket {bucket}: {type(exc).__name__}: {exc}")]
    if not exists:
        return [_error(f"cluster: the bucket '{name}' of {bucket} does not exist, or the credentials this machine "
                       "has cannot see it")]
    return []


def _namespace(core: CoreV1Api, namespace: str, api: ApiClient) -> list[Diagnostic]:
    try:
        core.read_namespace(namespace, _preload_content=False)
    except ApiException as exc:
        if exc.status == _NOT_FOUND:
            return [_error(f"cluster: namespace '{namespace}' does not exist; create it (kubectl apply -f "
                           "deploy/namespace.yaml) or choose another with --namespace")]
        if exc.status != _FORBIDDEN:  # forbidden: a namespaced Role cannot read namespaces; the dry run will tell
            return [_error(f"cluster: cannot read namespace '{namespace}': {api_message(exc)}")]
    except Exception as exc:  # noqa: BLE001  (urllib3 and socket errors: the cluster is not reachable)
        return [_error(f"cluster: cannot reach the cluster at {api.configuration.host}: {exc}")]
    return []


def _allowed(auth: AuthorizationV1Api, namespace: str, verb: str, group: str, resource: str) -> bool:
    plural, _, subresource = resource.partition("/")
    attributes = {"namespace": namespace, "verb": verb, "group": group, "resource": plural}
    if subresource:
        attributes["subresource"] = subresource
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": attributes}}
    response = auth.create_self_subject_access_review(review, _preload_content=False)
    return bool((json.loads(response.data).get("status") or {}).get("allowed"))


def _permissions(auth: AuthorizationV1Api, options: KubernetesEmitOptions) -> tuple[list[Diagnostic], set[tuple[str, str]]]:
    """Findings, and the (verb, resource) pairs denied."""
    found, all_denied = [], set()
    for verbs, group, resource, _, why in (astuple(p) for p in permissions_for(options.plan_configmap)):
        try:
            denied = [verb for verb in verbs if not _allowed(auth, options.namespace, verb, group, resource)]
        except Exception as exc:  # noqa: BLE001  (an old or locked-down API server: say so, do not guess)
            warning = _warning(f"cluster: could not check permissions (SelfSubjectAccessReview): {api_message(exc)}")
            return [warning], set()
        all_denied |= {(verb, resource) for verb in denied}
        if denied:
            found.append(_error(
                f"cluster: you may not {', '.join(denied)} {resource} in namespace '{options.namespace}', which the "
                f"run needs to {why}; apply deploy/rbac.yaml or ask a cluster administrator"))
    return found, all_denied


def _gpus(core: CoreV1Api, step: PlannedStep) -> list[Diagnostic]:
    wanted = step.resources.gpu or 0
    if wanted <= 0:
        return []
    selector = dict((step.kubernetes.node_selector or {}) if step.kubernetes else {})
    where = "no node" + (f" matching nodeSelector {selector}" if selector else "")
    try:
        response = core.list_node(label_selector=",".join(f"{k}={v}" for k, v in sorted(selector.items())) or None,
                                  _preload_content=False)
        nodes = json.loads(response.data).get("items") or []
    except ApiException as exc:
        reason = "listing nodes is not allowed (a cluster-wide permission)" if exc.status == _FORBIDDEN \
            else api_message(exc)
        return [_warning(f"node '{step.id}': could not check that some node offers {wanted} {GPU_RESOURCE}: "
                         f"{reason}; if none does, the step waits Pending", step.id)]
    most = max((_gpu_count(node) for node in nodes), default=0)
    if most >= wanted:
        return []
    queued = bool(step.kubernetes and step.kubernetes.queue)
    message = (f"node '{step.id}': asks for {wanted} {GPU_RESOURCE} but {where} of the cluster offers more than "
               f"{most}" + ("; its Kueue queue may add nodes, else it waits Pending" if queued else
                            "; lower the node's gpu, or add GPU nodes"))
    return [_warning(message, step.id) if queued else _error(message, step.id)]


def _gpu_count(node: dict[str, Any]) -> int:
    value = str(((node.get("status") or {}).get("allocatable") or {}).get(GPU_RESOURCE, "0"))
    return int(value) if value.isdigit() else 0


def _named_objects(core: CoreV1Api, options: KubernetesEmitOptions) -> list[Diagnostic]:
    """The claim, the Secrets and the service account the pods reference must exist, or the pods never start."""
    namespace = options.namespace
    found = []
    if options.pvc:
        claim = _read(core.read_namespaced_persistent_volume_claim, options.pvc, namespace)
        found += _presence(claim, f"the artifact claim '{options.pvc}'", "create it (deploy/pvc.yaml) or name "
                           "another with --pvc")
        if isinstance(claim, dict) and "ReadWriteMany" not in ((claim.get("spec") or {}).get("accessModes") or []):
            found.append(_warning(f"cluster: claim '{options.pvc}' is not ReadWriteMany: steps on different nodes "
                                  "cannot mount it at the same time"))
    for secret in ([options.bucket_secret] if options.bucket_secret else []) + list(options.image_pull_secrets):
        found += _presence(_read(core.read_namespaced_secret, secret, namespace), f"the Secret '{secret}'",
                           "create it in that namespace")
    account = _read(core.read_namespaced_service_account, options.service_account, namespace)
    found += _presence(account, f"the service account '{options.service_account}'", "apply deploy/rbac.yaml")
    return found


def _read(function: Any, name: str, namespace: str) -> dict[str, Any] | int:
    """The object, or the HTTP status that kept us from reading it."""
    try:
        return json.loads(function(name, namespace, _preload_content=False).data)
    except ApiException as exc:
        return exc.status or 0


def _presence(result: dict[str, Any] | int, what: str, fix: str) -> list[Diagnostic]:
    if isinstance(result, dict):
        return []
    if result == _NOT_FOUND:
        return [_error(f"cluster: {what} does not exist; {fix}")]
    return [_warning(f"cluster: could not check that {what} exists (reading it is not allowed); "
                     "if it is missing, the pods will not start")]


def _dry_runs(batch: BatchV1Api, core: CoreV1Api, plan: ExecutionPlan, options: KubernetesEmitOptions) -> list[Diagnostic]:
    """The API server's verdict on each object we would create, with nothing created (``dryRun=All``)."""
    found = []
    if options.plan_configmap:
        try:
            core.create_namespaced_config_map(options.namespace, plan_configmap(plan, options), dry_run="All",
                                              _preload_content=False)
        except ApiException as exc:
            found.append(_error(f"cluster: the API server refuses the plan's ConfigMap: {api_message(exc)}"))
    for step in plan.steps:
        try:
            batch.create_namespaced_job(options.namespace, step_job(step, plan, options, 1), dry_run="All",
                                        _preload_content=False)
        except ApiException as exc:
            found.append(_error(f"node '{step.id}': the API server refuses its Job: {api_message(exc)}", step.id))
    return found
