"""What a ``/predict`` request may be, and turning an acceptable one into the frame the model expects.

A model server is reachable by any program on the machine, so its input is
untrusted: the body is read up to a size limit before anything parses it
(``BodyLimit``, HTTP 413), the rows are counted against a row limit (413), and
every value is checked against the input schema (422) with the column named.
Numbers must be finite and fit the column's type (a huge integer or ``NaN``
is refused, not handed to pandas to overflow). Messages quote at most a few
characters of a bad value and name at most ``_MAX_PROBLEMS`` problems, so a
refusal stays small whatever was sent.

The limits are settings: ``PIPECANVAS_PREDICT_MAX_BYTES`` and
``PIPECANVAS_PREDICT_MAX_ROWS`` in the server's environment, or the server's
``--max-body-bytes`` / ``--max-rows`` options.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import PipecanvasError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PredictLimits", "RequestError", "RequestTooLargeError", "BodyLimit", "parse_body", "rows_of", "checked_frame",
    "DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_ROWS", "MAX_BYTES_ENV", "MAX_ROWS_ENV",
]

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_ROWS = 10_000
MAX_BYTES_ENV = "PIPECANVAS_PREDICT_MAX_BYTES"
MAX_ROWS_ENV = "PIPECANVAS_PREDICT_MAX_ROWS"

_PANDAS_DTYPES = {"number": "float64", "integer": "int64", "boolean": "bool"}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NUMBER_MAX = 3.4028234663852886e38  # float32's largest: tree models compute in float32, and nothing real is larger
_MAX_DIGITS = 400  # more digits than any float can hold; longer integers are refused before int() sees them
_MAX_PROBLEMS = 10
_QUOTE_CHARS = 40


class RequestError(PipecanvasError):
    """A prediction request the model cannot use; the server answers it with HTTP 422."""


class RequestTooLargeError(RequestError):
    """A request over the body or row limit: HTTP 413."""


@dataclass(frozen=True)
class PredictLimits:
    """How much one ``/predict`` request may hold."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_rows: int = DEFAULT_MAX_ROWS

    @classmethod
    def from_environment(cls, environ: MutableMapping[str, str] | None = None) -> "PredictLimits":
        """The limits from ``$PIPECANVAS_PREDICT_MAX_BYTES`` / ``$PIPECANVAS_PREDICT_MAX_ROWS`` (defaults otherwise)."""
        environ = os.environ if environ is None else environ
        return cls(_positive(environ, MAX_BYTES_ENV, DEFAULT_MAX_BODY_BYTES), _positive(environ, MAX_ROWS_ENV, DEFAULT_MAX_ROWS))


def _positive(environ: MutableMapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise PipecanvasError(f"{name} must be a whole number ≥ 1, got {raw!r}")
    return int(raw)


# -- the body, before parsing --------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` gets 413 before any of it is parsed.

    A declared ``Content-Length`` over the limit is refused at once; a chunked body
    (no length) is counted as it arrives and refused as soon as it passes the limit.
    A body within the limit is buffered and handed on unchanged.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, delivered = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        detail = (f"the request body is larger than this endpoint's limit of {_size(self.max_bytes)}; send fewer rows "
                  f"per request (the limit is the server's {MAX_BYTES_ENV} setting)")
        payload = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MiB" if n >= 1024 * 1024 else f"{n} bytes"


# -- the JSON ----------------------------------------------------------------------------------------


class _OutOfRange(float):
    """An integer literal with more digits than any column can hold; kept as its text for the message."""

    text: str

    def __new__(cls, text: str) -> "_OutOfRange":
        value = super().__new__(cls, math.inf if not text.startswith("-") else -math.inf)
        value.text = text
        return value

    def __repr__(self) -> str:
        return f"{self.text[:12]}… ({len(self.text.lstrip('-'))} digits)"


def _parse_int(text: str) -> int | float:
    return _OutOfRange(text) if len(text) > _MAX_DIGITS else int(text)


def parse_body(raw: bytes) -> Any:
    """The JSON document of a request body; NaN/Infinity literals and huge integers are kept for the checks
    to refuse with their column named."""
    try:
        return json.loads(raw, parse_int=_parse_int)
    except RecursionError:
        raise RequestError("the request body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"the request body is not valid JSON: {str(exc)[:200]}") from None


def rows_of(body: Any, limits: PredictLimits) -> list[dict[str, Any]]:
    """The rows of ``{"rows": [...]}`` or the single row of ``{"inputs": {...}}``, at most ``limits.max_rows``."""
    if isinstance(body, dict) and isinstance(body.get("inputs"), dict) and "rows" not in body:
        return [body["inputs"]]
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        raise RequestError('send {"rows": [{"column": value, ...}, ...]} or {"inputs": {"column": value, ...}}')
    if len(rows) > limits.max_rows:
        raise RequestTooLargeError(f"the request has {len(rows)} rows; this endpoint takes at most {limits.max_rows} "
                                   f"per request (the server's {MAX_ROWS_ENV} setting): split it")
    if not rows:
        raise RequestError("'rows' is empty; send at least one row to predict")
    bad = [index for index, row in enumerate(rows) if not isinstance(row, dict)]
    if bad:
        raise RequestError(f"each row must be an object of column: value; row(s) {_indexes(bad)} are not")
    return rows


def _indexes(indexes: list[int]) -> str:
    shown = ", ".join(map(str, indexes[:_MAX_PROBLEMS]))
    return shown + (f" and {len(indexes) - _MAX_PROBLEMS} more" if len(indexes) > _MAX_PROBLEMS else "")


# -- the values --------------------------------------------------------------------------------------


def checked_frame(rows: list[dict[str, Any]], schema: dict[str, str], allow_missing: bool) -> "pd.DataFrame":
    """A frame of the schema's columns, typed as at training; problems in the rows are reported together."""
    import pandas as pd

    problems: list[str] = []
    for index, row in enumerate(rows):
        missing = [column for column in schema if column not in row]
        if missing:
            problems.append(f"row {index} is missing column(s) {', '.join(_quote(c) for c in missing[:_MAX_PROBLEMS])}")
        for column, kind in schema.items():
            if column in row:
                problem = _problem(row[column], kind, allow_missing)
                if problem:
                    problems.append(f"row {index}: column {_quote(column)} {problem}")
        if len(problems) > _MAX_PROBLEMS:
            break
    if problems:
        more = " (and more; fix these first)" if len(problems) > _MAX_PROBLEMS else ""
        raise RequestError("; ".join(problems[:_MAX_PROBLEMS]) + more)
    frame = pd.DataFrame([{column: row[column] for column in schema} for row in rows], columns=list(schema))
    for column, kind in schema.items():
        dtype = _PANDAS_DTYPES.get(kind)
        if dtype and (dtype == "float64" or frame[column].notna().all()):  # ints/bools with gaps stay as they are
            frame[column] = frame[column].astype(dtype)
    return frame


def _problem(value: Any, kind: str, allow_missing: bool) -> str | None:
    """Why ``value`` cannot go in a column of ``kind``, or None when it can."""
    if value is None:
        return None if allow_missing else f"must be {_describe(kind)}, got null"
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if is_number:
        range_problem = _number_problem(value, kind)
        if range_problem:
            return range_problem
    if kind == "number" and not is_number:
        return f"must be {_describe(kind)}, got {_quote(value)}"
    if kind == "integer" and not (is_number and (isinstance(value, int) or float(value).is_integer())):
        return f"must be {_describe(kind)}, got {_quote(value)}"
    if kind == "boolean" and not isinstance(value, bool):
        return f"must be {_describe(kind)}, got {_quote(value)}"
    if kind == "string" and not isinstance(value, str):
        return f"must be {_describe(kind)}, got {_quote(value)}"
    if kind not in _PANDAS_DTYPES and kind != "string" and isinstance(value, (dict, list)):
        return f"must be a single value, got {'an object' if isinstance(value, dict) else 'a list'}"
    return None


def _number_problem(value: int | float, kind: str) -> str | None:
    if isinstance(value, _OutOfRange):
        return f"has a number too large for any column: {value!r}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    if kind == "integer":
        if not _INT64_MIN <= value <= _INT64_MAX:
            return f"must be a whole number between {_INT64_MIN} and {_INT64_MAX}, got {_quote(value)}"
    elif not -_NUMBER_MAX <= value <= _NUMBER_MAX:
        return f"must be a number between {-_NUMBER_MAX:.6g} and {_NUMBER_MAX:.6g}, got {_quote(value)}"
    return None


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTE_CHARS else f"{text[:_QUOTE_CHARS]}… ({len(text)} characters)"


def _describe(kind: str) -> str:
    words = {"number": "a number", "integer": "a whole number", "boolean": "true or false", "string": "text"}
    return words.get(kind, kind)
