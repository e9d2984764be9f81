"""deploy/ as a kustomize base (`kubectl apply -k deploy/`): rendered by kubectl, valid, Pod Security restricted.

Rendered with the real ``kubectl kustomize`` when kubectl is installed (skipped,
saying so, otherwise); every document must pass kubernetes-validate's strict
schemas for 1.32 and 1.37, and every pod template the "restricted" profile.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
KUBECTL = shutil.which("kubectl")
_ALLOWED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected",
                    "secret"}

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed: cannot render deploy/ with kustomize")


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    result = subprocess.run([KUBECTL, "kustomize", str(REPO / "deploy")], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """What breaks the Pod Security "restricted" profile (the rules of the Kubernetes documentation)."""
    found = []
    pod_context = pod.get("securityContext") or {}
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            found.append(key)
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= _ALLOWED_VOLUMES:
            found.append(f"volume {volume['name']} is {kinds}")
    for container in [*(pod.get("initContainers") or []), *pod["containers"]]:
        context = container.get("securityContext") or {}
        name = container["name"]
        if context.get("privileged"):
            found.append(f"{name}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation is not false")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []) or set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"{name}: capabilities must drop ALL and add at most NET_BIND_SERVICE")
        if not context.get("runAsNonRoot", pod_context.get("runAsNonRoot")):
            found.append(f"{name}: runAsNonRoot is not true")
        if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
            found.append(f"{name}: runs as root")
        seccomp = (context.get("seccompProfile") or pod_context.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: seccompProfile must be RuntimeDefault or Localhost")
        if any(port.get("hostPort") for port in container.get("ports") or []):
            found.append(f"{name}: hostPort")
    return found


@pytest.mark.parametrize("version", ["1.32", "1.37"])
def test_the_rendered_base_is_valid_for_kubernetes(rendered, version):
    assert {d["kind"] for d in rendered} == {"Namespace", "ServiceAccount", "Role", "RoleBinding",
                                             "PersistentVolumeClaim", "Deployment", "Service"}
    for document in rendered:
        kubernetes_validate.validate(document, version, strict=True)


def test_the_restricted_check_catches_a_root_pod():
    """Guards the test below: a pod that breaks the profile must be caught."""
    pod = {"containers": [{"name": "c", "securityContext": {"runAsUser": 0}}], "volumes": [{"name": "h", "hostPath": {}}]}
    assert len(restricted_violations(pod)) >= 5


def test_the_studio_runs_restricted_with_probes_limits_its_claims_and_the_runner_account(rendered):
    (deployment,) = [d for d in rendered if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (studio,) = pod["containers"]

    assert restricted_violations(pod) == []
    assert pod["serviceAccountName"] == "pipecanvas-runner" and pod["automountServiceAccountToken"] is True
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert studio[probe]["httpGet"] == {"path": "/_stcore/health", "port": "http"}
    assert {"cpu", "memory"} <= studio["resources"]["limits"].keys()
    mounts = {m["mountPath"]: m["name"] for m in studio["volumeMounts"]}
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v}
    env = {e["name"]: e.get("value") for e in studio["env"]}
    assert claims[mounts[env["PIPECANVAS_HOME"]]] == "pipecanvas-studio-home"  # the run store, on its own claim
    assert claims[mounts["/pipecanvas"]] == env["PIPECANVAS_K8S_PVC"] == "pipecanvas-artifacts"  # the steps' results
    (service,) = [d for d in rendered if d["kind"] == "Service"]
    assert service["spec"]["type"] == "ClusterIP"  # reached through `kubectl port-forward`, not exposed
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert {d["metadata"].get("namespace") for d in rendered if d["kind"] != "Namespace"} == {"pipecanvas"}
    namespace = next(d for d in rendered if d["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
