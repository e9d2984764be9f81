"""Kubernetes resource quantities ("500m", "4Gi", "1e3") read as exact decimals.

The grammar is Kubernetes' own (``k8s.io/apimachinery/pkg/api/resource/quantity.go``)::

    <quantity>        ::= <signedNumber><suffix>
    <signedNumber>    ::= <number> | <sign><number>
    <sign>            ::= "+" | "-"
    <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
    <digits>          ::= <digit> | <digit><digits>
    <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
    <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
    <decimalSI>       ::= m | "" | k | M | G | T | P | E
    <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>

with two readings taken from Kubernetes' parser rather than the comment: an
exponent is a whole number (``1e3``, not ``1e1.5``), and ``n`` and ``u``
(nano, micro) are accepted as decimal suffixes. Nothing else is a quantity:
no spaces, no ``_`` between digits, no ``NaN`` or ``Infinity``, no ``K`` for
kilo and no ``GB``, all of which Python's ``Decimal`` (and so the Kubernetes
Python client's ``parse_quantity``) would let through.

This module exists so that checking a pipeline's resources does not import the
Kubernetes client (about a tenth of a second, for a few lines of arithmetic).
A test compares it with ``kubernetes.utils.quantity.parse_quantity`` over many
values.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["QuantityError", "parse_quantity"]

_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<binary>[KMGTPE]i)|(?P<exponent>[eE][+-]?[0-9]+)|(?P<decimal>[numkMGTPE]))?",
    re.ASCII,
)
# powers of 1000 for the decimal suffixes, of 1024 for the binary ones (the same letter's power)
_POWER = {"n": -3, "u": -2, "m": -1, "k": 1, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


class QuantityError(ValueError):
    """The text is not a Kubernetes quantity."""


def parse_quantity(text: str) -> Decimal:
    """The amount ``text`` stands for: ``"500m"`` → 0.5, ``"1Ki"`` → 1024, ``"2e3"`` → 2000.

    Raises ``QuantityError`` for anything outside the grammar above.
    """
    match = _QUANTITY.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise QuantityError(f"{text!r} is not a Kubernetes quantity")
    number, binary, exponent, decimal = match.group("number", "binary", "exponent", "decimal")
    if exponent:
        return Decimal(number + exponent)
    if binary:
        return Decimal(number) * (Decimal(1024) ** _POWER[binary[0]])
    if decimal:
        return Decimal(number) * (Decimal(1000) ** _POWER[decimal])
    return Decimal(number)
