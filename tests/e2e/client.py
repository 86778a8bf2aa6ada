"""The one small client the end-to-end tests speak HTTP through. It remembers the position of the
last command it sent and asks every query to read at least that far (read-your-writes)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from api.problems import problem_type


class Api:
    def __init__(self, http: TestClient) -> None:
        self.http = http
        self.position = 0

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if key:
            sent["Idempotency-Key"] = key
        if method == "GET" and self.position and "X-Velora-Min-Position" not in sent:
            sent["X-Velora-Min-Position"] = str(self.position)
        if content is not None:
            sent.setdefault("Content-Type", "application/json")
        response = self.http.request(
            method, path, json=json, content=content, headers=sent, params=params, files=files
        )
        if "X-Velora-Position" in response.headers:
            self.position = max(self.position, int(response.headers["X-Velora-Position"]))
        return response

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def sign_in(self, email: str, password: str, tenant_id: str | None = None) -> str:
        body: dict[str, Any] = {"email": email, "password": password}
        if tenant_id:
            body["tenant_id"] = tenant_id
        # As API.md has a client sign in: no position header, right after the sign-up or all.
        response = self.http.post("/v1/auth/token", json=body)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def created(self, response: httpx.Response) -> str:
        assert response.status_code == 201, response.text
        return str(response.json()["id"])


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    # Its type names its kind (docs/problems.md), not merely its status.
    assert body["type"] == problem_type(body["title"]), body
    if status == 422:
        assert body["errors"] and all({"loc", "msg"} <= e.keys() for e in body["errors"])
    return body
