"""Where a studio run goes: Local, or Kubernetes when a kubeconfig context is reachable, with its settings.

Inside a pod (deploy/studio.yaml) with no kubeconfig, Kubernetes is offered
through the pod's service account, and the namespace and claim default to the
pod's own (``PIPECANVAS_NAMESPACE``, ``PIPECANVAS_K8S_PVC``).

The choice and the cluster settings live in the session (``Studio.backend``,
``Studio.cluster``) and are handed to ``runtime.runs.start_run`` unchanged; the
runtime pre-flights a Kubernetes run before creating anything.
"""

from __future__ import annotations

import os

import streamlit as st

from runtime.home import pipecanvas_home

from .session import Studio

__all__ = ["backend_panel", "available_contexts", "IN_CLUSTER"]

#: the context entry offered inside a pod: the service account, no kubeconfig
IN_CLUSTER = "in-cluster (this pod's service account)"


@st.cache_data(ttl=30, show_spinner=False)
def available_contexts() -> list[str]:
    """kubeconfig contexts on this machine (none: the Kubernetes backend is not offered)."""
    try:
        from runtime.kubernetes.config import in_cluster, kubeconfig_contexts

        return kubeconfig_contexts() or ([IN_CLUSTER] if in_cluster() else [])
    except Exception:  # no kubeconfig, or an unreadable one: local only
        return []


def backend_panel(s: Studio) -> None:
    """The backend switch and, for Kubernetes, the cluster settings; states plainly where runs go."""
    contexts = available_contexts()
    options = ["Local (this machine)"] + (["Kubernetes"] if contexts else [])
    index = 1 if s.backend == "kubernetes" and contexts else 0
    choice = st.radio("Run on", options, index=index, horizontal=True, key="backend-choice",
                      help=None if contexts else "Kubernetes appears here when a kubeconfig context is found.")
    s.backend = "kubernetes" if choice == "Kubernetes" else "local"
    if s.backend == "local":
        st.caption(f"Runs use the **local** executor; results in `{pipecanvas_home()}`.")
        return
    with st.expander("Cluster settings", expanded=not s.cluster.get("pvc") and not s.cluster.get("bucket")):
        left, right = st.columns(2)
        current = s.cluster.get("context")
        context = left.selectbox("Context", contexts, index=contexts.index(current) if current in contexts else 0)
        namespace = right.text_input("Namespace", value=s.cluster.get("namespace",
                                                                      os.environ.get("PIPECANVAS_NAMESPACE", "pipecanvas")))
        storage = st.radio("Artifacts", ["Shared volume (PVC)", "Bucket (s3://…)"], horizontal=True,
                           index=1 if s.cluster.get("bucket") else 0)
        if storage.startswith("Shared"):
            pvc = st.text_input("PVC name", value=s.cluster.get("pvc") or os.environ.get("PIPECANVAS_K8S_PVC",
                                                                                         "pipecanvas-artifacts"),
                                help="A ReadWriteMany claim mounted in every step (see deploy/pvc.yaml).")
            storage_settings = {"pvc": pvc.strip() or None}
        else:
            left, right = st.columns(2)
            bucket = left.text_input("Bucket URI", value=s.cluster.get("bucket") or "", placeholder="s3://my-bucket/pipecanvas")
            secret = right.text_input("Credentials Secret", value=s.cluster.get("bucket_secret") or "",
                                      help="The name of a Secret in the namespace; its values are never read here.")
            storage_settings = {"bucket": bucket.strip() or None, "bucket_secret": secret.strip() or None}
        registry = st.text_input("Image registry (optional)", value=s.cluster.get("image_registry") or "",
                                 help="Prefix for images that name no registry, e.g. registry.example.com/team.")
    s.cluster = {"context": None if context == IN_CLUSTER else context, "namespace": namespace.strip() or "pipecanvas", **storage_settings,
                 "image_registry": registry.strip() or None}
    where = s.cluster.get("pvc") or s.cluster.get("bucket") or "no storage set"
    st.caption(f"Runs go to **Kubernetes**: context `{context}`, namespace `{s.cluster['namespace']}`, artifacts on `{where}`.")
