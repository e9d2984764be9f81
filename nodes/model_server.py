"""The HTTP prediction server that a deploy node starts: one model, optionally behind its preprocessor.

``build_app`` makes the FastAPI app (tests drive it in-process); ``main`` loads
the saved artifacts with ``nodes.artifact_io`` and serves them with uvicorn::

    python -m nodes.model_server --model URI [--preprocessor URI] --name NAME --port 8080

Requests are checked against the raw input schema (the preprocessor's when
there is one) before anything reaches scikit-learn, so a caller gets a 422
naming the offending column instead of a stack trace. Responses hold only
JSON-native values.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .artifacts import ArtifactKind, Model
from .errors import PipecanvasError

if TYPE_CHECKING:
    import pandas as pd
    from fastapi import FastAPI

__all__ = ["build_app", "main", "RequestError", "ServingError"]

_PANDAS_DTYPES = {"number": "float64", "integer": "int64", "boolean": "bool"}


class RequestError(PipecanvasError):
    """A prediction request the model cannot use; the server answers it with HTTP 422."""


class ServingError(PipecanvasError):
    """The served artifacts do not fit together (e.g. a preprocessor from another pipeline): HTTP 500."""


def build_app(model: Model, preprocessor: Model | None, name: str) -> "FastAPI":
    """The app serving ``model`` as ``name``; a ``preprocessor`` (task ``transform``) cleans raw rows first."""
    from fastapi import Body, FastAPI, HTTPException

    schema = _request_schema(model, preprocessor)
    app = FastAPI(title=f"pipecanvas endpoint {name}", version="1")

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "name": name, "task": model.task, "algorithm": model.algorithm}

    @app.get("/schema")
    def describe_schema() -> dict[str, Any]:
        return {"input_schema": schema, "classes": model.classes}

    @app.post("/predict")
    def predict(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        try:
            rows = _rows_of(body)
            frame = _checked_frame(rows, schema, allow_missing=preprocessor is not None)
            return _predictions(model, preprocessor, frame)
        except RequestError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        except ServingError as exc:
            raise HTTPException(status_code=500, detail=str(exc)) from exc

    return app


def _request_schema(model: Model, preprocessor: Model | None) -> dict[str, str]:
    """Raw input columns → kind; ``any`` (unchecked) for a column the artifacts give no kind for."""
    source = preprocessor if preprocessor is not None else model
    return {column: source.input_schema.get(column, "any") for column in source.feature_columns}


def _rows_of(body: Any) -> list[dict[str, Any]]:
    """The rows of ``{"rows": [...]}`` or the single row of ``{"inputs": {...}}``."""
    if isinstance(body, dict) and isinstance(body.get("inputs"), dict) and "rows" not in body:
        return [body["inputs"]]
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise RequestError('send {"rows": [{"column": value, ...}, ...]} or {"inputs": {"column": value, ...}}')
    if not rows:
        raise RequestError("'rows' is empty; send at least one row to predict")
    return rows


def _checked_frame(rows: list[dict[str, Any]], schema: dict[str, str], allow_missing: bool) -> "pd.DataFrame":
    """A frame of the schema's columns, typed as at training; every problem in the rows is reported at once."""
    import pandas as pd

    problems = []
    for index, row in enumerate(rows):
        missing = [column for column in schema if column not in row]
        if missing:
            problems.append(f"row {index} is missing column(s) {', '.join(map(repr, missing))}")
        for column, kind in schema.items():
            if column in row and not _fits(row[column], kind, allow_missing):
                problems.append(f"row {index}: column {column!r} must be {_describe(kind)}, got {row[column]!r}")
    if problems:
        raise RequestError("; ".join(problems))
    frame = pd.DataFrame([{column: row[column] for column in schema} for row in rows], columns=list(schema))
    for column, kind in schema.items():
        dtype = _PANDAS_DTYPES.get(kind)
        if dtype and (dtype == "float64" or frame[column].notna().all()):  # ints/bools with gaps stay as they are
            frame[column] = frame[column].astype(dtype)
    return frame


def _fits(value: Any, kind: str, allow_missing: bool) -> bool:
    if value is None:
        return allow_missing
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "integer":
        whole_float = isinstance(value, float) and value.is_integer()
        return (isinstance(value, int) and not isinstance(value, bool)) or whole_float
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    return True


def _describe(kind: str) -> str:
    words = {"number": "a number", "integer": "a whole number", "boolean": "true or false", "string": "text"}
    return words.get(kind, kind)


def _predictions(model: Model, preprocessor: Model | None, frame: "pd.DataFrame") -> dict[str, Any]:
    """Predictions (and class probabilities when the model has them) as JSON-native lists."""
    features = _model_input(model, preprocessor, frame)
    try:
        predicted = model.estimator.predict(features)
    except ValueError as exc:  # scikit-learn's word for "this input does not fit"
        raise RequestError(f"the model could not predict these rows: {exc}") from exc
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
    except ValueError as exc:
        raise RequestError(f"the preprocessor could not clean these rows: {exc}") from exc
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
    from .artifact_io import read_artifact

    try:
        model = read_artifact(ArtifactKind.MODEL, args.model)
        preprocessor = read_artifact(ArtifactKind.MODEL, args.preprocessor) if args.preprocessor else None
    except PipecanvasError as exc:
        print(f"model server {args.name!r}: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    uvicorn.run(build_app(model, preprocessor, args.name), host=args.host, port=args.port, log_level="info")
    return 0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m nodes.model_server", description="Serve a pipecanvas model over HTTP."
    )
    parser.add_argument("--model", required=True, help="URI of the saved model (.skops)")
    parser.add_argument("--preprocessor", default=None, help="URI of the saved preprocessor, applied first")
    parser.add_argument("--name", required=True, help="endpoint name, shown by /health")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
