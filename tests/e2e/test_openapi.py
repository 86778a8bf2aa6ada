"""The OpenAPI document a client generator reads (issue 31): valid OpenAPI 3.1, with how each
operation is authorised, every error as the problem+json the server really sends, the headers
API.md names, stable operationIds, and /redoc served offline beside /docs."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from api.app import create_app
from tests.conftest import built, make_settings

PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    container = built(make_settings(Path(tempfile.mkdtemp(prefix="velora-openapi-"))))
    with TestClient(create_app(container)) as http:
        yield http
    container.close()


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict[str, Any]:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_it_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)
    assert len(list(operations(spec))) > 100


def test_every_error_is_described_as_the_problem_json_the_server_sends(
    spec: dict[str, Any], client: TestClient
) -> None:
    assert "HTTPValidationError" not in json.dumps(spec)
    for path, method, operation in operations(spec):
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        assert "429" in errors and "503" in errors, (path, method)
        for status, response in errors.items():
            assert response["content"] == {"application/problem+json": {"schema": PROBLEM}}, (
                path,
                method,
                status,
            )
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    # And the server does send it: a 422 with `errors`, a 404, as described.
    refused = client.post("/v1/auth/token", json={"email": 5})
    assert refused.headers["content-type"] == "application/problem+json"
    assert set(problem["properties"]) >= set(refused.json())


def test_each_operation_says_how_it_is_authorised(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert set(schemes) == {"bearer", "publishableKey", "cartToken", "orderToken"}
    security = {(p, m): o["security"] for p, m, o in operations(spec)}
    assert security[("/v1/auth/token", "post")] == [{}]  # anyone
    assert security[("/v1/ledger/trial-balance", "get")] == [{"bearer": []}]
    # The public catalog: a token, or a storefront's publishable key.
    assert security[("/v1/products/{product_id}", "get")] == [
        {"bearer": []},
        {"publishableKey": []},
    ]
    # A guest reads its order with its order token beside its key.
    assert {"orderToken": [], "publishableKey": []} in security[("/v1/orders/{order_id}", "get")]
    assert all(s for s in security.values())


def test_the_headers_api_md_names_are_described(spec: dict[str, Any]) -> None:
    for path, method, operation in operations(spec):
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        ok = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        if method == "post":
            assert "Idempotency-Key" in names, path
            assert all("Idempotent-Replayed" in r["headers"] for r in ok.values()), path
        if method in ("post", "put", "patch", "delete"):
            assert all("X-Velora-Position" in r["headers"] for r in ok.values()), (path, method)
    orders = spec["paths"]["/v1/orders/{order_id}"]["get"]
    assert "X-Velora-Min-Position" in {p["name"] for p in orders["parameters"]}


def test_operation_ids_are_the_routes_own_names(spec: dict[str, Any]) -> None:
    ids = [o["operationId"] for _, _, o in operations(spec)]
    assert len(ids) == len(set(ids))
    assert not [i for i in ids if "_v1_" in i or i.endswith(("_get", "_post"))]
    assert spec["paths"]["/v1/checkout"]["post"]["operationId"] == "checkout"
    assert not [name for name in spec["components"]["schemas"] if "__" in name]


def test_redoc_is_served_with_its_script_from_velora(client: TestClient) -> None:
    page = client.get("/redoc")
    assert page.status_code == 200 and "redoc" in page.text.lower()
    assert "/static-offline-docs/redoc.standalone.js" in page.text
    assert "cdn" not in page.text.lower()
    script = client.get("/static-offline-docs/redoc.standalone.js")
    assert script.status_code == 200 and len(script.content) > 100_000
