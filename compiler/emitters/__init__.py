"""Emitters turn an ExecutionPlan into what another system runs; today, Kubernetes manifests (one package each).

    ExecutionPlan ──emit_kubernetes(plan, KubernetesEmitOptions)──▶ [Job, Deployment, Service, ConfigMap…]
"""

from .kubernetes import (
    DEFAULT_MOUNT_PATH,
    DEFAULT_NAMESPACE,
    DEFAULT_PVC,
    KubernetesEmitOptions,
    ManifestError,
    check_plan,
    dns_name,
    label_value,
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
