"""Reading or writing a model file does not import PyTorch, where it is installed (nodes/skops_import.py).

skops.io's import walks every scikit-learn package, and one of them imports PyTorch: seconds and hundreds of
MiB in every model step and in the studio. Each case runs in a fresh interpreter and looks at sys.modules.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                reason="PyTorch is not installed here: there is nothing to keep out")

_ROUND_TRIP = """
import json, sys
from sklearn.tree import DecisionTreeClassifier
from nodes.artifact_io import read_artifact, write_artifact
from nodes.artifacts import ArtifactKind, Model
import numpy as np
X = np.array([[0.0], [1.0], [2.0], [3.0]] * 5); y = np.array([0, 0, 1, 1] * 5)
uri = sys.argv[1]
write_artifact(ArtifactKind.MODEL, Model(estimator=DecisionTreeClassifier(random_state=0).fit(X, y),
               task="classification", feature_columns=["x"], target="y", classes=[0, 1]), uri)
model = read_artifact(ArtifactKind.MODEL, uri)
after_model = "torch" in sys.modules
import torch  # imported as usual afterwards: nothing remembers it as missing
print(json.dumps({"torch_after_model": after_model, "prediction": model.estimator.predict(np.array([[3.0]])).tolist(),
                  "torch_works": float(torch.ones(2).sum())}))
"""


def test_a_model_round_trip_leaves_pytorch_unimported_and_importable(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _ROUND_TRIP, str(tmp_path / "model.skops")], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"torch_after_model": False, "prediction": [1], "torch_works": 2.0}


def test_skops_io_imported_the_plain_way_does_load_pytorch() -> None:
    """The cause, shown: without nodes.skops_import the same import brings PyTorch in (so the test above
    would fail if the guard stopped working, e.g. a scikit-learn or skops upgrade moving the import)."""
    code = "import sys, skops.io; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
