"""pipecanvas studio (Streamlit): open, check and save pipelines against the node catalog.

Run with ``make studio``. The studio never executes a step itself; it only edits
the pipeline spec and asks the compiler about it.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from compiler import SpecError, dump_pipeline, parse_pipeline, validate_pipeline
from nodes import Category, default_catalog

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

st.set_page_config(page_title="pipecanvas studio", page_icon="🧩", layout="wide")


@st.cache_resource
def _catalog():
    return default_catalog()


def _palette(catalog) -> None:
    st.sidebar.header("Node catalog")
    query = st.sidebar.text_input("Search nodes", placeholder="e.g. split, forest, endpoint").strip().lower()
    for category in Category:
        types = [t for t in catalog if t.category == category]
        if query:
            types = [t for t in types if query in f"{t.type_id} {t.title} {t.description}".lower()]
        if not types:
            continue
        st.sidebar.subheader(category.value.title())
        for node_type in types:
            gpu = " · GPU" if node_type.resources.gpu and "GPU" not in node_type.title else ""
            with st.sidebar.expander(f"{node_type.title}{gpu}"):
                st.caption(f"`{node_type.type_id}`")
                st.write(node_type.description)
                ins = ", ".join(f"{p.name} ({p.kind})" for p in node_type.inputs) or "none"
                outs = ", ".join(f"{p.name} ({p.kind})" for p in node_type.outputs)
                st.markdown(f"**Inputs:** {ins}  \n**Outputs:** {outs}")


def _source_text() -> tuple[str, str]:
    examples = sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    left, right = st.columns([2, 3])
    choice = left.selectbox("Start from an example", examples, index=examples.index("iris-classifier.yaml") if "iris-classifier.yaml" in examples else 0)
    upload = right.file_uploader("…or open a pipeline YAML", type=["yaml", "yml"])
    if upload is not None:
        return upload.name, upload.getvalue().decode("utf-8", errors="replace")
    return choice, (EXAMPLES / choice).read_text(encoding="utf-8")


def main() -> None:
    catalog = _catalog()
    _palette(catalog)
    st.title("pipecanvas studio")
    st.caption("Backend for runs: **local** (this machine).")
    name, text = _source_text()
    edited = st.text_area("Pipeline YAML", value=text, height=420, key=f"yaml-{name}-{hash(text)}")
    try:
        loaded = parse_pipeline(edited, source=name)
    except SpecError as exc:
        st.error(f"{len(exc.errors)} problem(s) in {name}")
        for diagnostic in exc.diagnostics:
            st.error(f"line {diagnostic.line}: {diagnostic.message}" if diagnostic.line else diagnostic.message)
        return
    diagnostics = validate_pipeline(loaded.pipeline, catalog, loaded.source_map)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        st.error(f"{len(errors)} error(s): the pipeline cannot run until they are fixed")
    else:
        st.success(f"Valid: {len(loaded.pipeline.spec.nodes)} nodes, {len(loaded.pipeline.spec.edges)} connections")
    for diagnostic in diagnostics:
        show = st.error if diagnostic.severity == "error" else st.warning
        show(f"line {diagnostic.line}: {diagnostic.message}" if diagnostic.line else diagnostic.message)
    rows = [
        {"node": n.id, "type": n.type, "title": catalog.get(n.type).title if n.type in catalog else "unknown",
         "problems": sum(1 for d in diagnostics if d.node == n.id)}
        for n in loaded.pipeline.spec.nodes
    ]
    st.dataframe(rows, hide_index=True, width="stretch")
    st.download_button("Download canonical YAML", dump_pipeline(loaded.pipeline), file_name=f"{loaded.pipeline.metadata.name}.yaml")


main()
