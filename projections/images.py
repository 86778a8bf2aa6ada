"""The images a read model row shows (a product's, a master product's), as its image events
change them: each `{image_id, content_type, width, height, keys}`, in the order buyers see."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID


class ImageAdded(Protocol):
    image_id: UUID
    content_type: str
    width: int
    height: int
    keys: dict[str, str]


def with_image(images: Sequence[dict[str, Any]], e: ImageAdded) -> list[dict[str, Any]]:
    image = {"image_id": str(e.image_id), "content_type": e.content_type, "width": e.width}
    return [*images, {**image, "height": e.height, "keys": dict(e.keys)}]


def without_image(images: Sequence[dict[str, Any]], image_id: UUID) -> list[dict[str, Any]]:
    return [i for i in images if i["image_id"] != str(image_id)]


def reordered(images: Sequence[dict[str, Any]], image_ids: Sequence[UUID]) -> list[dict[str, Any]]:
    by_id = {i["image_id"]: i for i in images}
    return [by_id[str(i)] for i in image_ids]
