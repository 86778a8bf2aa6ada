"""Headers every answer carries (issue 27, point 6): `X-Content-Type-Options: nosniff` on all
of them, and `Cache-Control: no-store` on every API answer (problem+json, the GDPR export, a
streamed export, a replayed command), so no browser guesses a type and no shared cache keeps
anybody's data. Answers that choose their own caching keep it: signed image links and the
static assets of /docs."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.media_scenarios import as_file, picture
from tests.e2e.shop import Shop


def assert_private(response: httpx.Response) -> None:
    assert response.headers.get("x-content-type-options") == "nosniff", response.url
    assert response.headers.get("cache-control") == "no-store", response.url


class HeaderScenarios(Shop):
    def test_every_api_answer_is_nosniff_and_no_store(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Headers", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        product = self.product(api, seller)
        finance = self.platform_user(api, root, "finance_admin")

        answers: list[httpx.Response] = [
            api.get(f"/v1/products/{product}", token=buyer),
            api.get("/v1/products", token=buyer),
            api.get("/v1/me/export", token=buyer),  # the GDPR export
            api.get("/openapi.json"),
            api.get("/healthz"),
            api.post("/v1/carts", token=buyer),
        ]
        problems: list[tuple[httpx.Response, int]] = [
            (api.get(f"/v1/products/{uuid4()}", token=buyer), 404),
            (api.get("/v1/products"), 401),
            (api.post("/v1/products", token=buyer, json={}), 403),
            (api.post("/v1/products", token=seller, json={"title": 5}), 422),
            (api.post("/v1/products", token=seller, content=b"{not json"), 400),
            (api.post("/v1/products", token=seller, json={"title": "a\x00b"}), 422),  # control
            (api.post("/v1/products", token=seller, content=b"x" * (2 * 1024 * 1024)), 413),
        ]
        for response, status in problems:
            assert_problem(response, status)
            answers.append(response)
        for response in answers:
            assert_private(response)

        # A command sent twice: the replay carries them too, and the first answer was kept for
        # it (no-store on the way out does not make the idempotency store forget it).
        key = f"hdr-{uuid4()}"
        first = api.post("/v1/carts", token=buyer, key=key)
        again = api.post("/v1/carts", token=buyer, key=key)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert_private(first)
        assert_private(again)

        # A streamed export arrives whole, with them.
        today = datetime.now(UTC).date().isoformat()
        span = {"tenant_id": m.tenant_id, "from": today, "to": today}
        streamed = api.get("/v1/ledger/journal", token=finance, params={**span, "format": "csv"})
        assert streamed.status_code == 200, streamed.text
        header = next(csv.reader(io.StringIO(streamed.text)))
        assert header[0] == "record" and streamed.text.count("\n") >= 1
        assert_private(streamed)

    def test_what_chooses_its_own_caching_keeps_it_and_is_nosniff(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Cached", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        product = self.product(api, seller)
        path = f"/v1/products/{product}/images"
        image: dict[str, Any] = api.post(path, token=seller, files=as_file(picture(40, 30))).json()
        served = api.http.get(image["url"])
        assert served.status_code == 200
        assert served.headers["cache-control"].startswith("public")
        assert served.headers["x-content-type-options"] == "nosniff"

        docs = api.http.get("/docs")
        assert docs.status_code == 200
        assert_private(docs)
        script = api.http.get("/static-offline-docs/swagger-ui-bundle.js")
        assert script.status_code == 200
        assert script.headers["x-content-type-options"] == "nosniff"
        assert "no-store" not in script.headers.get("cache-control", "")
