"""The data node's panel in the studio: profile before running, target from a dropdown, pickers, the one-click fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from compiler import Pipeline
from real_files import real_file
from studio.data_profile_panel import add_rows_fix
from studio.session import Studio

APP = str(Path(__file__).resolve().parents[3] / "studio" / "app.py")


pytestmark = pytest.mark.usefixtures("home")  # tests/unit/studio/conftest.py


def _pipeline(name: str, target: str | None) -> Pipeline:
    params = {"path": real_file(name), **({"target": target} if target else {})}
    return Pipeline.model_validate({
        "apiVersion": "pipecanvas/v1", "kind": "Pipeline", "metadata": {"name": "data"},
        "spec": {"nodes": [{"id": "load", "type": "data.file", "params": params},
                           {"id": "rows", "type": "prepare.rows"},
                           {"id": "split", "type": "prepare.split"}],
                 "edges": [{"from": "load.table", "to": "rows.table"}, {"from": "rows.table", "to": "split.table"}]},
    })


def _app(pipeline: Pipeline, selected: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    state = Studio()
    state.replace(pipeline, source="test")
    state.selected = selected
    at.session_state["studio"] = state
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _one(widgets, suffix: str):
    [found] = [w for w in widgets if (w.key or "").endswith(suffix)]
    return found


def test_selecting_a_data_node_shows_its_profile_and_the_task_without_running(home):
    at = _app(_pipeline("Arthritis.csv", "Improved"), "load")

    captions = " ".join(c.value for c in at.caption)
    assert "classification (3 classes)" in captions
    assert "`Unnamed: 0`" in captions and "`ID`" in captions
    assert any("84 rows, 6 columns" in m.value for m in at.markdown)
    [summary] = [d.value for d in at.dataframe if "read as missing" in d.value.columns]
    improved = summary[summary["column"] == "Improved"].iloc[0]
    assert improved["missing"] == 0 and "None (42)" in improved["top values"]
    assert not (home / "runs").exists()


def test_the_target_is_a_dropdown_of_the_files_columns(home):
    at = _app(_pipeline("Arthritis.csv", "Improved"), "load")

    target = _one(at.selectbox, "-load-target")
    assert target.options == ["(none)", "Unnamed: 0", "ID", "Treatment", "Sex", "Age", "Improved"]
    target.set_value("Sex")
    at.run()
    assert at.session_state["studio"].pipeline.node("load").params["target"] == "Sex"


def test_a_downstream_column_picker_lists_the_upstream_columns(home):
    at = _app(_pipeline("airquality.csv", "Ozone"), "rows")

    picker = _one(at.multiselect, "-rows-drop_missing")
    assert "Ozone" in picker.options and "Solar.R" in picker.options
    picker.set_value(["Ozone"])
    at.run()
    assert at.session_state["studio"].pipeline.node("rows").params["drop_missing"] == ["Ozone"]


def test_missing_targets_are_fixed_in_one_click(home):
    pipeline = _pipeline("airquality.csv", "Ozone")
    document = pipeline.to_document()
    document["spec"]["nodes"] = [document["spec"]["nodes"][0], document["spec"]["nodes"][2]]
    document["spec"]["edges"] = [{"from": "load.table", "to": "split.table"}]
    at = _app(Pipeline.model_validate(document), "load")

    [fix] = [b for b in at.button if (b.key or "").startswith("fix-target-")]
    fix.click()
    at.run()

    fixed = at.session_state["studio"].pipeline
    assert fixed.node("load-rows").params == {"drop_missing": ["Ozone"]}
    assert sorted(e.label for e in fixed.spec.edges) == ["load-rows.table -> split.table", "load.table -> load-rows.table"]


def test_add_rows_fix_keeps_other_edges():
    fixed = add_rows_fix(_pipeline("airquality.csv", "Ozone"), "load", "Ozone")

    assert [n.id for n in fixed.spec.nodes] == ["load", "rows", "split", "load-rows"]
    assert "load-rows.table -> rows.table" in [e.label for e in fixed.spec.edges]


def test_list_params_show_their_defaults_and_are_not_written_untouched(home):
    at = _app(_pipeline("Arthritis.csv", "Improved"), "load")
    missing = _one(at.text_input, "-load-missing_values")

    assert missing.value.startswith("['', NA, N/A")
    at.run()
    assert at.session_state["studio"].pipeline.node("load").params == {"path": real_file("Arthritis.csv"),
                                                                        "target": "Improved"}
    _one(at.text_input, "-load-missing_values").set_value("[NA, None]")
    at.run()
    assert at.session_state["studio"].pipeline.node("load").params["missing_values"] == ["NA", "None"]
