"""Product images (issue 18, point 2) over HTTP: sellers upload, reorder and delete them;
products and search results carry signed URLs that serve the cleaned bytes and nothing else.
Each backend set runs these same scenarios (files on the embedded default, S3 on servers)."""

from __future__ import annotations

import io
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

from PIL import Image

from api.bootstrap import Container
from domain.media import DERIVED_SIZES, MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, MAX_IMAGES_PER_PRODUCT
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop


def picture(width: int = 800, height: int = 600, kind: str = "PNG", **params: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, format=kind, **params)
    return out.getvalue()


def camera_photo(width: int, height: int) -> bytes:
    """A real JPEG of many megapixels in a file of a few hundred kilobytes (flat colour)."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, width // 2, height // 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def as_file(data: bytes, name: str = "photo.png", content_type: str = "image/png") -> Any:
    return {"file": (name, data, content_type)}


class MediaScenarios(Shop):
    def upload(self, api: Api, token: str, product: str, data: bytes, **kw: Any) -> Any:
        return api.post(f"/v1/products/{product}/images", token=token, files=as_file(data), **kw)

    def fetched(self, api: Api, url: str) -> Any:
        # An <img> tag sends no token: the signed URL alone must do.
        return api.http.get(url)

    def test_a_seller_shows_images_that_anyone_with_the_link_sees(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Pictures", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        product = self.stocked(api, seller, 3, 4_500, title="Blue kettle")

        exif = Image.Exif()
        exif[0x010F] = "SpyCam Inc."
        uploaded = self.upload(api, seller, product, picture(1600, 1200, "JPEG", exif=exif))
        assert uploaded.status_code == 201, uploaded.text
        first = uploaded.json()
        assert (first["width"], first["height"]) == (1600, 1200)
        assert set(first["sizes"]) == {"original", "large", "thumb"}

        served = self.fetched(api, first["url"])
        assert served.status_code == 200, served.text
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert b"SpyCam" not in served.content
        thumb = self.fetched(api, first["sizes"]["thumb"])
        with Image.open(io.BytesIO(thumb.content)) as image:
            assert max(image.size) == 320

        second = self.upload(api, seller, product, picture(400, 400)).json()
        shown = api.get(f"/v1/products/{product}", token=buyer).json()["images"]
        assert [i["id"] for i in shown] == [first["id"], second["id"]]
        assert self.fetched(api, shown[1]["url"]).headers["content-type"] == "image/png"

        # Search results carry them too, in the seller's order.
        reorder = {"image_ids": [second["id"], first["id"]]}
        path = f"/v1/products/{product}/images/order"
        assert api.request("PUT", path, token=seller, json=reorder).status_code == 200
        found = api.get("/v1/search/products", token=buyer, params={"q": "kettle"}).json()
        assert [i["id"] for i in found["items"][0]["images"]] == [second["id"], first["id"]]
        listed = api.get("/v1/products", token=buyer).json()["items"]
        assert [i["id"] for i in listed[0]["images"]] == [second["id"], first["id"]]

        # Deleted: gone from the product, and its link serves nothing any more.
        path = f"/v1/products/{product}/images/{first['id']}"
        assert api.request("DELETE", path, token=seller).status_code == 204
        shown = api.get(f"/v1/products/{product}", token=buyer).json()["images"]
        assert [i["id"] for i in shown] == [second["id"]]
        assert_problem(self.fetched(api, first["url"]), 404)
        assert_problem(api.request("DELETE", path, token=seller), 404)

    def test_only_real_images_within_the_limits_are_taken(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Strict", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        product = self.product(api, seller)
        head = container.log.head()
        # Judged by content: a name and a declared type prove nothing.
        fake = as_file(b"<?php system($_GET['c']); ?>", "photo.jpg", "image/jpeg")
        url = f"/v1/products/{product}/images"
        assert_problem(api.post(url, token=seller, files=fake), 415)
        gif = io.BytesIO()
        Image.new("RGB", (10, 10)).save(gif, format="GIF")
        assert_problem(self.upload(api, seller, product, gif.getvalue()), 415)
        too_big = b"\xff\xd8" + b"\0" * MAX_IMAGE_BYTES
        assert_problem(self.upload(api, seller, product, too_big), 413)
        way_too_big = b"\0" * (MAX_IMAGE_BYTES + 1024 * 1024)
        assert_problem(self.upload(api, seller, product, way_too_big), 413)
        assert_problem(api.post(url, token=seller, json={"file": "x"}), 422)
        assert_problem(api.post(url, token=seller, files={"other": ("a.png", picture())}), 422)
        assert container.log.head() == head
        assert api.get(f"/v1/products/{product}", token=seller).json()["images"] == []

        # A product shows at most ten; the eleventh is a conflict and changes nothing.
        small = picture(20, 20)
        for _ in range(MAX_IMAGES_PER_PRODUCT):
            assert self.upload(api, seller, product, small).status_code == 201
        assert_problem(self.upload(api, seller, product, small), 409)
        images = api.get(f"/v1/products/{product}", token=seller).json()["images"]
        assert len(images) == MAX_IMAGES_PER_PRODUCT

        # An order must name each image once.
        ids = [i["id"] for i in images]
        order = f"/v1/products/{product}/images/order"
        for bad in (ids[:-1], [*ids[:-1], ids[0]], [*ids[:-1], str(uuid4())]):
            assert_problem(api.request("PUT", order, token=seller, json={"image_ids": bad}), 422)

    def test_a_link_works_only_as_signed_and_until_it_expires(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Links", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        product = self.product(api, seller)
        image = self.upload(api, seller, product, picture(50, 50)).json()
        url = urlsplit(image["url"])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert self.fetched(api, image["url"]).status_code == 200

        other = image["sizes"]["thumb"].split("?")[0]
        forged = [
            f"{url.path}?expires={query['expires']}&signature={'0' * 64}",
            f"{other}?{url.query}",  # another file under this image's signature
            f"{url.path}?expires={int(query['expires']) + 60}&signature={query['signature']}",
            f"/v1/media/..%2F..%2Fsecret_key?{url.query}",
            f"/v1/media/{uuid4()}/../../secret_key?{url.query}",
        ]
        for link in forged:
            assert self.fetched(api, link).status_code in (403, 404), link
        assert_problem(self.fetched(api, url.path), 422)  # no signature at all

        expired = container.media_urls.url(
            url.path.removeprefix("/v1/media/"), now=time.time() - 3 * container.media_urls.ttl_s
        )
        assert_problem(self.fetched(api, expired), 403)

    def test_only_the_owning_seller_changes_images(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Owners", moderation="auto")
        elsewhere = self.marketplace(api, root, "Elsewhere", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        rival, _ = self.approved_seller(api, m)
        stranger, _ = self.approved_seller(api, elsewhere)
        buyer = self.user(api, m, "buyer")
        product = self.product(api, seller)
        image = self.upload(api, seller, product, picture(30, 30)).json()
        head = container.log.head()
        one = f"/v1/products/{product}/images/{image['id']}"
        order = f"/v1/products/{product}/images/order"
        for token in (rival, stranger):  # another seller's product, or another tenant's
            assert_problem(self.upload(api, token, product, picture(30, 30)), 404)
            assert_problem(api.request("DELETE", one, token=token), 404)
            body = {"image_ids": [image["id"]]}
            assert_problem(api.request("PUT", order, token=token, json=body), 404)
        for token in (buyer, m.admin_token):
            assert_problem(self.upload(api, token, product, picture(30, 30)), 403)
            assert_problem(api.request("DELETE", one, token=token), 403)
        assert_problem(api.post(f"/v1/products/{product}/images", files=as_file(picture())), 401)
        assert_problem(self.upload(api, seller, str(uuid4()), picture(30, 30)), 404)
        assert container.log.head() == head

    def test_a_repeated_upload_shows_one_image(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Once", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        product = self.product(api, seller)
        data, key = picture(60, 40), f"img-{uuid4()}"
        first = self.upload(api, seller, product, data, key=key)
        again = self.upload(api, seller, product, data, key=key)
        assert first.status_code == again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]
        assert len(api.get(f"/v1/products/{product}", token=seller).json()["images"]) == 1

    def test_an_image_bomb_is_refused_and_a_large_photo_is_kept_at_the_largest_size(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Bombs", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        product = self.product(api, seller)
        head = container.log.head()
        # Issue 27's bomb: 39.5 megapixels in under a megabyte, which took 783 MiB to take in.
        bomb = camera_photo(7680, 5144)
        assert len(bomb) < 1024 * 1024
        refused = self.upload(api, seller, product, bomb)
        assert_problem(refused, 413)
        assert "pixels" in refused.json()["detail"]
        assert container.log.head() == head
        assert api.get(f"/v1/products/{product}", token=seller).json()["images"] == []

        # A 24-megapixel camera's photo is taken, decoded at a fraction and kept fitted within
        # the largest size Velora keeps.
        kept = self.upload(api, seller, product, camera_photo(6000, 4000))
        assert kept.status_code == 201, kept.text
        image = kept.json()
        assert (image["width"], image["height"]) == (MAX_IMAGE_SIDE, 1707)
        with Image.open(io.BytesIO(self.fetched(api, image["url"]).content)) as original:
            assert original.size == (MAX_IMAGE_SIDE, 1707)
        for size, longest in DERIVED_SIZES.items():
            served = self.fetched(api, image["sizes"][size])
            with Image.open(io.BytesIO(served.content)) as smaller:
                assert max(smaller.size) == longest, size
