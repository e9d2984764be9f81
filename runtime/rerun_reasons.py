"""Why a step runs instead of coming from the cache, in words: which param, input or image changed."""

from __future__ import annotations

from typing import Any

from compiler.plan import PlannedStep

from .run_store import RunStore

__all__ = ["rerun_reason"]


def rerun_reason(
    store: RunStore, pipeline: str, step: PlannedStep, run_id: str, use_cache: bool, node_type: Any,
    rerun_upstream: list[str] = (),
) -> str:
    """Say what differs from the last successful run of the same step; ``rerun_upstream`` are the
    steps feeding it that ran (rather than came from the cache) in this run."""
    if node_type is not None and not node_type.cacheable:
        return "always runs (its effect is outside its outputs)"
    if not use_cache:
        return "cache disabled (--no-cache)"
    before = store.previous_success(pipeline, step.id, exclude_run=run_id)
    if before is None:
        return "first run of this step"
    changes = [_param_change(name, before.params.get(name, "<unset>"), value)
               for name, value in step.params.items() if before.params.get(name, "<unset>") != value]
    changes += [f"param '{name}' removed" for name in before.params if name not in step.params]
    if before.image != step.image:
        changes.append(f"image changed {before.image} → {step.image}")
    if before.type != step.type:
        changes.append(f"node type changed {before.type} → {step.type}")
    for port, ref in step.inputs.items():
        if port not in before.inputs:
            changes.append(f"input '{port}' newly connected")
        elif before.inputs[port] != ref.step:
            changes.append(f"input '{port}' now comes from '{ref.step}'")
    if not changes:
        upstream = ", ".join(f"'{name}'" for name in dict.fromkeys(rerun_upstream))
        changes.append(f"its inputs changed ({upstream} ran again)" if upstream
                       else "its source data changed, or the earlier output is gone")
    return "; ".join(changes)


def _param_change(name: str, old: Any, new: Any) -> str:
    return f"param '{name}' changed {old!r} → {new!r}" if old != "<unset>" else f"param '{name}' set to {new!r}"
