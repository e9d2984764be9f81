"""Executors: one small launcher protocol (``base.Executor``), one module per backend."""

from .base import EventBuffer, Executor, StepEvent, StepKey

__all__ = ["EventBuffer", "Executor", "StepEvent", "StepKey"]
