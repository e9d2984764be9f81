"""Every API call the Kubernetes backend makes, as RBAC sees it: what deploy/rbac.yaml must grant, and why.

One table, used three ways: pre-flight asks the API server (SelfSubjectAccessReview)
whether the user may do what a run will do; deploy/README.md explains each Role
rule from it; and the tests check that the shipped Role grants every entry, that
every rule of the Role is used, and that each request the code sends to the
emulated API server during the tests is in this table.

``feature`` says who needs it: ``run`` (the runner: the CLI, the studio, or the
run process in the cluster), ``deploy`` (a deploy.endpoint step's pod, and
``pipecanvas undeploy``/``endpoints``), ``plan-configmap`` (runs whose plan
travels in a ConfigMap) and ``preflight``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Permission", "PERMISSIONS", "NOT_GRANTED", "permissions_for"]


@dataclass(frozen=True)
class Permission:
    verbs: tuple[str, ...]
    group: str  # "" is the core API group
    resource: str  # plural, or plural/subresource
    feature: str
    why: str


PERMISSIONS: tuple[Permission, ...] = (
    Permission(("create", "get", "list", "watch", "delete"), "batch", "jobs", "run",
               "start, follow and cancel the steps' Jobs"),
    Permission(("get", "list", "watch"), "", "pods", "run", "follow the steps' pods and the model servers' pods"),
    Permission(("get",), "", "pods/log", "run", "keep the steps' logs"),
    Permission(("create", "delete"), "", "configmaps", "plan-configmap", "ship the plan in a ConfigMap"),
    Permission(("create", "get", "list", "patch", "delete"), "apps", "deployments", "deploy",
               "start, roll over, find and remove the model servers of deploy.endpoint steps"),
    Permission(("create", "list", "patch", "delete"), "", "services", "deploy",
               "give each model server its in-cluster address"),
    Permission(("get",), "", "persistentvolumeclaims", "preflight", "check that the artifact claim exists"),
    Permission(("get",), "", "serviceaccounts", "preflight", "check that the pods' service account exists"),
)

#: calls the code makes that the shipped Role leaves out on purpose; each one degrades to a warning without it
NOT_GRANTED: tuple[Permission, ...] = (
    Permission(("list",), "", "nodes", "preflight",
               "see whether some node offers the GPUs a step asks for (cluster-wide: a ClusterRole an administrator "
               "may add)"),
    Permission(("get",), "", "secrets", "preflight",
               "confirm that the bucket Secret exists (get reveals the values: grant it with resourceNames if at all)"),
    Permission(("get",), "", "namespaces", "preflight",
               "confirm that the namespace exists (cluster-wide; without it the dry run tells)"),
    Permission(("create",), "authorization.k8s.io", "selfsubjectaccessreviews", "preflight",
               "ask what you may do (every authenticated user may, through the built-in system:basic-user role)"),
)


def permissions_for(plan_configmap: bool) -> list[Permission]:
    """What a run's runner needs in its namespace (checked by pre-flight)."""
    wanted = {"run"} | ({"plan-configmap"} if plan_configmap else set())
    return [permission for permission in PERMISSIONS if permission.feature in wanted]
