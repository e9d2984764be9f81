"""How a CSV file is written: its text encoding, column separator and decimal mark, worked out from its start.

Real exports differ from pandas' defaults (UTF-8, comma, point). Excel on a
German or French system saves ``Alter;Einkommen`` with ``1234,5`` in
Windows-1252; Excel's "Unicode text" is UTF-16 with tabs; R's ``write.table``
separates with spaces; many tools add a byte-order mark. An analyst should not
have to know which one they have, so a data node's ``encoding``, ``separator``
and ``decimal`` default to ``auto`` and are decided here from the first bytes
of the file (``SAMPLE_BYTES``), the way Orange's File widget and spreadsheet
importers do. A value the user sets is always used as is.

No pandas here: this runs on bytes peeked from the open file before pandas
reads it, so the whole file is read once.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AUTO",
    "SAMPLE_BYTES",
    "SEPARATOR_LABELS",
    "DECIMAL_LABELS",
    "FALLBACK_ENCODING",
    "CsvDialect",
    "NotText",
    "detect_dialect",
    "normalized_encoding",
]

AUTO = "auto"
#: how much of a file's start decides its dialect: enough for the header and a few hundred rows
SAMPLE_BYTES = 64 * 1024
#: the encoding of a file that is not UTF-8: Windows' Western code page (what Excel writes in Europe and
#: the Americas), a superset of Latin-1 for every printable character
FALLBACK_ENCODING = "cp1252"

SEPARATOR_LABELS = {
    AUTO: "detect from the file",
    ",": "comma (,)",
    ";": "semicolon (;)",
    "\t": "tab",
    "|": "pipe (|)",
    " ": "space",
}
DECIMAL_LABELS = {AUTO: "detect from the file", ".": "point (1.5)", ",": "comma (1,5)"}

# Separators tried in this order; a space only when no other one splits the rows alike.
_SEPARATORS = (",", ";", "\t", "|")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),  # before UTF-16: FF FE 00 00 starts with FF FE
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
# Bytes cp1252 leaves undefined: a file holding them is read as Latin-1, which defines every byte.
_UNDEFINED_IN_CP1252 = frozenset(b"\x81\x8d\x8f\x90\x9d")
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")
_POINT_DECIMAL = re.compile(r"^[+-]?\d*\.\d+$")
# 1.234 or 1.234.567: a thousands point (with a comma decimal) as much as a decimal point, so it decides nothing
_GROUPED = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")
_GROUPED_COMMA_DECIMAL = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$")  # 1.234,56
_SAMPLE_ROWS = 200


class NotText(ValueError):
    """The file is not text in any encoding: a workbook, a Parquet file, an image... The message says which."""


@dataclass(frozen=True)
class CsvDialect:
    """What ``pandas.read_csv`` needs to read the file as written."""

    encoding: str
    separator: str
    decimal: str
    #: the thousands mark in numbers such as 1.234,56 (only with a comma decimal), or None
    thousands: str | None = None

    def read_options(self) -> dict[str, Any]:
        return {"encoding": self.encoding, "sep": self.separator, "decimal": self.decimal, "thousands": self.thousands}


def normalized_encoding(name: str) -> str:
    """``auto``, or the codec's canonical name (``latin1`` → ``iso8859-1``). Raises ``ValueError`` for an unknown one."""
    if name.strip().lower() == AUTO:
        return AUTO
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        raise ValueError(
            "is not an encoding Python knows; use auto, or one such as utf-8, cp1252 (Windows, Western Europe), "
            "latin-1, cp1250 (Central Europe), utf-16, shift_jis or gb18030"
        ) from None


def detect_dialect(head: bytes, encoding: str = AUTO, separator: str = AUTO, decimal: str = AUTO,
                   whole_file: bool = False, skip_lines: int = 0) -> CsvDialect:
    """The dialect of a CSV file that starts with ``head``; each param that is not ``auto`` is kept.

    ``whole_file`` says ``head`` is all of it, so its last line is complete; ``skip_lines`` are above the
    header (a title, notes) and say nothing about the columns. Raises ``NotText`` for a file that is not
    text at all.
    """
    chosen_encoding = _encoding(head) if encoding == AUTO else encoding
    _check_text(head, chosen_encoding)
    rows = _sample_rows(head, chosen_encoding, whole_file)[skip_lines:]
    chosen_separator = _separator(rows) if separator == AUTO else separator
    found_decimal, grouped = _decimal(rows, chosen_separator)
    chosen_decimal = found_decimal if decimal == AUTO else decimal
    thousands = "." if chosen_decimal == "," and grouped else None
    return CsvDialect(chosen_encoding, chosen_separator, chosen_decimal, thousands)


def _encoding(head: bytes) -> str:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    zeros = _utf16_without_bom(head)
    if zeros:
        return zeros
    try:
        # an incremental decoder, so a character cut in two at the end of the sample is not an error
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    return "latin-1" if _UNDEFINED_IN_CP1252.intersection(head) else FALLBACK_ENCODING


def _check_text(head: bytes, encoding: str) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise NotText("it is a zip archive, such as an Excel workbook; set 'format' to 'excel' for a workbook")
    if head.startswith(b"PAR1"):
        raise NotText("it is a Parquet file; set 'format' to 'parquet'")
    if b"\x00" in head and not encoding.startswith(("utf-16", "utf-32", "utf_16", "utf_32")):
        raise NotText("it is not text (is it another format?)")


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text of Latin letters without a byte-order mark has a zero in every other byte."""
    sample = head[:4096]
    if len(sample) < 16:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _sample_rows(head: bytes, encoding: str, whole_file: bool) -> list[str]:
    """The sample's complete lines as text (the last one dropped unless the sample is the whole file)."""
    try:
        text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=whole_file)
    except LookupError:  # an encoding pandas knows and this Python does not: leave the choices to their defaults
        return []
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not whole_file and lines and not text.endswith(("\n", "\r")):
        lines = lines[:-1]
    return lines[: _SAMPLE_ROWS + 1]


def _field_counts(lines: list[str], separator: str) -> list[int]:
    """Fields per record, quotes respected (a quoted field may hold the separator or a line break)."""
    try:
        return [len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=separator) if row]
    except csv.Error:
        return []


def _separator(lines: list[str]) -> str:
    """The separator that splits the header into the most columns and every sampled row into as many."""
    best, best_fields = ",", 1
    for candidate in (*_SEPARATORS, " "):
        if candidate == " " and best_fields > 1:
            break
        counts = _field_counts(lines, candidate)
        if not counts or counts[0] < 2:
            continue
        rows = counts[1:] or counts
        # one more field than the header: R's write.table puts row names first without naming them
        alike = max(sum(1 for count in rows if count == counts[0] + extra) for extra in (0, 1)) / len(rows)
        if alike >= 0.9 and counts[0] > best_fields:
            best, best_fields = candidate, counts[0]
    return best


def _decimal(lines: list[str], separator: str) -> tuple[str, bool]:
    """A comma when numbers are written ``1234,5`` or ``1.234,5`` (never with a comma separator) and none
    ``1234.5``; and whether some number groups its thousands with points (``1.234,5``, ``1.234``)."""
    if separator == ",":
        return ".", False
    commas = points = 0
    grouped = False
    try:
        for row in csv.reader(io.StringIO("\n".join(lines[1:])), delimiter=separator):
            for cell in row:
                cell = cell.strip()
                if _COMMA_DECIMAL.match(cell):
                    commas += 1
                elif _GROUPED_COMMA_DECIMAL.match(cell):
                    commas += 1
                    grouped = True
                elif _GROUPED.match(cell):
                    grouped = True
                elif _POINT_DECIMAL.match(cell):
                    points += 1
    except csv.Error:
        return ".", False
    return ("," if commas and not points else "."), grouped
