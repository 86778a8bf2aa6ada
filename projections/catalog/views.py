"""Seller and product rows shaped as API.md answers them."""

from __future__ import annotations

from typing import Any

from domain.money import money_json
from projections.store import zoned

SELLER_FIELDS = (
    "seller_id",
    "tenant_id",
    "user_id",
    "display_name",
    "country",
    "status",
    "commission_bps",
    "payout_account",
    "created_at",
)


def zoned_fields(row: dict[str, Any], *fields: str) -> dict[str, Any]:
    for f in fields:
        if row.get(f) is not None:
            row[f] = zoned(row[f])
    return row


def seller_view(row: Any) -> dict[str, Any]:
    """A seller row as the API shows it, with the plan it is on (null: none)."""
    shown = zoned_fields({f: row[f] for f in SELLER_FIELDS}, "created_at")
    plan = (
        {"id": row["plan_id"], "name": row["plan_name"], "since": zoned(row["plan_since"])}
        if row["plan_id"]
        else None
    )
    return shown | {"plan": plan}


def plan_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["plan_id"],
        "tenant_id": row["tenant_id"],
        "name": row["name"],
        "monthly_fee": money_json(row["monthly_fee"], row["currency"]),
        "product_limit": row["product_limit"],
        "commission_discount_bps": row["commission_discount_bps"],
        "subscribers": row["subscribers"],
        "created_at": zoned(row["created_at"]),
    }


def rating_view(row: Any | None) -> dict[str, Any]:
    """A seller's rating: average, count and how many reviews gave each star."""
    if row is None or not row.rating_count:
        return {"average": None, "count": 0, "distribution": {str(n): 0 for n in range(1, 6)}}
    return {
        "average": round(row.rating_sum / row.rating_count, 2),
        "count": row.rating_count,
        "distribution": {str(n): getattr(row, f"stars_{n}") for n in range(1, 6)},
    }


def revision_view(row: dict[str, Any]) -> dict[str, Any] | None:
    """A product's revision waiting for moderation (or last rejected), for its seller and
    moderators; None when there is none."""
    if row.get("revision_status") is None:
        return None
    return {
        "status": row["revision_status"],
        "title": row["revision_title"],
        "description": row["revision_description"],
        "category": row["revision_category"],
        "reason": row["revision_reason"],
    }


def variant_view(row: Any, sellable: bool) -> dict[str, Any]:
    """One variant as the API shows it (a product without variants: itself, under its id)."""
    left = max(0, row.on_hand - row.held - row.sold)
    return {
        "id": row.variant_id,
        "sku": row.sku,
        "options": dict(row.options or {}),
        "price": money_json(row.price_amount, row.currency),
        "available": left if sellable else 0,
    }


def product_view(row: dict[str, Any], variants: list[Any] | None = None) -> dict[str, Any]:
    """A product as the API shows it: the approved version, with its revision (which the API
    shows its seller and moderators only), its options and its variants on sale (`variants`:
    their rows, in the order they were added). Its price is the lowest of theirs and what is
    available the sum."""
    sellable = row["seller_status"] == "approved"  # a suspended seller's cannot be bought
    available = row["available"] if sellable else 0
    count = row["rating_count"]
    return zoned_fields(
        {
            "id": row["product_id"],
            "tenant_id": row["tenant_id"],
            "seller_id": row["seller_id"],
            "sku": row["sku"],
            "title": row["title"],
            "description": row["description"],
            "category": row["category"],
            "price": money_json(row["price_amount"], row["currency"]),
            "attributes": row["attributes"],
            # Blob keys: the API signs a URL for each when it answers.
            "images": row.get("images") or [],
            "featured_until": row.get("featured_until"),
            "status": row["status"],
            "revision": revision_view(row),
            "seller_status": row["seller_status"],
            "available": available,
            "options": list(row.get("options") or []),
            "variants": [variant_view(v, sellable) for v in variants or []],
            "rating": {
                "average": round(row["rating_sum"] / count, 2) if count else None,
                "count": count,
            },
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        },
        "created_at",
        "updated_at",
        "featured_until",
    )


def rate_view(row: Any) -> dict[str, Any]:
    """A seller's shipping rate as the API shows it."""
    currency, free_over = row["currency"], row["free_over_amount"]
    return {
        "id": row["rate_id"],
        "seller_id": row["seller_id"],
        "name": row["name"],
        "countries": list(row["countries"]),
        "price": money_json(row["price_amount"], currency),
        "free_over": None if free_over is None else money_json(free_over, currency),
        "min_days": row["min_days"],
        "max_days": row["max_days"],
    }
