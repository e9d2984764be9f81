"""Honest about the machine: a local run's missing packages and GPUs are found before it starts, with the fix."""

from __future__ import annotations

import sys

import pytest

from runtime import machine
from runtime.machine import MachineError, check_machine, refuse_what_this_machine_lacks, where_it_runs


@pytest.fixture
def mlp_pipeline(pipeline_doc, load_doc):
    def build(**params):
        nodes = [{"id": "load", "type": "data.sample", "params": {"dataset": "iris"}},
                 {"id": "net", "type": "train.mlp", **({"params": params} if params else {})}]
        return load_doc(pipeline_doc(nodes, [("load.table", "net.train")])).pipeline
    return build


@pytest.fixture
def no_torch(monkeypatch):
    real = machine.package_installed
    monkeypatch.setattr(machine, "package_installed", lambda module: module != "torch" and real(module))


def _gpus(monkeypatch, count: int) -> None:
    monkeypatch.setattr(machine, "gpu_count", lambda: count)


def test_a_missing_package_is_an_error_on_the_node_with_the_install_command(mlp_pipeline, catalog, no_torch,
                                                                             monkeypatch) -> None:
    _gpus(monkeypatch, 1)
    (found,) = check_machine(mlp_pipeline(), catalog)
    assert (found.severity, found.node) == ("error", "net")
    assert "needs PyTorch, which is not installed on this machine" in found.message
    assert "pip install 'pipecanvas[gpu]'" in found.message
    with pytest.raises(MachineError, match="needs PyTorch"):
        refuse_what_this_machine_lacks(mlp_pipeline(), catalog)


def test_without_a_gpu_auto_warns_it_trains_on_the_cpu_and_cuda_is_an_error(mlp_pipeline, catalog, monkeypatch) -> None:
    monkeypatch.setattr(machine, "package_installed", lambda module: True)
    _gpus(monkeypatch, 0)
    (auto,) = check_machine(mlp_pipeline(), catalog)
    assert auto.severity == "warning" and "will train on the CPU here" in auto.message
    (cuda,) = check_machine(mlp_pipeline(device="cuda"), catalog)
    assert (cuda.severity, cuda.param) == ("error", "device") and "this machine has no GPU" in cuda.message
    assert check_machine(mlp_pipeline(device="cpu"), catalog) == []
    refuse_what_this_machine_lacks(mlp_pipeline(), catalog)  # a warning does not stop a run


def test_gpu_nodes_say_where_they_run(mlp_pipeline, catalog, monkeypatch) -> None:
    pipeline = mlp_pipeline()
    net, load = pipeline.node("net"), pipeline.node("load")
    _gpus(monkeypatch, 2)
    assert where_it_runs(net, pipeline, catalog) == "Runs on a GPU here (2 NVIDIA GPU(s) found on this machine)."
    _gpus(monkeypatch, 0)
    assert where_it_runs(net, pipeline, catalog).startswith("Runs on the CPU here: this machine has no GPU")
    assert "the cluster decides" in where_it_runs(net, pipeline, catalog, backend="kubernetes")
    assert where_it_runs(load, pipeline, catalog) is None  # not a GPU node


def test_packages_are_found_without_being_imported() -> None:
    assert "tabnanny" not in sys.modules  # a standard module nothing here imports
    assert machine.package_installed("tabnanny")
    assert "tabnanny" not in sys.modules
    assert not machine.package_installed("no_such_package_pipecanvas")
    assert not machine.package_installed("no_such_parent.child")


def test_cuda_visible_devices_empty_hides_the_gpus(monkeypatch) -> None:
    machine.gpu_count.cache_clear()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    try:
        assert machine.gpu_count() == 0
    finally:
        machine.gpu_count.cache_clear()
