"""``prepare.columns``: keep, drop, rename and retype columns (Azure ML's Select Columns, Orange's Select Columns)."""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import Field

from .artifacts import ArtifactKind, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .column_roles import convert_column
from .context import RunContext
from .data import COLUMNS_WIDGET
from .errors import NodeInputError

__all__ = ["SelectColumns", "missing_columns_message"]

ColumnType = Literal["number", "category", "text", "date", "boolean"]


class ColumnsParams(NodeParams):
    keep: list[str] = Field(
        default_factory=list, json_schema_extra=COLUMNS_WIDGET,
        description="Keep only these columns (and the target); empty keeps them all.",
    )
    drop: list[str] = Field(default_factory=list, json_schema_extra=COLUMNS_WIDGET, description="Remove these columns.")
    rename: dict[str, str] = Field(
        default_factory=dict, description="New names, old: new (applied last; a renamed target stays the target)."
    )
    types: dict[str, ColumnType] = Field(
        default_factory=dict, description="Change a column's type: number, category, text, date or boolean."
    )


class SelectColumns(NodeType):
    type_id = "prepare.columns"
    title = "Select columns"
    description = "Keeps, drops, renames or changes the type of columns."
    category = Category.PREPARE
    icon = "table"
    keywords = ("drop columns", "rename", "cast", "types")
    inputs = (Port("table", ArtifactKind.TABLE, description="The rows whose columns to change."),)
    outputs = (Port("table", ArtifactKind.TABLE, description="The same rows with the chosen columns."),)
    Params = ColumnsParams
    resources = Resources(cpu="500m", memory="1Gi")

    def run(self, inputs: dict[str, Any], params: ColumnsParams, context: RunContext) -> dict[str, Any]:
        table: Table = inputs["table"]
        frame = table.frame.copy()
        for param, named in (("keep", params.keep), ("drop", params.drop), ("rename", list(params.rename)),
                             ("types", list(params.types))):
            missing = [c for c in named if c not in frame.columns]
            if missing:
                raise NodeInputError(missing_columns_message(param, missing, list(frame.columns)))
        if table.target in params.drop:
            raise NodeInputError(f"param 'drop' removes the target {table.target!r}; choose another target on the "
                                 "data node, or keep this column")
        if params.keep:
            kept = [c for c in frame.columns if c in params.keep or c == table.target]
            frame = frame[kept]
        frame = frame.drop(columns=params.drop)
        for column, kind in params.types.items():
            if column in frame.columns:
                frame[column] = convert_column(frame[column], kind, column)
        new_names = list(frame.rename(columns=params.rename).columns)
        clashes = sorted({c for c in new_names if new_names.count(c) > 1})
        if clashes:
            raise NodeInputError(f"param 'rename' gives two columns the name {clashes[0]!r}")
        frame = frame.rename(columns=params.rename)
        target = params.rename.get(table.target, table.target) if table.target is not None else None
        ignored = [params.rename.get(c, c) for c in table.ignored if c in table.frame.columns and c not in params.drop]
        context.log(f"{table.frame.shape[1]} column(s) in, {frame.shape[1]} out")
        return {"table": Table(frame, target, [c for c in ignored if c in frame.columns])}


def missing_columns_message(param: str, missing: list[str], columns: list[Any]) -> str:
    """``param 'keep' names 'Sexx', which the table lacks (did you mean 'Sex'?); columns are: ...``."""
    names = [str(c) for c in columns]
    close = difflib.get_close_matches(missing[0], names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(map(repr, missing))
    return f"param {param!r} names {listed}, which the table lacks{hint}; columns are: {', '.join(names)}"



