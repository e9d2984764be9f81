"""``prepare.join``: two tables matched on key columns (Azure ML's Join Data, Orange's Merge Data)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from .artifacts import ArtifactKind, Metrics, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .data import COLUMNS_WIDGET
from .errors import NodeInputError
from .prepare_columns import missing_columns_message

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["JoinTables"]


class JoinParams(NodeParams):
    on: list[str] = Field(
        ..., min_length=1, json_schema_extra=COLUMNS_WIDGET,
        description="Key column(s) of the left table; rows whose keys are equal are joined.",
    )
    right_on: list[str] = Field(
        default_factory=list, description="The right table's key columns when their names differ (same order)."
    )
    how: Literal["inner", "left", "outer"] = Field(
        "inner", description="inner: rows with a match on both sides; left: every left row; outer: every row of both."
    )
    suffix: str = Field("_right", min_length=1, max_length=20,
                        description="Added to a right column whose name the left table already uses.")


class JoinTables(NodeType):
    type_id = "prepare.join"
    title = "Join tables"
    description = "Matches the rows of two tables on key columns, like a spreadsheet lookup or a SQL join."
    category = Category.PREPARE
    icon = "workflow"
    keywords = ("merge", "lookup", "vlookup", "sql join")
    inputs = (
        Port("left", ArtifactKind.TABLE, description="The main table; its target is kept."),
        Port("right", ArtifactKind.TABLE, description="The table to look rows up in."),
    )
    outputs = (
        Port("table", ArtifactKind.TABLE, description="The joined rows."),
        Port("report", ArtifactKind.METRICS, description="Row counts: left, right, matched, joined."),
    )
    Params = JoinParams
    resources = Resources(cpu="1", memory="2Gi")

    def run(self, inputs: dict[str, Any], params: JoinParams, context: RunContext) -> dict[str, Any]:
        import pandas as pd

        left: Table = inputs["left"]
        right: Table = inputs["right"]
        right_on = params.right_on or params.on
        if len(right_on) != len(params.on):
            raise NodeInputError(f"param 'right_on' names {len(right_on)} column(s) but 'on' names {len(params.on)}; "
                                 "give one right key per left key")
        for side, table, keys in (("on", left, params.on), ("right_on", right, right_on)):
            missing = [c for c in keys if c not in table.frame.columns]
            if missing:
                where = "left" if side == "on" else "right"
                raise NodeInputError(missing_columns_message(side, missing, list(table.frame.columns))
                                     .replace("the table lacks", f"the {where} table lacks"))
        for left_key, right_key in zip(params.on, right_on):
            _check_key_types(left.frame[left_key], right.frame[right_key], left_key, right_key)
        joined = pd.merge(left.frame, right.frame, how=params.how, left_on=params.on, right_on=right_on,
                          suffixes=("", params.suffix), indicator="_pipecanvas_side")
        matched = int((joined["_pipecanvas_side"] == "both").sum())
        joined = joined.drop(columns="_pipecanvas_side").reset_index(drop=True)
        if params.right_on:  # right key columns with other names duplicate the left keys
            joined = joined.drop(columns=[c for c in right_on if c not in params.on and c in joined.columns])
        report = {"left_rows": len(left.frame), "right_rows": len(right.frame), "matched_rows": matched,
                  "joined_rows": len(joined)}
        context.log(f"joined {len(left.frame)} left and {len(right.frame)} right rows ({params.how}): "
                    f"{matched} matched, {len(joined)} rows out")
        if joined.empty:
            raise NodeInputError("no rows match on the key column(s); check that the keys hold the same values")
        target = left.target if left.target is not None else right.target
        ignored = [c for c in [*left.ignored, *right.ignored] if c in joined.columns]
        return {"table": Table(joined, target if target in joined.columns else None, list(dict.fromkeys(ignored))),
                "report": Metrics(report)}


def _check_key_types(left: "pd.Series", right: "pd.Series", left_key: str, right_key: str) -> None:
    from pandas.api import types

    def kind(series: "pd.Series") -> str:
        if types.is_bool_dtype(series):
            return "true/false values"
        if types.is_numeric_dtype(series):
            return "numbers"
        if types.is_datetime64_any_dtype(series):
            return "dates"
        return "text"

    if kind(left) != kind(right):
        name = repr(left_key) if left_key == right_key else f"{left_key!r}/{right_key!r}"
        raise NodeInputError(f"key {name} holds {kind(left)} in the left table but {kind(right)} in the right one; "
                             "give both the same type with a 'Select columns' (prepare.columns) node first")
