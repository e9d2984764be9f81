"""The plan writer (``compiler.plain_yaml``): whatever it writes, the safe loader reads back as it was."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import compile_plan, dump_plan_yaml, load_plan_yaml, parse_pipeline
from compiler.plain_yaml import dump_plain_yaml
from compiler.yaml_io import load_yaml_document
from nodes import default_catalog

# any text a form field or a file name can hold (lone surrogates cannot be written as UTF-8 at all)
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_KEYS = _TEXT | st.text("ab ", min_size=1000, max_size=1100)  # and keys too long to be written plainly
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT
_PLAIN_DATA = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _PLAIN_DATA, min_size=1, max_size=5))  # a plan is never empty
def test_anything_plain_comes_back_equal(document):
    text = dump_plain_yaml(document)
    assert yaml.load(text, Loader=yaml.CSafeLoader) == document
    assert load_yaml_document(text)[0] == document  # the reader the step entrypoint uses, with its limits


def test_keys_longer_than_yaml_reads_as_plain_keys_come_back():
    long, spaced = "x" * 1100, "a column " * 130
    document = {long: "y", "nested": {spaced: {long: [1, {long: None}]}}, "items": [{long: 1, "b": 2}, {"c": {long: []}}]}
    text = dump_plain_yaml(document)
    assert yaml.load(text, Loader=yaml.CSafeLoader) == document
    assert load_yaml_document(text)[0] == document


def test_characters_yaml_reads_as_line_breaks_or_refuses_are_escaped():
    # C1 controls come from text decoded with the wrong code page (cp1252's en dash read as Latin-1 is U+0096)
    for text in ["a\x85b", "Gewinn \x96 Verlust", "a\x7fb", "a\u2028b", "a\u2029b", "a\ufffeb", "tab\there", 'say "hi"']:
        written = dump_plain_yaml({"value": text})
        assert yaml.load(written, Loader=yaml.CSafeLoader) == {"value": text}, written
        assert not any(ch in written for ch in "\x85\x96\x7f\u2028\u2029\ufffe"), written


def test_params_with_odd_text_and_small_numbers_survive_the_plan_file(tmp_path):
    loaded = parse_pipeline(
        "apiVersion: pipecanvas/v1\nkind: Pipeline\nmetadata: {name: odd-text}\nspec:\n"
        "  nodes:\n  - id: load\n    type: data.file\n    params: {path: placeholder.csv}\n"
        "  - id: split\n    type: prepare.split\n    params: {test_fraction: 0.5}\n"
        "  edges:\n  - {from: load.table, to: split.table}\n"
    )
    nodes = loaded.pipeline.spec.nodes
    nodes[0].params["path"] = "Gewinn \x96 Verlust\x85.csv"
    nodes[1].params["test_fraction"] = 1e-05  # written 1e-05, YAML 1.1 would read it back as text
    plan = compile_plan(loaded.pipeline, default_catalog(), str(tmp_path))
    again = load_plan_yaml(dump_plan_yaml(plan))
    assert again == plan
    assert again.step("load").params["path"] == "Gewinn \x96 Verlust\x85.csv"
    assert again.step("split").params["test_fraction"] == 1e-05
