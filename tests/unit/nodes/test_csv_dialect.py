"""How a CSV file is written, worked out from its first bytes: the encodings, separators and decimal marks
that real exports use (Excel in Europe, Excel's Unicode text, R's write.table), and files that are not text."""

from __future__ import annotations

import codecs

import pytest

from nodes.csv_dialect import AUTO, CsvDialect, NotText, detect_dialect, normalized_encoding

GERMAN_EXCEL = "Alter;Einkommen;Stadt;gekündigt\n34;2345,50;Köln;nein\n51;1999,95;Düsseldorf;ja\n29;3100,00;Aachen;nein\n"


def _detect(text: str, saved_as: str = "utf-8", **chosen: str) -> CsvDialect:
    return detect_dialect(text.encode(saved_as), whole_file=True, **chosen)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a,b\n1,2\n", "utf-8"),
        ("name,town\nJos\u00e9,M\u00fcnchen\n".encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + b"a,b\n1,2\n", "utf-8-sig"),
        ("a\tb\n1\t2\n".encode("utf-16"), "utf-16"),  # Excel's "Unicode text": a BOM, then UTF-16-LE
        ("a,b\n1,2\n".encode("utf-32"), "utf-32"),
        ("alpha,beta\n1,2\n3,4\n".encode("utf-16-le"), "utf-16-le"),
        ("alpha,beta\n1,2\n3,4\n".encode("utf-16-be"), "utf-16-be"),
        (GERMAN_EXCEL.encode("cp1252"), "cp1252"),
        ("ville,prix\nS\u00e8te,3\u20ac\n".encode("cp1252"), "cp1252"),  # the euro sign is 0x80 in cp1252
        (b"name\nab\x81c\n", "latin-1"),  # 0x81 is undefined in cp1252, every byte is Latin-1
    ],
)
def test_the_encoding_is_read_from_the_bytes(data, expected):
    assert detect_dialect(data, whole_file=True).encoding == expected


def test_a_character_cut_at_the_end_of_the_sample_is_still_utf_8():
    data = "city\n" + "M\u00fcnchen\n" * 10
    encoded = data.encode("utf-8")
    cut = encoded[: encoded.rindex("\u00fc".encode("utf-8")) + 1]  # the ü's first byte only

    assert detect_dialect(cut, whole_file=False).encoding == "utf-8"


@pytest.mark.parametrize(
    ("text", "separator"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", ","),
        (GERMAN_EXCEL, ";"),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        ('"mpg" "cyl" "disp"\n"Mazda RX4" 21 6 160\n"Datsun 710" 22.8 4 108\n', " "),  # R's write.table: row
        # names first, without a header of their own
        ('name,comment\nAnn,"likes a; b; c"\nBob,"x; y"\n', ","),  # a separator inside quotes does not count
        ('id;note\n1;"one, two, three"\n2;"four, five"\n', ";"),
        ('id,text\n1,"a line\nthat goes on"\n2,short\n', ","),  # a quoted line break is one record
        ("value\n1\n2\n3\n", ","),  # one column: the default
    ],
)
def test_the_separator_splits_every_row_like_the_header(text, separator):
    assert _detect(text).separator == separator


def test_a_sample_cut_mid_line_ignores_the_partial_last_line():
    text = "a;b;c\n" + "1;2;3\n" * 20 + "4;5"
    assert detect_dialect(text.encode(), whole_file=False).separator == ";"


@pytest.mark.parametrize(
    ("text", "decimal"),
    [
        (GERMAN_EXCEL, ","),
        ("a;b\n1.5;2.25\n3.0;4\n", "."),
        ("a;b\n1,5;2.25\n", "."),  # both marks: ambiguous, so numbers stay as pandas reads them
        ("a;b\n1;2\n", "."),
        ('a,b\n"1,5",2\n', "."),  # never a comma decimal in a comma-separated file
        ("a\tb\n-0,75\t+12,5\n", ","),
    ],
)
def test_the_decimal_mark_is_a_comma_only_when_numbers_say_so(text, decimal):
    assert _detect(text).decimal == decimal


@pytest.mark.parametrize(
    ("text", "decimal", "thousands"),
    [
        ("Betrag;Menge\n1.234,56;3\n999,50;1.200\n", ",", "."),  # Excel with the 1000 separator format
        ("Betrag;Menge\n1.234;3\n999,5;2\n", ",", "."),  # 1.234 is a thousands point beside 999,5
        ("a;b\n1.234;2\n5.5;3\n", ".", None),  # with no comma decimal, points are decimals
        ("a;b\n1,5;2\n", ",", None),
    ],
)
def test_thousands_points_go_with_a_comma_decimal(text, decimal, thousands):
    found = _detect(text)
    assert (found.decimal, found.thousands) == (decimal, thousands)


def test_what_the_user_chose_is_kept():
    found = _detect(GERMAN_EXCEL, "cp1252", encoding="utf-8", separator=",", decimal=".")
    assert found == CsvDialect("utf-8", ",", ".")
    assert found.read_options() == {"encoding": "utf-8", "sep": ",", "decimal": ".", "thousands": None}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "Excel workbook; set 'format' to 'excel'"),
        (b"PAR1\x15\x04\x15" + b"\x00" * 40, "Parquet file; set 'format' to 'parquet'"),
        (bytes(range(256)) * 4, "it is not text"),
    ],
)
def test_a_file_that_is_not_text_says_what_it_is(data, words):
    with pytest.raises(NotText, match=words):
        detect_dialect(data, whole_file=True)


@pytest.mark.parametrize(("name", "canonical"), [("auto", AUTO), ("AUTO", AUTO), ("Latin-1", "iso8859-1"),
                                                  ("utf8", "utf-8"), ("windows-1252", "cp1252")])
def test_encoding_names_are_normalized(name, canonical):
    assert normalized_encoding(name) == canonical


def test_an_unknown_encoding_is_refused_with_examples():
    with pytest.raises(ValueError, match="not an encoding Python knows; use auto, or one such as utf-8, cp1252"):
        normalized_encoding("klingon")
