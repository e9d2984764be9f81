"""Data-quality checks on a table before anything trains on it, in an analyst's words.

Each check looks at the table as the data node reads it (after its column roles
and types) and returns ``Finding`` records: a severity, the column concerned and
a message that says what to do, naming the node or the param that fixes it.
The compiler turns findings into diagnostics on the data node (``pipecanvas
validate``, the studio's problems list); nothing here reads files.

The checks are the ones a data-quality assessment reports (DataRobot's is the
model): row-number and id-like columns, constant columns, a feature that alone
gives the target away (leakage), missing target values, classes too small to
split, high-cardinality text, dates written as text, duplicated rows.

``pipecanvas validate`` keeps the findings on disk: a change to what a check
reports must bump ``compiler.data_findings_store.FINDINGS_VERSION``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Finding",
    "TaskGuess",
    "MAX_CLASSES",
    "detect_id_columns",
    "infer_task",
    "check_table",
    "looks_like_dates",
]

#: A numeric target with more distinct values than this is a quantity (regression), not class labels.
MAX_CLASSES = 20
_LEAK_SCORE = 0.99
_LEAK_SAMPLE = 20_000
_HIGH_CARDINALITY = 50
#: more constant columns than this are one finding
_MANY_CONSTANT = 5
_ID_NAME = re.compile(r"^(id|_?index|row|rows|row_?id|rownames?|obs|observation|record|#|no\.?)$|(^|[_ .])id$", re.IGNORECASE)
_DATE = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{4}-\d{2}-\d{2}T)"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)


@dataclass(frozen=True)
class Finding:
    """One problem found in the data. ``code`` names the check (stable, for tests and tools)."""

    severity: Literal["error", "warning"]
    code: str
    message: str
    column: str | None = None


@dataclass(frozen=True)
class TaskGuess:
    """What a target column implies: ``classification`` (with its classes) or ``regression``."""

    task: Literal["classification", "regression"]
    n_classes: int | None
    reason: str

    def describe(self) -> str:
        if self.task == "classification":
            return f"classification ({self.n_classes} classes)"
        return "regression"


def infer_task(target: "pd.Series") -> TaskGuess:
    """Classification for text, booleans and whole numbers with few values; regression for other numbers."""
    from pandas.api import types

    values = target.dropna()
    distinct = int(values.nunique())
    if types.is_bool_dtype(target) or not types.is_numeric_dtype(target):
        return TaskGuess("classification", distinct, f"{distinct} different values")
    whole = bool(len(values) == 0 or (values == values.round()).all())
    repeats = distinct <= 2 or distinct <= len(values) / 2  # labels recur; a count in every row is a quantity
    if whole and distinct <= MAX_CLASSES and repeats:
        return TaskGuess("classification", distinct, f"it holds {distinct} whole-number values")
    kind = "numbers with fractions" if not whole else f"{distinct} different whole numbers in {len(values)} rows"
    return TaskGuess("regression", None, f"it holds {kind}")


def detect_id_columns(frame: "pd.DataFrame", target: str | None = None) -> dict[str, str]:
    """Columns that identify rows rather than describe them, each with the reason, in column order.

    A column is id-like when it is unique per row and either is an unnamed first
    column (R's row names, pandas' exported index), holds the row numbers in
    order (0..n-1 or 1..n), is named like an id (``id``, ``customer_id``,
    ``Obs``...), or is text that never repeats (names, keys). Continuous
    numbers are unique per row too, so those are never called ids.
    """
    from pandas.api import types

    found: dict[str, str] = {}
    n = len(frame)
    if n < 2:
        return found
    for position, column in enumerate(frame.columns):
        if column == target:
            continue
        series = frame[column]
        if series.isna().any() or series.nunique() != n:
            continue
        name = str(column)
        if position == 0 and (name.strip() == "" or name.startswith("Unnamed: ")):
            found[column] = "an unnamed first column with a different value in every row (exported row names)"
        elif types.is_integer_dtype(series) and _is_row_number(series):
            found[column] = "the row numbers in order"
        elif _ID_NAME.search(name.strip()) and not types.is_float_dtype(series):
            found[column] = "named like an id, with a different value in every row"
        elif types.is_datetime64_any_dtype(series):  # a Parquet timestamp, an Excel date: not a name or a key
            found[column] = "a date or time, different in every row, which the cleaning and training nodes cannot " \
                            "use as it is"
        elif not types.is_numeric_dtype(series) and not types.is_bool_dtype(series) and n >= 20 \
                and not looks_like_dates(series):
            found[column] = "text with a different value in every row (a name or a key)"
    return found


def _is_row_number(series: "pd.Series") -> bool:
    start = int(series.iloc[0])
    if start not in (0, 1):
        return False
    import numpy as np

    return bool(np.array_equal(series.to_numpy(), np.arange(start, start + len(series))))


def looks_like_dates(series: "pd.Series") -> bool:
    """Text whose values (a sample of up to 200) nearly all look like dates or timestamps."""
    from pandas.api import types

    if types.is_numeric_dtype(series) or types.is_bool_dtype(series) or types.is_datetime64_any_dtype(series):
        return False
    sample = series.dropna()
    if sample.empty:
        return False
    sample = sample.sample(min(200, len(sample)), random_state=0).astype(str)
    return bool(sample.map(lambda v: bool(_DATE.match(v))).mean() >= 0.9)


def check_table(frame: "pd.DataFrame", target: str | None, ignored: list[str] | tuple[str, ...] = ()) -> list[Finding]:
    """Every finding on ``frame``; ``ignored`` columns (ids, row numbers) are not features and are skipped.

    A file holds whatever its writer put there (lists in a Parquet cell, infinities from a division), so a
    check that cannot judge such data says so in one finding instead of stopping the others, or ``validate``.
    """
    import warnings

    features = [c for c in frame.columns if c != target and c not in ignored]
    checks = [
        ("constant columns", lambda: _constant_columns(frame, features)),
        ("infinite values", lambda: _infinite_values(frame, features, target)),
        ("text columns", lambda: _text_columns(frame, features)),
        ("repeated rows", lambda: _duplicate_rows(frame, [*features, *([target] if target in frame.columns else [])])),
    ]
    if target is not None and target in frame.columns:
        checks.append(("target", lambda: _target_findings(frame, target, features)))
    found: list[Finding] = []
    with warnings.catch_warnings():  # numpy's and scikit-learn's asides on odd data: the findings say what matters
        warnings.simplefilter("ignore")
        for name, check in checks:
            try:
                found += check()
            except Exception as exc:  # noqa: BLE001 - an untrusted table can break a check in any way
                found.append(Finding("warning", "check_failed", f"the {name} check could not judge this data "
                                     f"({type(exc).__name__}: {_plain_error(exc)}); the run will say more if it matters"))
    return found


def _plain_error(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."


def _infinite_values(frame: "pd.DataFrame", features: list[str], target: str | None) -> list[Finding]:
    """Numeric columns holding inf or -inf (a ratio computed over a zero, say), which no model can use."""
    import numpy as np
    from pandas.api import types

    found = []
    for column in [*features, *([target] if target in frame.columns else [])]:
        series = frame[column]
        if not types.is_float_dtype(series):
            continue
        count = int(np.isinf(series.to_numpy(dtype=float, na_value=np.nan)).sum())
        if not count:
            continue
        if column == target:
            found.append(Finding("error", "infinite_target", f"target {target!r} holds an infinite value (inf or "
                                 f"-inf) in {count} row(s); a model cannot learn from them: fix those rows in the source (a "
                                 "division by zero?)", column))
        else:
            found.append(Finding("error", "infinite_values", f"column {column!r} holds an infinite value (inf or "
                                 f"-inf) in {count} row(s), which no model can use: fix them in the source (a "
                                 "division by zero?), or set its role to 'ignore' on the data node", column))
    return found


def _constant_columns(frame: "pd.DataFrame", features: list[str]) -> list[Finding]:
    """One finding per column that holds a single value; one for them all when there are many (a wide export
    of sensors or genes can hold hundreds), so the list of problems stays readable."""
    found = []
    for column in features:
        values = frame[column].dropna()
        try:
            single = values.empty or bool((values == values.iloc[0]).all())  # one pass, no hash (nunique: 1 s at 1M rows)
        except (TypeError, ValueError):  # cells that do not compare (arrays): not a constant column this check can see
            continue
        if single:
            first = values.iloc[0] if len(values) else None
            held = f"only {_plain(first)!r}" if len(values) else "no values at all"
            found.append(Finding("warning", "constant", f"column {column!r} holds {held}, so it cannot help a model; "
                                 "set its role to 'ignore' on the data node", column))
    if len(found) <= _MANY_CONSTANT:
        return found
    named = ", ".join(repr(f.column) for f in found[:_MANY_CONSTANT])
    return [Finding("warning", "constant", f"{len(found)} columns hold a single value each ({named} and "
                    f"{len(found) - _MANY_CONSTANT} more), so they cannot help a model; drop them with a 'Select "
                    "columns' (prepare.columns) node, or set their role to 'ignore' on the data node")]


def _text_columns(frame: "pd.DataFrame", features: list[str]) -> list[Finding]:
    from pandas.api import types

    found = []
    for column in features:
        series = frame[column]
        if types.is_numeric_dtype(series) or types.is_bool_dtype(series) or types.is_datetime64_any_dtype(series):
            continue
        markers = _missing_markers(series)
        if markers:
            texts, rows = markers
            shown = ", ".join(repr(text) for text in texts)
            found.append(Finding("warning", "numbers_as_text", f"column {column!r} holds numbers except for {shown} "
                                 f"in {rows} row(s), so it was read as text; add {shown} to 'missing_values' on the "
                                 "data node to read it as numbers with those cells missing", column))
            continue
        if looks_like_dates(series):
            found.append(Finding("warning", "date_as_text", f"column {column!r} holds dates written as text; set its "
                                 "type to 'date' on the data node, or its role to 'ignore'", column))
            continue
        distinct = int(series.nunique())
        if distinct > _HIGH_CARDINALITY and distinct > 0.5 * series.notna().sum():
            found.append(Finding("warning", "high_cardinality", f"column {column!r} looks like names or free text "
                                 f"({distinct} different values); as a category it tells a model little — set its "
                                 "role to 'ignore' on the data node unless you mean to use it", column))
    return found


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds, so a message shows ``0``, not ``np.int64(0)``."""
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, (str, bytes)) else value


def _missing_markers(series: "pd.Series") -> tuple[list[str], int] | None:
    """The few texts (``?``, ``-``, ``n.a.``) that keep an otherwise numeric column from being read as numbers,
    and in how many rows; None when the column is not numbers (fewer than 80% of a sample are) or has more
    than three such texts. UCI's files mark a missing value with ``?``, many exports with ``-`` or ``.``."""
    import numpy as np
    import pandas as pd

    present = series.dropna()
    if len(present) < 5:
        return None
    rows = np.random.default_rng(0).integers(0, len(present), min(2000, len(present)))  # O(sample), not O(rows)
    sample = present.iloc[rows].astype(str).str.strip()
    if pd.to_numeric(sample, errors="coerce").notna().mean() < 0.8:  # most text columns stop here, cheaply
        return None
    values = present.astype(str).str.strip()
    numeric = pd.to_numeric(values, errors="coerce")
    others = values[numeric.isna()]
    texts = others.unique().tolist()
    if not texts or len(texts) > 3:
        return None
    return sorted(texts), len(others)


def _duplicate_rows(frame: "pd.DataFrame", columns: list[str]) -> list[Finding]:
    if not columns:
        return []
    count = _duplicate_count(frame[columns])
    if not count:
        return []
    share = count / len(frame)
    return [Finding("warning", "duplicates", f"{count} row(s) ({share:.0%}) repeat an earlier row exactly; if they "
                    "are copies, add a 'Filter rows' (prepare.rows) node with drop_duplicates")]


def _duplicate_count(frame: "pd.DataFrame") -> int:
    """``frame.duplicated().sum()``, found through one 64-bit hash per row first.

    Rows that are equal hash alike, so every duplicate is among the rows whose hash repeats; those few are
    then compared exactly, so a hash collision never counts. Five times faster than ``duplicated`` on many
    columns (0.25 s against 1.3 s for 1M rows of 18), which a run pays before it starts.
    """
    import pandas as pd

    try:
        hashes = pd.util.hash_pandas_object(frame, index=False)
    except TypeError:  # values pandas cannot hash this way (e.g. mixed objects): compare them all
        return int(frame.duplicated().sum())
    candidates = hashes.duplicated(keep=False).to_numpy()
    if not candidates.any():
        return 0
    return int(frame[candidates].duplicated().sum())


def _target_findings(frame: "pd.DataFrame", target: str, features: list[str]) -> list[Finding]:
    found = []
    column = frame[target]
    missing = int(column.isna().sum())
    if missing:
        found.append(Finding("error", "missing_target", f"target column {target!r} has {missing} missing value(s); "
                             f"add a 'Filter rows' (prepare.rows) node after this one with drop_missing: [{target}]",
                             target))
    guess = infer_task(column)
    if guess.task == "classification":
        counts = column.value_counts()
        lonely = counts[counts < 2]
        if len(lonely):
            shown = ", ".join(map(repr, lonely.index.tolist()[:5])) + (" ..." if len(lonely) > 5 else "")
            found.append(Finding("warning", "small_classes", f"target {target!r}: class(es) {shown} have a single row, "
                                 "too few to appear in both the training and the test part or to stratify by; drop "
                                 "them with a 'Filter rows' (prepare.rows) node or merge them into another class",
                                 target))
    found += _leaks(frame, target, features, guess)
    return found


def _leaks(frame: "pd.DataFrame", target: str, features: list[str], guess: TaskGuess) -> list[Finding]:
    """Features that alone predict the target almost perfectly on rows they were not fitted on."""
    import numpy as np

    rows = frame[[*features, target]].replace([np.inf, -np.inf], np.nan)  # reported by _infinite_values
    rows = rows.dropna(subset=[target])
    if len(rows) < 20 or not features:
        return []
    if len(rows) > _LEAK_SAMPLE:
        rows = rows.sample(_LEAK_SAMPLE, random_state=0)
    y = rows[target]
    if guess.task == "classification" and y.value_counts(normalize=True).iloc[0] >= _LEAK_SCORE:
        return []  # a near-constant target is predicted "perfectly" by anything
    found = []
    for column in features:
        score = _single_feature_score(rows[column], y, guess)
        if score is not None and score >= _LEAK_SCORE:
            measure = "accuracy" if guess.task == "classification" else "R²"
            found.append(Finding("warning", "leakage", f"column {column!r} alone predicts the target {target!r} almost "
                                 f"perfectly ({measure} {score:.3f} on held-out rows); if it is known only after the "
                                 "outcome (or is derived from it), set its role to 'ignore' on the data node", column))
    return found


def _single_feature_score(x: "pd.Series", y: "pd.Series", guess: TaskGuess) -> float | None:
    """Held-out score of a small tree on one feature (categories as codes); None when it cannot be judged."""
    import numpy as np
    from pandas.api import types
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    if types.is_numeric_dtype(x) and not types.is_bool_dtype(x):
        values = x.astype(float).fillna(x.median() if x.notna().any() else 0).to_numpy()
    else:
        if x.nunique() > 0.5 * len(x):  # a near-unique category "predicts" by memorising rows
            return None
        values = x.astype("category").cat.codes.to_numpy().astype(float)
    order = np.random.default_rng(0).permutation(len(values))
    cut = int(len(values) * 0.7)
    fit, held = order[:cut], order[cut:]
    features = values.reshape(-1, 1)
    target = y.to_numpy()
    if guess.task == "classification":
        tree = DecisionTreeClassifier(max_leaf_nodes=max(2, 2 * (guess.n_classes or 2)), random_state=0)
        tree.fit(features[fit], target[fit].astype(str))
        return float((tree.predict(features[held]) == target[held].astype(str)).mean())
    target = target.astype(float)
    spread = float(np.var(target[held]))
    if spread == 0:
        return None
    tree = DecisionTreeRegressor(max_leaf_nodes=32, min_samples_leaf=2, random_state=0).fit(features[fit], target[fit])
    residual = float(np.mean((tree.predict(features[held]) - target[held]) ** 2))
    return 1.0 - residual / spread
