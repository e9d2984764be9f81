"""Kubernetes names and label values from ids nobody checked for Kubernetes.

Object names must be DNS-1123 labels (at most 63 lowercase letters, digits and
'-', alphanumeric at both ends; we also start them with a letter, as Services
require) and label values must be at most 63 characters of ``[A-Za-z0-9_.-]``
with alphanumeric ends. Pipeline names and node ids are checked by the compiler,
but an emitter must not trust that: a plugin, a hand-built plan or a future
rule change must never produce a manifest the API server refuses.

A name or value that is already valid is kept as it is. Anything that had to
change (sanitised or shortened) gets a short hash of the original appended, so
two different ids never end up with the same name (``Train`` and ``train``
differ, as do two 200-character ids that share their first 60 characters).
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["MAX_NAME", "dns_name", "label_value", "is_dns_label", "is_label_value"]

MAX_NAME = 63
_HASH_LENGTH = 6
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
_NOT_DNS = re.compile(r"[^a-z0-9]+")
_NOT_LABEL = re.compile(r"[^A-Za-z0-9_.-]+")


def is_dns_label(text: str) -> bool:
    """True for a DNS-1035 label (starts with a letter) of at most 63 characters."""
    return len(text) <= MAX_NAME and bool(_DNS_LABEL.match(text))


def is_label_value(text: str) -> bool:
    return len(text) <= MAX_NAME and bool(_LABEL_VALUE.match(text))


def _digest(*parts: str) -> str:
    """A short, stable hash of the raw parts (joined by a separator no id can contain)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:_HASH_LENGTH]


def _dns_part(text: str) -> str:
    return _NOT_DNS.sub("-", text.lower()).strip("-")


def _shorten(parts: list[str], budget: int) -> list[str]:
    """Cut the longest part one character at a time until the parts, joined by '-', fit ``budget``."""
    parts = list(parts)
    while parts and len("-".join(parts)) > budget:
        longest = max(range(len(parts)), key=lambda i: (len(parts[i]), -i))
        parts[longest] = parts[longest][:-1].rstrip("-")
        parts = [p for p in parts if p]
    return parts


def dns_name(*parts: str, limit: int = MAX_NAME) -> str:
    """``parts`` joined by '-' as a valid object name of at most ``limit`` characters.

    Unchanged when already valid; otherwise each part is lowercased with runs of
    other characters turned into '-', long parts are shortened evenly, and
    ``-<hash>`` of the original parts is appended.
    """
    raw = "-".join(parts)
    if is_dns_label(raw) and len(raw) <= limit and all(parts):
        return raw
    suffix = _digest(*parts)
    cleaned = [p for p in (_dns_part(part) for part in parts) if p]
    if cleaned and not cleaned[0][0].isalpha():
        cleaned.insert(0, "p")
    kept = _shorten(cleaned, limit - len(suffix) - 1)
    return "-".join(kept + [suffix]) if kept else f"p-{suffix}"  # "p": a name must start with a letter


def label_value(text: str) -> str:
    """``text`` as a valid label value: unchanged when it already is one, else sanitised and hashed."""
    if is_label_value(text):
        return text
    suffix = _digest(text)
    cleaned = _NOT_LABEL.sub("-", text)
    cleaned = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", cleaned[: MAX_NAME - len(suffix) - 1])
    return f"{cleaned}-{suffix}" if cleaned else suffix
