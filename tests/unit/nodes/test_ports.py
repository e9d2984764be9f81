"""Looking a node type's ports up by name, as the compiler does for both ends of every edge."""

from __future__ import annotations

from nodes import ArtifactKind, Category, NodeType, Port


def _wide_type(inputs: int) -> type[NodeType]:
    return type("WideSink", (NodeType,), {
        "type_id": "test.wide", "title": "Wide", "description": "Many inputs.", "category": Category.EVALUATE,
        "inputs": tuple(Port(f"in_{i}", ArtifactKind.TABLE) for i in range(inputs)),
        "outputs": (Port("report", ArtifactKind.METRICS),), "__module__": __name__,
    })


def test_every_port_of_a_wide_node_is_found_by_its_name_and_others_are_not() -> None:
    wide = _wide_type(500)
    assert [wide.input_port(f"in_{i}") for i in range(500)] == list(wide.inputs)
    assert wide.input_port("report") is None and wide.output_port("in_0") is None
    assert wide.output_port("report") is wide.outputs[0]


def test_ports_given_anew_are_looked_up_anew() -> None:
    """The lookup keeps an index per tuple: a type whose ports are replaced (a plug-in reloaded) is not answered
    from the old one, and a subclass with ports of its own does not share its parent's."""
    wide = _wide_type(3)
    assert wide.input_port("in_2") is not None
    wide.inputs = (Port("only", ArtifactKind.TABLE),)
    assert wide.input_port("in_2") is None and wide.input_port("only") is wide.inputs[0]
    narrow = type("Narrow", (wide,), {"type_id": "test.narrow", "inputs": (Port("in_9", ArtifactKind.TABLE),),
                                      "__module__": __name__})
    assert narrow.input_port("in_9") is not None and narrow.input_port("only") is None
    assert wide.input_port("in_9") is None
