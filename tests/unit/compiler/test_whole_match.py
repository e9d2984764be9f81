"""Every id, name and patterned value is matched whole: a trailing newline (``$`` matches before it) is refused.

A node id ``"train\\n"`` used to pass ``validate`` and then crash the run process with ``KeyError``.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from compiler import errors_only
from compiler.emitters.kubernetes import KubernetesEmitOptions
from compiler.emitters.kubernetes.names import is_dns_label, is_label_value
from compiler.plain_yaml import dump_plain_yaml
from compiler.validate import NODE_ID_PATTERN, PIPELINE_NAME_PATTERN
from nodes.base import NodeType, Port
from nodes.artifacts import ArtifactKind
from nodes.deploy import EndpointParams
from nodes.errors import NodeDefinitionError


def _messages(diagnostics) -> list[str]:
    return [d.message for d in errors_only(diagnostics)]


@pytest.mark.parametrize("pattern", [NODE_ID_PATTERN, PIPELINE_NAME_PATTERN], ids=["node id", "pipeline name"])
@pytest.mark.parametrize("suffix", ["\n", "\r\n", " ", "\t"])
def test_the_shared_patterns_refuse_trailing_whitespace_even_with_match(pattern, suffix):
    assert pattern.match("train")
    assert not pattern.match("train" + suffix)  # callers outside the compiler use .match too
    assert not pattern.fullmatch("train" + suffix)


def test_a_node_id_ending_in_a_newline_is_an_error(iris_doc, validate_doc):
    document = iris_doc()
    document["spec"]["nodes"][0]["id"] = "load\n"
    for edge in document["spec"]["edges"]:
        edge["from"] = edge["from"].replace("load.", "load\n.")

    assert any(m.startswith("node 'load\n': id must be lowercase") for m in _messages(validate_doc(document)))


def test_a_pipeline_name_ending_in_a_newline_is_an_error(iris_doc, validate_doc):
    document = iris_doc(name="iris\n")

    assert any(m.startswith("pipeline: name 'iris\n' must be lowercase") for m in _messages(validate_doc(document)))


def test_an_edge_to_a_port_name_ending_in_a_newline_is_an_error(iris_doc, validate_doc):
    document = iris_doc()
    document["spec"]["edges"][0]["to"] = "split.table\n"

    assert any("split.table\n" in m for m in _messages(validate_doc(document)))


def test_a_node_type_port_name_ending_in_a_newline_is_refused_when_declared():
    with pytest.raises(NodeDefinitionError):
        class _Bad(NodeType):  # noqa: F841 - declaring it is the test
            type_id = "test.bad_port"
            title = "Bad port"
            description = "A port name with a newline."
            outputs = (Port("table\n", ArtifactKind.TABLE, description="x"),)

            def run(self, inputs, params, context):
                return {}


def test_a_node_type_id_ending_in_a_newline_is_refused_when_declared():
    with pytest.raises(NodeDefinitionError):
        class _Bad(NodeType):  # noqa: F841
            type_id = "test.bad_id\n"
            title = "Bad id"
            description = "A type id with a newline."
            outputs = (Port("table", ArtifactKind.TABLE, description="x"),)

            def run(self, inputs, params, context):
                return {}


def test_an_endpoint_name_ending_in_a_newline_is_refused():
    assert EndpointParams(name="iris").name == "iris"
    with pytest.raises(ValidationError):
        EndpointParams(name="iris\n")


def test_a_resource_quantity_ending_in_a_newline_is_an_error(iris_doc, validate_doc):
    document = iris_doc()
    document["spec"]["nodes"][0]["resources"] = {"cpu": "500m\n"}

    assert any(m.startswith("node 'load': ") and "cpu" in m for m in _messages(validate_doc(document)))


@pytest.mark.parametrize("value", ["table", "table\n", "a/b.csv\n"])
def test_a_string_ending_in_a_newline_survives_the_plain_yaml_writer(value):
    import yaml

    assert yaml.safe_load(dump_plain_yaml({"key": value})) == {"key": value}


@pytest.mark.parametrize("check", [is_dns_label, is_label_value])
def test_kubernetes_names_and_labels_are_matched_whole(check):
    assert check("train")
    assert not check("train\n")


@pytest.mark.parametrize("field", ["namespace", "run_id"])
def test_kubernetes_options_are_matched_whole(field):
    assert getattr(KubernetesEmitOptions(**{field: "team-a"}), field) == "team-a"
    with pytest.raises(ValidationError):
        KubernetesEmitOptions(**{field: "team-a\n"})


def test_a_bucket_uri_ending_in_a_newline_is_refused():
    with pytest.raises(ValidationError):
        KubernetesEmitOptions(bucket="s3://team/ml\n")
