"""Reading pipeline files safely (limits, located errors) and writing them canonically."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import pytest

from compiler import SpecError, YamlError, dump_pipeline, parse_pipeline, read_pipeline_file
from compiler.yaml_io import MAX_BYTES

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples").glob("*.yaml"))

HEADER = "apiVersion: pipecanvas/v1\nkind: Pipeline\nmetadata:\n  name: demo\n"
EMPTY = "the file is empty; a pipeline needs apiVersion, kind, metadata and spec"
TOO_BIG = "pipeline files may be at most 5 MB"


def only_error(excinfo: pytest.ExceptionInfo[SpecError]):
    """The single diagnostic a file-level problem produces."""
    (diagnostic,) = excinfo.value.diagnostics
    assert diagnostic.severity == "error"
    return diagnostic


def messages(excinfo: pytest.ExceptionInfo[SpecError]) -> list[str]:
    return [d.message for d in excinfo.value.diagnostics]


# ---- canonical writing -------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_files_are_already_canonical(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert dump_pipeline(parse_pipeline(text).pipeline) == text


def test_a_kept_text_is_never_that_of_an_earlier_state_of_the_pipeline() -> None:
    """dump_pipeline keeps its last texts (the studio asks several times a page run): an edit made in place
    on the same model object, or undone again, must still give the text of what the pipeline is now."""
    pipeline = parse_pipeline(EXAMPLES[0].read_text(encoding="utf-8")).pipeline
    first = dump_pipeline(pipeline)
    node = pipeline.spec.nodes[0]
    node.params["seed"] = 12345
    edited = dump_pipeline(pipeline)
    assert edited != first and "seed: 12345" in edited
    assert parse_pipeline(edited).pipeline.spec.nodes[0].params["seed"] == 12345
    node.params.pop("seed")
    assert dump_pipeline(pipeline) == first
    node.params["seed"] = 12345.0  # equal to 12345 in Python, yet another file
    assert "seed: 12345.0" in dump_pipeline(pipeline)


def test_load_dump_load_gives_an_equal_pipeline_and_identical_bytes(iris_doc, load_doc) -> None:
    document = iris_doc(description="Line one.\nLine two: with a colon.\n", defaults={"resources": {"cpu": "2"}})
    document["spec"]["nodes"][3].update(resources={"memory": "4Gi", "gpu": 1}, retries=2, timeout="1h30m", ui={"x": 10.5, "y": -3})
    first = load_doc(document).pipeline
    text = dump_pipeline(first)
    second = parse_pipeline(text).pipeline
    assert second == first
    assert dump_pipeline(second) == text
    assert dump_pipeline(first) == text


def test_dump_writes_keys_in_file_order_and_multiline_text_as_a_block(iris_doc, load_doc) -> None:
    text = dump_pipeline(load_doc(iris_doc(description="First line.\nSecond line.")).pipeline)
    assert text.startswith("apiVersion: pipecanvas/v1\nkind: Pipeline\nmetadata:\n  name: iris\n  description: |-\n")
    assert "    First line.\n    Second line.\n" in text
    assert text.index("  nodes:\n") < text.index("  edges:\n")
    assert "    - id: load\n      type: data.sample\n" in text
    assert "    - from: load.table\n      to: split.table\n" in text
    assert "&" not in text and "*" not in text


def test_dump_leaves_out_unset_fields_and_empty_params(load_doc, pipeline_doc, make_node) -> None:
    text = dump_pipeline(load_doc(pipeline_doc([make_node("clean", "prepare.clean", params={})])).pipeline)
    node_part = text.split("nodes:\n", 1)[1]
    assert node_part.startswith("    - id: clean\n      type: prepare.clean\n  edges: []\n")
    for absent in ("params", "resources", "retries", "timeout", "ui", "null", "defaults", "description"):
        assert absent not in text


def test_whole_number_positions_are_written_without_a_decimal_point(load_doc, pipeline_doc, make_node) -> None:
    document = pipeline_doc([make_node("load", "data.sample", ui={"x": 120.0, "y": 40.25})])
    assert "      ui:\n        x: 120\n        y: 40.25\n" in dump_pipeline(load_doc(document).pipeline)


# ---- values people write as numbers -------------------------------------------------------------


def test_numbers_for_cpu_and_memory_become_quantity_strings_and_timeout_seconds_a_duration() -> None:
    text = HEADER + (
        "spec:\n  nodes:\n    - id: load\n      type: data.sample\n"
        "      resources: {cpu: 2, memory: 0.5}\n      timeout: 90\n"
    )
    node = parse_pipeline(text).pipeline.spec.nodes[0]
    assert node.resources.cpu == "2"
    assert node.resources.memory == "0.5"
    assert node.timeout == "90s"
    assert "cpu: '2'" in dump_pipeline(parse_pipeline(text).pipeline)


def test_empty_params_nodes_and_edges_mean_none() -> None:
    text = HEADER + "spec:\n  nodes:\n    - id: clean\n      type: prepare.clean\n      params:\n  edges:\n"
    pipeline = parse_pipeline(text).pipeline
    assert pipeline.spec.nodes[0].params == {}
    assert pipeline.spec.edges == []


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    assert parse_pipeline(("\ufeff" + HEADER).encode("utf-8")).pipeline.metadata.name == "demo"


# ---- files that are not pipelines at all --------------------------------------------------------


@pytest.mark.parametrize("data", ["", b"", "   \n\n\t  \n", "# only a comment\n", "---\n", "null\n"], ids=repr)
def test_an_empty_file_is_refused_with_a_clear_message(data) -> None:
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(data)
    assert only_error(excinfo).message == EMPTY


def test_nul_bytes_are_refused_as_binary_data() -> None:
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(HEADER.encode() + b"\x00\x01\x02")
    assert only_error(excinfo).message == "this is not a pipeline file: it contains binary data"


def test_text_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(HEADER.encode() + "  description: caf\u00e9\n".encode("latin-1"))
    assert only_error(excinfo).message == "this is not a pipeline file: it is not UTF-8 text"


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_refused_without_a_crash(seed: int) -> None:
    data = random.Random(seed).randbytes(4096)
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(data)
    assert only_error(excinfo).message.startswith("this is not a pipeline file:")


def test_a_control_character_is_reported_on_its_line() -> None:
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(HEADER + "  description: bell \x07 here\n")
    diagnostic = only_error(excinfo)
    assert diagnostic.message == "this is not valid YAML: it contains the character #x0007, which YAML does not allow"
    assert diagnostic.line == 5


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("- load\n- split\n", "a list"),
        ("just some words\n", "a line of text"),
        ("42\n", "a number"),
        ("true\n", "true or false"),
    ],
)
def test_a_root_that_is_not_a_mapping_is_refused(text: str, what: str) -> None:
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(text)
    assert only_error(excinfo).message == (
        f"a pipeline file must be a mapping with apiVersion, kind, metadata and spec, not {what}"
    )


# ---- size, alias and depth limits ---------------------------------------------------------------


@pytest.mark.parametrize("as_bytes", [True, False], ids=["bytes", "text"])
def test_parse_refuses_text_over_five_megabytes(as_bytes: bool) -> None:
    text = HEADER + "# " + "x" * MAX_BYTES + "\n"
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(text.encode() if as_bytes else text)
    assert only_error(excinfo).message == f"the file is {len(text.encode()) / 1e6:.1f} MB; {TOO_BIG}"


def test_reading_a_file_over_five_megabytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(HEADER.encode() + b"# " + b"x" * MAX_BYTES + b"\n")
    with pytest.raises(YamlError) as excinfo:
        read_pipeline_file(path)
    assert only_error(excinfo).message.endswith(TOO_BIG)


def test_a_file_of_exactly_five_megabytes_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" + b"x" * (MAX_BYTES - 2) + b"\n")
    with pytest.raises(YamlError) as excinfo:
        read_pipeline_file(path)
    assert only_error(excinfo).message == EMPTY  # past the size check: it is all comment


BILLION_LAUGHS = "\n".join(
    [HEADER.rstrip("\n"), 'lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
) + "\n"


def test_a_billion_laughs_file_is_refused_before_it_is_expanded() -> None:
    assert BILLION_LAUGHS.count("*") < 100  # few aliases: it is the expansion that must be caught
    tracemalloc.start()
    try:
        with pytest.raises(YamlError) as excinfo:
            parse_pipeline(BILLION_LAUGHS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    diagnostic = only_error(excinfo)
    assert diagnostic.message == "the file expands to more than 200,000 values (aliases repeat too much); it is refused"
    assert diagnostic.line is not None
    assert peak < 50 * 1024 * 1024  # 9**8 values would need gigabytes


def test_more_than_a_hundred_aliases_are_refused() -> None:
    text = HEADER + "x: &v 1\ny: [" + ", ".join(["*v"] * 101) + "]\n"
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(text)
    assert only_error(excinfo).message == "the file uses more than 100 aliases (*name); it is refused"


def test_a_hundred_aliases_are_allowed() -> None:
    text = HEADER + "spec:\n  defaults: &d {}\n" + "x: [" + ", ".join(["*d"] * 100) + "]\n"
    with pytest.raises(SpecError) as excinfo:
        parse_pipeline(text)
    assert not isinstance(excinfo.value, YamlError)
    assert messages(excinfo) == ["pipeline: field 'x' is not a known setting"]


def test_an_alias_that_contains_itself_is_refused() -> None:
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(HEADER + "loop: &a [*a]\n")
    diagnostic = only_error(excinfo)
    assert diagnostic.message == "the file refers to itself through an alias (*name inside &name)"
    assert diagnostic.line == 5


def test_nesting_deeper_than_64_levels_is_refused() -> None:
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(HEADER + "deep: " + "[" * 70 + "]" * 70 + "\n")
    diagnostic = only_error(excinfo)
    assert diagnostic.message == "the file is nested more than 64 levels deep"
    assert diagnostic.line == 5


def test_very_deep_nesting_is_refused_without_a_crash() -> None:
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(HEADER + "deep: " + "[" * 200_000 + "\n")
    assert "nest" in only_error(excinfo).message


def test_nesting_within_the_limit_is_read() -> None:
    with pytest.raises(SpecError) as excinfo:
        parse_pipeline(HEADER + "deep: " + "[" * 60 + "]" * 60 + "\n")
    assert messages(excinfo) == ["pipeline: field 'deep' is not a known setting"]


def test_a_plain_file_with_more_than_200000_values_is_refused_with_its_line() -> None:
    text = HEADER + "spec:\n  params:\n    many: [" + "1, " * 200_000 + "1]\n"
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(text)
    diagnostic = only_error(excinfo)
    assert diagnostic.message == "the file has more than 200,000 values; it is refused"
    assert diagnostic.line == 7


# The one-pass reader (files without aliases) and the two-pass one (files with aliases, merge keys, tagged
# collections) must read the same document with the same line numbers; an alias or merge key that adds
# nothing sends the same content through the other path.
_BODY = """spec:
  defaults:
    resources: {cpu: 1}
  nodes:
    - id: load
      type: data.sample
      params: {dataset: iris, rows: 150, when: 2024-01-02, ratio: 0.5, on: true, none: null}
    - id: split
      type: prepare.split
      ui: {x: 10.5, y: -3}
  edges:
    - {from: load.table, to: split.table}
"""


@pytest.mark.parametrize("other_path", ["alias", "merge key"])
def test_the_one_pass_and_two_pass_readers_agree_on_the_document_and_its_lines(other_path: str) -> None:
    from compiler.yaml_io import load_yaml_document

    plain_doc, plain_lines = load_yaml_document(HEADER + _BODY)
    if other_path == "alias":
        other = HEADER.replace("name: demo", "name: &n demo") + _BODY + "x-note: *n\n"
    else:
        other = HEADER + _BODY.replace("resources: {cpu: 1}", "resources: {<<: {}, cpu: 1}")
    other_doc, other_lines = load_yaml_document(other)
    other_doc.pop("x-note", None)
    assert other_doc == plain_doc
    assert plain_doc["spec"]["nodes"][0]["params"]["rows"] == 150
    assert str(plain_doc["spec"]["nodes"][0]["params"]["when"]) == "2024-01-02"
    added = ("x-note", "<<")  # the lines of what the other file adds
    assert {path: line for path, line in other_lines.lines.items() if not set(path) & set(added)} == plain_lines.lines
    assert plain_lines.line("spec", "nodes", 1, "ui", "x") == 14


@pytest.mark.parametrize("use_alias", [False, True], ids=["plain", "with an alias"])
def test_duplicate_keys_and_deep_nesting_are_found_on_both_reading_paths(use_alias: bool) -> None:
    extra = "anchor: &a 1\nref: *a\n" if use_alias else ""
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(HEADER + extra + "spec:\n  nodes:\n    - id: a\n      id: b\n")
    assert only_error(excinfo).message == "key 'id' appears twice in the same mapping (first on line %d)" % (7 + 2 * use_alias)
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(HEADER + extra + "deep: " + "[" * 70 + "]" * 70 + "\n")
    assert only_error(excinfo).message == "the file is nested more than 64 levels deep"


# ---- YAML the safe loader refuses ---------------------------------------------------------------


def test_duplicate_keys_name_the_key_and_both_lines() -> None:
    text = HEADER + "spec:\n  nodes:\n    - id: load\n      type: data.sample\n      type: data.file\n"
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(text)
    diagnostic = only_error(excinfo)
    assert diagnostic.message == "key 'type' appears twice in the same mapping (first on line 8)"
    assert diagnostic.line == 9


def test_invalid_syntax_is_reported_with_its_line() -> None:
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(HEADER + "spec:\n  nodes: [\n    {id: load, type: data.sample\n")
    diagnostic = only_error(excinfo)
    assert diagnostic.message.startswith("this is not valid YAML: ")
    assert diagnostic.line is not None and diagnostic.line >= 6


def test_bad_indentation_is_reported_with_its_line() -> None:
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(HEADER + "  description: a\n    oops: b\n")
    diagnostic = only_error(excinfo)
    assert diagnostic.message == "this is not valid YAML: mapping values are not allowed in this context"
    assert diagnostic.line == 6


@pytest.mark.parametrize(
    "text",
    [
        "!!python/object/apply:os.system ['touch {marker}']\n",
        HEADER + "spec: !!python/object/apply:os.system ['touch {marker}']\n",
        HEADER + "  description: !!python/object/new:subprocess.check_output [['touch', '{marker}']]\n",
    ],
    ids=["root", "value", "subprocess"],
)
def test_python_object_tags_are_refused_and_never_run(text: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(text.format(marker=marker))
    assert only_error(excinfo).message.startswith("this is not valid YAML: could not determine a constructor for the tag")
    assert not marker.exists()


def test_a_second_document_in_the_file_is_refused() -> None:
    with pytest.raises(YamlError) as excinfo:
        parse_pipeline(HEADER + "---\n" + HEADER)
    assert only_error(excinfo).line == 5


# ---- structure: keys and required fields --------------------------------------------------------


def test_unknown_keys_are_reported_where_they_are_with_a_suggestion() -> None:
    text = HEADER + (
        "spec:\n"
        "  nodes:\n"
        "    - id: load\n"
        "      type: data.sample\n"
        "      parms: {dataset: iris}\n"
        "  edges:\n"
        "    - from: load.table\n"
        "      too: split.table\n"
        "  edgez: []\n"
        "specs: {}\n"
    )
    with pytest.raises(SpecError) as excinfo:
        parse_pipeline(text)
    found = {d.message: d for d in excinfo.value.diagnostics}
    assert set(found) == {
        "node 'load': field 'parms' is not a known setting (did you mean 'params'?)",
        "edge 'load.table -> ?': field 'to' is required",
        "edge 'load.table -> ?': field 'too' is not a known setting (did you mean 'to'?)",
        "pipeline: field 'spec.edgez' is not a known setting (did you mean 'edges'?)",
        "pipeline: field 'specs' is not a known setting (did you mean 'spec'?)",
    }
    parms = found["node 'load': field 'parms' is not a known setting (did you mean 'params'?)"]
    assert (parms.node, parms.line) == ("load", 9)
    too = found["edge 'load.table -> ?': field 'too' is not a known setting (did you mean 'to'?)"]
    assert (too.edge, too.line) == ("load.table -> ?", 12)
    assert found["pipeline: field 'spec.edgez' is not a known setting (did you mean 'edges'?)"].line == 13
    assert found["pipeline: field 'specs' is not a known setting (did you mean 'spec'?)"].line == 14


def test_unknown_resource_and_position_keys_suggest_the_known_ones() -> None:
    text = HEADER + "spec:\n  nodes:\n    - id: load\n      type: data.sample\n      resources: {cpus: '2'}\n      ui: {z: 1}\n"
    with pytest.raises(SpecError) as excinfo:
        parse_pipeline(text)
    assert messages(excinfo) == [
        "node 'load': field 'resources.cpus' is not a known setting (did you mean 'cpu'?)",
        "node 'load': field 'ui.z' is not a known setting",
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "apiVersion: pipecanvas/v2",
            "pipeline: field 'apiVersion' must be one of 'pipecanvas/v1' (got 'pipecanvas/v2') (did you mean 'pipecanvas/v1'?)",
        ),
        ("kind: Workflow", "pipeline: field 'kind' must be one of 'Pipeline' (got 'Workflow')"),
    ],
)
def test_wrong_api_version_or_kind(line: str, message: str) -> None:
    key = line.split(":")[0]
    text = "\n".join(line if row.startswith(key) else row for row in HEADER.splitlines()) + "\n"
    with pytest.raises(SpecError) as excinfo:
        parse_pipeline(text)
    assert messages(excinfo) == [message]
    assert excinfo.value.diagnostics[0].line == (1 if key == "apiVersion" else 2)


def test_missing_metadata_name_is_reported() -> None:
    with pytest.raises(SpecError) as excinfo:
        parse_pipeline("apiVersion: pipecanvas/v1\nkind: Pipeline\nmetadata:\n  description: no name\n")
    assert messages(excinfo) == ["pipeline: field 'metadata.name' is required"]
    assert excinfo.value.diagnostics[0].line == 4


def test_missing_metadata_is_reported() -> None:
    with pytest.raises(SpecError) as excinfo:
        parse_pipeline("apiVersion: pipecanvas/v1\nkind: Pipeline\n")
    assert messages(excinfo) == ["pipeline: field 'metadata' is required"]


def test_every_structural_problem_is_reported_at_once() -> None:
    text = HEADER + (
        "spec:\n"
        "  nodes:\n"
        "    - just a string\n"
        "    - id: 5\n"
        "      type: [data.sample]\n"
        "      retries: lots\n"
        "      resources: {gpu: 1.5}\n"
        "  edges:\n"
        "    - from: 1\n"
        "      to: 2\n"
    )
    with pytest.raises(SpecError) as excinfo:
        parse_pipeline(text)
    assert messages(excinfo) == [
        "node #1: the node must be a mapping (key: value lines) (got 'just a string')",
        "node #2: field 'id' must be text (got 5)",
        "node #2: field 'type' must be text (got a list)",
        "node #2: field 'resources.gpu' must be a whole number (got 1.5)",
        "node #2: field 'retries' must be a whole number (got 'lots')",
        "edge '1 -> 2': field 'from' must be text (got 1)",
        "edge '1 -> 2': field 'to' must be text (got 2)",
    ]
    assert [d.line for d in excinfo.value.diagnostics] == [7, 8, 9, 11, 10, 13, 14]


def test_keys_that_are_not_text_or_are_empty_are_unknown_settings() -> None:
    text = HEADER + '  5: five\n  "": nothing\nspec:\n  edges:\n    - {from: a.table, to: b.table, "": x}\n'
    with pytest.raises(SpecError) as excinfo:
        parse_pipeline(text)
    assert [(d.message, d.line) for d in excinfo.value.diagnostics] == [
        ("pipeline: field 'metadata.5' is not a known setting (a key must be text, got 5)", 4),
        ("pipeline: field 'metadata.' is not a known setting", 6),
        ("edge 'a.table -> b.table': field '' is not a known setting", 9),
    ]


# ---- reading from disk --------------------------------------------------------------------------


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(YamlError) as excinfo:
        read_pipeline_file(path)
    assert only_error(excinfo).message == f"file '{path}' was not found"


def test_a_folder_is_not_a_pipeline_file(tmp_path: Path) -> None:
    with pytest.raises(YamlError) as excinfo:
        read_pipeline_file(tmp_path)
    assert only_error(excinfo).message == f"'{tmp_path}' is a folder, not a pipeline file"


def test_reading_a_file_remembers_where_it_came_from(tmp_path: Path) -> None:
    path = tmp_path / "copy.yaml"
    path.write_bytes(EXAMPLES[0].read_bytes())
    loaded = read_pipeline_file(path)
    assert loaded.source == str(path)
    assert loaded.source_map.line("spec", "nodes", 0) is not None
