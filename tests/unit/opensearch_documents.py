"""Product documents for the OpenSearch engine's tests: a teapot without variants, and a tee
with them."""

from __future__ import annotations

from typing import Any

from projections.search.port import ProductDocument

T = "11111111-1111-1111-1111-111111111111"
S = "22222222-2222-2222-2222-222222222222"
P = "33333333-3333-3333-3333-333333333333"


def document(**overrides: Any) -> ProductDocument:
    values: dict[str, Any] = {
        "product_id": P,
        "tenant_id": T,
        "seller_id": S,
        "title": "Teapot",
        "description": "Cast iron",
        "category": "Kitchen",
        "price_minor": 2599,
        "currency": "USD",
        "available": 3,
        "rating_avg": 4.5,
        "rating_count": 2,
        "created_position": 7,
        "version": 9,
    }
    values.update(overrides)
    return ProductDocument(**values)


def tee(**overrides: Any) -> ProductDocument:
    """A product with variants: M in red at 25.99, L in red and in blue at 29.99."""
    m_red, l_red = (("Size", "M"), ("Colour", "Red")), (("Size", "L"), ("Colour", "Red"))
    l_blue = (("Size", "L"), ("Colour", "Blue"))
    return document(
        prices=(2599, 2999, 2999),
        options=(("Size", "M"), ("Colour", "Red"), ("Size", "L"), ("Colour", "Blue")),
        variant_options=(m_red, l_red, l_blue),
        **overrides,
    )
