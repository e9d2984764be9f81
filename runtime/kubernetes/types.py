"""Typed records of the Kubernetes backend: the run's cluster settings and what the watcher passes on.

Like Airflow's ``kubernetes_executor_types``: the watcher threads, the log
followers and the executor talk only through these, so each can be tested on
its own. Objects from the API stay plain dicts (what the server sent, parsed
JSON), read by ``status``; nothing here calls the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from compiler.emitters.kubernetes import DEFAULT_MOUNT_PATH, DEFAULT_NAMESPACE, KubernetesEmitOptions

__all__ = [
    "ATTEMPT_LABEL",
    "RUN_LABEL",
    "STEP_ANNOTATION",
    "STEP_CONTAINER",
    "OPTIONS_ENV",
    "KubernetesSettings",
    "ObjectKind",
    "WatchUpdate",
    "ListSnapshot",
    "PodFailure",
    "PodView",
]

#: labels and annotations the emitter puts on every step Job and its pods (compiler.emitters.kubernetes)
RUN_LABEL = "pipecanvas.io/run"
STEP_ANNOTATION = "pipecanvas.io/step-id"
#: added by the executor: one Job per attempt, so a retry is a new Job
ATTEMPT_LABEL = "pipecanvas.io/attempt"
STEP_CONTAINER = "step"
#: the emit options as JSON, in deploy steps' pods, so their endpoint launcher emits the same server
OPTIONS_ENV = "PIPECANVAS_K8S_OPTIONS"

ObjectKind = Literal["job", "pod"]


class KubernetesSettings(BaseModel):
    """How a run reaches its cluster: kept in the run's options (``options["kubernetes"]``), no secrets.

    ``context`` picks a kubeconfig context (None: the current one, or the
    in-cluster service account when running in a pod). The rest are the
    emitter's options; the run id is the run's own. Without ``plan_configmap``
    a shared volume gets the plan in a ConfigMap (this machine cannot write to
    the claim) and a bucket gets it as a file next to the artifacts.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    context: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    pvc: str | None = None
    mount_path: str = DEFAULT_MOUNT_PATH
    bucket: str | None = None
    bucket_secret: str | None = None
    image_registry: str | None = None
    service_account: str = "pipecanvas-runner"
    plan_configmap: bool | None = None

    def emit_options(self, run_id: str) -> KubernetesEmitOptions:
        """The emitter's options for run ``run_id`` (raises pydantic's ValidationError on a bad name)."""
        fields = self.model_dump(exclude={"context", "plan_configmap"}, exclude_none=True)
        plan_configmap = self.plan_configmap if self.plan_configmap is not None else not self.bucket
        return KubernetesEmitOptions(**fields, run_id=run_id, plan_configmap=plan_configmap)


@dataclass(frozen=True)
class WatchUpdate:
    """One Job or Pod as the API server last showed it. ``type``: ADDED, MODIFIED, DELETED, or LISTED (a re-list)."""

    kind: ObjectKind
    type: str
    obj: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.obj.get("metadata", {}).get("name", ""))


@dataclass(frozen=True)
class ListSnapshot:
    """Every object of ``kind`` a (re-)list returned, as of ``resource_version``.

    An object we know of that is missing here was deleted while no watch was
    open, provided it existed by then (its creation version is not newer).
    """

    kind: ObjectKind
    names: frozenset[str]
    resource_version: int | None


@dataclass(frozen=True)
class PodFailure:
    """Why a step's container stopped with an error: shown on the node, and its exit code decides on retries."""

    container: str
    exit_code: int | None
    reason: str | None
    message: str | None = None

    def describe(self) -> str:
        """``container 'step' was OOMKilled (exit code 137)``; ``… exited with code 1``."""
        what = f"was {self.reason}" if self.reason and self.reason not in ("Error", "Completed") else "exited"
        code = "" if self.exit_code is None else (
            f" (exit code {self.exit_code})" if what != "exited" else f" with code {self.exit_code}")
        text = f"container '{self.container}' {what}{code}"
        return f"{text}: {self.message.strip()}" if self.message and self.message.strip() else text


@dataclass(frozen=True)
class PodView:
    """What one pod says about its step's attempt (see ``status.pod_view``)."""

    name: str
    started: bool = False
    started_at: float | None = None
    terminated: bool = False
    succeeded: bool = False
    failure: PodFailure | None = None
    disrupted: bool = False
    waiting: str | None = None
