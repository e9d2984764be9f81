"""Reach a cluster: a kubeconfig context (``$KUBECONFIG`` or ``~/.kube/config``), or, inside a pod, its service account."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from nodes.errors import PipecanvasError

__all__ = ["ClusterConfigError", "api_client", "api_message", "in_cluster", "kubeconfig_contexts"]


class ClusterConfigError(PipecanvasError):
    """No way to reach the cluster asked for: no kubeconfig, or no such context."""


def api_message(exc: Exception) -> str:
    """The API server's own words for an error (``jobs.batch "x" is forbidden: …``), else the error itself."""
    if isinstance(exc, ApiException):
        try:
            message = json.loads(exc.body or "{}").get("message")
        except (ValueError, AttributeError):
            message = None
        return message or f"{exc.status} {exc.reason}"
    return str(exc)


def _kubeconfig_path() -> Path:
    first = (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0]
    return Path(first).expanduser() if first else Path.home() / ".kube" / "config"


def kubeconfig_contexts() -> list[str]:
    """The context names of the kubeconfig (empty when there is none)."""
    try:
        contexts, _ = config.list_kube_config_contexts(config_file=os.environ.get("KUBECONFIG") or None)
    except (config.ConfigException, OSError, TypeError):
        return []
    return [context["name"] for context in contexts or []]


def in_cluster() -> bool:
    """Running in a pod with no kubeconfig: the cluster is reached with the pod's service account."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and not _kubeconfig_path().exists()


def api_client(context: str | None = None) -> client.ApiClient:
    """A client for kubeconfig context ``context`` (None: the current one, or in-cluster config inside a pod)."""
    if context is None and in_cluster():
        configuration = client.Configuration()
        config.load_incluster_config(client_configuration=configuration)
        return client.ApiClient(configuration)
    try:  # $KUBECONFIG read now (the library reads it once, at import), a list of files merged as kubectl does
        return config.new_client_from_config(config_file=os.environ.get("KUBECONFIG") or None, context=context)
    except (config.ConfigException, OSError) as exc:
        known = kubeconfig_contexts()
        if context is not None and known and context not in known:
            raise ClusterConfigError(f"no kubeconfig context '{context}'; known contexts: {', '.join(known)}") from None
        raise ClusterConfigError(f"cannot read the cluster settings from {_kubeconfig_path()}: {exc}") from None
