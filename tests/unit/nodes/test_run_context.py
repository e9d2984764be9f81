"""A step's scratch folder exists only once a node asks for it, and goes away with the step."""

from __future__ import annotations

from nodes.context import RunContext


def test_no_scratch_folder_until_a_node_asks_for_one(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # pick TMPDIR up again
    context = RunContext(step_id="clean")
    assert list(tmp_path.iterdir()) == []
    scratch = context.work_dir
    assert scratch.is_dir() and scratch.parent == tmp_path and "clean" in scratch.name
    assert context.work_dir == scratch  # one folder per step, not one per use
    (scratch / "part.bin").write_bytes(b"x")
    context.remove_scratch()
    assert list(tmp_path.iterdir()) == []


def test_a_given_folder_is_used_and_kept(tmp_path):
    context = RunContext(work_dir=tmp_path)
    assert context.work_dir == tmp_path
    context.remove_scratch()
    assert tmp_path.is_dir()
