"""What a binary classifier's probabilities say beyond one threshold: calibration and cumulative gain / lift.

Both read the probability of the positive class (``classes[1]``, as ROC does) and
return plain JSON, so the metrics artifact carries the data and the studio only
draws it.

* **Calibration** puts the test rows into equal-width probability bins and
  compares, in each bin, the mean predicted probability with the share of rows
  that really are positive. Every test row lands in exactly one bin, so the bin
  counts add up to the test rows; empty bins are kept (count 0) so the table
  always has ``bins`` rows.
* **Cumulative gain** ranks the rows by that probability, highest first, and
  says which share of all positives the top k % of rows hold; **lift** is that
  share divided by k %, i.e. how many times better than picking rows at random.
  The curve starts at (0, 0) and ends at (100 %, 100 %).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is heavy; the catalog must import fast
    import numpy as np

__all__ = ["calibration_bins", "cumulative_gain", "evenly_spaced", "GAIN_POINTS"]

#: the gain curve is sampled at every whole percent of the ranked rows (fewer points when there are fewer rows)
GAIN_POINTS = 100


def calibration_bins(is_positive: "np.ndarray", scores: "np.ndarray", bins: int) -> list[dict[str, Any]]:
    """One row per probability bin ``[low, high)`` (the last one closed): its rows, mean score and share positive."""
    import numpy as np

    edges = np.linspace(0.0, 1.0, bins + 1)
    where = np.clip(np.digitize(scores, edges[1:-1], right=False), 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = where == b
        count = int(inside.sum())
        rows.append({
            "low": float(edges[b]),
            "high": float(edges[b + 1]),
            "count": count,
            "mean_predicted": float(scores[inside].mean()) if count else None,
            "fraction_positive": float(is_positive[inside].mean()) if count else None,
        })
    return rows


def cumulative_gain(is_positive: "np.ndarray", scores: "np.ndarray") -> dict[str, list[float | None]]:
    """Share of rows taken (best-scored first) → share of positives found, and the lift at each point.

    Ties in the score are broken by row order (a stable sort), so reruns agree.
    Lift is None at 0 % of rows, where it is undefined.
    """
    import numpy as np

    n = len(scores)
    order = np.argsort(-scores, kind="stable")
    found = np.concatenate([[0], np.cumsum(is_positive[order])])
    total = found[-1]
    taken = evenly_spaced(n + 1, GAIN_POINTS + 1)  # row counts 0..n
    rows = taken / n
    gain = found[taken] / total if total else np.zeros(len(taken))
    lift = [None if r == 0 else float(g / r) for r, g in zip(rows, gain)]
    return {"fraction_of_rows": [float(v) for v in rows], "fraction_of_positives": [float(v) for v in gain],
            "lift": lift}


def evenly_spaced(n: int, limit: int) -> "np.ndarray":
    """Indices of at most ``limit`` of ``n`` items, first and last included, in order (the ROC curve, the
    residuals and the gain curve are thinned alike)."""
    import numpy as np

    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(int))
