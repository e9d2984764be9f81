"""What /predict refuses: bodies and row counts over the limits (413), numbers no column can hold (422),
never a 500 for bad input, and refusals that stay small whatever was sent."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from nodes.artifact_io import write_artifact
from nodes.artifacts import ArtifactKind, Model
from nodes.errors import PipecanvasError
from nodes.model_server import build_app
from nodes.predict_request import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_ROWS, PredictLimits

SETOSA = {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4, "petal width (cm)": 0.2}
LIMITS = PredictLimits(max_body_bytes=20_000, max_rows=50)


@pytest.fixture(scope="module")
def client(iris_model) -> TestClient:
    return TestClient(build_app(iris_model, None, "iris", LIMITS), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def rooms_client() -> TestClient:
    """A model whose one input column is a whole number, as a count of rooms is."""
    from sklearn.linear_model import LinearRegression

    regression = LinearRegression().fit([[1], [2], [3]], [10.0, 20.0, 30.0])
    model = Model(regression, "regression", ["rooms"], "price", algorithm="linear", input_schema={"rooms": "integer"})
    return TestClient(build_app(model, None, "rooms", LIMITS), raise_server_exceptions=False)


def _post_raw(client: TestClient, text: str) -> httpx.Response:
    return client.post("/predict", content=text.encode(), headers={"content-type": "application/json"})


def test_body_over_the_limit_is_413_with_a_readable_message(client):
    rows = [SETOSA] * 400  # about 40 kB, over the 20 kB limit
    response = client.post("/predict", json={"rows": rows})
    assert response.status_code == 413
    assert "limit" in response.json()["detail"] and "fewer rows" in response.json()["detail"]


def test_chunked_body_without_a_length_is_counted_and_refused(client):
    def chunks():
        for _ in range(100):
            yield b" " * 1000  # 100 kB of whitespace, never a Content-Length

    response = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_a_body_within_the_limit_sent_in_chunks_is_answered(client):
    body = json.dumps({"rows": [SETOSA]}).encode()
    response = client.post("/predict", content=iter([body[:10], body[10:]]), headers={"content-type": "application/json"})
    assert response.status_code == 200 and response.json()["predictions"] == ["setosa"]


def test_more_rows_than_the_limit_is_413_naming_the_limit(client):
    response = client.post("/predict", json={"rows": [SETOSA] * 51})
    assert response.status_code == 413
    assert "51 rows" in response.json()["detail"] and "at most 50" in response.json()["detail"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_422_naming_the_column(client, literal):
    text = json.dumps({"rows": [SETOSA]}).replace("5.1", literal)
    response = _post_raw(client, text)
    assert response.status_code == 422
    assert "sepal length (cm)" in response.json()["detail"] and "finite" in response.json()["detail"]


@pytest.mark.parametrize("digits", [40, 400, 5000])
def test_huge_integers_are_422_naming_the_column_not_500(client, digits):
    text = json.dumps({"rows": [SETOSA]}).replace("5.1", "9" * digits)
    response = _post_raw(client, text)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "sepal length (cm)" in detail and len(detail) < 400


def test_numbers_as_large_as_real_data_gets_are_predicted(client):
    response = client.post("/predict", json={"rows": [{**SETOSA, "sepal width (cm)": 1e30}]})
    assert response.status_code == 200


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 1e300])
def test_whole_numbers_out_of_the_int64_range_are_422(rooms_client, value):
    response = rooms_client.post("/predict", json={"rows": [{"rooms": value}]})
    assert response.status_code == 422, response.text
    assert "'rooms'" in response.json()["detail"] and "between" in response.json()["detail"]


def test_whole_numbers_in_range_are_predicted(rooms_client):
    response = rooms_client.post("/predict", json={"rows": [{"rooms": 2}, {"rooms": 4.0}]})
    assert response.status_code == 200
    assert response.json()["predictions"] == pytest.approx([20.0, 40.0])


def test_a_huge_bad_value_is_not_echoed_back(iris_model):
    client = TestClient(build_app(iris_model, None, "iris", PredictLimits(max_body_bytes=DEFAULT_MAX_BODY_BYTES)))
    huge = "x" * 1_000_000
    response = client.post("/predict", json={"rows": [{**SETOSA, "sepal length (cm)": huge}]})
    assert response.status_code == 422
    assert "sepal length (cm)" in response.json()["detail"]
    assert len(response.content) < 1000


def test_many_bad_rows_give_a_short_reply(iris_model):
    client = TestClient(build_app(iris_model, None, "iris", PredictLimits(max_body_bytes=DEFAULT_MAX_BODY_BYTES)))
    rows = [{"sepal length (cm)": "long"}] * 5000
    response = client.post("/predict", json={"rows": rows})
    assert response.status_code == 422
    assert "row 0" in response.json()["detail"] and "and more" in response.json()["detail"]
    assert len(response.content) < 3000


@pytest.mark.parametrize("text", ["{not json", '{"rows": [', "[" * 100_000 + "]" * 100_000, '"just text"', "[1, 2]"])
def test_malformed_bodies_are_small_422s(iris_model, text):
    client = TestClient(build_app(iris_model, None, "iris", PredictLimits(max_body_bytes=DEFAULT_MAX_BODY_BYTES)),
                        raise_server_exceptions=False)
    response = _post_raw(client, text)
    assert response.status_code == 422, response.text[:300]
    assert len(response.content) < 1000


@pytest.mark.parametrize("rows", [[1, 2], [SETOSA, "x"], [[1]]])
def test_rows_that_are_not_objects_are_422(client, rows):
    response = client.post("/predict", json={"rows": rows})
    assert response.status_code == 422 and "object" in response.json()["detail"]


def test_limits_come_from_the_environment_with_stated_defaults():
    assert PredictLimits.from_environment({}) == PredictLimits(DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_ROWS)
    env = {"PIPECANVAS_PREDICT_MAX_BYTES": "1000", "PIPECANVAS_PREDICT_MAX_ROWS": "7"}
    assert PredictLimits.from_environment(env) == PredictLimits(1000, 7)
    with pytest.raises(PipecanvasError, match="PIPECANVAS_PREDICT_MAX_ROWS must be a whole number"):
        PredictLimits.from_environment({"PIPECANVAS_PREDICT_MAX_ROWS": "lots"})


def test_schema_states_the_limits(client):
    assert client.get("/schema").json()["limits"] == {"max_body_bytes": 20_000, "max_rows": 50}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_real_server_refuses_a_large_chunked_body_and_keeps_answering(iris_model, tmp_path: Path):
    """uvicorn on 127.0.0.1: a chunked upload past the limit gets the 413, and the next request is served."""
    model_uri = str(tmp_path / "model.skops")
    write_artifact(ArtifactKind.MODEL, iris_model, model_uri)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "nodes.model_server", "--model", model_uri, "--name", "iris", "--port", str(port),
         "--max-body-bytes", "5000", "--max-rows", "3"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)

        def chunks():
            for _ in range(50):
                yield b" " * 1000

        response = httpx.post(f"{url}/predict", content=chunks(), headers={"content-type": "application/json"},
                              timeout=10)
        assert response.status_code == 413 and "limit" in response.json()["detail"]
        too_many = httpx.post(f"{url}/predict", json={"rows": [SETOSA] * 4}, timeout=10)
        assert too_many.status_code == 413 and "at most 3" in too_many.json()["detail"]
        answered = httpx.post(f"{url}/predict", json={"rows": [SETOSA]}, timeout=10)
        assert answered.status_code == 200 and answered.json()["predictions"] == ["setosa"]
    finally:
        server.kill()
        server.wait()
