"""The Kubernetes emitter: ExecutionPlan → Jobs, model-server Deployments and Services, the plan ConfigMap.

    options.py    where a plan is placed on a cluster (namespace, storage, run id)
    checks.py     what must hold before a plan becomes manifests, each problem on its node
    names.py      valid object names and label values from any id
    pods.py       the parts every pod shares (security, storage, env, resources, scheduling)
    manifests.py  the documents themselves
"""

from .checks import check_plan
from .names import dns_name, label_value
from .options import DEFAULT_MOUNT_PATH, DEFAULT_NAMESPACE, DEFAULT_PVC, KubernetesEmitOptions, ManifestError
from .pods import GPU_RESOURCE
from .manifests import (
    ENDPOINT_TYPE,
    INPUT_ERROR_EXIT_CODE,
    SERVER_PORT,
    compile_for_kubernetes,
    dump_manifests,
    emit_endpoint,
    emit_job,
    emit_kubernetes,
    emit_plan_configmap,
    endpoint_name,
    endpoint_url,
    job_name,
    resolve_run_id,
    run_selector,
)

__all__ = [
    "DEFAULT_MOUNT_PATH",
    "DEFAULT_NAMESPACE",
    "DEFAULT_PVC",
    "ENDPOINT_TYPE",
    "GPU_RESOURCE",
    "INPUT_ERROR_EXIT_CODE",
    "SERVER_PORT",
    "KubernetesEmitOptions",
    "ManifestError",
    "check_plan",
    "compile_for_kubernetes",
    "dns_name",
    "dump_manifests",
    "emit_endpoint",
    "emit_job",
    "emit_kubernetes",
    "emit_plan_configmap",
    "endpoint_name",
    "endpoint_url",
    "job_name",
    "label_value",
    "resolve_run_id",
    "run_selector",
]
