"""Honest about the machine: a train.mlp node says, before a run, that this machine lacks PyTorch or a GPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import read_pipeline_file
from studio import machine_check

GPU_EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "iris-mlp-gpu.yaml"


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch):
    def set_up(torch: bool, gpu: bool = False) -> None:
        monkeypatch.setattr(machine_check, "_has_torch", lambda: torch)
        monkeypatch.setattr(machine_check, "_has_gpu", lambda: gpu)
    return set_up


def mlp_nodes():
    pipeline = read_pipeline_file(GPU_EXAMPLE).pipeline
    return pipeline, [n.id for n in pipeline.spec.nodes if n.type == "train.mlp"]


def test_without_torch_the_node_has_an_error_with_the_install_command(machine) -> None:
    machine(torch=False)
    pipeline, ids = mlp_nodes()
    found = machine_check.machine_diagnostics(pipeline, "local")
    assert [(d.severity, d.node) for d in found] == [("error", i) for i in ids]
    assert "pip install 'pipecanvas[gpu]'" in found[0].message
    assert machine_check.machine_diagnostics(pipeline, "kubernetes") == []  # the cluster's image has it


def test_with_torch_but_no_gpu_auto_warns_it_trains_on_the_cpu_and_cuda_is_an_error(machine) -> None:
    machine(torch=True, gpu=False)
    pipeline, ids = mlp_nodes()
    pipeline.node(ids[0]).params["device"] = "auto"
    (warning,) = machine_check.machine_diagnostics(pipeline, "local")
    assert warning.severity == "warning" and "trains on the CPU" in warning.message
    pipeline.node(ids[0]).params["device"] = "cuda"
    (error,) = machine_check.machine_diagnostics(pipeline, "local")
    assert error.severity == "error" and error.param == "device"
    machine(torch=True, gpu=True)
    assert machine_check.machine_diagnostics(pipeline, "local") == []
