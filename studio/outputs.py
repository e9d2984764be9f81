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

__all__ = [
    "show_outputs", "confusion_chart", "roc_chart", "residuals_chart", "table_profile", "log_tail",
    "comparison_frame", "models_roc_chart", "models_residuals_chart", "trials_chart", "folds_chart", "importance_chart",
]

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


def comparison_frame(comparison: dict[str, Any]) -> pd.DataFrame:
    """One row per model, its scores, and a ★ column naming the metrics it is best at."""
    frame = pd.DataFrame(comparison["rows"])
    best = comparison.get("best", {})
    frame.insert(0, "★", [", ".join(m for m, name in best.items() if name == model) for model in frame["model"]])
    return frame


def _highlight_best(frame: pd.DataFrame, comparison: dict[str, Any]) -> Any:
    best = comparison.get("best", {})

    def colour(column: pd.Series) -> list[str]:
        winner = best.get(column.name)
        return ["font-weight: bold; background-color: #dcfce7" if winner == model else "" for model in frame["model"]]

    return frame.style.apply(colour, subset=[m for m in best if m in frame.columns]).format(precision=4)


def models_roc_chart(curves_by_model: dict[str, Any]) -> alt.Chart:
    """Every model's ROC curves on one chart: colour per model, dash per class."""
    rows = [
        {"model": model, "class": str(label), "false positive rate": fpr, "true positive rate": tpr}
        for model, curves in curves_by_model.items() for label, curve in curves.items()
        for fpr, tpr in zip(curve["fpr"], curve["tpr"])
    ]
    diagonal = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(strokeDash=[4, 4], color="#999").encode(
        x="x:Q", y="y:Q")
    lines = alt.Chart(pd.DataFrame(rows)).mark_line().encode(
        x=alt.X("false positive rate:Q", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("true positive rate:Q", scale=alt.Scale(domain=[0, 1])),
        color="model:N", strokeDash="class:N", detail="class:N", tooltip=["model", "class"])
    return (diagonal + lines).properties(title="ROC curves by model", height=280)


def models_residuals_chart(residuals_by_model: dict[str, Any]) -> alt.Chart:
    frames = [pd.DataFrame({"model": model, "actual": r["actual"], "predicted": r["predicted"]})
              for model, r in residuals_by_model.items()]
    frame = pd.concat(frames, ignore_index=True)
    frame["residual"] = frame["actual"] - frame["predicted"]
    return alt.Chart(frame).mark_circle(opacity=0.5).encode(
        x="predicted:Q", y="residual:Q", color="model:N", tooltip=["model", "actual", "predicted", "residual"],
    ).properties(title="Residuals by model (actual − predicted)", height=280)


def trials_chart(tuning: dict[str, Any]) -> alt.Chart:
    """Each tuning trial's mean score (± sd) by rank; the defaults drawn in orange."""
    metric = tuning["metric"]
    frame = pd.DataFrame(tuning["trials"]).dropna(subset=[f"{metric}_mean"])
    frame["setting"] = frame.apply(lambda r: ", ".join(f"{p}={r[p]}" for p in tuning["params"]), axis=1)
    frame["sd"] = frame[f"{metric}_sd"].fillna(0)
    frame["low"], frame["high"] = frame[f"{metric}_mean"] - frame["sd"], frame[f"{metric}_mean"] + frame["sd"]
    base = alt.Chart(frame).encode(x=alt.X("rank:O", title="rank"))
    bars = base.mark_rule().encode(y=alt.Y("low:Q", title=metric, scale=alt.Scale(zero=False)), y2="high:Q")
    points = base.mark_circle(size=70).encode(
        y=f"{metric}_mean:Q", color=alt.Color("is_default:N", title="defaults"), tooltip=["setting", f"{metric}_mean", "sd"])
    return (bars + points).properties(title=f"Tuning trials: mean {metric} ± sd across folds", height=260)


def folds_chart(cross_validation: dict[str, Any]) -> alt.Chart:
    frame = pd.DataFrame(cross_validation["rows"])
    long = frame.melt(id_vars=["repeat", "fold"], value_vars=cross_validation["scores"], var_name="score")
    return alt.Chart(long).mark_tick(thickness=2, size=24).encode(
        x=alt.X("value:Q", scale=alt.Scale(zero=False)), y="score:N", tooltip=["score", "repeat", "fold", "value"],
    ).properties(title="Score of every fold", height=200)


def importance_chart(frame: pd.DataFrame, top: int = 25) -> alt.Chart:
    shown = frame.head(top)
    order = list(shown["feature"])
    bars = alt.Chart(shown).mark_bar().encode(
        x=alt.X("importance_mean:Q", title="drop in score when shuffled"), y=alt.Y("feature:N", sort=order),
        tooltip=[c for c in shown.columns])
    return bars.properties(title="Permutation importance on the test rows", height=max(160, 18 * len(shown)))


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


def _show_comparison(values: dict[str, Any]) -> None:
    comparison = values["comparison"]
    metric = comparison.get("metric")
    st.markdown(f"**Best by {metric}: `{values.get('best_model')}`** of {values.get('n_models')} models "
                f"on {values.get('n_test')} test rows"
                + (f" · lower is better for {', '.join(comparison['lower_is_better'])}" if comparison.get("lower_is_better") else ""))
    frame = comparison_frame(comparison)
    st.dataframe(_highlight_best(frame, comparison), hide_index=True, width="stretch")
    if any(values.get("roc_curves", {}).values()):
        st.altair_chart(models_roc_chart(values["roc_curves"]), width="stretch")
    if values.get("residuals_by_model"):
        st.altair_chart(models_residuals_chart(values["residuals_by_model"]), width="stretch")


def _show_metrics(values: dict[str, Any]) -> None:
    for warning in values.get("warnings") or []:
        st.warning(warning)
    if isinstance(values.get("comparison"), dict):
        _show_comparison(values)
        return
    if isinstance(values.get("tuning"), dict):
        tuning = values["tuning"]
        st.markdown(f"**Best {tuning['metric']}: {_shown(values.get('best_' + tuning['metric']))}** with "
                    + ", ".join(f"`{p}={v}`" for p, v in tuning["best"].items())
                    + f" · defaults: {_shown(values.get('default_' + tuning['metric']))}")
        st.altair_chart(trials_chart(tuning), width="stretch")
        st.dataframe(pd.DataFrame(tuning["trials"]), hide_index=True, width="stretch")
        return
    if isinstance(values.get("cross_validation"), dict):
        cv = values["cross_validation"]
        st.dataframe(pd.DataFrame([{"score": n, "mean": cv["summary"][n]["mean"], "sd": cv["summary"][n]["sd"]}
                                   for n in cv["scores"]]), hide_index=True, width="stretch")
        st.altair_chart(folds_chart(cv), width="stretch")
        return
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


def _shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float)) else "n/a"


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
            if {"feature", "importance_mean"} <= set(frame.columns):
                st.altair_chart(importance_chart(frame), width="stretch")
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
    if summary.rules:
        with st.expander("Decision tree rules", expanded=True):
            st.code(summary.rules, language=None)
