"""What this machine offers a local run: the optional packages its nodes import, and GPUs.

A local run executes every step here, so a node whose ``needs`` (``nodes.base.PackageNeed``)
are not installed would fail in its step after the steps before it ran; a node told to use
``device: cuda`` on a machine without a GPU likewise. ``check_machine`` finds both before a
run, located on the node with the command that fixes it, for ``pipecanvas validate`` and the
studio's problems; ``start_run`` refuses a local run that has any (``MachineError``). A GPU
node on ``device: auto`` runs on the CPU where there is no GPU: a warning, and
``where_it_runs`` says which for the node's panel. The Kubernetes backend never uses these:
its steps run in the node type's image, on a node the cluster picks.

Packages are looked up with ``importlib.util.find_spec`` (nothing is imported); GPUs through
the NVIDIA driver's files (``/proc/driver/nvidia/gpus``), not through torch.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from compiler.diagnostics import Diagnostic, errors_only
from compiler.plan import step_resources
from compiler.spec import NodeSpec, Pipeline
from compiler.yaml_io import SourceMap
from nodes.base import NodeType, PackageNeed
from nodes.catalog import Catalog

from .refusals import RunRefusedError

__all__ = ["MachineError", "check_machine", "gpu_count", "missing_packages", "package_installed", "refuse_what_this_machine_lacks",
           "where_it_runs"]

_NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")
#: the node param that picks the device, by the convention ``train.mlp`` sets
_DEVICE_PARAM = "device"


class MachineError(RunRefusedError):
    """A local run was asked for nodes this machine cannot run; ``diagnostics`` says which and the fix."""


def package_installed(module: str) -> bool:
    """Whether ``module`` can be imported here, found without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken parent package, or a module whose __spec__ is None
        return False


@lru_cache(maxsize=1)
def gpu_count() -> int:
    """NVIDIA GPUs the driver shows (``CUDA_VISIBLE_DEVICES`` set empty or to -1 hides them, as CUDA does)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return 0
    try:
        return sum(1 for _ in _NVIDIA_GPUS.iterdir())
    except OSError:
        return 0


def missing_packages(node_type: type[NodeType]) -> list[PackageNeed]:
    """The packages a node type needs that are not installed here."""
    return [need for need in node_type.needs if not package_installed(need.module)]


def _gpus_asked(node: NodeSpec, node_type: type[NodeType], pipeline: Pipeline) -> int:
    """The GPUs the node's resources ask for (its own, else the pipeline's defaults, else its type's)."""
    return step_resources(node, node_type, pipeline.spec.defaults).gpu or 0


def _device_here(node: NodeSpec) -> Literal["cpu", "gpu", "none", "fallback"]:
    """Where a GPU node runs on this machine: on the CPU as told ('cpu'), on a GPU ('gpu'), nowhere
    (device 'cuda' and no GPU: 'none'), or on the CPU for want of a GPU (device 'auto': 'fallback')."""
    device = str(node.params.get(_DEVICE_PARAM, "auto"))
    if device == "cpu":
        return "cpu"
    if gpu_count():
        return "gpu"
    return "none" if device == "cuda" else "fallback"


def where_it_runs(node: NodeSpec, pipeline: Pipeline, catalog: Catalog, backend: str = "local") -> str | None:
    """For a node that asks for a GPU: where it will run, in a sentence (None for other nodes)."""
    node_type = catalog.get(node.type)
    if node_type is None or not _gpus_asked(node, node_type, pipeline):
        return None
    if backend != "local":
        return ("On the Kubernetes backend the cluster decides: the step asks for an NVIDIA GPU "
                "(nvidia.com/gpu) and waits for a node that has one.")
    verdict = _device_here(node)
    if verdict == "cpu":
        return "Runs on the CPU here (device 'cpu')."
    if verdict == "gpu":
        return f"Runs on a GPU here ({gpu_count()} NVIDIA GPU(s) found on this machine)."
    if verdict == "none":
        return "Cannot run here: device 'cuda' asks for a GPU and this machine has none."
    return "Runs on the CPU here: this machine has no GPU (device 'auto' uses one when there is)."


def check_machine(pipeline: Pipeline, catalog: Catalog, source_map: SourceMap | None = None) -> list[Diagnostic]:
    """Every node a local run could not run here, or would run on the CPU instead of a GPU."""
    lines = source_map or SourceMap()
    found: list[Diagnostic] = []
    for index, node in enumerate(pipeline.spec.nodes):
        node_type = catalog.get(node.type)
        if node_type is None:
            continue
        line = lines.line("spec", "nodes", index, "type") or lines.line("spec", "nodes", index)
        for need in missing_packages(node_type):
            found.append(Diagnostic(
                "error", f"node '{node.id}': needs {need.title}, which is not installed on this machine; "
                         f"install it with `{need.install}` (or run on the Kubernetes backend, whose image has it)",
                node=node.id, line=line))
        if not _gpus_asked(node, node_type, pipeline):
            continue
        verdict = _device_here(node)
        if verdict == "none":
            found.append(Diagnostic(
                "error", f"node '{node.id}': param 'device' is 'cuda' but this machine has no GPU; "
                         "set it to 'auto' or 'cpu' to train on the CPU here", node=node.id, param=_DEVICE_PARAM,
                line=lines.line("spec", "nodes", index, "params", _DEVICE_PARAM) or line))
        elif verdict == "fallback":
            found.append(Diagnostic(
                "warning", f"node '{node.id}': this machine has no GPU, so it will train on the CPU here "
                           "(slower); the Kubernetes backend can give it one", node=node.id, line=line))
    return found


def refuse_what_this_machine_lacks(pipeline: Pipeline, catalog: Catalog) -> None:
    """Raise ``MachineError`` when a local run of ``pipeline`` would fail for want of a package or a GPU."""
    errors = errors_only(check_machine(pipeline, catalog))
    if errors:
        raise MachineError(errors)
