"""Prepare nodes: train/test split and the clean-and-encode recipe learned from training rows."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nodes.artifacts import Table
from nodes.context import RunContext
from nodes.data import SampleDataset, SampleParams
from nodes.errors import NodeInputError
from nodes.prepare import Clean, CleanParams, Split, SplitParams

CHURN_CSV = Path(__file__).resolve().parents[3] / "assets" / "data" / "churn.csv"
CHURN_CATEGORICAL = ["contract", "payment_method", "internet_service"]


@pytest.fixture
def context(tmp_path: Path) -> RunContext:
    return RunContext(work_dir=tmp_path)


@pytest.fixture
def churn() -> Table:
    return Table(pd.read_csv(CHURN_CSV), "churned")


def _sample(name: str, context: RunContext) -> Table:
    return SampleDataset().run({}, SampleParams(dataset=name), context)["table"]


def _split(table: Table, context: RunContext, **params) -> tuple[Table, Table]:
    out = Split().run({"table": table}, SplitParams(**params), context)
    return out["train"], out["test"]


def _clean(train: Table, test: Table, context: RunContext, **params) -> dict:
    return Clean().run({"train": train, "test": test}, CleanParams(**params), context)


# --- prepare.split --------------------------------------------------------------


def test_split_sizes_and_no_row_lost_or_shared(context):
    iris = _sample("iris", context)
    iris.frame["row_id"] = range(len(iris.frame))

    train, test = _split(iris, context, test_fraction=0.2)

    assert (len(train.frame), len(test.frame)) == (120, 30)
    assert set(train.frame["row_id"]).isdisjoint(test.frame["row_id"])
    assert set(train.frame["row_id"]) | set(test.frame["row_id"]) == set(range(150))
    assert train.target == test.target == "species"


def test_split_stratifies_class_proportions(context, churn):
    train, test = _split(churn, context, test_fraction=0.3)

    share = churn.frame["churned"].eq("yes").mean()
    for part in (train, test):
        expected_yes = share * len(part.frame)
        assert abs(part.frame["churned"].eq("yes").sum() - expected_yes) <= 1


def test_split_stratifies_iris_exactly(context):
    _, test = _split(_sample("iris", context), context, test_fraction=0.2)

    assert test.frame["species"].value_counts().to_dict() == {"setosa": 10, "versicolor": 10, "virginica": 10}


def test_split_same_seed_same_rows_other_seed_other_rows(context, churn):
    churn.frame["row_id"] = range(len(churn.frame))

    first = _split(churn, context, seed=7)[1].frame["row_id"].tolist()
    again = _split(churn, context, seed=7)[1].frame["row_id"].tolist()
    other = _split(churn, context, seed=8)[1].frame["row_id"].tolist()

    assert first == again
    assert set(first) != set(other)


def test_split_regression_target_is_not_stratified(context, caplog):
    diabetes = _sample("diabetes", context)

    with caplog.at_level(logging.INFO, logger="pipecanvas.node"):
        train, test = _split(diabetes, context, test_fraction=0.25)

    assert len(train.frame) + len(test.frame) == 442
    assert "without stratifying" in caplog.text and "looks numeric" in caplog.text


def test_split_single_row_class_falls_back_and_says_why(context, caplog):
    frame = pd.DataFrame({"x": range(10), "label": ["a"] * 5 + ["b"] * 4 + ["lonely"]})

    with caplog.at_level(logging.INFO, logger="pipecanvas.node"):
        train, test = _split(Table(frame, "label"), context, test_fraction=0.3)

    assert (len(train.frame), len(test.frame)) == (7, 3)
    assert "'lonely'" in caplog.text and "could not be stratified" in caplog.text
    assert len(context.warnings) == 1 and "'lonely'" in context.warnings[0]  # on the node, not only in the log


def test_split_without_target_still_splits(context):
    train, test = _split(Table(pd.DataFrame({"x": range(8)})), context, test_fraction=0.25)

    assert (len(train.frame), len(test.frame)) == (6, 2)
    assert train.target is None


@pytest.mark.parametrize(
    ("rows", "fraction", "expected"),
    [(1, 0.25, "at least 2 are needed"), (0, 0.25, "at least 2 are needed"), (3, 0.9, "leaves no training rows")],
)
def test_split_too_few_rows_is_a_node_input_error(context, rows, fraction, expected):
    table = Table(pd.DataFrame({"x": range(rows), "y": ["a"] * rows}), "y")

    with pytest.raises(NodeInputError, match=expected):
        _split(table, context, test_fraction=fraction)


# --- prepare.clean --------------------------------------------------------------


def test_clean_churn_leaves_no_missing_values_and_one_hot_columns(context, churn):
    train, test = _split(churn, context)

    out = _clean(train, test, context)

    for part in ("train", "test"):
        frame = out[part].frame
        assert out[part].target == "churned"
        assert not frame.isna().any().any()
        features = frame.drop(columns="churned")
        assert all(pd.api.types.is_float_dtype(features[c]) for c in features.columns)
    assert {"contract_month-to-month", "contract_one-year", "contract_two-year"} <= set(out["train"].frame.columns)
    assert not set(CHURN_CATEGORICAL) & set(out["train"].frame.columns)
    assert out["test"].frame["churned"].tolist() == test.frame["churned"].tolist()


def test_clean_learns_from_training_rows_only(context, churn):
    """A shifted test table must be cleaned with the training median and scale, not its own."""
    train, _ = _split(churn, context)
    shifted = train.frame.copy()
    shifted["monthly_charges"] = shifted["monthly_charges"] + 1000
    shifted["total_charges"] = np.nan
    test = Table(shifted, "churned")

    out = _clean(train, test, context, impute_numeric="median", scale="standard")

    charges = train.frame["monthly_charges"]
    scaler = out["preprocessor"].estimator.named_transformers_["num"].named_steps["scale"]
    position = out["preprocessor"].feature_columns.index("monthly_charges")
    assert scaler.mean_[position] == pytest.approx(charges.mean())
    assert out["train"].frame["monthly_charges"].mean() == pytest.approx(0, abs=1e-9)
    expected_shift = 1000 / charges.std(ddof=0)
    assert out["test"].frame["monthly_charges"].mean() == pytest.approx(expected_shift)
    total = train.frame["total_charges"].fillna(train.frame["total_charges"].median())
    filled = (total.median() - total.mean()) / total.std(ddof=0)
    assert out["test"].frame["total_charges"].to_numpy() == pytest.approx(np.full(len(shifted), filled))


def test_clean_unknown_test_category_does_not_crash(context, churn, caplog):
    train, test = _split(churn, context)
    test.frame.loc[0, "contract"] = "weekly"

    with caplog.at_level(logging.INFO, logger="pipecanvas.node"):
        one_hot = _clean(train, test, context)["test"].frame
        codes = _clean(train, test, context, one_hot=False)["test"].frame

    contract_columns = [c for c in one_hot.columns if c.startswith("contract_")]
    assert one_hot.loc[0, contract_columns].sum() == 0
    assert codes.loc[0, "contract"] == -1
    assert "'weekly'" in caplog.text


def test_clean_ordinal_minmax_and_missing_label(context, churn):
    train, test = _split(churn, context)

    out = _clean(train, test, context, one_hot=False, scale="minmax", impute_categorical="missing_label")

    frame = out["train"].frame
    assert set(CHURN_CATEGORICAL) <= set(frame.columns)
    assert frame["tenure_months"].min() == 0 and frame["tenure_months"].max() == 1
    encoder = out["preprocessor"].estimator.named_transformers_["cat"].named_steps["encode"]
    payment_categories = encoder.categories_[CHURN_CATEGORICAL.index("payment_method")]
    assert "missing" in payment_categories


def test_clean_max_categories_groups_rare_ones(context):
    frame = pd.DataFrame({"city": [f"c{i % 30}" for i in range(300)], "y": [0, 1] * 150})
    table = Table(frame, "y")

    out = _clean(table, table, context, max_categories=5)

    city_columns = [c for c in out["train"].frame.columns if c.startswith("city_")]
    assert len(city_columns) == 5


def test_clean_preprocessor_reproduces_cleaned_test_from_raw_rows(context, churn):
    train, test = _split(churn, context)

    out = _clean(train, test, context)
    model = out["preprocessor"]

    assert model.task == "transform" and model.algorithm == "clean" and model.target == "churned"
    assert model.feature_columns == [c for c in churn.frame.columns if c != "churned"]
    assert model.input_schema["tenure_months"] == "integer"
    assert model.input_schema["monthly_charges"] == "number"
    assert model.input_schema["contract"] == "string"
    again = model.estimator.transform(test.frame[model.feature_columns]).reset_index(drop=True)
    pd.testing.assert_frame_equal(again, out["test"].frame.drop(columns="churned"))
    # the training rows come out of fitting (fit_transform), not a second pass: the same as the model makes
    again = model.estimator.transform(train.frame[model.feature_columns]).reset_index(drop=True)
    pd.testing.assert_frame_equal(again, out["train"].frame.drop(columns="churned"))


def test_clean_preprocessor_accepts_json_like_rows_with_nulls(context, churn):
    train, test = _split(churn, context)
    model = _clean(train, test, context)["preprocessor"]
    row = {c: None for c in model.feature_columns} | {"contract": "two-year", "tenure_months": 40}

    cleaned = model.estimator.transform(pd.DataFrame([row]))

    assert not cleaned.isna().any().any()
    assert cleaned.loc[0, "contract_two-year"] == 1.0


def test_clean_test_missing_feature_column_is_named(context, churn):
    train, test = _split(churn, context)
    test = Table(test.frame.drop(columns=["contract", "tenure_months"]), "churned")

    with pytest.raises(NodeInputError, match="lacks column\\(s\\) 'tenure_months', 'contract'"):
        _clean(train, test, context)


def test_clean_text_in_a_numeric_test_column_is_named(context, churn):
    train, test = _split(churn, context)
    test.frame["monthly_charges"] = test.frame["monthly_charges"].astype(str)

    with pytest.raises(NodeInputError, match="'monthly_charges' hold numbers in the training table but text"):
        _clean(train, test, context)


def test_clean_drops_column_empty_in_training_rows(context, churn, caplog):
    train, test = _split(churn, context)
    train.frame["notes"] = np.nan
    test.frame["notes"] = "something"

    with caplog.at_level(logging.INFO, logger="pipecanvas.node"):
        out = _clean(train, test, context)

    assert "notes" not in out["train"].frame.columns
    assert "notes" not in out["preprocessor"].feature_columns
    assert "'notes'" in caplog.text


def test_clean_booleans_and_nullable_text_are_categories(context):
    frame = pd.DataFrame(
        {
            "member": [True, False, True, True] * 5,
            "plan": pd.array(["gold", None, "basic", "gold"] * 5, dtype="string"),
            "spend": [1.0, 2.0, None, 4.0] * 5,
            "y": ["a", "b"] * 10,
        }
    )
    table = Table(frame, "y")

    out = _clean(table, table, context)["train"].frame

    assert {"member_True", "member_False", "plan_gold", "plan_basic"} <= set(out.columns)
    assert not out.isna().any().any()


def test_clean_all_numeric_sample_keeps_names(context):
    train, test = _split(_sample("iris", context), context)

    out = _clean(train, test, context)

    assert list(out["train"].frame.columns) == list(train.frame.columns)
    assert out["train"].frame["species"].tolist() == train.frame["species"].tolist()


def test_clean_clashing_names_keep_prefixes(context):
    frame = pd.DataFrame({"color": ["red", "blue"] * 5, "color_red": range(10), "y": [0, 1] * 5})
    table = Table(frame, "y")

    out = _clean(table, table, context)
    columns = out["train"].frame.columns

    assert list(columns) == ["num__color_red", "cat__color_blue", "cat__color_red", "y"]
    again = out["preprocessor"].estimator.transform(frame[["color", "color_red"]])
    pd.testing.assert_frame_equal(again.reset_index(drop=True), out["train"].frame.drop(columns="y"))


def test_category_strings_are_plain_strings_with_nan_gaps_whatever_the_column_held():
    import numpy as np
    import pandas as pd

    from nodes.prepare import to_category_strings

    frame = pd.DataFrame({
        "text": ["x", None, "y", np.nan], "flag": [True, False, None, True],
        "nullable": pd.array(["p", pd.NA, "q", "r"], dtype="string"), "category": pd.Categorical(["u", None, "v", "u"]),
        "mixed": [1, "two", 3.5, None], "empty": [None] * 4, "number": [1.0, 2.0, np.nan, 4.0],
    }, index=[5, 6, 7, 8])
    out = to_category_strings(frame)
    assert list(out.index) == [5, 6, 7, 8] and list(out.columns) == list(frame.columns)
    assert (out.dtypes == object).all()
    gaps = [[i for i, v in enumerate(out[c]) if isinstance(v, float) and np.isnan(v)] for c in out.columns]
    assert gaps == [[1, 3], [2], [1], [1], [3], [0, 1, 2, 3], [2]]  # every gap a float NaN, nothing else
    assert out.where(out.notna(), None).to_dict("list") == {
        "text": ["x", None, "y", None], "flag": ["True", "False", None, "True"],
        "nullable": ["p", None, "q", "r"], "category": ["u", None, "v", "u"],
        "mixed": ["1", "two", "3.5", None], "empty": [None] * 4, "number": ["1.0", "2.0", None, "4.0"],
    }
