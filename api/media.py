"""Signed image URLs. An image is served only through a URL Velora made: the path names a key
Velora chose, and the query carries an expiry and an HMAC of both, so nobody can steer the path
to anything else or keep a link alive past its time. Expiries fall on fixed steps (a tenth of
the lifetime), so one image has one URL for a while and caches keep it."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote


class MediaUrls:
    PATH = "/v1/media/"

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._key = hashlib.sha256(f"velora:media-urls:{secret}".encode()).digest()
        self.ttl_s = ttl_s
        self.step_s = max(60, ttl_s // 10)

    def _signature(self, key: str, expires: int) -> str:
        return hmac.new(self._key, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def url(self, key: str, now: float | None = None) -> str:
        """A URL for the blob under `key`, valid for at least the configured lifetime."""
        now_s = int(time.time() if now is None else now)
        expires = now_s - now_s % self.step_s + self.step_s + self.ttl_s
        signature = self._signature(key, expires)
        return f"{self.PATH}{quote(key)}?expires={expires}&signature={signature}"

    def valid(self, key: str, expires: int, signature: str, now: float | None = None) -> bool:
        if expires < (time.time() if now is None else now):
            return False
        return hmac.compare_digest(self._signature(key, expires), signature)

    def images(self, images: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
        """A product's images as the API shows them, from their read-model form."""
        shown = []
        for image in images or ():
            keys = image["keys"]
            shown.append(
                {
                    "id": image["image_id"],
                    "url": self.url(keys["original"]),
                    "width": image["width"],
                    "height": image["height"],
                    "sizes": {size: self.url(key) for size, key in keys.items()},
                }
            )
        return shown
