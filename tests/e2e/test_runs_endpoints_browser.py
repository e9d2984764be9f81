"""Runs compare, a failed run's banner and the "try it" form, in a real browser (issue 12, the smaller points).

- Comparing runs listed every param of every algorithm without marking what
  differed, and each comparison put a pyarrow traceback in the server log.
- A failed run sat in the same blue box as a success and pointed at a CLI command.
- The try-it form started numbers at 0 and took categories as free text.

The runs are started through ``runtime.runs`` against the studio's own home, so
the browser only does what is under test.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from compiler import load_plan_yaml, parse_pipeline
from nodes.model_meta import meta_uri, read_model_meta
from runtime.run_store import open_store
from runtime.runs import start_run, wait_for_run
from studio_page import Canvas, wait_until  # tests/support


REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 180.0

SMALL = """
apiVersion: pipecanvas/v1
kind: Pipeline
metadata: {name: iris-forest}
spec:
  nodes:
    - {id: load, type: data.sample, params: {dataset: iris}}
    - {id: split, type: prepare.split, params: {seed: 3}}
    - {id: train, type: train.classifier, params: {algorithm: random_forest, n_estimators: TREES}}
    - {id: evaluate, type: evaluate.classifier}
  edges:
    - {from: load.table, to: split.table}
    - {from: split.train, to: train.train}
    - {from: train.model, to: evaluate.model}
    - {from: split.test, to: evaluate.test}
"""


@pytest.fixture(autouse=True)
def _home(studio_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs started here land in the studio's own run store."""
    monkeypatch.setenv("PIPECANVAS_HOME", str(studio_home))
    monkeypatch.chdir(REPO_ROOT)


def _run(yaml_text: str, studio_home: Path, state: str = "succeeded") -> str:
    run_id = start_run(parse_pipeline(yaml_text).pipeline, home=studio_home)
    store = open_store(studio_home)
    try:
        run = wait_for_run(store, run_id, timeout=RUN_TIMEOUT)
    finally:
        store.close()
    assert run.state.value == state, f"run {run_id} ended {run.state.value}: {run.error}"
    return run_id


def _grid(page, index: int) -> dict[str, list[str]]:
    """A Streamlit dataframe's rows as its accessible table has them: first cell -> the other cells."""
    rows = page.get_by_test_id("stDataFrame").nth(index).locator("tbody tr")
    cells = [rows.nth(i).locator("td").all_text_contents() for i in range(rows.count())]
    return {row[0]: row[1:] for row in cells if row}  # a row being redrawn has no cells yet


def _pick(page, label: str, option: str) -> None:
    page.get_by_label(label).click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def test_comparing_two_runs_marks_what_differs_hides_other_algorithms_and_logs_no_traceback(
        page, shot, studio_url: str, studio_home: Path, studio_log: Path) -> None:
    few = _run(SMALL.replace("TREES", "20"), studio_home)
    many = _run(SMALL.replace("TREES", "60"), studio_home)
    page.goto(f"{studio_url}/runs")
    page.get_by_text("Compare runs").wait_for()
    _pick(page, "Runs to compare", few)
    _pick(page, "Runs to compare", many)
    page.get_by_text("params and metrics differ between these runs").wait_for()
    page.get_by_test_id("stDataFrame").nth(1).locator("tbody tr").first.wait_for(state="attached")
    table = _grid(page, 1)
    labels = list(table)
    assert labels[0] == "param train.n_estimators"  # the difference comes first
    assert table["param train.n_estimators"] == ["20", "60", "◀"]
    assert table["param split.seed"] == ["3", "3", ""]
    assert "param train.max_depth" in table  # random forest reads it
    for ignored in ("learning_rate", "C", "max_iter", "n_neighbors", "alpha"):  # only other algorithms read these
        assert f"param train.{ignored}" not in table, labels
    shot("compare")

    page.get_by_text("Only what differs").click()
    wait_until(lambda: "param split.seed" not in _grid(page, 1), "the rows that are the same to go")
    only = _grid(page, 1)
    assert "param train.n_estimators" in only and "param split.seed" not in only
    assert {cells[-1] for cells in only.values()} == {"◀"}
    shot("compare-only-differences")
    assert "Traceback" not in studio_log.read_text(errors="replace")


def test_a_failed_run_is_an_error_naming_the_node_and_pointing_at_resume(page, shot, studio_url: str,
                                                                       studio_home: Path) -> None:
    broken = (REPO_ROOT / "examples" / "churn-csv.yaml").read_text().replace(
        "assets/data/churn.csv", "assets/data/no-such-file.csv")
    run_id = _run(broken, studio_home, state="failed")
    page.goto(f"{studio_url}/?run={run_id}")
    banner = page.get_by_test_id("stAlertContentError").filter(has_text=f"Run {run_id}: failed")
    banner.wait_for()
    text = banner.inner_text()
    assert "node customers failed:" in text and "no-such-file.csv" in text
    assert "Resume" in text and "pipecanvas resume" not in text
    assert page.get_by_test_id("stAlertContentInfo").filter(has_text=f"Run {run_id}").count() == 0
    Canvas(page).card("customers").wait_for()
    Canvas(page).settled()
    shot("failed-run")


def _recipe_uri(studio_home: Path, run_id: str) -> str:
    store = open_store(studio_home)
    try:
        plan = load_plan_yaml(store.get_run(run_id).plan_yaml)
    finally:
        store.close()
    return plan.step("serve").inputs["preprocessor"].uri


def _code(page) -> str:
    return page.get_by_test_id("stCode").first.inner_text().strip()


def test_try_it_offers_the_training_values_and_prints_a_curl_command_that_works(
        page, shot, studio_url: str, studio_home: Path, studio_log: Path) -> None:
    import pandas as pd

    run_id = _run((REPO_ROOT / "examples" / "churn-csv.yaml").read_text(), studio_home)
    recorded = read_model_meta(_recipe_uri(studio_home, run_id)).training_values
    page.goto(f"{studio_url}/endpoints")
    page.get_by_role("button", name="Predict").wait_for()

    contract = page.get_by_role("combobox", name="contract")
    contract.click()
    page.get_by_role("option").first.wait_for()
    offered = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    seen = sorted(pd.read_csv(REPO_ROOT / "assets" / "data" / "churn.csv")["contract"].dropna().unique())
    assert offered == seen
    tenure = page.get_by_test_id("stNumberInput").filter(has_text="tenure_months").locator("input")
    median = recorded["tenure_months"].median
    assert median and tenure.input_value() == str(int(round(median)))  # not 0

    page.get_by_role("button", name="Predict").click()
    answer = page.get_by_test_id("stAlertContentSuccess").filter(has_text="Prediction:")
    answer.wait_for()
    predicted = re.search(r"Prediction: (\S+)", answer.inner_text()).group(1)
    shot("try-it")
    argv = shlex.split(_code(page))
    assert argv[0] == "curl"
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)  # no shell
    assert str(json.loads(result.stdout)["predictions"][0]) == predicted

    # Where training saw more categories than were kept, a value may be typed: it is named before predicting.
    details = Path(meta_uri(_recipe_uri(studio_home, run_id)))
    meta = json.loads(details.read_text())
    meta["training_values"]["contract"]["more"] = True
    details.write_text(json.dumps(meta))
    page.reload()
    contract = page.get_by_role("combobox", name="contract")
    contract.fill("montly")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Predict").click()
    warning = page.get_by_test_id("stAlertContentWarning").filter(has_text="Not seen in training")
    warning.wait_for()
    assert "contract = 'montly'" in warning.inner_text()
    assert page.get_by_test_id("stAlertContentSuccess").filter(has_text="Prediction:").count() == 0
    shot("try-it-unseen")
    assert "Traceback" not in studio_log.read_text(errors="replace")
