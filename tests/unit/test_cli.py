"""The ``pipecanvas`` command line: exit codes, one located error per line, never a traceback."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from compiler import dump_yaml, load_plan_yaml
from studio.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.yaml"))
KINDS = {"table", "model", "metrics", "endpoint"}
ID_RULE = "id must be lowercase letters, digits and '-', start with a letter, not end with '-', at most 40 characters"
BUILTIN_TYPES = {
    "data.sample",
    "data.file",
    "prepare.split",
    "prepare.clean",
    "prepare.columns",
    "prepare.rows",
    "prepare.join",
    "prepare.formula",
    "train.classifier",
    "train.regressor",
    "train.mlp",
    "evaluate.classifier",
    "evaluate.regressor",
    "deploy.endpoint",
}


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep logs and artifacts of every CLI call inside the test's folder."""
    monkeypatch.setenv("PIPECANVAS_HOME", str(tmp_path / "home"))


@pytest.fixture
def write(tmp_path: Path):
    """write(name, text-or-bytes-or-document) → path."""

    def run(name: str, content) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else dump_yaml(content), encoding="utf-8")
        return path

    return run


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if ": error: " in line or line.startswith("error: ")]


# ---- nodes --------------------------------------------------------------------------------------


def test_nodes_json_describes_every_builtin_type(capsys) -> None:
    assert main(["nodes", "--json"]) == 0
    catalog = json.loads(capsys.readouterr().out)
    by_type = {entry["type"]: entry for entry in catalog}
    assert BUILTIN_TYPES <= set(by_type)
    for entry in catalog:
        assert entry["title"] and entry["description"]
        assert entry["category"] in {"data", "prepare", "train", "evaluate", "deploy"}
        for port in entry["inputs"] + entry["outputs"]:
            assert port["kind"] in KINDS
            assert isinstance(port["required"], bool)
        assert entry["outputs"], f"{entry['type']} has no outputs"
        assert entry["params_schema"]["type"] == "object"
        assert {"cpu", "memory"} <= set(entry["resources"])
    assert [p["name"] for p in by_type["prepare.clean"]["outputs"]] == ["train", "test", "preprocessor"]
    assert {p["name"]: p["required"] for p in by_type["deploy.endpoint"]["inputs"]} == {"model": True, "preprocessor": False}
    assert by_type["train.mlp"]["resources"]["gpu"] == 1
    classifier = by_type["train.classifier"]["params_schema"]["properties"]
    assert classifier["n_estimators"]["minimum"] == 1
    assert {"hist_gradient_boosting", "decision_tree", "naive_bayes", "extra_trees", "random_forest"} <= set(
        classifier["algorithm"]["enum"])
    assert classifier["algorithm"]["default"] == "hist_gradient_boosting"
    assert {p["name"]: p["many"] for p in by_type["evaluate.compare"]["inputs"]} == {"models": True, "test": False}
    assert by_type["data.file"]["params_schema"]["required"] == ["path"]


def test_nodes_prints_a_table(capsys) -> None:
    assert main(["nodes"]) == 0
    assert "data.sample" in capsys.readouterr().out


# ---- validate -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_validate_accepts_every_example(path: Path, capsys) -> None:
    """Every example is valid for a cluster; on this machine too, unless it needs PyTorch and torch is missing."""
    lacks_torch = "train.mlp" in path.read_text() and importlib.util.find_spec("torch") is None
    assert main(["validate", str(path), "--backend", "kubernetes"]) == 0
    assert f"{path}: valid" in capsys.readouterr().out
    assert main(["validate", str(path)]) == (2 if lacks_torch else 0)
    captured = capsys.readouterr()
    if lacks_torch:  # flagged before a run, with the fix, instead of failing in the step
        assert "needs PyTorch, which is not installed on this machine" in captured.err
        assert "pip install 'pipecanvas[gpu]'" in captured.err
    else:
        assert f"{path}: valid" in captured.out
        assert error_lines(captured.err) == []


def test_validate_prints_one_located_error_per_line(write, capsys) -> None:
    path = write(
        "bad.yaml",
        "apiVersion: pipecanvas/v1\n"
        "kind: Pipeline\n"
        "metadata:\n"
        "  name: Bad_Name\n"
        "spec:\n"
        "  nodes:\n"
        "    - id: load\n"
        "      type: data.sampel\n"
        "    - id: train\n"
        "      type: train.classifier\n"
        "      params:\n"
        "        n_estimators: 0\n"
        "  edges:\n"
        "    - from: load.table\n"
        "      to: train.model\n",
    )
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert error_lines(captured.err) == [
        f"{path}:4: error: pipeline: name 'Bad_Name' must be lowercase letters, digits and '-', start and end with "
        "a letter or digit, at most 63 characters (e.g. 'iris-classifier')",
        f"{path}:8: error: node 'load': unknown node type 'data.sampel' (did you mean 'data.sample'?)",
        f"{path}:9: error: node 'train': input 'train' (table) is not connected",
        f"{path}:12: error: node 'train': param 'n_estimators' must be ≥ 1 (got 0)",
        f"{path}:14: error: edge 'load.table -> train.model': node 'train' (train.classifier) has no input 'model'; "
        "its inputs are: train",
    ]
    assert f"{path}: 5 error(s)" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_validate_prints_warnings_and_still_passes(write, iris_doc, capsys) -> None:
    document = iris_doc()
    document["spec"]["nodes"].append({"id": "spare", "type": "data.sample"})
    path = write("warn.yaml", document)
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert f"{path}:29: warning: node 'spare': is not connected to anything" in captured.err.splitlines()
    assert f"{path}: valid (7 nodes, 1 warning(s))" in captured.out


def test_a_structural_error_is_located_too(write, capsys) -> None:
    path = write("keys.yaml", "apiVersion: pipecanvas/v1\nkind: Pipeline\nmetadata:\n  name: x\n  nmae: y\n")
    assert main(["validate", str(path)]) == 2
    assert error_lines(capsys.readouterr().err) == [
        f"{path}:5: error: pipeline: field 'metadata.nmae' is not a known setting (did you mean 'name'?)"
    ]


def test_the_file_name_prefixes_errors_whatever_its_extension(write, capsys) -> None:
    path = write("pipeline.txt", "apiVersion: pipecanvas/v1\nkind: Pipeline\nmetadata:\n  name: x\n  nmae: y\n")
    assert main(["validate", str(path)]) == 2
    assert error_lines(capsys.readouterr().err)[0].startswith(f"{path}:5: error: ")


def test_user_text_that_looks_like_console_markup_is_printed_as_is(write, pipeline_doc, make_node, capsys) -> None:
    document = pipeline_doc([make_node("load", "[/red] [bold]x :rocket:")])
    path = write("markup.yaml", document)
    assert main(["validate", str(path)]) == 2
    assert error_lines(capsys.readouterr().err) == [
        f"{path}:8: error: node 'load': unknown node type '[/red] [bold]x :rocket:'"
    ]


def test_line_breaks_in_user_text_stay_on_the_error_line(write, pipeline_doc, make_node, capsys) -> None:
    path = write("breaks.yaml", pipeline_doc([make_node("two\nlines\x85here", "data.sample")]))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"{path}:7: error: node 'two\\nlines\\x85here': {ID_RULE}"
    assert all(line.startswith(str(path)) for line in err.splitlines())


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.yaml", "", "the file is empty; a pipeline needs apiVersion, kind, metadata and spec"),
        ("garbage.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "this is not a pipeline file: it contains binary data"),
        ("latin1.yaml", "description: caf\u00e9".encode("latin-1"), "this is not a pipeline file: it is not UTF-8 text"),
        ("list.yaml", "- a\n- b\n", "a pipeline file must be a mapping with apiVersion, kind, metadata and spec, not a list"),
        (
            "bomb.yaml",
            'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
            + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")),
            "the file expands to more than 200,000 values (aliases repeat too much); it is refused",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and v.endswith(".yaml") else "",
)
def test_files_that_are_not_pipelines_exit_2_with_a_message(name, content, message, write, capsys) -> None:
    path = write(name, content)
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    (line,) = error_lines(captured.err)
    assert re.fullmatch(rf"{re.escape(str(path))}(:\d+)?: error: {re.escape(message)}", line)
    assert "Traceback" not in captured.err + captured.out


def test_random_bytes_exit_2(write, capsys) -> None:
    path = write("random.yaml", random.Random(7).randbytes(10_000))
    assert main(["validate", str(path)]) == 2
    assert error_lines(capsys.readouterr().err)[0].startswith(f"{path}: error: this is not a pipeline file")


def test_a_missing_file_exits_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "missing.yaml"
    assert main(["validate", str(path)]) == 2
    assert error_lines(capsys.readouterr().err) == [f"{path}: error: file '{path}' was not found"]


def test_a_folder_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["validate", str(tmp_path)]) == 2
    assert error_lines(capsys.readouterr().err) == [f"{tmp_path}: error: '{tmp_path}' is a folder, not a pipeline file"]


@pytest.mark.parametrize("command", ["validate", "compile"])
def test_an_endless_stream_is_refused_at_the_size_limit(command, capsys) -> None:
    # /dev/zero has no size to check beforehand: reading it whole never ended (and took all memory)
    assert main([command, "/dev/zero"]) == 2
    assert error_lines(capsys.readouterr().err) == [
        "/dev/zero: error: the file is larger than 5 MB; pipeline files may be at most 5 MB"]


def test_a_pipeline_can_come_from_a_pipe(tmp_path: Path) -> None:
    source = next(p for p in EXAMPLES if p.name == "iris-classifier.yaml")
    done = subprocess.run([sys.executable, "-m", "studio.cli", "validate", "/dev/stdin"], input=source.read_bytes(),
                          capture_output=True, env={**os.environ, "PIPECANVAS_HOME": str(tmp_path / "home")}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert b"/dev/stdin: valid (6 nodes" in done.stdout


def test_a_missing_argument_is_a_usage_error(capsys) -> None:
    assert main(["validate"]) == 2
    assert "Missing argument" in capsys.readouterr().err


def test_validate_in_a_fresh_process_exits_2_without_a_traceback(write) -> None:
    path = write("bad.yaml", "apiVersion: pipecanvas/v1\nkind: Pipeline\nmetadata:\n  name: x\nspec:\n  nodes:\n    - id: a\n      type: nope\n")
    result = subprocess.run(
        [sys.executable, "-m", "studio.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PIPECANVAS_HOME": str(path.parent / "home")},
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{path}:8: error: node 'a': unknown node type 'nope'" in result.stderr.splitlines()


# ---- compile ------------------------------------------------------------------------------------


def test_compile_writes_a_plan_that_loads(tmp_path: Path, capsys) -> None:
    source = next(p for p in EXAMPLES if p.name == "iris-classifier.yaml")
    out = tmp_path / "out" / "plan.yaml"
    assert main(["compile", str(source), "--target", "plan", "-o", str(out), "--artifact-root", str(tmp_path / "art")]) == 0
    plan = load_plan_yaml(out.read_text(encoding="utf-8"))
    assert [step.id for step in plan.steps] == ["load", "split", "clean", "train", "evaluate", "serve"]
    assert plan.artifact_root == str(tmp_path / "art")
    assert f"wrote {out} (6 steps)" in capsys.readouterr().out


def test_compile_prints_the_plan_without_an_output_file(capsys) -> None:
    source = next(p for p in EXAMPLES if p.name == "iris-classifier.yaml")
    assert main(["compile", str(source), "--artifact-root", "/runs/x"]) == 0
    plan = load_plan_yaml(capsys.readouterr().out)
    assert plan.step("train").inputs["train"].uri == "/runs/x/clean/train.parquet"


def test_compile_an_invalid_pipeline_exits_2_with_located_errors(write, tmp_path: Path, capsys) -> None:
    path = write("bad.yaml", "apiVersion: pipecanvas/v1\nkind: Pipeline\nmetadata:\n  name: x\nspec:\n  nodes:\n    - id: a\n      type: nope\n")
    out = tmp_path / "plan.yaml"
    assert main(["compile", str(path), "-o", str(out)]) == 2
    assert error_lines(capsys.readouterr().err) == [f"{path}:8: error: node 'a': unknown node type 'nope'"]
    assert not out.exists()


def test_compile_prints_warnings(write, iris_doc, tmp_path: Path, capsys) -> None:
    document = iris_doc()
    document["spec"]["nodes"].append({"id": "spare", "type": "data.sample"})
    path = write("warn.yaml", document)
    assert main(["compile", str(path), "-o", str(tmp_path / "plan.yaml")]) == 0
    assert f"{path}: warning: node 'spare': is not connected to anything" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["plan", "kubernetes"])
def test_compile_refuses_to_write_over_the_pipeline_it_compiles(target, tmp_path: Path, capsys) -> None:
    source = next(p for p in EXAMPLES if p.name == "iris-classifier.yaml")
    mine = tmp_path / "mine.yaml"
    mine.write_bytes(source.read_bytes())
    for output in (mine, tmp_path / "." / "mine.yaml", tmp_path / "link.yaml"):
        if output.name == "link.yaml":
            output.symlink_to(mine)
        assert main(["compile", str(mine), "--target", target, "-o", str(output)]) == 2
        assert "is the pipeline being compiled; writing there would replace the pipeline" in capsys.readouterr().err
    assert mine.read_bytes() == source.read_bytes()


@pytest.mark.parametrize("target", ["plan", "kubernetes"])
def test_compile_refuses_to_write_over_another_pipeline_but_replaces_its_own_output(target, tmp_path: Path, capsys) -> None:
    source = next(p for p in EXAMPLES if p.name == "iris-classifier.yaml")
    other = tmp_path / "other.yaml"
    other.write_text(dump_yaml({"apiVersion": "pipecanvas/v1", "kind": "Pipeline", "metadata": {"name": "other"},
                                "spec": {"nodes": [], "edges": []}}), encoding="utf-8")
    kept = other.read_bytes()
    assert main(["compile", str(source), "--target", target, "-o", str(other)]) == 2
    assert "holds a pipeline (kind: Pipeline); compile does not overwrite pipelines" in capsys.readouterr().err
    assert other.read_bytes() == kept
    plan = tmp_path / "plan.yaml"
    for _ in range(2):  # compiling again replaces the previous output
        assert main(["compile", str(source), "--target", target, "-o", str(plan)]) == 0
    assert "kind: Pipeline\n" not in plan.read_text(encoding="utf-8")


def test_compile_to_a_place_it_cannot_write_exits_2_naming_it(tmp_path: Path, capsys) -> None:
    source = next(p for p in EXAMPLES if p.name == "iris-classifier.yaml")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    cases = [
        (["-o", str(tmp_path)], f"error: {tmp_path} is a folder; give a file name, e.g. {tmp_path / 'plan.yaml'}"),
        (["-o", str(blocker / "plan.yaml")], f"error: cannot write {blocker / 'plan.yaml'}: "),
        (["--target", "kubernetes", "-o", str(blocker)], f"error: {blocker} is a file; give a folder"),
    ]
    for options, message in cases:
        assert main(["compile", str(source), *options]) == 2
        err = capsys.readouterr().err
        assert err.startswith(message) and "unexpected" not in err and len(err.strip().splitlines()) == 1, err


def test_compile_to_an_unknown_target_exits_2(capsys) -> None:
    source = EXAMPLES[0]
    assert main(["compile", str(source), "--target", "helm"]) == 2
    assert "error: unknown target 'helm'; available: plan" in capsys.readouterr().err  # then the other targets
