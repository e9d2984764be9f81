"""compiler.quantities reads Kubernetes quantities as the grammar says, and as the Kubernetes client does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kubernetes.utils.quantity import parse_quantity as client_parse_quantity

from compiler.quantities import QuantityError, parse_quantity


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("2", "2"),
        ("500m", "0.5"),
        ("0.5", "0.5"),
        (".5", "0.5"),
        ("1.", "1"),
        ("+3", "3"),
        ("-1", "-1"),
        ("250n", "0.00000025"),
        ("3u", "0.000003"),
        ("1k", "1000"),
        ("4M", "4000000"),
        ("1G", "1000000000"),
        ("2T", "2000000000000"),
        ("1P", "1000000000000000"),
        ("1E", "1000000000000000000"),
        ("1Ki", "1024"),
        ("512Mi", "536870912"),
        ("4Gi", "4294967296"),
        ("1.5Gi", "1610612736"),
        ("1Ti", "1099511627776"),
        ("1Pi", str(1024**5)),
        ("1Ei", str(1024**6)),
        ("1e3", "1000"),
        ("1E3", "1000"),
        ("2.5e-3", "0.0025"),
        ("1e+2", "100"),
        ("0", "0"),
    ],
)
def test_the_grammars_forms_give_their_amounts(text: str, amount: str) -> None:
    assert parse_quantity(text) == Decimal(amount)


@pytest.mark.parametrize(
    "text",
    [
        "", " 1", "1 ", "1\n", "2 cores", "NaN", "nan", "Infinity", "-Infinity", "inf", "1_000", "1,5",
        "1K",  # kilo is a lower-case k; only the binary Ki is upper-case
        "4GB", "4gi", "1ki", "1mi", "1ni", "1ui", "1Ki2", "e3", ".", "+", "-", "1.5.0", "1e", "1e1.5", "1e+",
        "0x10", "١", "1KiB", "Gi", "--1", "1mm",
    ],
)
def test_anything_outside_the_grammar_is_refused(text: str) -> None:
    with pytest.raises(QuantityError, match="is not a Kubernetes quantity"):
        parse_quantity(text)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "1_000", " 1", "1K"])
def test_refuses_what_the_kubernetes_client_lets_through(text: str) -> None:
    """The client's parse_quantity is Decimal underneath: these pass it, but the API server refuses them."""
    client_parse_quantity(text)  # accepted there
    with pytest.raises(QuantityError):
        parse_quantity(text)


def test_a_quantity_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_quantity("lots")


_digits = st.text("0123456789", min_size=1, max_size=12)
_number = st.one_of(
    _digits,
    st.builds(lambda a, b: f"{a}.{b}", _digits, _digits),
    st.builds(lambda a: f"{a}.", _digits),
    st.builds(lambda b: f".{b}", _digits),
)
_suffix = st.one_of(
    st.sampled_from(["Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "", "k", "M", "G", "T", "P", "E"]),
    st.builds(lambda e, sign, n: f"{e}{sign}{n}", st.sampled_from("eE"), st.sampled_from(["", "+", "-"]),
              st.text("0123456789", min_size=1, max_size=3)),
)
_quantity = st.builds(lambda sign, number, suffix: f"{sign}{number}{suffix}", st.sampled_from(["", "+", "-"]),
                      _number, _suffix)


@settings(max_examples=2000, deadline=None)
@given(_quantity)
def test_every_grammatical_quantity_has_the_kubernetes_clients_amount(text: str) -> None:
    assert parse_quantity(text) == client_parse_quantity(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="0123456789.+-eEKMGTPimnuk _", max_size=8))
def test_whatever_it_accepts_the_kubernetes_client_reads_the_same(text: str) -> None:
    try:
        ours = parse_quantity(text)
    except QuantityError:
        return
    assert ours == client_parse_quantity(text)
