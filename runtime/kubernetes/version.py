"""The API server's version, what an older one lacks in words, and the emit options that fit it.

Two Job fields the manifests use arrived late, and older servers drop them
silently (no error: the Job is created without them):

- ``podFailurePolicy`` (1.26): without it the Jobs are emitted without it too
  (so ``kubectl apply --dry-run=server`` passes there), input errors are still
  not retried (the coordinator decides retries; each attempt is its own Job with
  ``backoffLimit: 0``), but an evicted or preempted pod counts as a failed
  attempt, retried only if the node has retries left;
- ``ttlSecondsAfterFinished`` (1.23): finished Jobs and their pods stay until
  deleted by hand.

``MINIMUM_VERSION`` is the oldest server pipecanvas supports; an older one gets
a warning, not a refusal (the backend ran end to end on 1.20).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import urllib3
from kubernetes.client import ApiClient, VersionApi
from kubernetes.client.exceptions import ApiException

from compiler.diagnostics import Diagnostic
from compiler.emitters.kubernetes import KubernetesEmitOptions

__all__ = ["MINIMUM_VERSION", "ServerVersion", "server_version", "version_findings", "fit_options"]

MINIMUM_VERSION = (1, 23)
POD_FAILURE_POLICY = (1, 26)
TTL_AFTER_FINISHED = (1, 23)


@dataclass(frozen=True)
class ServerVersion:
    major: int
    minor: int
    text: str  # gitVersion, e.g. v1.29.3-eks-adc7111

    def at_least(self, version: tuple[int, int]) -> bool:
        return (self.major, self.minor) >= version

    @property
    def short(self) -> str:
        return f"{self.major}.{self.minor}"


def _number(text: object) -> int | None:
    match = re.match(r"\d+", str(text or ""))
    return int(match.group()) if match else None


def server_version(api: ApiClient) -> ServerVersion | None:
    """``GET /version`` (allowed to everyone); None when it cannot be read or makes no sense."""
    try:
        body = json.loads(VersionApi(api).get_code(_preload_content=False).data)
    except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError):
        return None
    major, minor = _number(body.get("major")), _number(body.get("minor"))
    if major is None or minor is None:
        return None
    return ServerVersion(major, minor, str(body.get("gitVersion") or f"v{major}.{minor}"))


def version_findings(version: ServerVersion | None, namespace: str) -> list[Diagnostic]:
    """What this server lacks, in words (warnings: the run works, with these gaps)."""
    if version is None:
        return []
    found = []
    lowest = ".".join(map(str, MINIMUM_VERSION))
    if not version.at_least(MINIMUM_VERSION):
        found.append(f"Kubernetes {version.text} is older than {lowest}, the oldest version pipecanvas supports; "
                     "runs may work, with the gaps below, but nothing is promised")
    if not version.at_least(POD_FAILURE_POLICY):
        found.append(f"Kubernetes {version.short} has no Job podFailurePolicy (1.26+): the Jobs are created without "
                     "it, so a pod evicted or preempted counts as a failed attempt (retried only if the node has "
                     "retries left)")
    if not version.at_least(TTL_AFTER_FINISHED):
        found.append(f"Kubernetes {version.short} does not remove finished Jobs (ttlSecondsAfterFinished, 1.23+): "
                     f"delete a run's Jobs with `kubectl -n {namespace} delete jobs -l pipecanvas.io/run=RUN_ID`")
    return [Diagnostic("warning", f"cluster: {message}") for message in found]


def fit_options(options: KubernetesEmitOptions, version: ServerVersion | None) -> KubernetesEmitOptions:
    """The emit options for this server: without podFailurePolicy where it has none (unknown: as asked)."""
    if version is not None and not version.at_least(POD_FAILURE_POLICY) and options.pod_failure_policy:
        return options.model_copy(update={"pod_failure_policy": False})
    return options
