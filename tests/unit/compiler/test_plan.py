"""Compiling a pipeline into an ExecutionPlan: order, resolution, artifact wiring and cache keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import (
    ExecutionPlan,
    SpecError,
    compile_plan,
    dump_plan_yaml,
    format_duration,
    load_plan_yaml,
    parse_duration,
    read_pipeline_file,
)
from compiler.plan import default_artifact_root
from nodes import DEFAULT_GPU_IMAGE, DEFAULT_IMAGE, Resources

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples").glob("*.yaml"))
ROOT = "/data/runs/iris"


@pytest.fixture
def compile_doc(load_doc, catalog):
    """Document → ExecutionPlan under ROOT."""

    def run(document, artifact_root: str | None = ROOT) -> ExecutionPlan:
        loaded = load_doc(document)
        return compile_plan(loaded.pipeline, catalog, artifact_root, loaded.source_map)

    return run


def keys(plan: ExecutionPlan) -> dict[str, str]:
    return {step.id: step.cache_key for step in plan.steps}


def changed(before: ExecutionPlan, after: ExecutionPlan) -> set[str]:
    old, new = keys(before), keys(after)
    return {step for step in old if old[step] != new[step]}


# ---- order --------------------------------------------------------------------------------------


def test_steps_follow_the_edges_whatever_the_file_order(iris_doc, compile_doc) -> None:
    document = iris_doc()
    document["spec"]["nodes"].reverse()
    order = [step.id for step in compile_doc(document).steps]
    assert order.index("load") < order.index("split") < order.index("clean") < order.index("train")
    assert order.index("train") < order.index("evaluate") and order.index("train") < order.index("serve")


def test_independent_steps_keep_their_file_order(make_node, pipeline_doc, compile_doc) -> None:
    nodes = [
        make_node("load", "data.sample", params={"dataset": "diabetes"}),
        make_node("split", "prepare.split", params={"stratify": False}),
        make_node("forest", "train.regressor", params={"algorithm": "random_forest"}),
        make_node("ridge", "train.regressor", params={"algorithm": "ridge"}),
        make_node("score-ridge", "evaluate.regressor"),
        make_node("score-forest", "evaluate.regressor"),
    ]
    edges = [
        ("load.table", "split.table"),
        ("split.train", "forest.train"),
        ("split.train", "ridge.train"),
        ("ridge.model", "score-ridge.model"),
        ("split.test", "score-ridge.test"),
        ("forest.model", "score-forest.model"),
        ("split.test", "score-forest.test"),
    ]
    plan = compile_doc(pipeline_doc(nodes, edges))
    assert [step.id for step in plan.steps] == ["load", "split", "forest", "ridge", "score-ridge", "score-forest"]


def test_the_iris_example_compiles_in_file_order(catalog) -> None:
    loaded = read_pipeline_file(next(p for p in EXAMPLES if p.name == "iris-classifier.yaml"))
    plan = compile_plan(loaded.pipeline, catalog, ROOT)
    assert [step.id for step in plan.steps] == ["load", "split", "clean", "train", "evaluate", "serve"]
    assert plan.pipeline == "iris-classifier"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_compiles(path: Path, catalog) -> None:
    loaded = read_pipeline_file(path)
    plan = compile_plan(loaded.pipeline, catalog, ROOT, loaded.source_map)
    assert len(plan.steps) == len(loaded.pipeline.spec.nodes)
    assert plan.warnings == []


# ---- resolution ---------------------------------------------------------------------------------


def test_params_are_resolved_with_the_node_type_defaults(iris_doc, compile_doc) -> None:
    train = compile_doc(iris_doc()).step("train")
    assert train.params == {
        "algorithm": "random_forest",
        "n_estimators": 50,
        "max_depth": None,
        "learning_rate": 0.1,
        "C": 1.0,
        "n_neighbors": 5,
        "max_iter": 1000,
        "seed": 42,
    }
    assert (train.type, train.version) == ("train.classifier", "1")


def test_resources_come_from_the_node_then_the_pipeline_defaults_then_the_node_type(iris_doc, compile_doc) -> None:
    document = iris_doc(defaults={"resources": {"cpu": "3"}})
    document["spec"]["nodes"][3]["resources"] = {"memory": "8Gi"}
    plan = compile_doc(document)
    assert plan.step("train").resources == Resources(cpu="3", memory="8Gi")  # node memory, default cpu
    assert plan.step("load").resources == Resources(cpu="3", memory="512Mi")  # data.sample's own memory
    assert plan.step("serve").resources == Resources(cpu="3", memory="512Mi")


def test_node_type_resources_apply_when_nothing_is_set(iris_doc, compile_doc) -> None:
    plan = compile_doc(iris_doc())
    assert plan.step("load").resources == Resources(cpu="500m", memory="512Mi")
    assert plan.step("clean").resources == Resources(cpu="1", memory="2Gi")


def test_the_mlp_asks_for_a_gpu_unless_told_otherwise(make_node, pipeline_doc, compile_doc) -> None:
    nodes = [make_node("load", "data.sample"), make_node("net", "train.mlp")]
    edges = [("load.table", "net.train")]
    assert compile_doc(pipeline_doc(nodes, edges)).step("net").resources == Resources(cpu="2", memory="4Gi", gpu=1)
    nodes[1]["resources"] = {"gpu": 0}
    assert compile_doc(pipeline_doc(nodes, edges)).step("net").resources.gpu == 0


def test_a_pipeline_image_replaces_the_standard_one_but_not_the_cuda_one(make_node, pipeline_doc, compile_doc) -> None:
    nodes = [make_node("load", "data.sample"), make_node("net", "train.mlp")]
    edges = [("load.table", "net.train")]
    plain = compile_doc(pipeline_doc(nodes, edges))
    assert (plain.step("load").image, plain.step("net").image) == (DEFAULT_IMAGE, DEFAULT_GPU_IMAGE)
    custom = compile_doc(pipeline_doc(nodes, edges, defaults={"image": "registry.example.com/pc:2"}))
    assert (custom.step("load").image, custom.step("net").image) == ("registry.example.com/pc:2", DEFAULT_GPU_IMAGE)


def test_argv_is_the_shared_entrypoint_as_a_list(iris_doc, compile_doc) -> None:
    plan = compile_doc(iris_doc())
    assert plan.plan_uri == f"{ROOT}/plan.yaml"
    for step in plan.steps:
        assert step.argv == ["python", "-m", "runtime.entrypoint", "--plan", plan.plan_uri, "--step", step.id]


def test_outputs_live_under_the_artifact_root_and_inputs_are_upstream_outputs(iris_doc, compile_doc) -> None:
    plan = compile_doc(iris_doc())
    clean = plan.step("clean")
    assert {port: ref.uri for port, ref in clean.outputs.items()} == {
        "train": f"{ROOT}/clean/train.parquet",
        "test": f"{ROOT}/clean/test.parquet",
        "preprocessor": f"{ROOT}/clean/preprocessor.skops",
    }
    assert plan.step("evaluate").outputs["metrics"].uri == f"{ROOT}/evaluate/metrics.json"
    assert clean.inputs["train"] == plan.step("split").outputs["train"]
    assert clean.inputs["test"] == plan.step("split").outputs["test"]
    assert plan.step("serve").inputs["preprocessor"] == clean.outputs["preprocessor"]
    for step in plan.steps:
        for ref in step.inputs.values():
            assert ref == plan.step(ref.step).outputs[ref.port]
        assert step.depends_on == sorted({ref.step for ref in step.inputs.values()})


def test_an_unconnected_optional_input_is_left_out(iris_doc, compile_doc) -> None:
    document = iris_doc()
    document["spec"]["edges"] = [e for e in document["spec"]["edges"] if e["to"] != "serve.preprocessor"]
    serve = compile_doc(document).step("serve")
    assert list(serve.inputs) == ["model"]
    assert serve.depends_on == ["train"]


def test_retries_and_timeout_are_resolved(iris_doc, compile_doc) -> None:
    document = iris_doc()
    document["spec"]["nodes"][3].update(retries=2, timeout="1h30m")
    document["spec"]["nodes"][4]["timeout"] = 90
    plan = compile_doc(document)
    assert (plan.step("train").retries, plan.step("train").timeout_seconds) == (2, 5400)
    assert plan.step("evaluate").timeout_seconds == 90
    assert (plan.step("load").retries, plan.step("load").timeout_seconds) == (0, None)


def test_the_default_artifact_root_is_under_pipecanvas_home(iris_doc, compile_doc, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PIPECANVAS_HOME", str(tmp_path))
    assert default_artifact_root("iris") == str(tmp_path / "artifacts" / "iris")
    plan = compile_doc(iris_doc(), artifact_root=None)
    assert plan.artifact_root == str(tmp_path / "artifacts" / "iris")
    assert plan.step("load").outputs["table"].uri == f"{tmp_path}/artifacts/iris/load/table.parquet"


def test_a_trailing_slash_on_the_artifact_root_is_ignored(iris_doc, compile_doc) -> None:
    plan = compile_doc(iris_doc(), artifact_root="s3://bucket/runs/")
    assert plan.artifact_root == "s3://bucket/runs"
    assert plan.step("load").outputs["table"].uri == "s3://bucket/runs/load/table.parquet"


# ---- cache keys ---------------------------------------------------------------------------------


def test_cache_keys_are_deterministic_and_distinct(iris_doc, compile_doc) -> None:
    first, second = compile_doc(iris_doc()), compile_doc(iris_doc())
    assert keys(first) == keys(second)
    assert len(set(keys(first).values())) == len(first.steps)
    assert all(len(key) == 64 and int(key, 16) >= 0 for key in keys(first).values())


def test_cache_keys_do_not_depend_on_where_artifacts_go(iris_doc, compile_doc) -> None:
    assert keys(compile_doc(iris_doc(), "/a")) == keys(compile_doc(iris_doc(), "s3://b/c"))


def test_changing_a_param_changes_that_step_and_everything_downstream(iris_doc, compile_doc) -> None:
    document = iris_doc()
    before = compile_doc(document)
    document["spec"]["nodes"][3]["params"]["n_estimators"] = 51
    assert changed(before, compile_doc(document)) == {"train", "evaluate", "serve"}


def test_changing_an_upstream_param_changes_every_key_downstream(iris_doc, compile_doc) -> None:
    document = iris_doc()
    before = compile_doc(document)
    document["spec"]["nodes"][1]["params"]["seed"] = 8
    assert changed(before, compile_doc(document)) == {"split", "clean", "train", "evaluate", "serve"}


def test_changing_the_image_changes_the_keys_of_the_steps_that_use_it(make_node, pipeline_doc, compile_doc) -> None:
    nodes = [make_node("load", "data.sample"), make_node("net", "train.mlp"), make_node("split", "prepare.split")]
    edges = [("load.table", "split.table"), ("split.train", "net.train")]
    before = compile_doc(pipeline_doc(nodes, edges))
    after = compile_doc(pipeline_doc(nodes, edges, defaults={"image": "registry.example.com/pc:2"}))
    assert changed(before, after) == {"load", "split", "net"}  # net keeps its image but its inputs changed
    assert after.step("net").image == before.step("net").image


def test_writing_a_default_value_explicitly_keeps_the_key(iris_doc, compile_doc) -> None:
    document = iris_doc()
    before = compile_doc(document)
    document["spec"]["nodes"][3]["params"]["learning_rate"] = 0.1
    document["spec"]["nodes"][2]["params"] = {"scale": "standard", "one_hot": True}
    assert changed(before, compile_doc(document)) == set()


@pytest.mark.parametrize(
    "edit",
    [
        {"ui": {"x": 500, "y": -20.5}},
        {"resources": {"cpu": "8", "memory": "32Gi", "gpu": 2}},
        {"retries": 5},
        {"timeout": "3h"},
    ],
    ids=["ui", "resources", "retries", "timeout"],
)
def test_settings_that_do_not_change_results_keep_the_keys(edit, iris_doc, compile_doc) -> None:
    document = iris_doc()
    before = compile_doc(document)
    for node in document["spec"]["nodes"]:
        node.update(edit)
    after = compile_doc(document)
    assert changed(before, after) == set()
    if "retries" in edit:
        assert after.step("train").retries == 5


def test_pipeline_defaults_for_resources_keep_the_keys(iris_doc, compile_doc) -> None:
    before = compile_doc(iris_doc())
    after = compile_doc(iris_doc(defaults={"resources": {"cpu": "4"}}))
    assert changed(before, after) == set()


# ---- errors and warnings ------------------------------------------------------------------------


def test_compiling_an_invalid_pipeline_raises_with_every_error(iris_doc, compile_doc) -> None:
    document = iris_doc()
    document["spec"]["nodes"][0]["type"] = "data.sampel"
    document["spec"]["nodes"][3]["params"]["n_estimators"] = 0
    document["spec"]["nodes"].append({"id": "spare", "type": "data.sample"})
    with pytest.raises(SpecError) as excinfo:
        compile_doc(document)
    assert [d.message for d in excinfo.value.errors] == [
        "node 'load': unknown node type 'data.sampel' (did you mean 'data.sample'?)",
        "node 'train': param 'n_estimators' must be ≥ 1 (got 0)",
    ]
    assert "node 'spare': is not connected to anything" in [d.message for d in excinfo.value.diagnostics]
    assert str(excinfo.value) == "\n".join(d.message for d in excinfo.value.errors)
    assert all(d.line is not None for d in excinfo.value.errors)


def test_warnings_are_kept_in_the_plan(iris_doc, compile_doc) -> None:
    document = iris_doc()
    document["spec"]["nodes"].append({"id": "spare", "type": "data.sample"})
    plan = compile_doc(document)
    assert plan.warnings == ["node 'spare': is not connected to anything"]
    assert plan.step("spare").inputs == {}


# ---- the plan file ------------------------------------------------------------------------------


def test_the_plan_round_trips_through_yaml(iris_doc, compile_doc) -> None:
    document = iris_doc()
    document["spec"]["nodes"][3].update(retries=1, timeout="10m")
    plan = compile_doc(document)
    text = dump_plan_yaml(plan)
    again = load_plan_yaml(text)
    assert again == plan
    assert dump_plan_yaml(again) == text
    assert text.startswith("apiVersion: pipecanvas/v1\nkind: ExecutionPlan\npipeline: iris\n")


def test_the_pipeline_digest_follows_the_pipeline_content(iris_doc, compile_doc) -> None:
    document = iris_doc()
    first, again = compile_doc(document), compile_doc(document)
    document["spec"]["nodes"][0]["ui"] = {"x": 1, "y": 1}
    moved = compile_doc(document)
    assert first.pipeline_digest == again.pipeline_digest
    assert moved.pipeline_digest != first.pipeline_digest
    assert changed(first, moved) == set()


# ---- durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("2h", 7200), ("1h30m", 5400), ("1d", 86400), ("90", 90), (" 2H ", 7200), ("1m1s", 61)],
)
def test_durations_people_write(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1.5h", "-5m", "1 h", "h1", "²", "٣٠"])
def test_durations_that_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (59, "59s"), (60, "1m"), (5400, "1h30m"), (90061, "1d1h1m1s")])
def test_durations_are_formatted_shortest_first(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


# ---- inputs that take many ----------------------------------------------------------------------


def _compare_doc(make_node, pipeline_doc, model_edges):
    nodes = [
        make_node("load", "data.sample", params={"dataset": "iris"}),
        make_node("split", "prepare.split"),
        make_node("forest", "train.classifier", params={"algorithm": "random_forest"}),
        make_node("boost", "train.classifier"),
        make_node("compare", "evaluate.compare"),
    ]
    edges = [("load.table", "split.table"), ("split.train", "forest.train"), ("split.train", "boost.train"),
             *model_edges, ("split.test", "compare.test")]
    return pipeline_doc(nodes, edges)


def test_a_many_input_gets_every_feeder_in_a_stable_order(make_node, pipeline_doc, compile_doc) -> None:
    plan = compile_doc(_compare_doc(make_node, pipeline_doc, [("forest.model", "compare.models"),
                                                              ("boost.model", "compare.models")]))
    step = plan.step("compare")
    assert [ref.step for ref in step.input_lists["models"]] == ["boost", "forest"]
    assert "models" not in step.inputs and step.inputs["test"].step == "split"
    assert step.depends_on == ["boost", "forest", "split"]
    assert load_plan_yaml(dump_plan_yaml(plan)) == plan


def test_the_order_of_edges_into_a_many_input_keeps_the_key(make_node, pipeline_doc, compile_doc) -> None:
    one = compile_doc(_compare_doc(make_node, pipeline_doc, [("forest.model", "compare.models"),
                                                             ("boost.model", "compare.models")]))
    other = compile_doc(_compare_doc(make_node, pipeline_doc, [("boost.model", "compare.models"),
                                                               ("forest.model", "compare.models")]))
    fewer = compile_doc(_compare_doc(make_node, pipeline_doc, [("boost.model", "compare.models")]))
    assert keys(one) == keys(other)
    assert changed(one, fewer) == {"compare"}


def test_the_plan_of_a_pipeline_of_6000_nodes_reads_back(tmp_path) -> None:
    """A plan is about six times its pipeline: read with the pipeline file's limits, a 6000-node pipeline
    compiled, and then its plan was refused ("more than 200,000 values") by a step's pod and by resume."""
    from compiler import YamlError, dump_yaml, parse_pipeline
    from compiler.yaml_io import MAX_VALUES, PLAN_LIMITS, load_yaml_document
    from nodes import default_catalog

    nodes = [{"id": "n0", "type": "data.sample", "params": {"dataset": "iris"}}]
    nodes += [{"id": f"n{i}", "type": "prepare.split"} for i in range(1, 6000)]
    edges = [{"from": f"n{i - 1}.{'table' if i == 1 else 'train'}", "to": f"n{i}.table"} for i in range(1, 6000)]
    loaded = parse_pipeline(dump_yaml({"apiVersion": "pipecanvas/v1", "kind": "Pipeline", "metadata": {"name": "big"},
                                       "spec": {"nodes": nodes, "edges": edges}}))
    plan = compile_plan(loaded.pipeline, default_catalog(), str(tmp_path))
    text = dump_plan_yaml(plan)

    with pytest.raises(YamlError, match=f"pipeline files may be at most 5 MB|more than {MAX_VALUES:,} values"):
        load_yaml_document(text)  # a pipeline file this big is refused, as before
    assert load_plan_yaml(text.encode()) == plan
    assert len(text.encode()) < PLAN_LIMITS.max_bytes
