"""How a plan is placed on a cluster: namespace, run id, storage, service account.

The storage decides where every artifact lives, so it also decides the plan's
``artifact_root``: with a shared volume (``pvc``) the claim is mounted at
``mount_path`` in every pod and a run's files go under
``{mount_path}/runs/{run_id}/artifacts``; with an object store (``bucket``)
they go under ``{bucket}/runs/{run_id}/artifacts`` and the pods get the
store's credentials from a Secret, referenced by name only.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nodes.errors import PipecanvasError

__all__ = ["KubernetesEmitOptions", "ManifestError", "DEFAULT_NAMESPACE", "DEFAULT_PVC", "DEFAULT_MOUNT_PATH"]

DEFAULT_NAMESPACE = "pipecanvas"
DEFAULT_PVC = "pipecanvas-artifacts"
DEFAULT_MOUNT_PATH = "/pipecanvas"
_SCRATCH_HOME = "/tmp/pipecanvas"
#: folders a claim must not hide: the image's own (a claim on /etc hides its CA certificates and users), the
#: runtime's scratch space and the kubelet's (the service-account token is under /var/run/secrets)
_RESERVED_PATHS = ("/tmp", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/boot", "/run", "/var/run",
                   "/proc", "/sys", "/dev")
#: an OCI registry (host, optional port) and optional path, as an image reference starts
_REGISTRY = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\Z"
)
_RUN_ID = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
_DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}\Z)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_STORE_URI = re.compile(r"^([a-z][a-z0-9+.-]*)://[^/\s]+(/\S*)?\Z")


class ManifestError(PipecanvasError):
    """The plan cannot be turned into manifests with these options. ``problems`` lists every one found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def _object_name(value: str, what: str) -> str:
    if not _DNS_SUBDOMAIN.match(value):
        raise ValueError(f"{what} '{value}' is not a valid Kubernetes name (lowercase letters, digits, '-' and '.')")
    return value


class KubernetesEmitOptions(BaseModel):
    """Everything about the cluster that the pipeline file does not say. Exactly one of ``pvc`` or ``bucket``.

    With neither given, the example claim ``pipecanvas-artifacts`` (deploy/pvc.yaml) is used.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str = DEFAULT_NAMESPACE
    run_id: str | None = Field(None, description="Lowercase DNS label; default: the pipeline digest's first 8 characters")
    service_account: str = "pipecanvas-runner"
    pvc: str | None = Field(None, description="ReadWriteMany claim holding the artifacts, mounted at mount_path.")
    mount_path: str = DEFAULT_MOUNT_PATH
    bucket: str | None = Field(None, description="Object-store root for the artifacts, e.g. s3://team-ml/pipecanvas.")
    bucket_secret: str | None = Field(None, description="Secret whose keys become the pods' environment (e.g. AWS_*).")
    ttl_seconds_after_finished: int = Field(3600, ge=0)
    image_pull_secrets: tuple[str, ...] = ()
    image_registry: str | None = Field(None, description="Registry prefix for images named without one.")
    plan_configmap: bool = Field(False, description="Ship the plan in a ConfigMap instead of reading it from storage.")
    pod_failure_policy: bool = Field(True, description="Give Jobs a podFailurePolicy (Kubernetes 1.26+; older "
                                                       "servers drop it, and kubectl's validation refuses it).")

    @model_validator(mode="before")
    @classmethod
    def _default_storage(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("pvc") and not data.get("bucket"):
            return {**data, "pvc": DEFAULT_PVC}
        return data

    @model_validator(mode="after")
    def _one_storage(self) -> "KubernetesEmitOptions":
        if self.pvc and self.bucket:
            raise ValueError("give either a PersistentVolumeClaim (pvc) or a bucket for the artifacts, not both")
        if self.bucket_secret and not self.bucket:
            raise ValueError("bucket_secret is only used with a bucket")
        return self

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not _DNS_LABEL.match(value):
            raise ValueError(f"namespace '{value}' must be a lowercase DNS label of at most 63 characters")
        return value

    @field_validator("run_id")
    @classmethod
    def _run_id(cls, value: str | None) -> str | None:
        if value is not None and not _RUN_ID.match(value):
            raise ValueError(f"run id '{value}' must be lowercase letters, digits and '-', at most 63 characters")
        return value

    @field_validator("service_account", "pvc", "bucket_secret")
    @classmethod
    def _names(cls, value: str | None, info: Any) -> str | None:
        return None if value is None else _object_name(value, info.field_name.replace("_", " "))

    @field_validator("image_pull_secrets")
    @classmethod
    def _pull_secrets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_object_name(name, "image pull secret") for name in value)

    @field_validator("mount_path")
    @classmethod
    def _mount_path(cls, value: str) -> str:
        path = "/" + posixpath.normpath(value).lstrip("/") if value.startswith("/") else ""  # "//x" is "/x"
        plain = ".." not in value.split("/") and all(c.isprintable() and not c.isspace() for c in value)
        reserved = any(path == folder or path.startswith(folder + "/") for folder in _RESERVED_PATHS)
        if path in ("", "/") or not plain or reserved:
            raise ValueError(f"mount path '{value}' must be an absolute folder other than /, /tmp and system folders")
        return path

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = _STORE_URI.match(value)
        if not match or match.group(1) == "file":
            raise ValueError(f"bucket '{value}' must be an object-store URI such as s3://bucket/prefix")
        if "?" in value or "#" in value or ".." in value.split("://", 1)[1].split("/"):
            raise ValueError(f"bucket '{value}' must be a plain prefix, without '..', '?' or '#' "
                             "(every artifact's URI is built under it)")
        return value.rstrip("/")

    @field_validator("image_registry")
    @classmethod
    def _registry(cls, value: str | None) -> str | None:
        if value is not None and not _REGISTRY.match(value.strip("/")):
            raise ValueError(f"image registry '{value}' must look like registry.example.com/team or localhost:5000 "
                             "(no scheme; a port is digits)")
        return None if value is None else value.strip("/")

    @property
    def storage_root(self) -> str:
        """The folder or URI under which every run's artifacts live."""
        return self.bucket if self.bucket else self.mount_path

    @property
    def pipecanvas_home(self) -> str:
        """``PIPECANVAS_HOME`` in the pods: the shared volume, or scratch space when artifacts are in a bucket."""
        return self.mount_path if self.pvc else _SCRATCH_HOME

    def resolved_run_id(self, pipeline_digest: str) -> str:
        """The given run id, else the first 8 characters of the pipeline's digest (the same pipeline, the same id)."""
        return self.run_id or pipeline_digest[:8]

    def artifact_root(self, run_id: str) -> str:
        """Where a run's artifacts (and its plan) go: the same layout as ``runtime.home`` uses locally."""
        return f"{self.storage_root}/runs/{run_id}/artifacts"
