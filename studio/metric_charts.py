"""Altair charts of what evaluate, compare, tune, cross-validate and importance nodes wrote, for the Outputs tab.

Each function takes the plain JSON of a metrics artifact (or a table) and returns
a chart; nothing here reads files or talks to Streamlit. Every axis and legend
gets a title in words and labels that are never cut short (Vega-Lite's default
truncates at 160-180 px, which turned ``Iris-versicolor`` into ``Iris-versi…``),
and a layered chart gives each axis the same title in every layer, so Vega-Lite does not merge two layers'
field names into a title like ``x, false positive rate``.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

__all__ = [
    "confusion_chart", "roc_chart", "residuals_chart", "models_roc_chart", "models_residuals_chart",
    "trials_chart", "folds_chart", "importance_chart", "calibration_chart", "gain_chart", "lift_chart",
    "labelled_bars",
]

_HEIGHT = 280
_LABEL_LIMIT = 400  # px: long class and column names are shown whole
_TITLE_CHARS = 44  # a title line's most characters: fits the panel beside the canvas at 1280 px wide
_GREY = "#9ca3af"
#: drawn as SVG, not on a canvas: the text stays sharp, selectable and readable by screen readers (and tests)
_SVG = {"embedOptions": {"renderer": "svg"}}
#: the chart fills the column's width, and ``height`` is the plot's own: axes, titles and legends are added
#: around it (Streamlit's default ``fit`` squeezes them all into ``height``, leaving a plot a few pixels tall)
_FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")
_FRAME = {"usermeta": _SVG, "autosize": _FIT_WIDTH}
#: distinct hues for models and classes (the theme's default shades of one blue are hard to tell apart)
_CATEGORIES = alt.Scale(scheme="tableau10")


def _title(text: str, subtitle: str | None = None) -> str | alt.Title:
    """A chart title that is never cut short: the panel beside the canvas is narrow, and Vega cuts a title
    wider than its chart with "…" (a class name in it included). Long texts are broken into lines at spaces;
    each line but the last keeps its space, so the lines still read (and are found) as one sentence."""
    if subtitle is None and len(text) <= _TITLE_CHARS:
        return text
    return alt.Title(_lines(text), subtitle=_lines(subtitle) if subtitle else alt.Undefined, limit=0)


def _lines(text: str) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + len(word) > _TITLE_CHARS:
            lines.append(line)
            line = ""
        line += word + " "
    return [*lines, line.rstrip()]


def _axis(title: str, percent: bool = False, **extra: Any) -> alt.Axis:
    return alt.Axis(title=title, labelLimit=_LABEL_LIMIT, titlePadding=10, format="%" if percent else alt.Undefined,
                    **extra)


def _legend(title: str) -> alt.Legend:
    return alt.Legend(title=title, labelLimit=_LABEL_LIMIT, orient="bottom", direction="vertical")


def _class_axis(title: str, labels: list[str], along_x: bool) -> alt.Axis:
    """Class names read horizontally when short; tilted (never cut) when long or many along the x axis."""
    tilt = along_x and (max((len(label) for label in labels), default=0) > 10 or len(labels) > 6)
    return _axis(title, labelAngle=-35 if tilt else 0, labelPadding=6)


def _unit_diagonal(x_title: str, y_title: str) -> alt.Chart:
    """The dashed y = x line, carrying the same axis titles as the chart it is layered under."""
    return alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(
        strokeDash=[4, 4], color=_GREY).encode(
        x=alt.X("x:Q", axis=_axis(x_title, percent=True), scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("y:Q", axis=_axis(y_title, percent=True), scale=alt.Scale(domain=[0, 1])))


def confusion_chart(matrix: dict[str, Any], normalized: bool | None = None) -> alt.Chart:
    """Counts per (actual, predicted); ``normalized`` colours by the share of each actual class and shows both."""
    labels = [str(label) for label in matrix["labels"]]
    normalized = bool(matrix.get("normalized")) if normalized is None else normalized
    rates = matrix.get("rates") or [[None] * len(labels) for _ in labels]
    cells = []
    for i, row in enumerate(matrix["matrix"]):
        for j, count in enumerate(row):
            rate = rates[i][j]
            shown = f"{rate:.0%} ({count})" if normalized and rate is not None else str(count)
            cells.append({"actual": labels[i], "predicted": labels[j], "count": count, "rate": rate, "shown": shown})
    frame = pd.DataFrame(cells)
    value, legend = ("rate", "share of actual class") if normalized else ("count", "rows")
    strongest = frame[value].max() if frame[value].notna().any() else 0
    base = alt.Chart(frame).encode(
        x=alt.X("predicted:N", sort=labels, axis=_class_axis("predicted class", labels, along_x=True)),
        y=alt.Y("actual:N", sort=labels, axis=_class_axis("actual class", labels, along_x=False)))
    colour = alt.Color(f"{value}:Q", scale=alt.Scale(scheme="blues", domain=[0, 1] if normalized else alt.Undefined),
                       legend=alt.Legend(title=legend, labelLimit=_LABEL_LIMIT,
                                         format="%" if normalized else alt.Undefined))
    heat = base.mark_rect().encode(color=colour, tooltip=[
        alt.Tooltip("actual:N", title="actual"), alt.Tooltip("predicted:N", title="predicted"),
        alt.Tooltip("count:Q", title="rows"), alt.Tooltip("rate:Q", title="share of actual class", format=".1%")])
    text = base.mark_text(fontSize=13).encode(
        text="shown:N",
        color=alt.condition(f"datum.{value} > {strongest / 2}", alt.value("white"), alt.value("#111827")))
    title = "Confusion matrix (rows add up to 100 %)" if normalized else "Confusion matrix (rows)"
    return (heat + text).properties(**_FRAME, title=_title(title), height=min(420, max(200, 56 * len(labels))))


def _roc_layers(rows: list[dict[str, Any]], **encodings: Any) -> alt.LayerChart:
    x_title, y_title = "false positive rate", "true positive rate (recall)"
    lines = alt.Chart(pd.DataFrame(rows)).mark_line().encode(
        x=alt.X("fpr:Q", axis=_axis(x_title, percent=True), scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("tpr:Q", axis=_axis(y_title, percent=True), scale=alt.Scale(domain=[0, 1])), **encodings)
    return _unit_diagonal(x_title, y_title) + lines


def roc_chart(curves: dict[str, Any]) -> alt.LayerChart:
    rows = [{"class": str(label), "fpr": fpr, "tpr": tpr}
            for label, curve in curves.items() for fpr, tpr in zip(curve["fpr"], curve["tpr"])]
    chart = _roc_layers(rows, color=alt.Color("class:N", legend=_legend("positive class"), scale=_CATEGORIES))
    return chart.properties(**_FRAME, title=_title("ROC curve (dashed: guessing)"), height=_HEIGHT)


def models_roc_chart(curves_by_model: dict[str, Any]) -> alt.LayerChart:
    """Every model's ROC curves on one chart: colour per model, dash per class."""
    rows = [
        {"model": model, "class": str(label), "fpr": fpr, "tpr": tpr}
        for model, curves in curves_by_model.items() for label, curve in curves.items()
        for fpr, tpr in zip(curve["fpr"], curve["tpr"])
    ]
    chart = _roc_layers(rows, color=alt.Color("model:N", legend=_legend("model"), scale=_CATEGORIES),
                        strokeDash=alt.StrokeDash("class:N", legend=_legend("positive class")),
                        detail="class:N", tooltip=["model", "class"])
    return chart.properties(**_FRAME, title=_title("ROC curves by model (dashed grey: guessing)"), height=_HEIGHT)


def _residual_points(frame: pd.DataFrame, **encodings: Any) -> alt.Chart:
    frame = frame.assign(residual=frame["actual"] - frame["predicted"])
    return alt.Chart(frame).mark_circle(opacity=0.55).encode(
        x=alt.X("predicted:Q", axis=_axis("predicted value"), scale=alt.Scale(zero=False)),
        y=alt.Y("residual:Q", axis=_axis("residual (actual − predicted)")), **encodings)


def residuals_chart(residuals: dict[str, Any]) -> alt.Chart:
    frame = pd.DataFrame({"actual": residuals["actual"], "predicted": residuals["predicted"]})
    return _residual_points(frame, tooltip=["actual", "predicted", "residual"]).properties(**_FRAME,
        title=_title("Residuals: above 0 the model predicted too low"), height=_HEIGHT)


def models_residuals_chart(residuals_by_model: dict[str, Any]) -> alt.Chart:
    frame = pd.concat([pd.DataFrame({"model": model, "actual": r["actual"], "predicted": r["predicted"]})
                       for model, r in residuals_by_model.items()], ignore_index=True)
    return _residual_points(frame, color=alt.Color("model:N", legend=_legend("model"), scale=_CATEGORIES),
                            tooltip=["model", "actual", "predicted", "residual"]).properties(**_FRAME,
        title=_title("Residuals by model: above 0 the model predicted too low"), height=_HEIGHT)


def trials_chart(tuning: dict[str, Any]) -> alt.LayerChart:
    """Each tuning trial's mean score (± sd) by rank; the defaults drawn in orange."""
    metric = tuning["metric"]
    frame = pd.DataFrame(tuning["trials"]).dropna(subset=[f"{metric}_mean"])
    frame["setting"] = frame.apply(lambda r: ", ".join(f"{p}={r[p]}" for p in tuning["params"]), axis=1)
    frame["sd"] = frame[f"{metric}_sd"].fillna(0)
    frame["mean"] = frame[f"{metric}_mean"]
    frame["low"], frame["high"] = frame["mean"] - frame["sd"], frame["mean"] + frame["sd"]
    frame["trial"] = frame["is_default"].map({True: "the algorithm's defaults", False: "searched"})
    base = alt.Chart(frame).encode(x=alt.X("rank:O", axis=_axis("trial, best first (rank)", labelAngle=0)))
    y_title = f"mean {metric} across folds (± sd)"
    bars = base.mark_rule(color=_GREY).encode(
        y=alt.Y("low:Q", axis=_axis(y_title), scale=alt.Scale(zero=False)), y2="high:Q")
    points = base.mark_circle(size=80, opacity=1).encode(
        y=alt.Y("mean:Q", axis=_axis(y_title)),
        color=alt.Color("trial:N", legend=_legend("settings"),
                        scale=alt.Scale(domain=["searched", "the algorithm's defaults"], range=["#2563eb", "#f97316"])),
        tooltip=[alt.Tooltip("rank:O"), alt.Tooltip("setting:N"), alt.Tooltip("mean:Q", title=f"mean {metric}",
                                                                            format=".4f"),
                 alt.Tooltip("sd:Q", format=".4f")])
    title = f"Tuning trials: mean {metric} ± sd across folds"
    return (bars + points).properties(**_FRAME, title=_title(title), height=_HEIGHT)


def folds_chart(cross_validation: dict[str, Any]) -> alt.Chart:
    frame = pd.DataFrame(cross_validation["rows"])
    long = frame.melt(id_vars=["repeat", "fold"], value_vars=cross_validation["scores"], var_name="score")
    return alt.Chart(long).mark_tick(thickness=2, size=24).encode(
        x=alt.X("value:Q", axis=_axis("score on the held-out fold"), scale=alt.Scale(zero=False)),
        y=alt.Y("score:N", axis=_axis("score")), tooltip=["score", "repeat", "fold", "value"],
    ).properties(**_FRAME, title=_title("Score of every fold"), height=max(160, 40 * len(cross_validation["scores"])))


def importance_chart(frame: pd.DataFrame, top: int = 25) -> alt.Chart:
    shown = frame.head(top)
    order = list(shown["feature"])
    bars = alt.Chart(shown).mark_bar().encode(
        x=alt.X("importance_mean:Q", axis=_axis("drop in score when the column is shuffled")),
        y=alt.Y("feature:N", sort=order, axis=_axis("column")),
        tooltip=[c for c in shown.columns])
    if "importance_sd" in shown.columns:
        whiskers = alt.Chart(shown.assign(low=shown["importance_mean"] - shown["importance_sd"],
                                          high=shown["importance_mean"] + shown["importance_sd"])).mark_rule(
            color="#1f2937").encode(x="low:Q", x2="high:Q", y=alt.Y("feature:N", sort=order))
        bars = bars + whiskers
    title = "Permutation importance on the test rows" + (" (± sd)" if "importance_sd" in shown.columns else "")
    return bars.properties(**_FRAME, title=_title(title), height=max(160, 22 * len(shown)))


def calibration_chart(calibration: dict[str, Any]) -> alt.LayerChart:
    """Mean predicted probability against the share really positive, per bin; dot size is the bin's rows."""
    positive = calibration["positive"]
    frame = pd.DataFrame(calibration["bins"])
    frame = frame[frame["count"] > 0]
    frame = frame.assign(bin=[f"{low:.0%}–{high:.0%}" for low, high in zip(frame["low"], frame["high"])])
    x_title, y_title = "mean predicted probability", "share really positive"  # the class is named in the title
    base = alt.Chart(frame).encode(
        x=alt.X("mean_predicted:Q", axis=_axis(x_title, percent=True), scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("fraction_positive:Q", axis=_axis(y_title, percent=True), scale=alt.Scale(domain=[0, 1])))
    line = base.mark_line(color="#2563eb")
    dots = base.mark_circle(color="#2563eb", opacity=0.9).encode(
        size=alt.Size("count:Q", scale=alt.Scale(zero=False, range=[30, 360]),  # a 1-row bin still shows a dot
                      legend=alt.Legend(title="test rows in the bin", orient="bottom", direction="horizontal",
                                        labelLimit=_LABEL_LIMIT)),
        tooltip=[alt.Tooltip("bin:N", title="probability bin"), alt.Tooltip("count:Q", title="rows"),
                 alt.Tooltip("mean_predicted:Q", title="mean predicted", format=".1%"),
                 alt.Tooltip("fraction_positive:Q", title="really positive", format=".1%")])
    title = _title(f"Calibration for '{positive}'",
                   "On the dashed line, a predicted 70 % means 70 % of those rows really are positive.")
    return (_unit_diagonal(x_title, y_title) + line + dots).properties(**_FRAME, title=title, height=_HEIGHT)


def _gain_frame(gain: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({"rows": gain["fraction_of_rows"], "found": gain["fraction_of_positives"],
                         "lift": gain["lift"]})


def gain_chart(gain: dict[str, Any]) -> alt.LayerChart:
    positive = gain["positive"]
    x_title, y_title = "share of test rows, highest probability first", "share of all positives found"
    line = alt.Chart(_gain_frame(gain)).mark_line(color="#2563eb").encode(
        x=alt.X("rows:Q", axis=_axis(x_title, percent=True), scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("found:Q", axis=_axis(y_title, percent=True), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("rows:Q", title="rows taken", format=".0%"),
                 alt.Tooltip("found:Q", title=f"'{positive}' found", format=".1%")])
    title = _title(f"Cumulative gain for '{positive}'", "Dashed: picking rows at random.")
    return (_unit_diagonal(x_title, y_title) + line).properties(**_FRAME, title=title, height=_HEIGHT)


def lift_chart(gain: dict[str, Any]) -> alt.LayerChart:
    frame = _gain_frame(gain).dropna(subset=["lift"])
    x_title, y_title = "share of test rows, highest probability first", "lift (times better than random)"
    line = alt.Chart(frame).mark_line(color="#2563eb").encode(
        x=alt.X("rows:Q", axis=_axis(x_title, percent=True), scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("lift:Q", axis=_axis(y_title), scale=alt.Scale(zero=True)),
        tooltip=[alt.Tooltip("rows:Q", title="rows taken", format=".0%"), alt.Tooltip("lift:Q", format=".2f")])
    random = alt.Chart(pd.DataFrame({"lift": [1.0]})).mark_rule(strokeDash=[4, 4], color=_GREY).encode(
        y=alt.Y("lift:Q", axis=_axis(y_title)))
    title = _title(f"Lift for '{gain['positive']}'", "Dashed: random, 1×.")
    return (line + random).properties(**_FRAME, title=title, height=_HEIGHT)


def labelled_bars(values: dict[str, float], label_title: str, value_title: str, percent: bool = False) -> alt.Chart:
    """Horizontal bars, largest first, each named in full on the left: class probabilities, category counts.

    Names go down the y axis because a row of long names along x is tilted, crowded or cut.
    """
    frame = pd.DataFrame({"label": [str(k) for k in values], "value": list(values.values())})
    order = list(frame.sort_values("value", ascending=False)["label"])
    bars = alt.Chart(frame).mark_bar().encode(
        x=alt.X("value:Q", axis=_axis(value_title, percent=percent),
                scale=alt.Scale(domain=[0, 1]) if percent else alt.Undefined),
        y=alt.Y("label:N", sort=order, axis=_axis(label_title)),
        tooltip=[alt.Tooltip("label:N", title=label_title),
                 alt.Tooltip("value:Q", title=value_title, format=".1%" if percent else ",")])
    return bars.properties(**_FRAME, height=max(60, 26 * len(frame)))
