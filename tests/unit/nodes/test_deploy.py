"""Serving a model over HTTP: the app checks requests and answers predictions; the deploy node starts a real server."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from nodes.artifact_io import write_artifact
from nodes.artifacts import ArtifactKind, Endpoint, Model
from nodes.context import RunContext
from nodes.deploy import EndpointDeploy
from nodes.errors import NodeInputError
from nodes.model_server import build_app
from runtime.endpoints import EndpointStartError, LocalEndpointLauncher, stop_endpoint
from runtime.run_store import RunStore

SETOSA = {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4, "petal width (cm)": 0.2}
VIRGINICA = {"sepal length (cm)": 6.7, "sepal width (cm)": 3.0, "petal length (cm)": 5.8, "petal width (cm)": 2.2}


@pytest.fixture(scope="module")
def client(iris_model) -> TestClient:
    return TestClient(build_app(iris_model, None, "iris"))


def _houses() -> pd.DataFrame:
    """A small table with a text column, a whole-number column and a numeric target."""
    rng = np.random.default_rng(0)
    district = rng.choice(["north", "south", "harbour"], size=120)
    rooms = rng.integers(1, 6, size=120)
    price = rooms * 50.0 + np.where(district == "harbour", 200.0, 0.0) + rng.normal(0, 5, size=120)
    return pd.DataFrame({"district": district, "rooms": rooms, "price": price})


@pytest.fixture(scope="module")
def houses_app():
    """A regressor trained on cleaned columns, served behind the recipe that cleans raw rows."""
    frame = _houses()
    recipe = ColumnTransformer(
        [
            ("district", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["district"]),
            ("rooms", StandardScaler(), ["rooms"]),
        ]
    ).fit(frame[["district", "rooms"]])
    cleaned_columns = [str(c) for c in recipe.get_feature_names_out()]
    cleaned = pd.DataFrame(recipe.transform(frame[["district", "rooms"]]), columns=cleaned_columns)
    forest = RandomForestRegressor(n_estimators=30, random_state=0).fit(cleaned, frame["price"])
    model = Model(forest, "regression", cleaned_columns, "price", algorithm="random_forest",
                  input_schema={c: "number" for c in cleaned_columns})
    raw_schema = {"district": "string", "rooms": "integer"}
    preprocessor = Model(recipe, "transform", ["district", "rooms"], input_schema=raw_schema)
    return TestClient(build_app(model, preprocessor, "houses")), model, preprocessor


def test_health_names_the_endpoint(client):
    expected = {"status": "ok", "name": "iris", "task": "classification", "algorithm": "random_forest"}
    assert client.get("/health").json() == expected


def test_schema_lists_the_input_columns_and_classes(client):
    body = client.get("/schema").json()
    assert body["input_schema"] == {c: "number" for c in SETOSA}
    assert body["classes"] == ["setosa", "versicolor", "virginica"]


def test_predicts_known_flowers_with_probabilities(client):
    body = client.post("/predict", json={"rows": [SETOSA, VIRGINICA]}).json()
    assert body["predictions"] == ["setosa", "virginica"]
    assert set(body["probabilities"][0]) == {"setosa", "versicolor", "virginica"}
    assert body["probabilities"][0]["setosa"] > 0.9


def test_single_row_inputs_form(client):
    assert client.post("/predict", json={"inputs": SETOSA}).json()["predictions"] == ["setosa"]


def test_missing_column_is_a_422_naming_it(client):
    row = {k: v for k, v in SETOSA.items() if k != "petal width (cm)"}
    response = client.post("/predict", json={"rows": [row]})
    assert response.status_code == 422
    assert "petal width (cm)" in response.json()["detail"]


def test_text_in_a_numeric_column_is_a_422_naming_it(client):
    response = client.post("/predict", json={"rows": [{**SETOSA, "sepal length (cm)": "long"}]})
    assert response.status_code == 422
    assert "sepal length (cm)" in response.json()["detail"] and "number" in response.json()["detail"]


@pytest.mark.parametrize("body", [{"rows": []}, {}, {"rows": "not a list"}])
def test_empty_or_malformed_requests_are_422(client, body):
    assert client.post("/predict", json=body).status_code == 422


def test_preprocessor_lets_the_endpoint_take_raw_rows(houses_app):
    client, _, _ = houses_app
    assert client.get("/schema").json()["input_schema"] == {"district": "string", "rooms": "integer"}
    rows = [{"district": "harbour", "rooms": 3}, {"district": "north", "rooms": 3}]
    body = client.post("/predict", json={"rows": rows}).json()
    harbour, north = body["predictions"]
    assert harbour - north == pytest.approx(200.0, abs=40.0)
    assert "probabilities" not in body


def test_raw_row_with_wrong_kinds_is_422(houses_app):
    client, _, _ = houses_app
    response = client.post("/predict", json={"rows": [{"district": 7, "rooms": 2.5}]})
    assert response.status_code == 422
    assert "'district'" in response.json()["detail"] and "'rooms'" in response.json()["detail"]


class _RecordingLauncher:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def launch(self, name, model_uri, preprocessor_uri, port, ready_timeout=None) -> Endpoint:
        self.calls.append((name, model_uri, preprocessor_uri, port, ready_timeout))
        return Endpoint(name, f"http://127.0.0.1:{port or 9999}")


def test_deploy_passes_the_saved_files_to_the_launcher(houses_app):
    _, model, preprocessor = houses_app
    launcher = _RecordingLauncher()
    context = RunContext(input_uris={"model": "/runs/m.skops", "preprocessor": "/runs/p.skops"}, endpoints=launcher)
    params = EndpointDeploy.Params(name="houses", port=8011, ready_timeout=300)
    out = EndpointDeploy().run({"model": model, "preprocessor": preprocessor}, params, context)
    assert launcher.calls == [("houses", "/runs/m.skops", "/runs/p.skops", 8011, 300)]
    assert out["endpoint"].url == "http://127.0.0.1:8011"


def test_deploy_without_a_launcher_says_so(iris_model):
    context = RunContext(input_uris={"model": "/runs/m.skops"})
    with pytest.raises(NodeInputError, match="no way to start endpoints"):
        EndpointDeploy().run({"model": iris_model}, EndpointDeploy.Params(name="iris"), context)


def test_deploy_refuses_a_preprocessor_on_the_model_port(houses_app):
    _, _, preprocessor = houses_app
    context = RunContext(input_uris={"model": "/runs/p.skops"}, endpoints=_RecordingLauncher())
    with pytest.raises(NodeInputError, match="cleaning recipe"):
        EndpointDeploy().run({"model": preprocessor}, EndpointDeploy.Params(name="houses"), context)


def test_deploy_starts_a_real_server_and_stop_endpoint_ends_it(iris_model, tmp_path: Path):
    model_uri = str(tmp_path / "artifacts" / "model.skops")
    write_artifact(ArtifactKind.MODEL, iris_model, model_uri)
    launcher = LocalEndpointLauncher(RunStore(tmp_path / "store.db"), tmp_path / "endpoints")
    context = RunContext(input_uris={"model": model_uri}, endpoints=launcher)
    endpoint = None
    try:
        params = EndpointDeploy.Params(name="iris-live")
        endpoint = EndpointDeploy().run({"model": iris_model}, params, context)["endpoint"]
        assert endpoint.url.startswith("http://127.0.0.1:") and endpoint.backend == "local"
        assert endpoint.input_schema == iris_model.input_schema
        response = httpx.post(f"{endpoint.url}/predict", json={"rows": [SETOSA]}, timeout=10)
        assert response.json()["predictions"] == ["setosa"]
        assert stop_endpoint(endpoint.pid) is True
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{endpoint.url}/health", timeout=2)
        assert stop_endpoint(endpoint.pid) is False
    finally:
        if endpoint is not None and endpoint.pid:
            stop_endpoint(endpoint.pid)


def test_server_that_cannot_load_its_model_fails_with_its_log(tmp_path: Path):
    broken = tmp_path / "broken.skops"
    broken.write_bytes(b"not a model")
    store = RunStore(tmp_path / "store.db")
    launcher = LocalEndpointLauncher(store, tmp_path / "endpoints", ready_timeout=60)
    with pytest.raises(EndpointStartError, match="stopped while starting.*the server's last words: .*broken.skops") as caught:
        launcher.launch("broken", str(broken), None, 0)
    first_line = str(caught.value).splitlines()[0]
    assert not first_line.rstrip().endswith(":"), first_line  # what the studio shows must be a whole sentence
    assert (tmp_path / "endpoints" / "broken.log").exists()
    record = store.endpoint("broken")
    assert record.state == "failed" and "broken.skops" in record.detail


def test_stop_endpoint_leaves_other_programs_alone():
    assert stop_endpoint(os.getpid()) is False
