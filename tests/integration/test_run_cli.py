"""``pipecanvas run`` and the commands around it, as a user types them: real processes, real exit codes.

Each command runs as ``python -m studio.cli`` in a subprocess with the test's
``PIPECANVAS_HOME`` and the test node types, so what is checked is what a
terminal shows: the JSON document, the exit code, the absence of tracebacks.
"""

from __future__ import annotations

import json
from pathlib import Path

from compiler import dump_yaml
from runtime.states import FINISHED_RUN_STATES


def _write(tmp_path: Path, pipeline_doc, nodes: list[dict], edges=(), name: str = "cli-demo") -> Path:
    path = tmp_path / f"{name}.yaml"
    wired = [(f"{a}.count", f"{b}.count") for a, b in edges]
    path.write_text(dump_yaml(pipeline_doc(nodes, wired, name=name)), encoding="utf-8")
    return path


def _chain(tmp_path: Path, pipeline_doc, seconds: float = 0, name: str = "cli-demo") -> Path:
    return _write(tmp_path, pipeline_doc,
                  [{"id": "source", "type": "test.source", "params": {"start": 40}},
                   {"id": "nap", "type": "test.sleep", "params": {"seconds": seconds}}],
                  [("source", "nap")], name=name)


def test_run_json_prints_one_document_and_exits_0(cli, tmp_path, pipeline_doc):
    result = cli("run", _chain(tmp_path, pipeline_doc), "--json")

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert summary["state"] == "succeeded" and summary["pipeline"] == "cli-demo"
    assert summary["run_id"]
    assert {s["id"]: s["state"] for s in summary["steps"]} == {"source": "succeeded", "nap": "succeeded"}
    assert summary["metrics"] == {"source": {"value": 40}, "nap": {"value": 41}}


def test_run_json_of_a_failing_pipeline_exits_1_with_the_steps_error(cli, tmp_path, pipeline_doc):
    path = _write(tmp_path, pipeline_doc, [{"id": "bad", "type": "test.bad_input"},
                                           {"id": "after", "type": "test.sleep", "params": {"seconds": 0}}],
                  [("bad", "after")])
    result = cli("run", path, "--json")

    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    steps = {s["id"]: s for s in summary["steps"]}
    assert summary["state"] == "failed"
    assert steps["bad"]["state"] == "failed" and "target column 'price' is not in the table" in steps["bad"]["error"]
    assert steps["after"]["state"] == "skipped"


def test_run_of_an_invalid_pipeline_exits_2_without_a_traceback(cli, tmp_path, pipeline_doc, home):
    path = _write(tmp_path, pipeline_doc, [{"id": "nap", "type": "test.sleep", "params": {"seconds": "soon"}}])
    result = cli("run", path, "--json")

    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "nap" in result.stderr and "seconds" in result.stderr
    assert not (home / "runs").exists() or not any((home / "runs").iterdir()), "an invalid pipeline started a run"


def test_run_of_a_file_that_is_not_yaml_says_where_as_validate_does(cli, tmp_path, home):
    path = tmp_path / "broken.yaml"
    path.write_text("apiVersion: pipecanvas/v1\nspec: [\n", encoding="utf-8")

    ran, validated = cli("run", path), cli("validate", path)

    assert ran.returncode == validated.returncode == 2
    assert ran.stderr.strip() == validated.stderr.strip().splitlines()[0]
    assert ran.stderr.startswith(f"{path}:3: error: this is not valid YAML")


def test_runs_show_and_logs_describe_a_finished_run(cli, tmp_path, pipeline_doc):
    run_id = json.loads(cli("run", _chain(tmp_path, pipeline_doc), "--json").stdout)["run_id"]

    listed = cli("runs")
    assert listed.returncode == 0 and run_id in listed.stdout and "succeeded" in listed.stdout
    shown = cli("show", run_id[:-3])  # a unique prefix is enough, as with git commits
    assert shown.returncode == 0, shown.stderr
    assert "nap" in shown.stdout and "first run of this step" in shown.stdout and "41" in shown.stdout
    as_json = json.loads(cli("show", run_id[:-3], "--json").stdout)
    assert as_json["run_id"] == run_id
    logs = cli("logs", run_id, "nap")
    assert logs.returncode == 0
    assert "--- attempt 1 of step 'nap' ---" in logs.stdout and "sleeping 0.0s" in logs.stdout
    missing = cli("logs", run_id, "nope")
    assert missing.returncode == 2 and "its steps are: source, nap" in missing.stderr


def test_detached_run_returns_at_once_and_finishes_on_its_own(cli, tmp_path, pipeline_doc, wait_until):
    """Nothing holds the store open while the run goes on, as on a user's machine once the command has returned:
    the run process's writes after that (its steps ending, the run's end) must reach the store all the same."""
    import time

    result = cli("run", _chain(tmp_path, pipeline_doc, seconds=2), "--detach", "--json")

    assert result.returncode == 0, result.stderr
    run_id = json.loads(result.stdout)["run_id"]
    time.sleep(2)  # the nap alone takes 2 s; meanwhile no process of this test has the store open

    def finished():
        shown = json.loads(cli("show", run_id, "--json").stdout)
        return shown if shown["state"] in FINISHED_RUN_STATES else None

    shown = wait_until(finished, timeout=60, what="the detached run to finish")
    assert shown["state"] == "succeeded", shown
    assert {s["id"]: s["state"] for s in shown["steps"]} == {"source": "succeeded", "nap": "succeeded"}


def test_cancel_stops_a_detached_run(cli, tmp_path, pipeline_doc, runs):
    run_id = json.loads(cli("run", _chain(tmp_path, pipeline_doc, seconds=60), "--detach", "--json").stdout)["run_id"]
    runs.wait_for_step(run_id, "nap", "running")

    result = cli("cancel", run_id)

    assert result.returncode == 0, result.stderr
    assert f"run {run_id}: cancelled" in result.stdout
    assert runs.states(run_id) == {"source": "succeeded", "nap": "cancelled"}


def test_resume_reruns_the_failed_step_and_exits_0(cli, tmp_path, pipeline_doc, runs):
    path = _write(tmp_path, pipeline_doc, [{"id": "source", "type": "test.source"},
                                           {"id": "flaky", "type": "test.flaky", "params": {"fail_times": 1}}],
                  [("source", "flaky")])
    failed = cli("run", path, "--json")
    run_id = json.loads(failed.stdout)["run_id"]
    assert failed.returncode == 1

    resumed = cli("resume", run_id[:-2], "--json")

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["state"] == "succeeded"
    assert {s["id"]: (s["state"], s["attempt"]) for s in summary["steps"]} == {
        "source": ("succeeded", 1), "flaky": ("succeeded", 2)}


def test_commands_about_an_unknown_run_or_endpoint_exit_2(cli):
    for args in (("show", "nosuchrun"), ("logs", "nosuchrun", "step"), ("cancel", "nosuchrun"),
                 ("resume", "nosuchrun"), ("undeploy", "nosuchendpoint")):
        result = cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr, (args, result.stderr)


def test_run_to_a_node_runs_it_and_its_ancestors_then_the_whole_run_reuses_them(cli, tmp_path, pipeline_doc):
    path = _write(tmp_path, pipeline_doc,
                  [{"id": "source", "type": "test.source", "params": {"start": 40}},
                   {"id": "first", "type": "test.sleep", "params": {"seconds": 0}},
                   {"id": "second", "type": "test.sleep", "params": {"seconds": 0}}],
                  [("source", "first"), ("first", "second")])
    part = cli("run", path, "--to", "first", "--json")
    assert part.returncode == 0, part.stderr
    assert {s["id"]: s["state"] for s in json.loads(part.stdout)["steps"]} == {"source": "succeeded", "first": "succeeded"}

    whole = cli("run", path, "--json")
    assert whole.returncode == 0, whole.stderr
    states = {s["id"]: s["state"] for s in json.loads(whole.stdout)["steps"]}
    assert states == {"source": "cached", "first": "cached", "second": "succeeded"}

    unknown = cli("run", path, "--to", "thrid")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert "there is no node 'thrid' to run to (nodes: source, first, second)" in unknown.stderr
