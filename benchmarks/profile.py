"""How long a data node's profile takes (what the studio shows on selecting it), at 100k and 1M rows.

The peer is what an analyst would type in a notebook to look at a CSV:
``pd.read_csv(path)`` then ``frame.describe(include="all")``. The profile does
more (the roles and types, which strings were read as missing, a histogram per
number column, top categories), so the figure to watch is the ratio; the
absolute times say whether selecting a data node feels immediate.

    .venv/bin/python benchmarks/profile.py                 # 100k and 1M rows
    .venv/bin/python benchmarks/profile.py --rows 100000 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nodes.data import FileParams, FileTable  # noqa: E402
from nodes.data_profile import profile_source  # noqa: E402


def _write_csv(path: Path, rows: int) -> None:
    """A spreadsheet-like export: row names, numbers with gaps, categories with 'None', dates as text."""
    rng = np.random.default_rng(0)
    amount = rng.normal(100, 30, rows).round(2).astype(object)
    amount[rng.random(rows) < 0.05] = "NA"
    frame = pd.DataFrame({
        "": np.arange(1, rows + 1),
        "age": rng.integers(18, 90, rows),
        "amount": amount,
        "plan": rng.choice(["None", "Basic", "Plus", "Pro", ""], rows),
        "region": rng.choice([f"region {i}" for i in range(40)], rows),
        "signup": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, rows), unit="D"),
        "churned": rng.choice(["yes", "no"], rows),
    })
    frame["signup"] = frame["signup"].dt.strftime("%Y-%m-%d")
    frame.to_csv(path, index=False)


def _time(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated row counts")
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args(argv)
    print(f"{'rows':>9} {'file MB':>8} {'profile s':>10} {'read_csv+describe s':>20} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for rows in (int(r) for r in options.rows.split(",")):
            path = Path(folder) / f"rows-{rows}.csv"
            _write_csv(path, rows)
            params = FileParams(path=str(path), target="churned")
            ours = _time(lambda: profile_source(FileTable, params), options.repeats)
            peer = _time(lambda: pd.read_csv(path).describe(include="all"), options.repeats)
            size = path.stat().st_size / 1e6
            print(f"{rows:>9} {size:>8.1f} {ours:>10.2f} {peer:>20.2f} {ours / peer:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
