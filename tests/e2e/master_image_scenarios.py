"""A Seller Pro master product's images (docs/api-seller-pro.md) as a business and buyers see
them: uploaded once on the master, shown by every listing (one published later too) under ids
of its own, reordered and deleted everywhere at once; the listings' own image routes are the
master's."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.e2e.client import Api, assert_problem
from tests.e2e.media_scenarios import as_file, picture
from tests.e2e.organisation_scenarios import MasterCatalogScenarios
from tests.e2e.quarantine_scenarios import until
from tests.e2e.shop import price
from tests.e2e.trust_scenarios import bearer


class MasterImageScenarios(MasterCatalogScenarios):
    def test_a_masters_images_show_on_every_listing(self, api: Api, root: str) -> None:
        pro, organisation, (acme, globex) = self.joined(api, root)
        base = f"/v1/organisations/{organisation}/products"
        body = {"title": "Desk lamp", "category": "lighting", "sku": "LAMP"}
        master = api.created(api.post(base, token=pro, json=body))
        images = f"{base}/{master}/images"

        def publish(m: Any, amount: int, currency: str) -> str:
            listing = {"tenant_id": m.tenant_id, "price": price(amount, currency)}
            published = api.post(f"{base}/{master}/listings", token=pro, json=listing)
            assert published.status_code == 201, published.text
            return str(published.json()["product_id"])

        def upload(data: bytes) -> dict[str, Any]:
            uploaded = api.post(images, token=pro, files=as_file(data))
            assert uploaded.status_code == 201, uploaded.text
            body: dict[str, Any] = uploaded.json()
            return body

        def listed(product: str, token: str) -> list[dict[str, Any]]:
            """A listing's images as a buyer's own storefront reads them: it never saw the
            business's writes, so it sends no position (API.md) and sees them once folded."""
            answer = api.http.get(f"/v1/products/{product}", headers=bearer(token))
            images: list[dict[str, Any]] = answer.json()["images"]
            return images

        def shown(product: str, token: str, expected: list[tuple[int, int]]) -> bool:
            def sizes() -> bool:
                return [(i["width"], i["height"]) for i in listed(product, token)] == expected

            return bool(until(sizes))

        acme_product = publish(acme, 4000, "USD")
        wide = upload(picture(800, 600))
        assert (wide["width"], wide["height"]) == (800, 600)
        acme_buyer = self.user(api, acme, "buyer")
        assert shown(acme_product, acme_buyer, [(800, 600)])
        at_acme = listed(acme_product, acme_buyer)
        # The listing's image is its own: another id, another link, the same picture.
        assert at_acme[0]["id"] != wide["id"]
        master_bytes = api.http.get(wide["url"])
        listing_bytes = api.http.get(at_acme[0]["url"])
        assert master_bytes.status_code == listing_bytes.status_code == 200
        assert listing_bytes.content == master_bytes.content

        # A second image, then a listing published later: it shows both, in the master's order.
        square = upload(picture(400, 400))
        globex_product = publish(globex, 3500, "EUR")
        approved = api.post(f"/v1/products/{globex_product}/approve", token=globex.admin_token)
        assert approved.status_code == 200, approved.text
        globex_buyer = self.user(api, globex, "buyer")
        assert shown(acme_product, acme_buyer, [(800, 600), (400, 400)])
        assert shown(globex_product, globex_buyer, [(800, 600), (400, 400)])
        at_globex = listed(globex_product, globex_buyer)
        assert {i["id"] for i in at_globex}.isdisjoint(
            {i["id"] for i in listed(acme_product, acme_buyer)}
        )
        assert api.http.get(at_globex[1]["url"]).content == api.http.get(square["url"]).content
        mine = api.get(f"{base}/{master}", token=pro).json()["images"]
        assert [i["id"] for i in mine] == [wide["id"], square["id"]]

        # Reordered on the master: reordered on every listing.
        order = {"image_ids": [square["id"], wide["id"]]}
        assert api.request("PUT", f"{images}/order", token=pro, json=order).status_code == 200
        assert shown(acme_product, acme_buyer, [(400, 400), (800, 600)])
        assert shown(globex_product, globex_buyer, [(400, 400), (800, 600)])
        bad = {"image_ids": [square["id"]]}
        assert_problem(api.request("PUT", f"{images}/order", token=pro, json=bad), 422)

        # In a marketplace, the listing's images are the master's to change.
        as_acme = self.marketplace_token(api, pro, organisation, acme.tenant_id)
        own = f"/v1/products/{acme_product}/images"
        on_listing = listed(acme_product, acme_buyer)
        assert_problem(api.post(own, token=as_acme, files=as_file(picture(50, 50))), 409)
        assert_problem(api.request("DELETE", f"{own}/{on_listing[0]['id']}", token=as_acme), 409)
        reorder = {"image_ids": [i["id"] for i in reversed(on_listing)]}
        assert_problem(api.request("PUT", f"{own}/order", token=as_acme, json=reorder), 409)
        assert shown(acme_product, acme_buyer, [(400, 400), (800, 600)])

        # Deleted on the master: gone everywhere, and no link serves its bytes any more.
        gone = api.request("DELETE", f"{images}/{wide['id']}", token=pro)
        assert gone.status_code == 204, gone.text
        assert shown(acme_product, acme_buyer, [(400, 400)])
        assert shown(globex_product, globex_buyer, [(400, 400)])
        assert_problem(api.http.get(wide["url"]), 404)
        assert_problem(api.http.get(on_listing[1]["url"]), 404)
        assert_problem(api.request("DELETE", f"{images}/{wide['id']}", token=pro), 404)
        assert [i["id"] for i in api.get(f"{base}/{master}", token=pro).json()["images"]] == [
            square["id"]
        ]

    def test_a_masters_images_are_its_organisations_alone(self, api: Api, root: str) -> None:
        pro, organisation, (acme, _) = self.joined(api, root)
        base = f"/v1/organisations/{organisation}/products"
        body = {"title": "Lamp", "category": "lighting", "sku": "L-1"}
        master = api.created(api.post(base, token=pro, json=body))
        image = api.post(f"{base}/{master}/images", token=pro, files=as_file(picture(60, 60)))
        assert image.status_code == 201, image.text
        image_id = image.json()["id"]
        rival = self.seller_pro(api)
        self.organisation(api, rival, "Rival")
        upload = as_file(picture(30, 30))
        order = {"image_ids": [image_id]}
        # Another business reaches none of it, exactly as an unknown organisation or master.
        for path in (
            f"/v1/organisations/{organisation}/products/{master}/images",
            f"/v1/organisations/{uuid4()}/products/{master}/images",
        ):
            assert_problem(api.post(path, token=rival, files=upload), 404)
            assert_problem(api.request("DELETE", f"{path}/{image_id}", token=rival), 404)
            assert_problem(api.request("PUT", f"{path}/order", token=rival, json=order), 404)
        unknown = f"{base}/{uuid4()}/images"
        assert_problem(api.post(unknown, token=pro, files=upload), 404)
        assert_problem(api.request("DELETE", f"{base}/{master}/images/{uuid4()}", token=pro), 404)
        # A marketplace's own people are not the organisation's.
        images = f"{base}/{master}/images"
        assert_problem(api.post(images, token=acme.admin_token, files=upload), 403)
        # Not an image: refused, and nothing changed.
        fake = as_file(b"<?php echo 1; ?>", "photo.png", "image/png")
        assert_problem(api.post(images, token=pro, files=fake), 415)
        assert [i["id"] for i in api.get(f"{base}/{master}", token=pro).json()["images"]] == [
            image_id
        ]
