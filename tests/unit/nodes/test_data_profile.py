"""The data node's profile: what the studio shows before anything runs."""

from __future__ import annotations

from nodes.data import FileParams, FileTable
from nodes.data_profile import HEAD_ROWS, profile_source
from real_files import real_file


def test_profile_of_an_r_export():
    profile = profile_source(FileTable, FileParams(path=real_file("airquality.csv"), target="Ozone"))

    ozone = profile.column("Ozone")
    assert profile.rows == 153 and len(profile.head) == HEAD_ROWS
    assert (ozone.role, ozone.kind, ozone.missing) == ("target", "number", 37)  # whole numbers with gaps
    assert ozone.missing_strings == {"NA": 37}
    assert sum(count for _, _, count in ozone.histogram) == 153 - 37
    assert (ozone.minimum, ozone.maximum) == (1, 168)
    assert profile.column("Unnamed: 0").role == "id"
    assert profile.task.task == "regression"


def test_profile_keeps_none_as_a_category_and_counts_blank_cells(tmp_path):
    arthritis = profile_source(FileTable, FileParams(path=real_file("Arthritis.csv"), target="Improved"))
    (tmp_path / "blank.csv").write_text("a,b\n1,x\n,None\n3,\n")
    blank = profile_source(FileTable, FileParams(path=str(tmp_path / "blank.csv")))

    assert dict(arthritis.column("Improved").top)["None"] == 42
    assert arthritis.task.describe() == "classification (3 classes)"
    assert blank.column("a").missing_strings == {"(empty)": 1}
    assert blank.column("b").missing == 1 and dict(blank.column("b").top) == {"x": 1, "None": 1}
