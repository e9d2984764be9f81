"""Prepare a run for a cluster: its plan compiled for the cluster's storage, and the pre-flight verdict.

``runtime.runs.start_run`` calls this for ``backend="kubernetes"`` before it
records anything. Local input files are copied to the cluster's storage first
(``staging``), so the plan names copies the pods can read; a run that cannot work is refused with every reason
(``PreflightError``, each finding on its node), not started to fail later.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client import ApiClient
from pydantic import ValidationError

from compiler.diagnostics import Diagnostic, errors_only
from compiler.plan import ExecutionPlan, compile_plan
from compiler.spec import Pipeline
from nodes.catalog import Catalog

from .config import ClusterConfigError, api_client
from .preflight import PreflightError, preflight
from .staging import stage_local_inputs
from .types import KubernetesSettings

__all__ = ["KubernetesRun", "prepare_kubernetes_run"]


@dataclass(frozen=True)
class KubernetesRun:
    plan: ExecutionPlan
    settings: KubernetesSettings
    warnings: list[Diagnostic] = field(default_factory=list)


def _settings(raw: KubernetesSettings | dict[str, Any], run_id: str) -> KubernetesSettings:
    try:
        settings = KubernetesSettings.model_validate(raw)
        settings.emit_options(run_id)
    except ValidationError as exc:
        problems = [f"cluster: {error['msg'].removeprefix('Value error, ')}" for error in exc.errors()]
        raise PreflightError([Diagnostic("error", problem) for problem in problems]) from None
    return settings


def prepare_kubernetes_run(
    pipeline: Pipeline, catalog: Catalog, run_id: str, settings: KubernetesSettings | dict[str, Any], *,
    check: bool = True, api: ApiClient | None = None,
) -> KubernetesRun:
    """The run's plan (artifacts under the claim or bucket) and pre-flight warnings; raises ``PreflightError``."""
    parsed = _settings(settings, run_id)
    options = parsed.emit_options(run_id)
    staging: list[Diagnostic] = []
    if check and (options.bucket or os.path.isdir(options.mount_path)):  # else pre-flight says the claim is not here
        pipeline, staging = stage_local_inputs(pipeline, catalog, options.storage_root)
    plan = compile_plan(pipeline, catalog, options.artifact_root(run_id), fingerprint_sources=True)
    if not check:
        return KubernetesRun(plan, parsed)
    try:
        client = api or api_client(parsed.context)
    except ClusterConfigError as exc:
        raise PreflightError([Diagnostic("error", f"cluster: {exc}")]) from None
    diagnostics = staging + preflight(plan, options, client)
    if errors_only(diagnostics):
        raise PreflightError(diagnostics)
    return KubernetesRun(plan, parsed, diagnostics)
