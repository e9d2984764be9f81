"""What this machine can run, said on the node before a run: a missing PyTorch, a GPU it lacks.

The compiler validates a pipeline anywhere (the catalog always has
``train.mlp``); only the local backend runs steps on this machine, so only
there does a missing package or GPU stop a run. The check reads what is
installed without importing it (importing torch costs seconds), and asks torch
about GPUs once per studio process, only when torch is there.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache

from compiler import Diagnostic, Pipeline

__all__ = ["machine_diagnostics"]

_NEEDS_TORCH = {"train.mlp"}
_INSTALL = "pip install 'pipecanvas[gpu]'"


@lru_cache(maxsize=1)
def _has_torch() -> bool:
    return importlib.util.find_spec("torch") is not None


@lru_cache(maxsize=1)
def _has_gpu() -> bool:
    import torch  # only when installed (see _has_torch)

    return bool(torch.cuda.is_available())


def machine_diagnostics(pipeline: Pipeline, backend: str) -> list[Diagnostic]:
    """Errors for steps this machine cannot run on the local backend; a warning where a GPU node gets the CPU."""
    if backend != "local":
        return []
    found: list[Diagnostic] = []
    for node in pipeline.spec.nodes:
        if node.type not in _NEEDS_TORCH:
            continue
        if not _has_torch():
            found.append(Diagnostic("error", f"node '{node.id}': needs PyTorch, which is not installed on this "
                                    f"machine: {_INSTALL} (or run it on Kubernetes)", node=node.id))
            continue
        device = str(node.params.get("device") or "auto")
        if _has_gpu():
            continue
        if device == "cuda":
            found.append(Diagnostic("error", f"node '{node.id}': device 'cuda' asks for a GPU and this machine has "
                                    "none; set device to 'auto' or 'cpu', or run it on Kubernetes", node=node.id,
                                    param="device"))
        else:
            found.append(Diagnostic("warning", f"node '{node.id}': no GPU on this machine, so it trains on the CPU "
                                    "(slower)", node=node.id))
    return found
