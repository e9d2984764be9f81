"""The tables the train and evaluate tests start from: a bundled dataset exactly as ``data.sample`` gives it,
split into train and test with a fixed seed."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from nodes.artifacts import Table
from nodes.context import RunContext
from nodes.data import SampleDataset


def sample_frame(name: str) -> pd.DataFrame:
    """Dataset ``name`` with its analyst-named target column (``species``, ``progression``, ``digit``...)."""
    return SampleDataset().run({}, SampleDataset.Params(dataset=name), RunContext())["table"].frame


def split_table(frame: pd.DataFrame, target: str, stratify: bool = True) -> tuple[Table, Table]:
    """70 % train, 30 % test (seed 1), stratified on ``target`` unless it is a regression target."""
    train, test = train_test_split(frame, test_size=0.3, random_state=1, stratify=frame[target] if stratify else None)
    return Table(train, target), Table(test, target)
