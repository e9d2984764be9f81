"""The parts every pipecanvas pod shares: security, storage, environment, resources, scheduling.

Pods meet the Pod Security "restricted" profile: a fixed non-root user (the
runtime image's uid 10001), no privilege escalation, every capability dropped,
the runtime's default seccomp profile and a read-only root filesystem, with an
``emptyDir`` at ``/tmp`` for scratch files. Secrets appear only by name.

Each function returns fresh dicts, so documents never share (and never
accidentally mutate) each other's parts.
"""

from __future__ import annotations

from typing import Any

from compiler.spec import KubernetesOptions
from nodes.base import Resources

from .options import KubernetesEmitOptions

__all__ = [
    "RUNTIME_UID",
    "GPU_RESOURCE",
    "PLAN_MOUNT_PATH",
    "pod_security_context",
    "container_security_context",
    "pod_spec",
    "storage_mounts",
    "storage_env_from",
    "base_env",
    "resource_requirements",
    "scheduling",
    "image_reference",
]

RUNTIME_UID = 10001
GPU_RESOURCE = "nvidia.com/gpu"
PLAN_MOUNT_PATH = "/etc/pipecanvas"
_SCRATCH_PATH = "/tmp"
_ARTIFACTS_VOLUME = "artifacts"
_PLAN_VOLUME = "plan"
_SCRATCH_VOLUME = "scratch"


def pod_security_context() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": RUNTIME_UID,
        "runAsGroup": RUNTIME_UID,
        "fsGroup": RUNTIME_UID,
        # chown a volume only when its root is not ours yet: a full walk of a big artifact volume on every pod is slow
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }


def pod_spec(
    containers: list[dict[str, Any]],
    options: KubernetesEmitOptions,
    kubernetes: KubernetesOptions | None,
    *,
    gpus: int,
    restart_policy: str,
    api_access: bool,
    plan_configmap: str | None = None,
) -> dict[str, Any]:
    """A pod spec around ``containers``; ``api_access`` mounts the service account token (deploy steps only)."""
    spec: dict[str, Any] = {
        "serviceAccountName": options.service_account,
        "automountServiceAccountToken": api_access,
        "restartPolicy": restart_policy,
        "securityContext": pod_security_context(),
    }
    if options.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": name} for name in options.image_pull_secrets]
    spec.update(scheduling(kubernetes, gpus))
    spec["containers"] = containers
    spec["volumes"] = _volumes(options, plan_configmap)
    return spec


def _volumes(options: KubernetesEmitOptions, plan_configmap: str | None) -> list[dict[str, Any]]:
    volumes: list[dict[str, Any]] = []
    if options.pvc:
        volumes.append({"name": _ARTIFACTS_VOLUME, "persistentVolumeClaim": {"claimName": options.pvc}})
    if plan_configmap:
        volumes.append({"name": _PLAN_VOLUME, "configMap": {"name": plan_configmap, "defaultMode": 0o444}})
    volumes.append({"name": _SCRATCH_VOLUME, "emptyDir": {}})
    return volumes


def storage_mounts(options: KubernetesEmitOptions, plan_configmap: bool = False) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = []
    if options.pvc:
        mounts.append({"name": _ARTIFACTS_VOLUME, "mountPath": options.mount_path})
    if plan_configmap:
        mounts.append({"name": _PLAN_VOLUME, "mountPath": PLAN_MOUNT_PATH, "readOnly": True})
    mounts.append({"name": _SCRATCH_VOLUME, "mountPath": _SCRATCH_PATH})
    return mounts


def storage_env_from(options: KubernetesEmitOptions) -> list[dict[str, Any]]:
    """The bucket's credentials: every key of the named Secret becomes an environment variable."""
    return [{"secretRef": {"name": options.bucket_secret}}] if options.bucket_secret else []


def literal(text: str) -> str:
    """``text`` as Kubernetes must pass it on: it expands ``$(NAME)`` in a container's command, args and env
    values, and reads ``$$`` as ``$``. A ``--mount-path '/mnt/$(HOME)'`` would otherwise send the step to
    look for its plan under ``/mnt//tmp``."""
    return text.replace("$", "$$")


def base_env(options: KubernetesEmitOptions, run_id: str) -> list[dict[str, Any]]:
    """What the runtime reads in every pod. ``HOME`` points at scratch: the root filesystem is read-only."""
    return [
        {"name": "PIPECANVAS_RUN_ID", "value": run_id},
        {"name": "PIPECANVAS_HOME", "value": literal(options.pipecanvas_home)},
        {"name": "PIPECANVAS_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "PYTHONUNBUFFERED", "value": "1"},
        {"name": "HOME", "value": _SCRATCH_PATH},
    ]


def resource_requirements(resources: Resources) -> dict[str, Any]:
    """Requests equal limits for CPU and memory (predictable, and evicted last); GPUs as limits only."""
    amounts = {name: value for name, value in (("cpu", resources.cpu), ("memory", resources.memory)) if value}
    limits: dict[str, str] = dict(amounts)
    if resources.gpu and resources.gpu > 0:
        limits[GPU_RESOURCE] = str(resources.gpu)
    found: dict[str, Any] = {}
    if amounts:
        found["requests"] = dict(amounts)
    if limits:
        found["limits"] = limits
    return found


def scheduling(kubernetes: KubernetesOptions | None, gpus: int) -> dict[str, Any]:
    """``nodeSelector`` and ``tolerations`` from the step, plus a toleration of the usual GPU-node taint.

    Tolerating ``nvidia.com/gpu`` only allows a GPU step onto tainted GPU nodes;
    it never sends it anywhere. The device request itself does the choosing.
    """
    found: dict[str, Any] = {}
    if kubernetes and kubernetes.node_selector:
        found["nodeSelector"] = dict(sorted(kubernetes.node_selector.items()))
    own = (kubernetes.tolerations or []) if kubernetes else []
    tolerations = [toleration.model_dump(by_alias=True, exclude_none=True) for toleration in own]
    if gpus > 0 and not any(_tolerates_gpu_taint(t) for t in tolerations):
        tolerations.append({"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"})
    if tolerations:
        found["tolerations"] = tolerations
    return found


def _tolerates_gpu_taint(toleration: dict[str, Any]) -> bool:
    """Whether a toleration of the node's own already covers the usual ``nvidia.com/gpu:NoSchedule`` taint
    (whatever its value): one for ``NoExecute`` alone, say, does not, and the step could not land."""
    every_value = toleration.get("operator") == "Exists"  # with no key, Exists tolerates every taint
    key_matches = (toleration.get("key") or None) in (GPU_RESOURCE, None)
    return key_matches and every_value and toleration.get("effect") in (None, "NoSchedule")


def image_reference(image: str, registry: str | None) -> str:
    """``image`` pulled from ``registry`` when it names none itself (its first part has no '.' or ':')."""
    first, _, rest = image.partition("/")
    has_registry = bool(rest) and ("." in first or ":" in first or first == "localhost")
    return image if registry is None or has_registry else f"{registry}/{image}"
