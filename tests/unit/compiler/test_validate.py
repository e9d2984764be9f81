"""Every validation rule, with the exact message an analyst reads and where it points."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import Diagnostic, errors_only, parse_pipeline, read_pipeline_file, validate_pipeline

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples").glob("*.yaml"))

ID_RULE = "id must be lowercase letters, digits and '-', start with a letter, not end with '-', at most 40 characters"


def errors(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.message for d in errors_only(diagnostics)]


def warnings(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.message for d in diagnostics if d.severity == "warning"]


def find(diagnostics: list[Diagnostic], message: str) -> Diagnostic:
    matches = [d for d in diagnostics if d.message == message]
    assert matches, f"{message!r} not in {[d.message for d in diagnostics]}"
    return matches[0]


@pytest.fixture
def sample_and_split(make_node):
    """Two connected nodes, valid on their own: tests add the mistake."""
    return [make_node("load", "data.sample"), make_node("split", "prepare.split")], [("load.table", "split.table")]


# ---- valid pipelines ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_the_examples_have_no_errors_or_warnings(path: Path, catalog) -> None:
    loaded = read_pipeline_file(path)
    assert validate_pipeline(loaded.pipeline, catalog, loaded.source_map) == []


def test_the_iris_chain_is_valid(iris_doc, validate_doc) -> None:
    assert validate_doc(iris_doc()) == []


def test_an_optional_input_may_stay_unconnected(iris_doc, validate_doc) -> None:
    document = iris_doc()
    document["spec"]["edges"] = [e for e in document["spec"]["edges"] if e["to"] != "serve.preprocessor"]
    assert validate_doc(document) == []


def test_validation_works_without_line_numbers(iris_doc, load_doc, catalog) -> None:
    document = iris_doc()
    document["spec"]["nodes"][3]["params"]["n_estimators"] = 0
    (diagnostic,) = validate_pipeline(load_doc(document).pipeline, catalog)
    assert diagnostic.line is None
    assert diagnostic.message == "node 'train': param 'n_estimators' must be ≥ 1 (got 0)"


# ---- pipeline-level rules -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Iris", "iris_classifier", "-iris", "iris-", "x" * 64, "iris classifier", ""])
def test_a_pipeline_name_must_be_a_kubernetes_label(name: str, pipeline_doc, make_node, validate_doc) -> None:
    diagnostics = validate_doc(pipeline_doc([make_node("load", "data.sample")], name=name))
    message = (
        f"pipeline: name '{name}' must be lowercase letters, digits and '-', start and end with a letter or digit, "
        "at most 63 characters (e.g. 'iris-classifier')"
    )
    assert errors(diagnostics) == [message]
    assert diagnostics[0].line == 4


@pytest.mark.parametrize("name", ["a", "iris-classifier", "x" * 63, "2024-run"])
def test_good_pipeline_names_pass(name: str, pipeline_doc, make_node, validate_doc) -> None:
    assert validate_doc(pipeline_doc([make_node("load", "data.sample")], name=name)) == []


def test_a_pipeline_without_nodes_says_so(pipeline_doc, validate_doc) -> None:
    diagnostics = validate_doc(pipeline_doc([]))
    assert errors(diagnostics) == ["pipeline: has no nodes yet; add one from the palette"]
    assert diagnostics[0].line == 6  # where spec's contents start


# ---- node rules ---------------------------------------------------------------------------------


def test_an_unknown_node_type_suggests_the_closest(pipeline_doc, make_node, validate_doc) -> None:
    diagnostics = validate_doc(pipeline_doc([make_node("load", "data.sampel")]))
    assert errors(diagnostics) == ["node 'load': unknown node type 'data.sampel' (did you mean 'data.sample'?)"]
    assert (diagnostics[0].node, diagnostics[0].line) == ("load", 8)


def test_an_unknown_node_type_without_a_close_match(pipeline_doc, make_node, validate_doc) -> None:
    diagnostics = validate_doc(pipeline_doc([make_node("load", "quantum.teleport")]))
    assert errors(diagnostics) == ["node 'load': unknown node type 'quantum.teleport'"]


def test_a_duplicate_id_names_the_first_node(pipeline_doc, make_node, validate_doc) -> None:
    nodes = [make_node("load", "data.sample"), make_node("split", "prepare.split"), make_node("load", "data.sample")]
    diagnostics = validate_doc(pipeline_doc(nodes, [("load.table", "split.table")]))
    duplicate = find(diagnostics, "node 'load': id is already used by node #1; ids must be unique")
    assert errors(diagnostics) == [duplicate.message]
    assert (duplicate.node, duplicate.line) == ("load", 11)


@pytest.mark.parametrize("node_id", ["Load", "1load", "load-", "load_data", "lo.ad", "x" * 41, "-load", ""])
def test_malformed_ids_are_reported(node_id: str, pipeline_doc, make_node, validate_doc) -> None:
    diagnostics = validate_doc(pipeline_doc([make_node(node_id, "data.sample")]))
    assert errors(diagnostics) == [f"node '{node_id}': {ID_RULE}"]
    assert diagnostics[0].node == node_id
    assert diagnostics[0].line == 7


@pytest.mark.parametrize("node_id", ["a", "load-2", "x" * 40, "a-b-c"])
def test_good_ids_pass(node_id: str, pipeline_doc, make_node, validate_doc) -> None:
    assert validate_doc(pipeline_doc([make_node(node_id, "data.sample")])) == []


# ---- edge rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "bad"), [("load", "load"), (".table", ".table"), ("load.", "load.")])
def test_an_edge_end_must_be_node_dot_port(source: str, bad: str, sample_and_split, pipeline_doc, validate_doc) -> None:
    nodes, _ = sample_and_split
    diagnostics = validate_doc(pipeline_doc(nodes, [(source, "split.table")]))
    label = f"{source} -> split.table"
    assert find(diagnostics, f"edge '{label}': '{bad}' must be written <node id>.<port>, e.g. 'load.table'").edge == label


def test_an_edge_to_an_unknown_node_suggests_a_known_one(sample_and_split, pipeline_doc, validate_doc) -> None:
    nodes, _ = sample_and_split
    diagnostics = validate_doc(pipeline_doc(nodes, [("lod.table", "split.table")]))
    edge_error = find(diagnostics, "edge 'lod.table -> split.table': there is no node 'lod' (did you mean 'load'?)")
    assert (edge_error.edge, edge_error.line) == ("lod.table -> split.table", 12)
    assert "node 'split': input 'table' (table) is not connected" in errors(diagnostics)


def test_an_unknown_output_port_lists_the_outputs(make_node, pipeline_doc, validate_doc) -> None:
    nodes = [make_node("split", "prepare.split"), make_node("clean", "prepare.clean"), make_node("load", "data.sample")]
    edges = [("load.table", "split.table"), ("split.training", "clean.train"), ("split.test", "clean.test")]
    diagnostics = validate_doc(pipeline_doc(nodes, edges))
    assert errors(diagnostics) == [
        "edge 'split.training -> clean.train': node 'split' (prepare.split) has no output 'training' "
        "(did you mean 'train'?); its outputs are: train, test"
    ]
    assert diagnostics[0].node == "split"


def test_an_unknown_input_port_lists_the_inputs(sample_and_split, make_node, pipeline_doc, validate_doc) -> None:
    nodes, edges = sample_and_split
    nodes.append(make_node("serve", "deploy.endpoint", params={"name": "x"}))
    edges.append(("split.train", "serve.data"))
    diagnostics = validate_doc(pipeline_doc(nodes, edges))
    assert errors(diagnostics) == [
        "edge 'split.train -> serve.data': node 'serve' (deploy.endpoint) has no input 'data'; "
        "its inputs are: model, preprocessor",
        "node 'serve': input 'model' (model) is not connected",
    ]


def test_a_node_without_inputs_says_none(make_node, pipeline_doc, validate_doc) -> None:
    nodes = [make_node("load", "data.sample"), make_node("other", "data.sample")]
    diagnostics = validate_doc(pipeline_doc(nodes, [("load.table", "other.table")]))
    assert errors(diagnostics) == [
        "edge 'load.table -> other.table': node 'other' (data.sample) has no input 'table'; its inputs are: none"
    ]


def test_a_table_cannot_feed_a_model_input(make_node, pipeline_doc, validate_doc) -> None:
    nodes = [
        make_node("load", "data.sample"),
        make_node("split", "prepare.split"),
        make_node("evaluate", "evaluate.classifier"),
    ]
    edges = [("load.table", "split.table"), ("load.table", "evaluate.model"), ("split.test", "evaluate.test")]
    diagnostics = validate_doc(pipeline_doc(nodes, edges))
    mismatch = find(diagnostics, "edge 'load.table -> evaluate.model': a table cannot feed a model input")
    assert errors(diagnostics) == [mismatch.message]
    assert (mismatch.edge, mismatch.node, mismatch.line) == ("load.table -> evaluate.model", "evaluate", 16)


def test_an_input_fed_by_several_edges(make_node, pipeline_doc, validate_doc) -> None:
    nodes = [make_node("iris", "data.sample"), make_node("wine", "data.sample"), make_node("split", "prepare.split")]
    diagnostics = validate_doc(pipeline_doc(nodes, [("iris.table", "split.table"), ("wine.table", "split.table")]))
    assert errors(diagnostics) == [
        "node 'split': input 'table' is fed by 2 edges (iris.table, wine.table); an input takes exactly one"
    ]
    assert diagnostics[0].node == "split"


def test_an_input_that_takes_many_accepts_several_edges_but_not_the_same_one_twice(make_node, pipeline_doc,
                                                                                     validate_doc) -> None:
    nodes = [make_node("load", "data.sample"), make_node("split", "prepare.split"),
             make_node("a", "train.classifier"), make_node("b", "train.classifier"), make_node("compare", "evaluate.compare")]
    edges = [("load.table", "split.table"), ("split.train", "a.train"), ("split.train", "b.train"),
             ("a.model", "compare.models"), ("b.model", "compare.models"), ("split.test", "compare.test")]
    assert errors(validate_doc(pipeline_doc(nodes, edges))) == []
    twice = validate_doc(pipeline_doc(nodes, edges + [("a.model", "compare.models")]))
    assert errors(twice) == ["node 'compare': input 'models' is fed by a.model more than once; connect each output once"]
    none = validate_doc(pipeline_doc(nodes, [e for e in edges if e[1] != "compare.models"]))
    assert "node 'compare': input 'models' (model) is not connected" in errors(none)



def test_a_required_input_left_unconnected(iris_doc, validate_doc) -> None:
    document = iris_doc()
    document["spec"]["edges"] = [e for e in document["spec"]["edges"] if e["to"] != "evaluate.test"]
    diagnostics = validate_doc(document)
    assert errors(diagnostics) == ["node 'evaluate': input 'test' (table) is not connected"]
    assert (diagnostics[0].node, diagnostics[0].line) == ("evaluate", 23)


# ---- cycles -------------------------------------------------------------------------------------


def test_a_cycle_names_its_nodes_in_order(make_node, pipeline_doc, validate_doc) -> None:
    nodes = [make_node("a", "prepare.split"), make_node("b", "prepare.split")]
    diagnostics = validate_doc(pipeline_doc(nodes, [("a.train", "b.table"), ("b.train", "a.table")]))
    assert errors(diagnostics) == ["pipeline: cycle a -> b -> a; a pipeline must flow one way"]


def test_a_longer_cycle_starts_at_its_first_node_in_the_file(make_node, pipeline_doc, validate_doc) -> None:
    nodes = [make_node("train", "train.classifier"), make_node("evaluate", "evaluate.classifier")]
    nodes += [make_node("split", "prepare.split"), make_node("clean", "prepare.clean")]
    edges = [
        ("split.train", "clean.train"),
        ("split.test", "clean.test"),
        ("clean.train", "train.train"),
        ("train.model", "evaluate.model"),
        ("clean.test", "evaluate.test"),
        ("clean.preprocessor", "split.table"),
    ]
    diagnostics = validate_doc(pipeline_doc(nodes, edges))
    assert errors(diagnostics) == [
        "edge 'clean.preprocessor -> split.table': a model cannot feed a table input",
        "pipeline: cycle split -> clean -> split; a pipeline must flow one way",
    ]


def test_a_node_feeding_itself_is_a_cycle(make_node, pipeline_doc, validate_doc) -> None:
    diagnostics = validate_doc(pipeline_doc([make_node("a", "prepare.split")], [("a.train", "a.table")]))
    assert errors(diagnostics) == ["pipeline: cycle a -> a; a pipeline must flow one way"]


def test_two_separate_cycles_are_both_reported(make_node, pipeline_doc, validate_doc) -> None:
    nodes = [make_node(i, "prepare.split") for i in ("c", "d", "a", "b")]
    edges = [("a.train", "b.table"), ("b.train", "a.table"), ("c.train", "d.table"), ("d.train", "c.table")]
    assert errors(validate_doc(pipeline_doc(nodes, edges))) == [
        "pipeline: cycle c -> d -> c; a pipeline must flow one way",
        "pipeline: cycle a -> b -> a; a pipeline must flow one way",
    ]


# ---- params, through each node's own model ------------------------------------------------------


def test_a_param_below_its_minimum(make_node, pipeline_doc, validate_doc) -> None:
    nodes = [make_node("load", "data.sample"), make_node("train", "train.classifier", params={"n_estimators": 0})]
    found = errors_only(validate_doc(pipeline_doc(nodes, [("load.table", "train.train")])))
    assert [d.message for d in found] == ["node 'train': param 'n_estimators' must be ≥ 1 (got 0)"]
    assert (found[0].node, found[0].param, found[0].line) == ("train", "n_estimators", 12)


@pytest.mark.parametrize(
    ("node_type", "params", "message"),
    [
        ("prepare.split", {"test_fraction": 1.5}, "param 'test_fraction' must be < 1 (got 1.5)"),
        ("prepare.split", {"test_fraction": 0}, "param 'test_fraction' must be > 0 (got 0)"),
        ("prepare.split", {"seed": "seven"}, "param 'seed' must be a whole number (got 'seven')"),
        ("prepare.split", {"stratify": "perhaps"}, "param 'stratify' must be true or false (got 'perhaps')"),
        ("train.classifier", {"algoritm": "svm"}, "param 'algoritm' is not a known setting (did you mean 'algorithm'?)"),
        (
            "train.classifier",
            {"algorithm": "xgboost"},
            "param 'algorithm' must be one of 'hist_gradient_boosting', 'random_forest', 'extra_trees', "
            "'gradient_boosting', 'decision_tree', 'logistic_regression', 'naive_bayes', 'svm' or 'knn' (got 'xgboost')",
        ),
        (
            "train.regressor",
            {"algorithm": "ridg"},
            "param 'algorithm' must be one of 'hist_gradient_boosting', 'random_forest', 'extra_trees', "
            "'gradient_boosting', 'decision_tree', 'linear' or 'ridge' (got 'ridg') (did you mean 'ridge'?)",
        ),
        ("train.mlp", {"hidden_layers": 17}, "param 'hidden_layers' must be ≤ 16 (got 17)"),
        ("train.mlp", {"learning_rate": -0.1}, "param 'learning_rate' must be > 0 (got -0.1)"),
        ("data.file", {}, "param 'path' is required"),
        ("data.file", {"path": ""}, "param 'path' must not be empty"),
        (
            "data.file",
            {"path": "x.csv", "separator": ";;"},
            "param 'separator' must be one of 'auto', ',', ';', '\\t', '|' or ' ' (got ';;') (did you mean ';'?)",
        ),
        (
            "data.file",
            {"path": "x.csv", "encoding": "klingon"},
            "param 'encoding' is not an encoding Python knows; use auto, or one such as utf-8, cp1252 (Windows, "
            "Western Europe), latin-1, cp1250 (Central Europe), utf-16, shift_jis or gb18030 (got 'klingon')",
        ),
        (
            "data.file",
            {"path": "x.csv", "separator": ",", "decimal": ","},
            "param 'decimal' must not be ',' when 'separator' is ',' too: 1,5 would be split into two columns "
            "(got ',')",
        ),
        (
            "prepare.formula",
            {"column": "x", "expression": "a +* b"},
            "param 'expression' is invalid: this is not a valid expression: invalid syntax (at character 4) "
            "(got 'a +* b')",
        ),
        ("deploy.endpoint", {}, "param 'name' is required"),
        ("evaluate.regressor", {"max_residuals": 5}, "param 'max_residuals' must be ≥ 10 (got 5)"),
        ("prepare.clean", {"max_categories": [2]}, "param 'max_categories' must be a whole number (got a list)"),
    ],
)
def test_param_errors_come_from_the_node_params_model(node_type, params, message, make_node, pipeline_doc, validate_doc) -> None:
    found = errors_only(validate_doc(pipeline_doc([make_node("train", node_type, params=params)])))
    param_errors = [d for d in found if d.param is not None]
    assert [d.message for d in param_errors] == [f"node 'train': {message}"]
    assert param_errors[0].node == "train"
    assert param_errors[0].param == message.split("'")[1]
    assert param_errors[0].line is not None


def test_every_param_error_on_a_node_is_reported(make_node, pipeline_doc, validate_doc) -> None:
    params = {"n_estimators": 0, "learning_rate": 0, "C": -1, "colour": "blue"}
    found = errors_only(validate_doc(pipeline_doc([make_node("train", "train.classifier", params=params)])))
    assert [d.param for d in found if d.param] == ["n_estimators", "learning_rate", "C", "colour"]


def test_params_of_an_unknown_type_are_not_checked(make_node, pipeline_doc, validate_doc) -> None:
    found = errors(validate_doc(pipeline_doc([make_node("x", "quantum.teleport", params={"anything": 1})])))
    assert found == ["node 'x': unknown node type 'quantum.teleport'"]


# ---- resources, retries, timeout ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ({"cpu": "2 cores"}, "resources.cpu '2 cores' is not a Kubernetes quantity (e.g. \"2\" or \"500m\")"),
        ({"cpu": "NaN"}, "resources.cpu 'NaN' is not a Kubernetes quantity (e.g. \"2\" or \"500m\")"),
        ({"cpu": "Infinity"}, "resources.cpu 'Infinity' is not a Kubernetes quantity (e.g. \"2\" or \"500m\")"),
        ({"cpu": " 1"}, "resources.cpu ' 1' is not a Kubernetes quantity (e.g. \"2\" or \"500m\")"),
        ({"memory": "4GB"}, "resources.memory '4GB' is not a Kubernetes quantity (e.g. \"4Gi\" or \"512Mi\")"),
        ({"memory": "-1Gi"}, "resources.memory must be more than 0 (got '-1Gi')"),
        ({"memory": "0"}, "resources.memory must be more than 0 (got '0')"),
        ({"cpu": 0}, "resources.cpu must be more than 0 (got '0')"),
        ({"gpu": 65}, "resources.gpu must be between 0 and 64 (got 65)"),
        ({"gpu": -1}, "resources.gpu must be between 0 and 64 (got -1)"),
        # valid quantities no step can run with: Kubernetes takes them, the container never starts
        ({"memory": "512m"}, "resources.memory '512m' is 0.512 bytes ('m' means thousandths); for mebibytes write '512Mi'"),
        ({"memory": 1}, "resources.memory '1' is 1 byte, too little to run a step; write e.g. '512Mi' or '4Gi'"),
        ({"memory": "1e3"}, "resources.memory '1e3' is 1000 bytes, too little to run a step; write e.g. '512Mi' or '4Gi'"),
        ({"memory": "1Ki"}, "resources.memory '1Ki' is 1024 bytes, too little to run a step; write e.g. '512Mi' or '4Gi'"),
    ],
)
def test_resources_must_be_kubernetes_quantities(resources, message, make_node, pipeline_doc, validate_doc) -> None:
    diagnostics = validate_doc(pipeline_doc([make_node("load", "data.sample", resources=resources)]))
    assert errors(diagnostics) == [f"node 'load': {message}"]
    assert (diagnostics[0].node, diagnostics[0].line) == ("load", 10)  # the line of the bad value


def test_each_resource_problem_points_at_its_own_line(make_node, pipeline_doc, validate_doc) -> None:
    resources = {"cpu": "lots", "memory": "0", "gpu": 99}
    diagnostics = validate_doc(pipeline_doc([make_node("load", "data.sample", resources=resources)]))
    assert [d.line for d in diagnostics] == [10, 11, 12]


@pytest.mark.parametrize("resources", [{"cpu": "500m", "memory": "512Mi"}, {"cpu": "0.5", "memory": "1e9"}, {"cpu": 2, "gpu": 0}, {"memory": "1.5Gi", "gpu": 64}])
def test_good_resources_pass(resources, make_node, pipeline_doc, validate_doc) -> None:
    assert validate_doc(pipeline_doc([make_node("load", "data.sample", resources=resources)])) == []


def test_pipeline_defaults_are_checked_too(make_node, pipeline_doc, validate_doc) -> None:
    defaults = {"image": "my image", "resources": {"cpu": "lots", "memory": "0Gi", "gpu": 100}}
    diagnostics = validate_doc(pipeline_doc([make_node("load", "data.sample")], defaults=defaults))
    assert errors(diagnostics) == [
        "pipeline: defaults.image 'my image' is not a container image name",
        "pipeline: defaults.resources.cpu 'lots' is not a Kubernetes quantity (e.g. \"2\" or \"500m\")",
        "pipeline: defaults.resources.memory must be more than 0 (got '0Gi')",
        "pipeline: defaults.resources.gpu must be between 0 and 64 (got 100)",
    ]
    assert [d.line for d in diagnostics] == [7, 9, 10, 11]


@pytest.mark.parametrize("retries", [-1, 21, 1000])
def test_retries_out_of_range(retries: int, make_node, pipeline_doc, validate_doc) -> None:
    diagnostics = validate_doc(pipeline_doc([make_node("load", "data.sample", retries=retries)]))
    assert errors(diagnostics) == [f"node 'load': retries must be between 0 and 20 (got {retries})"]
    assert diagnostics[0].line == 9


@pytest.mark.parametrize("timeout", ["soon", "0s", "1.5h", "-5m", "1 hour", "٣٠s", "h"])
def test_a_timeout_must_be_a_positive_duration(timeout: str, make_node, pipeline_doc, validate_doc) -> None:
    diagnostics = validate_doc(pipeline_doc([make_node("load", "data.sample", timeout=timeout)]))
    assert errors(diagnostics) == [
        f"node 'load': timeout '{timeout}' is not a duration such as 90s, 30m, 2h or 1h30m"
    ]
    assert diagnostics[0].line == 9


@pytest.mark.parametrize("timeout", ["90s", "30m", "2h", "1h30m", "1d", 90, "45"])
def test_good_timeouts_pass(timeout, make_node, pipeline_doc, validate_doc) -> None:
    assert validate_doc(pipeline_doc([make_node("load", "data.sample", timeout=timeout)])) == []


# ---- warnings -----------------------------------------------------------------------------------


def test_a_node_connected_to_nothing_is_a_warning(sample_and_split, make_node, pipeline_doc, validate_doc) -> None:
    nodes, edges = sample_and_split
    nodes.append(make_node("spare", "data.sample"))
    diagnostics = validate_doc(pipeline_doc(nodes, edges))
    assert errors(diagnostics) == []
    assert warnings(diagnostics) == ["node 'spare': is not connected to anything"]
    assert (diagnostics[0].node, diagnostics[0].line) == ("spare", 11)


def test_a_loose_node_with_a_missing_input_gets_the_error_only(sample_and_split, make_node, pipeline_doc,
                                                                validate_doc) -> None:
    nodes, edges = sample_and_split
    nodes.append(make_node("spare", "prepare.split"))
    diagnostics = validate_doc(pipeline_doc(nodes, edges))
    assert [d.message for d in diagnostics if d.node == "spare"] == [
        "node 'spare': input 'table' (table) is not connected"]


def test_a_single_node_pipeline_has_no_warning(make_node, pipeline_doc, validate_doc) -> None:
    assert validate_doc(pipeline_doc([make_node("load", "data.sample")])) == []


# ---- all at once --------------------------------------------------------------------------------


def test_every_mistake_in_a_pipeline_is_reported_together(iris_doc, validate_doc) -> None:
    document = iris_doc(name="Iris_Classifier")
    nodes = document["spec"]["nodes"]
    nodes[0]["type"] = "data.sampel"
    nodes[1]["params"]["test_fraction"] = 2
    nodes[2]["resources"] = {"memory": "lots"}
    nodes[3]["params"]["n_estimators"] = 0
    nodes[4]["retries"] = 99
    nodes[5]["id"] = "Serve"
    document["spec"]["edges"].append({"from": "train.model", "to": "evaluate.test"})
    document["spec"]["edges"].append({"from": "evaluate.metrics", "to": "nowhere.table"})
    found = errors(validate_doc(document))
    expected = [
        "pipeline: name 'Iris_Classifier' must be lowercase letters",
        "node 'load': unknown node type 'data.sampel' (did you mean 'data.sample'?)",
        "node 'split': param 'test_fraction' must be < 1 (got 2)",
        "node 'clean': resources.memory 'lots' is not a Kubernetes quantity",
        "node 'train': param 'n_estimators' must be ≥ 1 (got 0)",
        "node 'evaluate': retries must be between 0 and 20 (got 99)",
        f"node 'Serve': {ID_RULE}",
        "edge 'train.model -> evaluate.test': a model cannot feed a table input",
        "node 'evaluate': input 'test' is fed by 2 edges (clean.test, train.model); an input takes exactly one",
        "edge 'evaluate.metrics -> nowhere.table': there is no node 'nowhere'",
        "edge 'train.model -> serve.model': there is no node 'serve' (did you mean 'Serve'?)",
        "node 'Serve': input 'model' (model) is not connected",
    ]
    for start in expected:
        assert any(message.startswith(start) for message in found), f"missing {start!r} in {found}"
    assert len(found) >= len(expected)


def test_diagnostics_know_their_node_edge_param_and_line(iris_doc, validate_doc) -> None:
    document = iris_doc()
    document["spec"]["nodes"][3]["params"]["n_estimators"] = 0
    document["spec"]["edges"][4]["to"] = "evaluate.test"
    diagnostics = validate_doc(document)
    param = find(diagnostics, "node 'train': param 'n_estimators' must be ≥ 1 (got 0)")
    assert (param.severity, param.node, param.param, param.edge) == ("error", "train", "n_estimators", None)
    assert param.line == 22
    edge = find(diagnostics, "edge 'train.model -> evaluate.test': a model cannot feed a table input")
    assert (edge.edge, edge.node, edge.param, edge.line) == ("train.model -> evaluate.test", "evaluate", None, 38)
    assert edge.to_json() == {
        "severity": "error",
        "message": edge.message,
        "edge": "train.model -> evaluate.test",
        "node": "evaluate",
        "line": 38,
    }
    assert edge.format("p.yaml") == f"p.yaml:38: error: {edge.message}"


def test_an_unparsed_pipeline_is_checked_the_same_way(catalog) -> None:
    text = (
        "apiVersion: pipecanvas/v1\nkind: Pipeline\nmetadata:\n  name: demo\nspec:\n  nodes:\n"
        "    - id: train\n      type: train.classifier\n      params:\n        n_estimators: 0\n"
    )
    loaded = parse_pipeline(text)
    found = validate_pipeline(loaded.pipeline, catalog, loaded.source_map)
    assert [(d.message, d.line) for d in found] == [
        ("node 'train': param 'n_estimators' must be ≥ 1 (got 0)", 10),
        ("node 'train': input 'train' (table) is not connected", 7),
    ]
