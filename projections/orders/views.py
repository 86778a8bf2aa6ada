"""Read-model rows of orders and seller orders shaped as API.md answers them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.discounts import Discount
from domain.money import money_json
from domain.order_lines import OrderLine
from projections.store import zoned


def seller_order_view(row: dict[str, Any]) -> dict[str, Any]:
    currency = row["currency"]
    return {
        "id": row["seller_order_id"],
        "order_id": row["order_id"],
        "tenant_id": row["tenant_id"],
        "buyer_id": row["buyer_id"],
        "seller_id": row["seller_id"],
        "status": row["status"],
        "escrow_status": row["escrow_status"],
        "subtotal": money_json(row["subtotal_amount"], currency),
        "shipping": money_json(row["shipping_amount"], currency),
        "shipping_rate": row["shipping_rate"],
        "tax": money_json(row["tax_amount"], currency),
        "discount": money_json(row["discount_amount"], currency),
        "commission": money_json(row["commission_amount"], currency),
        "seller_net": money_json(row["seller_net_amount"], currency),
        "lines": [
            {
                "product_id": str(line.product_id),
                "variant_id": str(line.variant_id),
                "sku": line.sku,
                "options": dict(line.options),
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": money_json(line.unit_price_minor, currency),
                "line_total": money_json(line.line_total_minor, currency),
                "tax": money_json(line.tax_minor, currency),
                "discount": money_json(line.discount_minor, currency),
                "tax_rate_bps": line.tax_rate_bps,
                "commission_bps": line.commission_bps,
            }
            for line in map(OrderLine.from_record, row["lines"])
        ],
        "refunded": money_json(row["refunded_amount"], currency),
        "dispute_status": row["dispute_status"],
        "dispute": (
            None
            if row["dispute_status"] == "none"
            else {
                "amount": money_json(row["dispute_share_amount"], currency),
                "lost": money_json(row["dispute_lost_amount"], currency),
                "fees": money_json(row["dispute_fee_amount"], currency),
            }
        ),
        "carrier": row["carrier"],
        "tracking_number": row["tracking_number"],
        "delivered_at": zoned(row["delivered_at"]) if row["delivered_at"] else None,
        "escrow_release_due_at": (
            zoned(row["escrow_release_due_at"]) if row["escrow_release_due_at"] else None
        ),
        "created_at": zoned(row["created_at"]),
        "updated_at": zoned(row["updated_at"]),
    }


def plan_fee_line(row: dict[str, Any]) -> dict[str, Any]:
    """A plan's fee charged (subscribed, changed, renewed) or credited back (changed,
    cancelled) as a line of the earnings statement: its net is what was credited less what was
    charged, and it touches no seller order."""
    currency, zero = row["currency"], money_json(0, row["currency"])
    return {
        "kind": "plan_fee",
        "seller_order_id": None,
        "order_id": None,
        "status": row["kind"],
        "escrow_status": "none",
        "gross": zero,
        "commission": zero,
        "refunds": zero,
        "disputes": zero,
        "dispute_fees": zero,
        "dispute_status": "none",
        "net": money_json(row["credited"] - row["charged"], currency),
        "paid_out": zero,
        "release_due_at": None,
        "released_at": None,
        "created_at": zoned(row["charged_at"]),
        "plan": {
            "id": row["plan_id"],
            "name": row["plan_name"],
            "period": row["period"],
            "charged": money_json(row["charged"], currency),
            "credited": money_json(row["credited"], currency),
        },
    }


def earnings_line(row: dict[str, Any]) -> dict[str, Any]:
    """Gross (items and shipping), commission (after reversals), refunds, what lost disputes
    took and the fees the seller bore for them, and net of one seller order; gross minus all the
    others is exactly net."""
    currency = row["currency"]
    gross = row["subtotal_amount"] + row["shipping_amount"]
    # The seller's parts of what went back: without the tax, which was never the seller's, and
    # with what the platform had funded of it.
    refunds = row["refunded_amount"] - row["refunded_tax_amount"] + row["refunded_platform_amount"]
    disputes = (
        row["dispute_lost_amount"]
        - row["dispute_lost_tax_amount"]
        + row["dispute_lost_platform_amount"]
    )
    fees = row["dispute_fee_amount"]
    commission = row["commission_amount"] - row["commission_reversed_amount"]
    return {
        "kind": "seller_order",
        "seller_order_id": row["seller_order_id"],
        "order_id": row["order_id"],
        "status": row["status"],
        "escrow_status": row["escrow_status"],
        "gross": money_json(gross, currency),
        "commission": money_json(commission, currency),
        "refunds": money_json(refunds, currency),
        "disputes": money_json(disputes, currency),
        "dispute_fees": money_json(fees, currency),
        "dispute_status": row["dispute_status"],
        "net": money_json(gross - refunds - disputes - fees - commission, currency),
        "paid_out": money_json(row["paid_out_amount"], currency),
        "release_due_at": (
            zoned(row["escrow_release_due_at"]) if row["escrow_release_due_at"] else None
        ),
        "released_at": zoned(row["released_at"]) if row["released_at"] else None,
        "created_at": zoned(row["created_at"]),
        "plan": None,
    }


def return_view(row: dict[str, Any]) -> dict[str, Any]:
    currency = row["currency"]
    return {
        "id": row["return_id"],
        "tenant_id": row["tenant_id"],
        "seller_order_id": row["seller_order_id"],
        "order_id": row["order_id"],
        "buyer_id": row["buyer_id"],
        "seller_id": row["seller_id"],
        "status": row["status"],
        "lines": [_with_variant(line) for line in row["lines"]],
        "reason": row["reason"],
        "instructions": row["instructions"],
        "rejection_reason": row["rejection_reason"],
        "carrier": row["carrier"],
        "tracking_number": row["tracking_number"],
        "received_lines": (
            None
            if row["received_lines"] is None
            else [_with_variant(line) for line in row["received_lines"]]
        ),
        "refund_id": row["refund_id"],
        "refunded": money_json(row["refund_amount"], currency),
        "created_at": zoned(row["created_at"]),
        "updated_at": zoned(row["updated_at"]),
    }


def _with_variant(line: dict[str, Any]) -> dict[str, Any]:
    """A return's line with its variant: one recorded before variants named the product,
    which was its own one variant."""
    return {**line, "variant_id": line.get("variant_id") or line["product_id"]}


def discounts_view(discounts: Iterable[Discount], currency: str | None) -> list[dict[str, Any]]:
    """What each promotion takes off a cart, in the cart's currency (none for an empty cart)."""
    if not currency:
        return []
    return [
        {
            "promotion_id": str(d.promotion_id),
            "code": d.code or None,
            "amount": money_json(d.amount_minor, currency),
        }
        for d in discounts
    ]
