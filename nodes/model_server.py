"""The HTTP prediction server that a deploy node starts: one model, optionally behind its preprocessor.

``build_app`` makes the FastAPI app (tests drive it in-process); ``main`` loads
the saved artifacts with ``nodes.artifact_io`` and serves them with uvicorn::

    python -m nodes.model_server --model URI [--preprocessor URI] --name NAME --port 8080

Requests are checked against the raw input schema (the preprocessor's when
there is one) before anything reaches scikit-learn, so a caller gets a 422
naming the offending column instead of a stack trace; bodies and row counts
over the limits get a 413 (see ``nodes.predict_request``). Responses hold only
JSON-native values.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .artifacts import ArtifactKind, Model
from .errors import PipecanvasError
from .predict_request import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_ROWS,
    MAX_BYTES_ENV,
    MAX_ROWS_ENV,
    BodyLimit,
    PredictLimits,
    RequestError,
    RequestTooLargeError,
    checked_frame,
    parse_body,
    rows_of,
)

if TYPE_CHECKING:
    import pandas as pd
    from fastapi import FastAPI

__all__ = ["build_app", "main", "RequestError", "ServingError"]


class ServingError(PipecanvasError):
    """The served artifacts do not fit together (e.g. a preprocessor from another pipeline): HTTP 500."""


def build_app(model: Model, preprocessor: Model | None, name: str, limits: PredictLimits | None = None) -> "FastAPI":
    """The app serving ``model`` as ``name``; a ``preprocessor`` (task ``transform``) cleans raw rows first.

    ``limits`` bound what one request may hold (default: ``PredictLimits.from_environment()``).
    """
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    limits = limits or PredictLimits.from_environment()
    schema = _request_schema(model, preprocessor)
    app = FastAPI(title=f"pipecanvas endpoint {name}", version="1")
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def small_validation_error(request: Any, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's own reply echoes the input back; this one names only where the problem is."""
        where = sorted({".".join(map(str, error.get("loc", ()))) for error in exc.errors()})[:5]
        return JSONResponse({"detail": f"the request does not fit this endpoint at: {', '.join(where)}"}, 422)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "name": name, "task": model.task, "algorithm": model.algorithm}

    @app.get("/schema")
    def describe_schema() -> dict[str, Any]:
        return {"input_schema": schema, "classes": model.classes, "limits":
                {"max_body_bytes": limits.max_body_bytes, "max_rows": limits.max_rows}}

    async def predict(request: Request) -> JSONResponse:
        from starlette.concurrency import run_in_threadpool

        raw = await request.body()  # within the body limit: BodyLimit refused anything larger
        status, body = await run_in_threadpool(_answer, raw, model, preprocessor, schema, limits)
        return JSONResponse(body, status)

    predict.__annotations__.update({"request": Request, "return": JSONResponse})  # real classes for FastAPI
    app.post("/predict", response_class=JSONResponse)(predict)

    return app


def _request_schema(model: Model, preprocessor: Model | None) -> dict[str, str]:
    """Raw input columns → kind; ``any`` (unchecked) for a column the artifacts give no kind for."""
    source = preprocessor if preprocessor is not None else model
    return {column: source.input_schema.get(column, "any") for column in source.feature_columns}


def _answer(
    raw: bytes, model: Model, preprocessor: Model | None, schema: dict[str, str], limits: PredictLimits,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) for one request body: 413 over a limit, 422 for input the model cannot use."""
    try:
        rows = rows_of(parse_body(raw), limits)
        frame = checked_frame(rows, schema, allow_missing=preprocessor is not None)
        return 200, _predictions(model, preprocessor, frame)
    except RequestTooLargeError as exc:
        return 413, {"detail": str(exc)}
    except RequestError as exc:
        return 422, {"detail": str(exc)}
    except ServingError as exc:
        return 500, {"detail": str(exc)}


def _predictions(model: Model, preprocessor: Model | None, frame: "pd.DataFrame") -> dict[str, Any]:
    """Predictions (and class probabilities when the model has them) as JSON-native lists."""
    features = _model_input(model, preprocessor, frame)
    try:
        predicted = model.estimator.predict(features)
    except (ValueError, TypeError, OverflowError) as exc:  # scikit-learn's words for "this input does not fit"
        raise RequestError(f"the model could not predict these rows: {str(exc)[:300]}") from exc
    result: dict[str, Any] = {"predictions": _native(predicted)}
    if model.task == "classification" and hasattr(model.estimator, "predict_proba"):
        probabilities = model.estimator.predict_proba(features)
        classes = model.classes if model.classes is not None else _native(model.estimator.classes_)
        result["probabilities"] = [
            {str(label): float(p) for label, p in zip(classes, row)} for row in probabilities
        ]
    return result


def _model_input(model: Model, preprocessor: Model | None, frame: "pd.DataFrame") -> "pd.DataFrame":
    """The frame of ``model.feature_columns`` the model expects: the raw frame, or the preprocessor's output."""
    import numpy as np
    import pandas as pd

    if preprocessor is None:
        return frame[model.feature_columns]
    try:
        cleaned = preprocessor.estimator.transform(frame[preprocessor.feature_columns])
    except (ValueError, TypeError, OverflowError) as exc:
        raise RequestError(f"the preprocessor could not clean these rows: {str(exc)[:300]}") from exc
    if isinstance(cleaned, pd.DataFrame) and set(model.feature_columns) <= set(cleaned.columns):
        return cleaned[model.feature_columns]
    values = cleaned.toarray() if hasattr(cleaned, "toarray") else np.asarray(cleaned)
    if values.ndim != 2 or values.shape[1] != len(model.feature_columns):
        raise ServingError(
            f"the preprocessor makes {values.shape[-1]} columns but the model expects {len(model.feature_columns)}; "
            "connect the preprocessor from the same pipeline that trained the model"
        )
    return pd.DataFrame(values, columns=model.feature_columns, index=frame.index)


def _native(values: Any) -> list[Any]:
    """A list of plain Python values (numpy scalars become int/float/str/bool)."""
    import numpy as np

    return np.asarray(values).tolist()


def main(argv: Sequence[str] | None = None) -> int:
    """Load the model (and preprocessor) named on the command line and serve them until stopped."""
    args = _parse_args(argv)
    if args.wait_for_go and not _released():
        print(f"model server {args.name!r}: the process that started it went away before recording it; "
              "not serving", file=sys.stderr)
        return 3
    try:
        base = PredictLimits.from_environment()
        limits = PredictLimits(args.max_body_bytes or base.max_body_bytes, args.max_rows or base.max_rows)
    except PipecanvasError as exc:
        print(f"model server {args.name!r}: {exc}", file=sys.stderr)
        return 2
    from .artifact_io import read_artifact

    try:
        model = read_artifact(ArtifactKind.MODEL, args.model)
        preprocessor = read_artifact(ArtifactKind.MODEL, args.preprocessor) if args.preprocessor else None
    except PipecanvasError as exc:
        print(f"model server {args.name!r}: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    uvicorn.run(build_app(model, preprocessor, args.name, limits), host=args.host, port=args.port, log_level="info")
    return 0


def _released() -> bool:
    """Wait for the launcher's ``go`` line on stdin: it sends it once this server's process is in the run
    store. End of input instead (the launcher was killed first) means nobody could ever stop this server."""
    try:
        return sys.stdin.readline().strip() == "go"
    except (OSError, ValueError):
        return False


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m nodes.model_server", description="Serve a pipecanvas model over HTTP."
    )
    parser.add_argument("--model", required=True, help="URI of the saved model (.skops)")
    parser.add_argument("--preprocessor", default=None, help="URI of the saved preprocessor, applied first")
    parser.add_argument("--name", required=True, help="endpoint name, shown by /health")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on")
    parser.add_argument("--max-body-bytes", type=_at_least_one, default=None,
                        help=f"largest /predict body accepted (default: ${MAX_BYTES_ENV}, else {DEFAULT_MAX_BODY_BYTES})")
    parser.add_argument("--max-rows", type=_at_least_one, default=None,
                        help=f"most rows in one /predict request (default: ${MAX_ROWS_ENV}, else {DEFAULT_MAX_ROWS})")
    parser.add_argument("--wait-for-go", action="store_true",
                        help="read a line 'go' from stdin before loading anything (how pipecanvas starts servers)")
    return parser.parse_args(argv)


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, got {text!r}")
    return int(text)


if __name__ == "__main__":
    sys.exit(main())
