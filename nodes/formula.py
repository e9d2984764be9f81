"""A small, safe expression language over table columns, for ``prepare.formula``.

An expression is parsed by Python's ``ast`` and then walked by this module's
own evaluator, which knows a short list of node types: numbers, text, column
names, arithmetic (``+ - * / // % **``), comparisons, ``and``/``or``/``not``,
``a if condition else b``, and calls of the functions in ``FUNCTIONS``. There
is no ``eval``: attribute access, subscripts, imports, lambdas,
comprehensions, keyword arguments and any other name are refused before
anything runs. A column whose name is not an identifier is written in
backticks: ``log(`Solar.R` + 1)``.

Every error carries the character (1-based) where it was found, so the
studio and the CLI can point at it.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Any, Callable

from .errors import NodeInputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FormulaError", "FUNCTIONS", "parse_formula", "formula_columns", "evaluate_formula"]

_BACKTICKED = re.compile(r"`([^`]+)`")
_MAX_LENGTH = 2000
_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


class FormulaError(NodeInputError):
    """An expression that cannot be used; ``offset`` is the 1-based character it points at."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at character {offset})")
        self.offset = offset


def _numpy() -> Any:
    import numpy as np

    return np


def _round(x: Any, digits: Any = 0) -> Any:
    return _numpy().round(x, int(digits))


def _clip(x: Any, low: Any, high: Any) -> Any:
    return _numpy().clip(x, low, high)


def _if_else(condition: Any, then: Any, otherwise: Any) -> Any:
    return _numpy().where(condition, then, otherwise)


def _isna(x: Any) -> Any:
    import pandas as pd

    return pd.isna(x)


FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    # name: (function, fewest arguments, most arguments)
    "log": (lambda x: _numpy().log(x), 1, 1),
    "log10": (lambda x: _numpy().log10(x), 1, 1),
    "exp": (lambda x: _numpy().exp(x), 1, 1),
    "sqrt": (lambda x: _numpy().sqrt(x), 1, 1),
    "abs": (lambda x: _numpy().abs(x), 1, 1),
    "round": (_round, 1, 2),
    "clip": (_clip, 3, 3),
    "if_else": (_if_else, 3, 3),
    "isna": (_isna, 1, 1),
}


def _unquote(expression: str) -> tuple[str, dict[str, str]]:
    """Backticked names replaced by same-length identifiers (so offsets still match) and their mapping."""
    names: dict[str, str] = {}

    def swap(match: re.Match[str]) -> str:
        placeholder = f"_{len(names)}".ljust(len(match.group(0)), "_")
        names[placeholder] = match.group(1)
        return placeholder

    return _BACKTICKED.sub(swap, expression), names


def parse_formula(expression: str) -> tuple[ast.Expression, dict[str, str]]:
    """The checked syntax tree and the backticked names; ``FormulaError`` for anything not allowed."""
    if not expression.strip():
        raise FormulaError("the expression is empty", 1)
    if len(expression) > _MAX_LENGTH:
        raise FormulaError(f"the expression is longer than {_MAX_LENGTH} characters", _MAX_LENGTH)
    text, names = _unquote(expression)
    if "`" in text:
        raise FormulaError("a backtick (`) is not closed", text.index("`") + 1)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        offset = exc.offset or 1
        raise FormulaError(f"this is not a valid expression: {exc.msg}", offset) from None
    for node in ast.walk(tree):
        _check_node(node)
    return tree, names


def _check_node(node: ast.AST) -> None:
    offset = getattr(node, "col_offset", 0) + 1
    if isinstance(node, (ast.Expression, ast.Load, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, *_BINARY, *_COMPARE)):
        return
    if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Name)):
        if isinstance(node, ast.BinOp) and not isinstance(node.op, _BINARY):
            raise FormulaError("this operator is not allowed; use + - * / // % **", offset)
        if isinstance(node, ast.UnaryOp) and not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            raise FormulaError("this operator is not allowed", offset)
        if isinstance(node, ast.Compare) and not all(isinstance(op, _COMPARE) for op in node.ops):
            raise FormulaError("only == != < <= > >= compare values here", offset)
        return
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (int, float, str, bool)):
            return
        raise FormulaError(f"{node.value!r} is not a value an expression can hold", offset)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute):
            _check_node(node.func)
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            shown = node.func.id if isinstance(node.func, ast.Name) else "this"
            raise FormulaError(f"{shown!r} is not a function here; available: {', '.join(FUNCTIONS)}", offset)
        if node.keywords:
            raise FormulaError(f"{node.func.id}() takes its arguments by position only", offset)
        _, low, high = FUNCTIONS[node.func.id]
        if not low <= len(node.args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise FormulaError(f"{node.func.id}() takes {wanted} argument(s), got {len(node.args)}", offset)
        return
    if isinstance(node, ast.Attribute):
        offset = (node.value.end_col_offset or 0) + 1  # the dot
        raise FormulaError("'.' is not allowed; write a column named with a dot in backticks, e.g. `Solar.R`", offset)
    what = {ast.Subscript: "subscripts ([...])", ast.Lambda: "lambdas", ast.ListComp: "comprehensions",
            ast.GeneratorExp: "comprehensions", ast.DictComp: "comprehensions", ast.SetComp: "comprehensions",
            ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts", ast.Set: "sets", ast.Starred: "'*'",
            ast.NamedExpr: "':='", ast.JoinedStr: "f-strings", ast.Await: "await"}.get(type(node), type(node).__name__)
    raise FormulaError(f"{what} are not allowed in an expression", offset)


def formula_columns(expression: str) -> list[str]:
    """The column names an expression reads."""
    tree, names = parse_formula(expression)
    found: list[str] = []
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in calls and node.id not in ("True", "False"):
            name = names.get(node.id, node.id)
            if name not in found:
                found.append(name)
    return found


def evaluate_formula(expression: str, frame: "pd.DataFrame") -> Any:
    """The expression over ``frame``'s columns, one value per row (a Series, or a scalar for a constant)."""
    import numpy as np
    import pandas as pd

    tree, names = parse_formula(expression)
    evaluator = _Evaluator(frame, names)
    with np.errstate(all="ignore"):  # log(0) is -inf, 1/0 is inf: values, not crashes
        try:
            result = evaluator.visit(tree.body)
        except FormulaError:
            raise
        except (TypeError, ValueError) as exc:
            raise FormulaError(f"the values do not fit this operation: {exc}", evaluator.last_offset) from None
    if isinstance(result, np.ndarray):
        result = pd.Series(result, index=frame.index)
    return result


class _Evaluator:
    def __init__(self, frame: "pd.DataFrame", names: dict[str, str]) -> None:
        self.frame = frame
        self.names = names
        self.last_offset = 1

    def visit(self, node: ast.AST) -> Any:
        self.last_offset = getattr(node, "col_offset", 0) + 1
        return getattr(self, f"_{type(node).__name__}")(node)

    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        if node.id in ("True", "False"):
            return node.id == "True"
        name = self.names.get(node.id, node.id)
        if name not in self.frame.columns:
            import difflib

            close = difflib.get_close_matches(name, [str(c) for c in self.frame.columns], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise FormulaError(f"there is no column {name!r}{hint}", node.col_offset + 1)
        return self.frame[name]

    def _BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.visit(node.left), self.visit(node.right)
        self.last_offset = node.col_offset + 1
        operations = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
                      ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
                      ast.Pow: lambda a, b: a ** b}
        return operations[type(node.op)](left, right)

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return ~_as_bool(value) if not isinstance(value, bool) else not value
        return -value if isinstance(node.op, ast.USub) else +value

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        values = [_as_bool(self.visit(v)) for v in node.values]
        result = values[0]
        for value in values[1:]:
            result = (result & value) if isinstance(node.op, ast.And) else (result | value)
        return result

    def _Compare(self, node: ast.Compare) -> Any:
        operations = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
                      ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b}
        left, result = self.visit(node.left), None
        for op, comparator in zip(node.ops, node.comparators):
            right = self.visit(comparator)
            self.last_offset = node.col_offset + 1
            part = operations[type(op)](left, right)
            result = part if result is None else (result & part)
            left = right
        return result

    def _IfExp(self, node: ast.IfExp) -> Any:
        return _if_else(_as_bool(self.visit(node.test)), self.visit(node.body), self.visit(node.orelse))

    def _Call(self, node: ast.Call) -> Any:
        function = FUNCTIONS[node.func.id][0]  # type: ignore[union-attr]
        args = [self.visit(a) for a in node.args]
        self.last_offset = node.col_offset + 1
        return function(*args)


def _as_bool(value: Any) -> Any:
    """A condition as booleans; a missing value counts as false."""
    import pandas as pd

    if isinstance(value, pd.Series):
        return value.fillna(False).astype(bool)
    return value
