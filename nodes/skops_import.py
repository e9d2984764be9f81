"""``skops.io``, imported without importing PyTorch on the way.

Importing ``skops.io`` builds skops's own list of trusted scikit-learn types
with ``sklearn.utils.all_estimators()``, which walks every scikit-learn
subpackage with ``pkgutil.walk_packages``. The walk imports each *package* it
passes, even those whose modules it then skips, and one of them,
``sklearn.externals.array_api_compat.torch``, imports PyTorch whenever it is
installed (the ``torch`` extra that ``train.mlp`` needs). That costs 2–4 s and
about 600 MiB in every run process and in the studio, for a list pipecanvas
never uses: model files are read with pipecanvas's own exact allow-list
(``nodes.model_types``), passed to ``skops.io.loads`` as ``trusted``.

So the first import of ``skops.io`` runs with PyTorch hidden from this thread:
its import fails as if it were not installed, ``walk_packages`` skips a package
whose import raises ``ImportError``, and only that shim (no estimator in it) is
left out. Nothing is cached as "no PyTorch": the next ``import torch`` (a
``train.mlp`` step, or scikit-learn's array-API dispatch asking for the shim)
imports it as usual. Where PyTorch is imported already, hiding it would break
its own lazy imports, so the import is a plain one.

Import ``skops_io`` from here, never ``skops.io`` directly, in code that may be
the first to import it (``nodes.artifact_io``, and node types' ``warm_imports``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
import threading
from types import ModuleType

__all__ = ["skops_io"]

_HIDDEN = "torch"


class _HideFromThisThread(importlib.abc.MetaPathFinder):
    """A finder that makes ``import torch`` (and its submodules) fail in one thread only: the studio's other
    script threads may import PyTorch meanwhile for their own reasons."""

    def __init__(self) -> None:
        self._thread = threading.get_ident()

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102 (MetaPathFinder's signature)
        hidden = fullname == _HIDDEN or fullname.startswith(_HIDDEN + ".")
        if hidden and threading.get_ident() == self._thread:
            raise ImportError(f"{fullname} is left out while skops.io lists scikit-learn's types", name=fullname)
        return None


def _import_skops_io() -> ModuleType:
    if _HIDDEN in sys.modules or "skops.io" in sys.modules:
        return importlib.import_module("skops.io")
    finder = _HideFromThisThread()
    sys.meta_path.insert(0, finder)
    try:
        return importlib.import_module("skops.io")
    finally:
        sys.meta_path.remove(finder)


skops_io = _import_skops_io()
