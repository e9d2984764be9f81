"""The studio's pages driven through Streamlit's AppTest, with the canvas's edits injected as the browser sends them.

What an analyst does around the canvas: edit the selected node's settings,
see what is wrong and where, open and save YAML, press Run, look back at runs
and endpoints. Every test has its own ``PIPECANVAS_HOME``; the runs page reads
runs that really ran (started with the Build page's Run button).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from compiler import Pipeline, dump_pipeline, parse_pipeline, read_pipeline_file
from runtime.runs import RunError, wait_for_run
from runtime.run_store import open_store
from studio.canvas import pipeline_to_graph
from studio.session import Studio

REPO_ROOT = Path(__file__).resolve().parents[3]
APP = str(REPO_ROOT / "studio" / "app.py")
IRIS_FILE = REPO_ROOT / "examples" / "iris-classifier.yaml"
TIMEOUT = 60

#: A four-node iris pipeline that trains in a couple of seconds and deploys nothing.
SMALL_PIPELINE = """\
apiVersion: pipecanvas/v1
kind: Pipeline
metadata:
  name: iris-small
spec:
  nodes:
    - id: load
      type: data.sample
      params:
        dataset: iris
    - id: split
      type: prepare.split
    - id: train
      type: train.classifier
      params:
        n_estimators: 10
    - id: evaluate
      type: evaluate.classifier
  edges:
    - from: load.table
      to: split.table
    - from: split.train
      to: train.train
    - from: train.model
      to: evaluate.model
    - from: split.test
      to: evaluate.test
"""


def iris() -> Pipeline:
    return read_pipeline_file(IRIS_FILE).pipeline


def small() -> Pipeline:
    return parse_pipeline(SMALL_PIPELINE).pipeline


def build_app(pipeline: Pipeline | None = None, selected: str | None = None) -> AppTest:
    """The whole studio on its Build page, editing ``pipeline`` (as if just opened) with ``selected`` clicked."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    state = Studio()
    if pipeline is not None:
        state.replace(pipeline, source="test")
    state.selected = selected
    at.session_state["studio"] = state
    return ran(at)


def ran(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def studio_of(at: AppTest) -> Studio:
    return at.session_state["studio"]


def widget(widgets: Any, key_suffix: str) -> Any:
    """The one widget whose key ends with ``key_suffix`` (keys carry the pipeline revision in front)."""
    found = [w for w in widgets if (w.key or "").endswith(key_suffix)]
    assert len(found) == 1, f"{len(found)} widgets with a key ending in {key_suffix!r}: {[w.key for w in widgets]}"
    return found[0]


def texts(elements: Any) -> list[str]:
    return [e.value for e in elements]


def yaml_view(at: AppTest) -> str:
    """The sidebar's read-only YAML, opened: the text Save YAML downloads (``st.code`` drops the last newline)."""
    if not at.session_state["yaml-view"]:
        assert not at.sidebar.code, "the closed YAML view is drawn anyway"
        at.session_state["yaml-view"] = True
        ran(at)
    return at.sidebar.code[0].value


def inject_canvas_edit(at: AppTest, graph: dict[str, Any], stamp: str) -> AppTest:
    """Send ``graph`` as the canvas does after a user edit, made on the pipeline's current revision."""
    at.session_state["canvas"] = {"graph": {**graph, "base_revision": studio_of(at).revision, "stamp": stamp}}
    return ran(at)


# ---- the properties panel ---------------------------------------------------------------------------


def test_the_form_shows_the_selected_nodes_params_resources_retries_and_timeout(home) -> None:
    at = build_app(iris(), selected="train")
    assert "**Train classifier** · `train`" in texts(at.markdown)
    trees = widget(at.number_input, "-train-n_estimators")
    assert trees.value == 200 and "Allowed: from 1 to 5000." in trees.help  # no min/max: -5 is kept, and flagged
    assert widget(at.number_input, "-train-max_depth").value is None  # nullable: empty means no limit
    algorithm = widget(at.selectbox, "-train-algorithm")
    assert algorithm.value == "random_forest" and "Logistic regression" in algorithm.options  # human labels
    assert widget(at.number_input, "-train-seed").value == 42  # a default, not in the file
    shown = {w.key.rsplit("-", 1)[-1] for w in at.number_input if "-train-" in w.key}
    assert {"n_estimators", "max_depth", "seed"} <= shown
    assert not shown & {"learning_rate", "C", "n_neighbors", "max_iter"}  # other algorithms' params are hidden
    assert widget(at.text_input, "-train-cpu").value == "2"
    assert widget(at.number_input, "-train-retries").value == 1
    assert widget(at.text_input, "-train-timeout").value == "10m"


def test_a_changed_number_applies_to_the_pipeline_at_once(home) -> None:
    at = build_app(iris(), selected="train")
    widget(at.number_input, "-train-n_estimators").set_value(25)
    ran(at)
    pipeline = studio_of(at).pipeline
    assert pipeline.node("train").params == {"algorithm": "random_forest", "n_estimators": 25}
    assert pipeline.node("split").params == iris().node("split").params
    assert parse_pipeline(yaml_view(at)).pipeline.node("train").params["n_estimators"] == 25


def test_select_and_run_settings_apply_too_and_defaults_are_not_written(home) -> None:
    at = build_app(iris(), selected="train")
    widget(at.selectbox, "-train-algorithm").set_value("logistic_regression")
    widget(at.text_input, "-train-timeout").set_value("30m")
    widget(at.text_input, "-train-cpu").set_value("")
    ran(at)
    train = studio_of(at).pipeline.node("train")
    assert train.params == {"algorithm": "logistic_regression", "n_estimators": 200}
    assert train.timeout == "30m"
    shown = {w.key.rsplit("-", 1)[-1] for w in at.number_input if "-train-" in w.key}
    assert {"C", "max_iter", "seed"} <= shown and "n_estimators" not in shown  # the form follows the choice
    assert (train.resources.cpu, train.resources.memory) == (None, "2Gi")


def test_values_the_widgets_cannot_hold_are_shown_as_text_and_left_alone(home) -> None:
    broken = iris()
    broken.node("split").params["test_fraction"] = 3
    broken.node("train").params.update(algorithm="magic", n_estimators="many")
    broken.node("train").retries = 50
    at = build_app(broken, selected="train")
    assert widget(at.text_input, "-train-algorithm-raw").value == "magic"
    assert widget(at.text_input, "-train-n_estimators-raw").value == "many"
    assert widget(at.number_input, "-train-retries").value == 50
    assert studio_of(at).pipeline == broken  # looking at a node changes nothing
    studio_of(at).selected = "split"
    ran(at)
    assert any("test_fraction" in b.label for b in at.button if b.label.startswith("Error:"))
    assert widget(at.number_input, "-split-test_fraction").value == 3  # a number out of range stays a number
    widget(at.number_input, "-split-test_fraction").set_value(0.3)
    ran(at)
    assert studio_of(at).pipeline.node("split").params["test_fraction"] == 0.3
    assert not any("test_fraction" in b.label for b in at.button)


def test_a_value_out_of_range_is_kept_as_typed_marks_the_node_and_disables_run(home) -> None:
    at = build_app(iris(), selected="train")
    trees = widget(at.number_input, "-train-n_estimators")
    assert "Allowed: from 1 to 5000." in trees.help
    trees.set_value(-5)
    ran(at)
    assert widget(at.number_input, "-train-n_estimators").value == -5  # what was typed stays visible
    assert studio_of(at).pipeline.node("train").params["n_estimators"] == -5  # not silently dropped
    assert any("n estimators must be ≥ 1" in c for c in texts(at.caption))
    run = at.button(key="run")
    assert run.disabled and run.help == "Fix the problems first: 1 error"
    assert any("n_estimators" in b.label for b in at.button if b.label.startswith("Error:"))
    graph = pipeline_to_graph(studio_of(at).pipeline, studio_of(at).diagnostics())
    assert any("n_estimators" in e for e in next(n for n in graph["nodes"] if n["id"] == "train")["errors"])
    widget(at.number_input, "-train-n_estimators").set_value(40)
    ran(at)
    assert not at.button(key="run").disabled and studio_of(at).pipeline.node("train").params["n_estimators"] == 40


# ---- validation -------------------------------------------------------------------------------------


def test_an_invalid_name_disables_run_and_says_why(home) -> None:
    at = build_app(iris())
    assert not at.button(key="run").disabled
    widget(at.text_input, "name-1").set_value("Bad Name")
    ran(at)
    run = at.button(key="run")
    assert run.disabled and run.help == "Fix the problems first: 1 error"
    assert any("Run is disabled: 1 error to fix" in w for w in texts(at.warning))
    assert any("Problems: 1 error" in m for m in texts(at.markdown))  # the same count in the list
    assert any("name 'Bad Name' must be lowercase" in m for m in texts(at.markdown))
    assert studio_of(at).pipeline.metadata.name == "Bad Name"  # kept as typed, so it can be fixed


def test_a_missing_input_is_listed_with_its_node_and_clicking_it_selects_the_node(home) -> None:
    at = build_app(iris())
    graph = pipeline_to_graph(studio_of(at).pipeline)
    graph["edges"] = [e for e in graph["edges"] if e["to"] != "train.train"]
    inject_canvas_edit(at, graph, stamp="t1")
    assert ("clean.train", "train.train") not in [(e.from_, e.to) for e in studio_of(at).pipeline.spec.edges]
    problem = next(b for b in at.button if b.label.endswith("node 'train': input 'train' (table) is not connected"))
    assert at.button(key="run").disabled
    revision = studio_of(at).selection_revision
    problem.click()
    ran(at)
    assert studio_of(at).selected == "train"
    assert studio_of(at).selection_revision == revision + 1  # the canvas is told to select it
    assert "**Train classifier** · `train`" in texts(at.markdown)


def test_the_form_follows_the_canvas_selection_and_python_selects_only_on_request(home) -> None:
    at = build_app(iris())
    revision = studio_of(at).selection_revision
    at.session_state["canvas"] = {"selection": {"nodes": ["split"], "primary": "split", "stamp": "s1"}}
    ran(at)
    assert "**Train/test split** · `split`" in texts(at.markdown)
    at.session_state["canvas"] = {"selection": {"nodes": ["split", "train"], "primary": "train", "stamp": "s2"}}
    ran(at)
    assert "**Train classifier** · `train`" in texts(at.markdown)
    assert any(c.startswith("2 nodes selected (split, train)") for c in texts(at.caption))
    # Following the canvas never asks the canvas to change its selection (that pushed a stale click back).
    assert studio_of(at).selection_revision == revision
    at.session_state["canvas"] = {"selection": {"nodes": [], "primary": None, "stamp": "s3"}}
    ran(at)
    assert studio_of(at).selected is None and not any("`train`" in m for m in texts(at.markdown))


def test_connecting_the_input_again_clears_the_problem(home) -> None:
    at = build_app(iris())
    graph = pipeline_to_graph(studio_of(at).pipeline)
    without = {**graph, "edges": [e for e in graph["edges"] if e["to"] != "train.train"]}
    inject_canvas_edit(at, without, stamp="t1")
    assert at.button(key="run").disabled
    inject_canvas_edit(at, graph, stamp="t2")
    assert not at.button(key="run").disabled
    assert "No problems: the pipeline is ready to run." in texts(at.success)


# ---- files ------------------------------------------------------------------------------------------


def test_an_example_from_the_gallery_saves_as_the_same_pipeline(home) -> None:
    at = build_app()
    assert studio_of(at).pipeline.spec.nodes == []
    at.selectbox(key="gallery-choice").set_value("iris-classifier.yaml")
    at.button(key="gallery-open").click()
    ran(at)
    assert studio_of(at).source == "iris-classifier.yaml"
    assert parse_pipeline(yaml_view(at)).pipeline == iris()
    assert yaml_view(at) == IRIS_FILE.read_text().rstrip("\n")  # the example file is canonical YAML already
    assert at.download_button(key="save-yaml").label == "Save YAML"


def test_a_saved_yaml_opens_again_as_the_same_pipeline(home) -> None:
    edited = iris()
    edited.node("train").params["n_estimators"] = 7
    saved = yaml_view(build_app(edited))
    at = build_app()
    at.sidebar.file_uploader[0].set_value(("mine.yaml", saved.encode(), "application/x-yaml"))
    ran(at)
    assert studio_of(at).pipeline == edited
    assert studio_of(at).source == "mine.yaml"


def test_a_broken_yaml_shows_located_errors_and_keeps_the_current_pipeline(home) -> None:
    at = build_app(iris())
    broken = dump_pipeline(iris()).replace("type: prepare.split", "type: prepare.split\n      colour: red")
    at.sidebar.file_uploader[0].set_value(("broken.yaml", broken.encode(), "application/x-yaml"))
    ran(at)
    assert "broken.yaml could not be opened; your current pipeline is unchanged." in texts(at.sidebar.error)
    assert any(c.startswith("line ") and "colour" in c for c in texts(at.sidebar.caption))
    assert studio_of(at).pipeline == iris()


def test_a_file_that_is_not_yaml_at_all_is_refused_the_same_way(home) -> None:
    at = build_app(iris())
    at.sidebar.file_uploader[0].set_value(("notes.yaml", b"nodes: [unclosed\n", "application/x-yaml"))
    ran(at)
    assert "notes.yaml could not be opened; your current pipeline is unchanged." in texts(at.sidebar.error)
    assert studio_of(at).pipeline == iris()


# ---- running ----------------------------------------------------------------------------------------


def test_run_starts_the_pipeline_being_edited(home, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Pipeline] = []

    def start_run(pipeline: Pipeline) -> str:
        started.append(pipeline)
        return "20260101-000000-abcdef"

    monkeypatch.setattr("studio.run_actions.start_run", start_run)
    at = build_app(small())
    widget(at.text_input, "name-1").set_value("iris-tiny")
    ran(at)
    at.button(key="run").click()
    ran(at)
    assert [p.metadata.name for p in started] == ["iris-tiny"]
    assert started[0].spec == small().spec
    assert studio_of(at).run_id == "20260101-000000-abcdef"


def test_run_to_here_runs_the_selected_node_as_it_is_now(home, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[Pipeline, str]] = []

    def start_run(pipeline: Pipeline, to: str | None = None) -> str:
        started.append((pipeline, to))
        return "20260101-000000-abcdef"

    monkeypatch.setattr("studio.run_actions.start_run", start_run)
    at = build_app(small(), selected="train")
    widget(at.number_input, "-train-n_estimators").set_value(25)
    ran(at)
    button = at.button(key="run-to-train")
    assert "and the 2 node(s) it depends on" in button.help
    button.click()
    ran(at)
    ((pipeline, to),) = started
    assert to == "train" and pipeline.node("train").params["n_estimators"] == 25  # the edit, not a stored run
    widget(at.number_input, "-train-n_estimators").set_value(-1)
    ran(at)
    assert at.button(key="run-to-train").disabled  # an error in the node or upstream of it


def test_a_run_that_cannot_start_says_why(home, monkeypatch: pytest.MonkeyPatch) -> None:
    def start_run(pipeline: Pipeline) -> str:
        raise RunError("the local executor is busy")

    monkeypatch.setattr("studio.run_actions.start_run", start_run)
    at = build_app(small())
    at.button(key="run").click()
    ran(at)
    assert any("The run could not start: the local executor is busy" in e for e in texts(at.error))
    assert studio_of(at).run_id is None


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """Two finished runs of the small pipeline, started with the Run button: 10 trees, then 30."""
    home = tmp_path_factory.mktemp("runs") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPECANVAS_HOME", str(home))
        patch.chdir(REPO_ROOT)
        at = build_app(small(), selected="train")
        ids = [_press_run_and_wait(at)]
        widget(at.number_input, "-train-n_estimators").set_value(30)
        ran(at)
        ids.append(_press_run_and_wait(at))
        yield home, ids


def _press_run_and_wait(at: AppTest) -> str:
    at.button(key="run").click()
    ran(at)
    run_id = studio_of(at).run_id
    assert run_id, "pressing Run started no run"
    run = wait_for_run(open_store(), run_id, timeout=90)
    assert run.state.value == "succeeded", f"run {run_id} ended {run.state.value}: {run.error}"
    ran(at)  # the run bar and the canvas pick up the finished run
    return run_id


def test_pressing_run_records_the_edited_pipeline_in_the_store(two_runs, monkeypatch) -> None:
    home, (first, second) = two_runs
    monkeypatch.setenv("PIPECANVAS_HOME", str(home))
    store = open_store()
    assert [run.id for run in store.list_runs()] == [second, first]
    snapshot = parse_pipeline(store.get_run(second).pipeline_yaml).pipeline
    assert snapshot.node("train").params["n_estimators"] == 30
    states = {step.step_id: step.state.value for step in store.steps(second)}
    assert states == {"load": "cached", "split": "cached", "train": "succeeded", "evaluate": "succeeded"}


# ---- the Runs and Endpoints pages -------------------------------------------------------------------


def _runs_first() -> None:
    """The studio with the Runs page as its landing page (AppTest cannot switch to a callable page)."""
    import streamlit as st

    from studio.page_build import build_page
    from studio.page_runs import runs_page

    pages = {
        "runs": st.Page(runs_page, title="Runs", url_path="runs", default=True),
        "build": st.Page(build_page, title="Build", url_path="build"),
    }
    st.session_state["pages"] = pages
    st.navigation(list(pages.values()), position="top").run()


def runs_app(home: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PIPECANVAS_HOME", str(home))
    monkeypatch.chdir(REPO_ROOT)
    return ran(AppTest.from_function(_runs_first, default_timeout=TIMEOUT))


def test_the_runs_page_lists_runs_with_state_and_headline_metric(two_runs, monkeypatch) -> None:
    home, (first, second) = two_runs
    frame = runs_app(home, monkeypatch).dataframe[0].value
    assert frame["run"].tolist() == [second, first]
    assert set(frame["state"]) == {"succeeded"}
    assert all(h.startswith("accuracy 0.") for h in frame["headline"])
    assert set(frame["pipeline"]) == {"iris-small"}


def test_comparing_two_runs_marks_the_params_that_differ_first_and_hides_the_other_algorithms(
        two_runs, monkeypatch) -> None:
    home, (first, second) = two_runs
    at = runs_app(home, monkeypatch)
    at.multiselect(key="compare-runs").set_value([first, second])
    ran(at)
    table = at.dataframe[1].value
    assert table.index[0] == "param train.n_estimators"  # what differs comes first
    assert table.loc["param train.n_estimators", first] == "10"
    assert table.loc["param train.n_estimators", second] == "30"
    assert table.loc["param train.n_estimators", "differs"] == "◀"
    assert table.loc["param load.dataset", "differs"] == ""
    assert "metric evaluate.accuracy" in table.index
    assert "param train.learning_rate" in table.index  # read by the default algorithm (histogram boosting)
    for ignored in ("C", "n_neighbors", "alpha", "max_iter"):  # read only by other algorithms
        assert f"param train.{ignored}" not in table.index
    at.toggle(key="compare-only-differences").set_value(True)
    ran(at)
    only = at.dataframe[1].value
    assert "param train.n_estimators" in only.index and "param load.dataset" not in only.index
    assert set(only["differs"]) == {"◀"}


def open_on_canvas(home: Path, run_id: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The Runs page's "Open on canvas" for ``run_id``."""
    at = runs_app(home, monkeypatch)
    at.selectbox(key="open-run").set_value(run_id)
    at.button(key="open-run-button").click()
    return ran(at)


def assert_shows_first_run(at: AppTest, first: str) -> None:
    """The Build page holds the first run (10 trees) and says it succeeded."""
    state = studio_of(at)
    assert state.run_id == first
    assert state.pipeline.node("train").params["n_estimators"] == 10
    assert any(f"Run `{first}`: **succeeded**" in i for i in texts(at.success))


def test_opening_a_past_run_shows_it_on_the_build_page(two_runs, monkeypatch) -> None:
    home, (first, _) = two_runs
    assert_shows_first_run(open_on_canvas(home, first, monkeypatch), first)


def test_a_reload_of_a_run_address_opens_that_run_again(two_runs, monkeypatch) -> None:
    home, (first, _) = two_runs
    at = open_on_canvas(home, first, monkeypatch)
    assert at.query_params["run"] == first  # the Build page's address names the run it shows
    reloaded = AppTest.from_file(APP, default_timeout=TIMEOUT)  # a reload: a new session, the same address
    reloaded.query_params["run"] = first
    assert_shows_first_run(ran(reloaded), first)


def test_an_address_naming_an_unknown_run_starts_blank_and_says_so(home) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["run"] = "20990101-000000-nosuch"
    ran(at)
    assert studio_of(at).run_id is None and studio_of(at).pipeline.spec.nodes == []
    assert any("There is no run '20990101-000000-nosuch'" in e for e in texts(at.error))
    assert "run" not in at.query_params


def test_opening_another_pipeline_drops_the_run_from_the_address(two_runs, monkeypatch) -> None:
    home, (first, _) = two_runs
    monkeypatch.setenv("PIPECANVAS_HOME", str(home))
    monkeypatch.chdir(REPO_ROOT)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["run"] = first
    ran(at)
    at.sidebar.selectbox(key="gallery-choice").set_value("iris-classifier.yaml")
    at.sidebar.button(key="gallery-open").click()
    ran(at)
    assert studio_of(at).run_id is None
    assert "run" not in at.query_params


def _endpoints() -> None:
    from studio.page_endpoints import endpoints_page

    endpoints_page()


def test_the_endpoints_page_without_endpoints_says_how_to_get_one(home) -> None:
    at = ran(AppTest.from_function(_endpoints, default_timeout=TIMEOUT))
    assert any("No endpoints are running" in i and "Deploy endpoint" in i for i in texts(at.info))


# ---- the backend switch -------------------------------------------------------------------------------

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
  - name: lab
    cluster: {server: "https://127.0.0.1:1"}
users:
  - name: me
    user: {token: not-a-real-token}
contexts:
  - name: lab-gpu
    context: {cluster: lab, user: me, namespace: ml}
current-context: lab-gpu
"""


@pytest.fixture
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point KUBECONFIG at a file (written by the test, or absent) and forget the cached contexts."""
    from studio.backend_choice import available_contexts

    path = tmp_path / "kubeconfig"
    monkeypatch.setenv("KUBECONFIG", str(path))
    available_contexts.clear()
    yield path
    available_contexts.clear()


def test_without_a_kubeconfig_runs_are_local_and_the_page_says_so(home, kubeconfig) -> None:
    at = build_app(small())
    radio = at.radio(key="backend-choice")
    assert radio.options == ["Local (this machine)"]
    assert any("local" in c.value and str(home) in c.value for c in at.caption)


def test_kubernetes_is_offered_with_a_context_and_its_settings_reach_the_run(home, kubeconfig, monkeypatch) -> None:
    kubeconfig.write_text(KUBECONFIG)
    calls: list[dict] = []

    def start_run(pipeline: Pipeline, **options: Any) -> str:
        calls.append(options)
        return "20260101-000000-k8s000"

    monkeypatch.setattr("studio.run_actions.start_run", start_run)
    at = build_app(small())
    at.radio(key="backend-choice").set_value("Kubernetes")
    ran(at)
    assert any("Kubernetes" in c.value and "lab-gpu" in c.value for c in at.caption)
    at.button(key="run").click()
    ran(at)
    assert calls == [{"backend": "kubernetes", "kubernetes": {
        "context": "lab-gpu", "namespace": "pipecanvas", "pvc": "pipecanvas-artifacts"}}]


def test_a_failed_preflight_is_shown_on_the_nodes_it_concerns(home, kubeconfig, monkeypatch) -> None:
    from compiler import Diagnostic
    from runtime.kubernetes.preflight import PreflightError

    kubeconfig.write_text(KUBECONFIG)

    def start_run(pipeline: Pipeline, **options: Any) -> str:
        raise PreflightError([Diagnostic("error", "node 'train': no node offers 1 nvidia.com/gpu", node="train")])

    monkeypatch.setattr("studio.run_actions.start_run", start_run)
    at = build_app(small())
    at.radio(key="backend-choice").set_value("Kubernetes")
    ran(at)
    at.button(key="run").click()
    ran(at)
    assert any("no node offers 1 nvidia.com/gpu" in e for e in texts(at.error))
    assert any("no node offers 1 nvidia.com/gpu" in b.label for b in at.button)  # the clickable problem list
    graph = pipeline_to_graph(studio_of(at).pipeline, studio_of(at).preflight)
    train = next(n for n in graph["nodes"] if n["id"] == "train")
    assert any("nvidia.com/gpu" in message for message in train["errors"])
