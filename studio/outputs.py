"""What a finished step made, shown for an analyst: its warnings, metrics, charts and table previews.

The charts themselves are built in ``metric_charts``.

These read the artifact store (never run anything): a metrics JSON, a Parquet
table, a log file. A model is never loaded here (loading a crafted file could
run code in the studio): what is shown is the details file written beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from nodes.artifact_io import read_artifact
from nodes.artifacts import ArtifactKind
from nodes.errors import ArtifactReadError
from nodes.model_meta import read_model_meta

from .metric_charts import (
    calibration_chart, confusion_chart, folds_chart, gain_chart, importance_chart, lift_chart, models_residuals_chart,
    models_roc_chart, residuals_chart, roc_chart, trials_chart,
)

__all__ = ["show_outputs", "table_profile", "log_tail", "comparison_frame"]

_PREVIEW_ROWS = 20
_SHORT_TABLE_ROWS = 5  # up to this many rows fit the 230 px preview: it is drawn at their height


def comparison_frame(comparison: dict[str, Any]) -> pd.DataFrame:
    """One row per model, its scores, and a last ★ column naming the metrics it is best at (the scores come
    first, so a narrow panel shows them without scrolling)."""
    frame = pd.DataFrame(comparison["rows"])
    best = comparison.get("best", {})
    frame["★"] = [", ".join(m for m, name in best.items() if name == model) for model in frame["model"]]
    return frame


def _highlight_best(frame: pd.DataFrame, comparison: dict[str, Any]) -> Any:
    best = comparison.get("best", {})

    def colour(column: pd.Series) -> list[str]:
        winner = best.get(column.name)
        return ["font-weight: bold; background-color: #dcfce7" if winner == model else "" for model in frame["model"]]

    return frame.style.apply(colour, subset=[m for m in best if m in frame.columns]).format(precision=4)


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


def _show_metrics(values: dict[str, Any], shown_warnings: list[str]) -> None:
    for warning in values.get("warnings") or []:
        if warning not in shown_warnings:
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
    if isinstance(values.get("decision"), dict):
        decision = values["decision"]
        st.caption(f"Predicted '{decision['positive']}' when its probability is at least {decision['threshold']:g}; "
                   "the scores and the confusion matrix count those predictions.")
    if isinstance(values.get("confusion_matrix"), dict):
        st.altair_chart(confusion_chart(values["confusion_matrix"]), width="stretch")
    if isinstance(values.get("roc_curve"), dict) and values["roc_curve"]:
        st.altair_chart(roc_chart(values["roc_curve"]), width="stretch")
    _show_binary_curves(values)
    if isinstance(values.get("residuals"), dict):
        st.altair_chart(residuals_chart(values["residuals"]), width="stretch")


def _show_binary_curves(values: dict[str, Any]) -> None:
    """Calibration, gain and lift, each the column's full width: two classes with probabilities only."""
    if isinstance(values.get("calibration"), dict):
        st.altair_chart(calibration_chart(values["calibration"]), width="stretch")
    if isinstance(values.get("gain"), dict):
        st.altair_chart(gain_chart(values["gain"]), width="stretch")
        st.altair_chart(lift_chart(values["gain"]), width="stretch")


def _shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float)) else "n/a"


def show_outputs(artifacts: list[tuple[str, str, str]], warnings: list[str] | None = None) -> None:
    """``artifacts``: (port, kind, uri) of one step; ``warnings``: what the step warned about (shown first)."""
    warnings = list(warnings or [])
    for warning in warnings:
        st.warning(warning, icon=":material/warning:")
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
            _show_metrics(value.values, warnings)
        elif kind == ArtifactKind.TABLE.value:
            frame = value.frame
            st.markdown(f"**{port}** — {len(frame):,} rows × {frame.shape[1]} columns"
                        + (f", target `{value.target}`" if value.target else ""))
            if {"feature", "importance_mean"} <= set(frame.columns):
                st.altair_chart(importance_chart(frame), width="stretch")
            preview = frame.head(_PREVIEW_ROWS)  # a short table as tall as its rows, not padded with empty ones
            st.dataframe(preview, width="stretch", height=230 if len(preview) > _SHORT_TABLE_ROWS else "auto")
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
