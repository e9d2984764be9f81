"""A fast YAML writer for plain data (dicts, lists, strings, numbers, booleans, None).

Plans for big pipelines are large (about 600 bytes a step) and PyYAML's writer
spends about a millisecond a step on them; this one is roughly ten times faster.
Output is block style, with short lists of scalars inline. A string is written
plain only when it cannot be read back as anything else; otherwise it is
double-quoted with JSON's escapes (``\\uXXXX`` also for the characters YAML cannot
hold as they are), which YAML reads identically. Reading back
with the safe loader always returns equal data (a property test checks it).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

__all__ = ["dump_plain_yaml"]

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./@+-]*\Z")
_RESERVED = {
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "nan", ".nan", "inf", ".inf",
}


def _scalar(value: Any) -> str:
    if type(value) is str:  # most values in a plan: ids, URIs, kinds, ports
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return {"nan": ".nan", "inf": ".inf", "-inf": "-.inf"}[repr(value)]
        text = repr(value)
        if "." not in text and "e" in text:  # YAML 1.1 reads 1e-05 as text: a float needs its point (1.0e-05)
            mantissa, _, exponent = text.partition("e")
            return f"{mantissa}.0e{exponent}"
        return text
    return _string(str(value))


#: what a double-quoted string must escape: what JSON escapes (quote, backslash, C0 controls), and what YAML
#: cannot hold as it is (DEL, C1 controls, U+FFFE/U+FFFF) or reads as a line break (U+0085, U+2028, U+2029),
#: which JSON leaves alone: "a\x85b" came back as "a b", and a DEL made the plan unreadable
_ESCAPED = re.compile('["\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]')
_NOT_YAML = re.compile("[\x7f-\x9f\u2028\u2029\ufffe\uffff]")


@lru_cache(maxsize=16384)
def _string(text: str) -> str:
    """A string as YAML; cached because a plan repeats the same kinds, ports, images and params at every step."""
    if _PLAIN.match(text) and text.lower() not in _RESERVED and not text.endswith(":"):
        return text
    if not _ESCAPED.search(text):
        return f'"{text}"'
    return _NOT_YAML.sub(_escape, json.dumps(text, ensure_ascii=False))


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _key(key: Any) -> str:
    return _string(key) if isinstance(key, str) else json.dumps(str(key))


#: YAML reads a key written as ``key:`` only up to 1024 characters; a longer one (a column name, say) is written
#: as an explicit key (``? key`` then ``: value``), or the plan could not be read back
_LONGEST_IMPLICIT_KEY = 1000


@lru_cache(maxsize=4096, typed=True)  # typed: the keys 1 and True must not share a line
def _head(indent: str, key: Any) -> str:
    """``indent`` and ``key:``; cached because every step repeats the same keys at the same depths."""
    return f"{indent}{_key(key)}:"


def _is_leaf_list(value: list[Any]) -> bool:
    for item in value:
        if isinstance(item, (dict, list)):
            return False
    return True


def _emit(value: Any, indent: str, out: list[str], lead: str | None = None) -> None:
    """Append the lines of a mapping or list body at ``indent``.

    ``lead`` replaces the indent on a mapping's first line: a mapping that is an item of a list starts on
    the list's ``- `` line. Exact type checks come first because a plan is some 30 lines a step, all of
    them plain dicts, lists and strings; subclasses take the ``isinstance`` branches.
    """
    append, inner = out.append, indent + "  "
    if isinstance(value, dict):
        for key, item in value.items():
            head = _head(indent, key)
            if len(head) - len(indent) > _LONGEST_IMPLICIT_KEY:  # "? key" on its line, then ": value"
                append((lead or indent) + "? " + head[len(indent):-1])
                head, lead = indent + ":", None
            if lead is not None:
                head, lead = lead + head[len(indent):], None
            kind = type(item)
            if kind is str:
                append(f"{head} {_string(item)}")
            elif kind is dict or isinstance(item, dict):
                if item:
                    append(head)
                    _emit(item, inner, out)
                else:
                    append(f"{head} {{}}")
            elif (kind is list or isinstance(item, list)) and item and not _is_leaf_list(item):
                append(head)
                _emit(item, inner, out)
            else:
                append(f"{head} {_inline(item)}")
        return
    dash = indent + "- "
    for item in value:
        if isinstance(item, dict) and item:
            _emit(item, inner, out, dash)
        elif isinstance(item, list) and item and not _is_leaf_list(item):
            append(f"{indent}-")
            _emit(item, inner, out)
        else:
            append(f"{dash}{_inline(item)}")


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[" + ", ".join([_scalar(v) for v in value]) + "]"
    return _scalar(value)


def dump_plain_yaml(document: dict[str, Any]) -> str:
    """YAML text for a plain mapping."""
    out: list[str] = []
    _emit(document, "", out)
    return "\n".join(out) + "\n"
