"""What a saved model is, in a small JSON file beside it, so that showing a model never loads one.

The studio runs in the analyst's browser session; loading a model file there
would let whoever wrote the file run code in it. So ``write_artifact`` writes
``<model uri>.meta.json`` next to every model (task, algorithm, columns,
target, classes, input schema, what each input column held at training and the
estimator's settings), and the studio
reads only that: at most ``MAX_META_BYTES``, checked field by field, shown as
text. The model file itself is read only by step processes and the model
server, through ``nodes.model_check``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .artifacts import Model
from .errors import ArtifactReadError
from .training_values import MAX_CATEGORIES, MAX_CATEGORY_CHARS

__all__ = [
    "META_SUFFIX", "MAX_META_BYTES", "ColumnValues", "ModelSummary", "meta_uri", "model_meta_bytes", "model_summary",
    "read_model_meta",
]

META_SUFFIX = ".meta.json"
MAX_META_BYTES = 4 * 1024**2
_MAX_PARAMS = 60

Scalar = str | int | float | bool | None
Category = Annotated[str, Field(max_length=MAX_CATEGORY_CHARS)]


class ColumnValues(BaseModel):
    """One input column at training: its median (numbers) or its categories (text); see ``nodes.training_values``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    median: float | None = Field(None, allow_inf_nan=False)
    categories: list[Category] | None = Field(None, max_length=MAX_CATEGORIES)
    more: bool = False  # the column had more categories than were kept


class ModelSummary(BaseModel):
    """The fields of a model's details file; anything else in the file is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    task: str = Field(max_length=40)
    algorithm: str | None = Field(None, max_length=200)
    estimator: str | None = Field(None, max_length=500)
    feature_columns: list[str] = Field(max_length=100_000)
    target: str | None = None
    classes: list[Scalar] | None = Field(None, max_length=100_000)
    input_schema: dict[str, str] | None = None
    training_values: dict[str, ColumnValues] = Field(default_factory=dict, max_length=100_000)
    params: dict[str, Scalar] = Field(default_factory=dict, max_length=_MAX_PARAMS)
    rules: str | None = Field(None, max_length=200_000)  # a decision tree's rules, as text


def meta_uri(model_uri: str) -> str:
    return model_uri + META_SUFFIX


def model_summary(model: Model) -> ModelSummary:
    """The details of ``model`` worth showing, with the estimator's own settings as plain values."""
    estimator = model.estimator
    steps = getattr(estimator, "steps", None)
    final = steps[-1][1] if isinstance(steps, list) and steps else estimator
    name = type(estimator).__name__
    if isinstance(steps, list) and steps:
        name += "(" + " → ".join(type(step).__name__ for _, step in steps) + ")"
    return ModelSummary(
        task=str(model.task),
        algorithm=None if model.algorithm is None else str(model.algorithm),
        estimator=name,
        feature_columns=[str(c) for c in model.feature_columns],
        target=None if model.target is None else str(model.target),
        classes=None if model.classes is None else [_plain(c) for c in model.classes],
        input_schema=None if model.input_schema is None else {str(k): str(v) for k, v in model.input_schema.items()},
        training_values=model.training_values or {},
        params=_plain_params(final),
        rules=_rules(model),
    )


def _rules(model: Model) -> str | None:
    """A decision tree's rules as text, written here so the studio can show them without opening the model."""
    from .train import tree_rules

    try:
        rules = tree_rules(model)
    except Exception:  # a tree the rules printer cannot read is described without them
        return None
    return None if rules is None else rules[:200_000]


def _plain(value: Any) -> Scalar:
    """A JSON scalar for ``value`` (numpy scalars become Python ones; anything else its text)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _plain_params(estimator: Any) -> dict[str, Scalar]:
    get_params = getattr(estimator, "get_params", None)
    if not callable(get_params):
        return {}
    try:
        params = get_params(deep=False)
    except Exception:  # an estimator whose params cannot be listed still gets its other details shown
        return {}
    plain = {str(k): _plain(v) for k, v in sorted(params.items()) if not hasattr(v, "get_params")}
    return dict(list(plain.items())[:_MAX_PARAMS])


def model_meta_bytes(model: Model) -> bytes:
    return model_summary(model).model_dump_json(indent=2).encode("utf-8")


def read_model_meta(model_uri: str) -> ModelSummary | None:
    """The details saved beside the model at ``model_uri``; ``None`` for a model saved without them.

    ``ArtifactReadError`` if the details file is too large or not what pipecanvas writes.
    """
    import fsspec

    uri = meta_uri(model_uri)
    try:
        with fsspec.open(uri, "rb") as file:
            raw = file.read(MAX_META_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ArtifactReadError(f"model details {uri} cannot be read: {exc}") from exc
    if len(raw) > MAX_META_BYTES:
        raise ArtifactReadError(f"model details {uri} are larger than the {MAX_META_BYTES:,} bytes pipecanvas writes")
    try:
        return ModelSummary.model_validate(json.loads(raw))
    except (ValueError, RecursionError, ValidationError) as exc:
        raise ArtifactReadError(f"model details {uri} are not what pipecanvas writes: {_first_line(exc)}") from exc


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
