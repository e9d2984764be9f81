"""Executors: one small launcher protocol (``base.Executor``) and the local ones; the cluster's is ``runtime.kubernetes``."""

from .base import EventBuffer, Executor, StepEvent, StepKey

__all__ = ["EventBuffer", "Executor", "StepEvent", "StepKey"]
