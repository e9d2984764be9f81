"""The "try it" form offers what training saw, flags what it did not, and prints the same request as curl (issue 12)."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from compiler import compile_plan, dump_plan_yaml, parse_pipeline
from nodes import default_catalog
from nodes.model_meta import ColumnValues, meta_uri
from runtime.run_store import EndpointRecord, open_store
from studio.try_it import curl_command, unseen_values

REPO_ROOT = Path(__file__).resolve().parents[3]
TIMEOUT = 30


def test_the_curl_command_carries_the_row_as_json_whatever_it_holds() -> None:
    row = {"name": "O'Brien; rm -rf ~ $(id) `x`", "sepal length (cm)": 5.8, "n": 3}
    argv = shlex.split(curl_command("http://127.0.0.1:8000", row))
    assert argv[0] == "curl" and argv[-1] == "http://127.0.0.1:8000/predict"
    assert json.loads(argv[argv.index("--data") + 1]) == {"rows": [row]}


def test_only_text_values_outside_the_training_categories_are_unseen() -> None:
    values = {"contract": ColumnValues(categories=["monthly", "yearly"]), "tenure": ColumnValues(median=9.0)}
    row = {"contract": "montly", "tenure": 3, "city": "anything"}
    assert unseen_values(row, values) == {"contract": "montly"}
    assert unseen_values({**row, "contract": "yearly"}, values) == {}


def _form() -> None:
    """The endpoint's form as its card shows it (the card itself checks the server is alive; none is here)."""
    from studio.run_status import store
    from studio.try_it import try_it_form

    try_it_form(store().endpoint("churn"))


@pytest.fixture
def endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EndpointRecord:
    """The churn example's endpoint as a run left it: its plan and its cleaning recipe's details file."""
    home = tmp_path / "home"
    monkeypatch.setenv("PIPECANVAS_HOME", str(home))
    monkeypatch.chdir(REPO_ROOT)
    pipeline = parse_pipeline((REPO_ROOT / "examples" / "churn-csv.yaml").read_text()).pipeline
    plan = compile_plan(pipeline, default_catalog(), str(tmp_path / "artifacts"))
    recipe = plan.step("serve").inputs["preprocessor"].uri
    Path(recipe).parent.mkdir(parents=True)
    Path(meta_uri(recipe)).write_text(json.dumps({
        "task": "transform", "feature_columns": ["tenure_months", "contract"],
        "training_values": {"tenure_months": {"median": 9.0},
                            "contract": {"categories": ["month-to-month", "two-year", "one-year"], "more": True}}}))
    store = open_store(home)
    store.create_run("r1", "churn-csv", "", dump_plan_yaml(plan), "local", [])
    record = EndpointRecord("churn", "http://127.0.0.1:9", "local", None, "r1", "serve", "running", time.time(), None,
                            {"tenure_months": "integer", "contract": "string", "monthly_charges": "number"})
    store.claim_endpoint(record, replacing=None)
    return record


def test_the_form_offers_the_training_categories_and_starts_numbers_at_the_median(endpoint: EndpointRecord) -> None:
    at = AppTest.from_function(_form, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    contract = next(s for s in at.selectbox if s.label == "contract")
    assert contract.options == ["month-to-month", "one-year", "two-year"]
    assert contract.value == "month-to-month"  # the most frequent
    numbers = {n.label: n.value for n in at.number_input}
    assert numbers == {"tenure_months": 9, "monthly_charges": 0.0}  # no median recorded for monthly_charges
    argv = shlex.split(at.code[0].value)
    assert json.loads(argv[argv.index("--data") + 1]) == {
        "rows": [{"tenure_months": 9, "contract": "month-to-month", "monthly_charges": 0.0}]}

