"""What a finished step made, shown for an analyst: metrics, charts (Altair) and table previews.

These read the artifact store (never run anything): a metrics JSON, a Parquet
table, a log file. A model is never loaded here (loading a crafted file could
run code in the studio): what is shown is the details file written beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from nodes.artifact_io import read_artifact
from nodes.artifacts import ArtifactKind
from nodes.errors import ArtifactReadError
from nodes.model_meta import read_model_meta

__all__ = ["show_outputs", "confusion_chart", "roc_chart", "residuals_chart", "table_profile", "log_tail"]

_PREVIEW_ROWS = 20


def confusion_chart(matrix: dict[str, Any]) -> alt.Chart:
    labels = [str(label) for label in matrix["labels"]]
    cells = [
        {"actual": labels[i], "predicted": labels[j], "count": count}
        for i, row in enumerate(matrix["matrix"]) for j, count in enumerate(row)
    ]
    frame = pd.DataFrame(cells)
    base = alt.Chart(frame).encode(
        x=alt.X("predicted:N", sort=labels, title="predicted"), y=alt.Y("actual:N", sort=labels, title="actual"))
    heat = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(scheme="blues")),
                                   tooltip=["actual", "predicted", "count"])
    text = base.mark_text(fontSize=14).encode(text="count:Q")
    return (heat + text).properties(title="Confusion matrix", height=260)


def roc_chart(curves: dict[str, Any]) -> alt.Chart:
    rows = [
        {"class": str(label), "false positive rate": fpr, "true positive rate": tpr}
        for label, curve in curves.items() for fpr, tpr in zip(curve["fpr"], curve["tpr"])
    ]
    diagonal = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(strokeDash=[4, 4], color="#999").encode(
        x="x:Q", y="y:Q")
    lines = alt.Chart(pd.DataFrame(rows)).mark_line().encode(
        x=alt.X("false positive rate:Q", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("true positive rate:Q", scale=alt.Scale(domain=[0, 1])), color="class:N")
    return (diagonal + lines).properties(title="ROC curve", height=260)


def residuals_chart(residuals: dict[str, Any]) -> alt.Chart:
    frame = pd.DataFrame({"actual": residuals["actual"], "predicted": residuals["predicted"]})
    frame["residual"] = frame["actual"] - frame["predicted"]
    return alt.Chart(frame).mark_circle(opacity=0.6).encode(
        x=alt.X("predicted:Q"), y=alt.Y("residual:Q"), tooltip=["actual", "predicted", "residual"],
    ).properties(title="Residuals (actual − predicted)", height=260)


def table_profile(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per column: its type and how many values are missing."""
    return pd.DataFrame({
        "column": frame.columns,
        "type": [str(t) for t in frame.dtypes],
        "missing": [int(frame[c].isna().sum()) for c in frame.columns],
    })


def log_tail(path: str | None, lines: int = 200) -> str:
    if not path or not Path(path).exists():
        return ""
    with open(path, "rb") as handle:
        handle.seek(max(0, Path(path).stat().st_size - 64_000))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def _show_metrics(values: dict[str, Any]) -> None:
    scalars = {k: v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if scalars:
        columns = st.columns(min(4, len(scalars)))
        for i, (name, value) in enumerate(scalars.items()):
            columns[i % len(columns)].metric(name.replace("_", " "), f"{value:.4g}" if isinstance(value, float) else value)
    if isinstance(values.get("confusion_matrix"), dict):
        st.altair_chart(confusion_chart(values["confusion_matrix"]), width="stretch")
    if isinstance(values.get("roc_curve"), dict) and values["roc_curve"]:
        st.altair_chart(roc_chart(values["roc_curve"]), width="stretch")
    if isinstance(values.get("residuals"), dict):
        st.altair_chart(residuals_chart(values["residuals"]), width="stretch")


def show_outputs(artifacts: list[tuple[str, str, str]]) -> None:
    """``artifacts``: (port, kind, uri) of one step."""
    for port, kind, uri in artifacts:
        if kind == ArtifactKind.MODEL.value:
            _show_model(port, uri)
            continue
        try:
            value = read_artifact(kind, uri)
        except Exception as exc:  # a missing or unreadable file is shown, never raised
            st.warning(f"output '{port}' could not be read: {exc}")
            continue
        if kind == ArtifactKind.METRICS.value:
            _show_metrics(value.values)
        elif kind == ArtifactKind.TABLE.value:
            frame = value.frame
            st.markdown(f"**{port}** — {len(frame):,} rows × {frame.shape[1]} columns"
                        + (f", target `{value.target}`" if value.target else ""))
            st.dataframe(frame.head(_PREVIEW_ROWS), width="stretch", height=230)
            st.dataframe(table_profile(frame), hide_index=True, width="stretch")
        elif kind == ArtifactKind.ENDPOINT.value:
            st.markdown(f"**{port}** — endpoint `{value.name}` at {value.url}")


def _show_model(port: str, uri: str) -> None:
    """The model's details file, shown as text; the model file itself is never opened."""
    try:
        summary = read_model_meta(uri)
    except ArtifactReadError as exc:
        st.warning(f"output '{port}': {exc}")
        return
    if summary is None:
        st.caption(f"output '{port}': this model was saved without a details file (by an older pipecanvas), "
                   "so there is nothing to show; the studio never loads model files")
        return
    st.markdown(f"**{port}** — {summary.task} model")
    rows = [("algorithm", summary.algorithm), ("estimator", summary.estimator), ("target", summary.target),
            ("feature columns", ", ".join(summary.feature_columns)),
            ("classes", None if summary.classes is None else ", ".join(map(str, summary.classes)))]
    st.dataframe(pd.DataFrame([(k, v) for k, v in rows if v is not None], columns=["", "value"]),
                 hide_index=True, width="stretch")
    if summary.input_schema:
        st.dataframe(pd.DataFrame(list(summary.input_schema.items()), columns=["input column", "type"]),
                     hide_index=True, width="stretch")
    if summary.params:
        st.dataframe(pd.DataFrame([(k, "" if v is None else str(v)) for k, v in summary.params.items()],
                                  columns=["setting", "value"]), hide_index=True, width="stretch")
