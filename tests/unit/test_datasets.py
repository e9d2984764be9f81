"""The dataset store and ``pipecanvas datasets``: stored once by content, named portably, asked for when absent."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from compiler import Pipeline, compile_plan
from nodes import default_catalog
from nodes.context import RunContext
from nodes.data import FileParams, FileTable
from nodes.errors import NodeInputError
from real_files import real_file
from runtime.datasets import DatasetError, add_dataset, list_datasets, remove_dataset
from studio.cli import main


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIPECANVAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_the_same_content_is_stored_once_under_every_name(tmp_path):
    copy = tmp_path / "arthritis-copy.csv"
    shutil.copy(real_file("Arthritis.csv"), copy)

    first = add_dataset(Path(real_file("Arthritis.csv")))
    second = add_dataset(copy)
    from_stream = add_dataset(io.BytesIO(copy.read_bytes()), "upload.csv")

    assert first.digest == second.digest == from_stream.digest
    [stored] = list_datasets()
    assert stored.names == ("Arthritis.csv", "arthritis-copy.csv", "upload.csv")
    assert stored.path.read_bytes() == copy.read_bytes()
    assert stored.size == copy.stat().st_size


def test_a_data_node_reads_a_dataset_by_its_digest_from_anywhere(tmp_path):
    stored = add_dataset(Path(real_file("Arthritis.csv")))

    table = FileTable().run({}, FileParams(**stored.params(), target="Improved"), RunContext(work_dir=tmp_path))["table"]

    assert len(table.frame) == 84 and table.target == "Improved"


def test_an_absent_dataset_says_which_file_to_add(tmp_path):
    stored = add_dataset(Path(real_file("Arthritis.csv")))
    remove_dataset("Arthritis.csv")

    with pytest.raises(NodeInputError, match=r"dataset 'Arthritis.csv' \(sha256:.*\) is not in the dataset store.*"
                                             r"pipecanvas datasets add Arthritis.csv"):
        FileTable().run({}, FileParams(**stored.params()), RunContext(work_dir=tmp_path))


def test_unusable_names_and_files_are_refused(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DatasetError, match="not a file pipecanvas reads"):
        add_dataset(io.BytesIO(b"x"), "script.sh")
    with pytest.raises(DatasetError, match="empty"):
        add_dataset(tmp_path / "empty.csv")
    with pytest.raises(DatasetError, match="was not found"):
        add_dataset(tmp_path / "nope.csv")
    assert list_datasets() == []


def test_the_cache_key_follows_the_content_digest(tmp_path):
    one = add_dataset(Path(real_file("kyphosis.csv")), "data.csv")
    other = add_dataset(Path(real_file("Pima.tr.csv")), "data.csv")

    def key(params: dict) -> str:
        pipeline = Pipeline.model_validate({
            "apiVersion": "pipecanvas/v1", "kind": "Pipeline", "metadata": {"name": "k"},
            "spec": {"nodes": [{"id": "load", "type": "data.file", "params": params}], "edges": []}})
        return compile_plan(pipeline, default_catalog(), str(tmp_path), fingerprint_sources=True).step("load").cache_key

    assert key(one.params()) != key(other.params())
    assert key(one.params()) == key(one.params())


def test_cli_add_list_rm(capsys):
    assert main(["datasets", "add", real_file("Arthritis.csv")]) == 0
    added = capsys.readouterr().out
    assert "path: Arthritis.csv" in added and "digest: sha256:" in added

    assert main(["datasets", "list"]) == 0
    assert "Arthritis.csv" in capsys.readouterr().out

    assert main(["datasets", "rm", "Arthritis.csv"]) == 0
    assert main(["datasets", "rm", "Arthritis.csv"]) == 2
    assert "no dataset is named 'Arthritis.csv'" in capsys.readouterr().err
