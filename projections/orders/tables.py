"""The tables of orders and carts: the orders projector writes orders, seller orders, refunds
and returns; the carts projector carts and `cart_sellers` (projections/orders/projector.py)."""

from __future__ import annotations

import sqlalchemy as sa

from projections.schema import MONEY, Id, Timestamp, metadata

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("buyer_id", Id, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("total_amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("shipping_address", sa.JSON, nullable=False),
    sa.Column("payment_provider", sa.String(20), nullable=True),
    sa.Column("payment_intent_id", sa.String(100), nullable=True),
    sa.Column("expires_at", Timestamp, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    # Paid back through the provider (a cancelled order, a payment that came too late).
    sa.Column("returned_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column("needs_review", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("review_reason", sa.String(500), nullable=True),
    sa.Column("dispute_status", sa.String(8), nullable=False, server_default="none"),
    # Of `total_amount`: what its seller orders' shipping came to.
    sa.Column("shipping_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    # Of `total_amount`: what its seller orders' tax came to (domain/tax.py).
    sa.Column("tax_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    # What promotions took off it (domain/promotions.py).
    sa.Column("discount_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    # A guest's order: the email it was placed with (personal data), whose account, once it
    # verifies the email, the order joins (its `buyer_id` becomes the account's).
    sa.Column("guest_email", sa.String(254), nullable=True),
    sa.Index("ix_orders_buyer", "tenant_id", "buyer_id", "created_position"),
    sa.Index("ix_orders_guest_email", "tenant_id", "guest_email"),
    # The journal finds the order a late payment's intent belongs to.
    sa.Index("ix_orders_intent", "payment_intent_id"),
    sa.Index("ix_orders_status_expiry", "status", "expires_at"),
)

seller_orders = sa.Table(
    "seller_orders",
    metadata,
    sa.Column("seller_order_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("order_id", Id, nullable=False),
    sa.Column("buyer_id", Id, nullable=False),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("escrow_status", sa.String(20), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("subtotal_amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("commission_amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("seller_net_amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("lines", sa.JSON, nullable=False),
    sa.Column("carrier", sa.String(100), nullable=True),
    sa.Column("tracking_number", sa.String(100), nullable=True),
    sa.Column("delivered_at", Timestamp, nullable=True),
    sa.Column("escrow_release_due_at", Timestamp, nullable=True),
    sa.Column("refunded_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Column(
        "commission_reversed_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY
    ),
    sa.Column("paid_out_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    # Released to the seller and not yet taken by a payout: where payout runs look.
    sa.Column("payout_remaining", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column("released_at", Timestamp, nullable=True),
    # The latest dispute of the charge: its status, this seller order's share of it, and the
    # commission's part of that share; then what lost disputes took and the fees borne.
    sa.Column("dispute_status", sa.String(8), nullable=False, server_default="none"),
    sa.Column(
        "dispute_share_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY
    ),
    sa.Column(
        "dispute_share_commission_amount",
        sa.BigInteger,
        nullable=False,
        server_default="0",
        info=MONEY,
    ),
    sa.Column("dispute_lost_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column("dispute_fee_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    # What the buyer paid to ship it (escrowed for the seller with the items), and the rate
    # chosen: {rate_id, name, min_days, max_days} (null: the seller ships free, without rates).
    sa.Column("shipping_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column("shipping_rate", sa.JSON, nullable=True),
    # Its tax, the marketplace's (never escrowed): what the buyer paid, what refunds and the
    # cancellation gave back, the latest dispute's share of it, and what lost disputes took.
    sa.Column("tax_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column("refunded_tax_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column(
        "dispute_share_tax_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY
    ),
    sa.Column(
        "dispute_lost_tax_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY
    ),
    # What promotions took off it as the buyer sees it; what the platform funds of its goods
    # and shipping, what refunds and the cancellation gave back of that, the latest dispute's
    # share of it, and what lost disputes took of it.
    sa.Column("discount_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column(
        "platform_funding_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY
    ),
    sa.Column(
        "refunded_platform_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY
    ),
    sa.Column(
        "dispute_share_platform_amount",
        sa.BigInteger,
        nullable=False,
        server_default="0",
        info=MONEY,
    ),
    sa.Column(
        "dispute_lost_platform_amount",
        sa.BigInteger,
        nullable=False,
        server_default="0",
        info=MONEY,
    ),
    sa.Index("ix_seller_orders_order", "order_id"),
    sa.Index("ix_seller_orders_seller", "tenant_id", "seller_id", "created_position"),
    sa.Index(
        "ix_seller_orders_payout", "tenant_id", "seller_id", "payout_remaining", "created_position"
    ),
)

refunds = sa.Table(
    "refunds",
    metadata,
    sa.Column("refund_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("seller_order_id", Id, nullable=False),
    sa.Column("order_id", Id, nullable=False),
    sa.Column("buyer_id", Id, nullable=False),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("commission_reversed", sa.BigInteger, nullable=True, info=MONEY),
    sa.Column("from_escrow", sa.Boolean, nullable=True),
    sa.Column("provider_refund_id", sa.String(100), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_refunds_seller_order", "seller_order_id"),
)

returns = sa.Table(
    "returns",
    metadata,
    sa.Column("return_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("seller_order_id", Id, nullable=False),
    sa.Column("order_id", Id, nullable=False),
    sa.Column("buyer_id", Id, nullable=False),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("lines", sa.JSON, nullable=False),  # [{product_id, quantity}]
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("instructions", sa.Text, nullable=True),
    sa.Column("rejection_reason", sa.Text, nullable=True),
    sa.Column("carrier", sa.String(100), nullable=True),
    sa.Column("tracking_number", sa.String(100), nullable=True),
    sa.Column(
        "received_lines", sa.JSON, nullable=True
    ),  # [{product_id, quantity, restock_warehouse}]
    sa.Column("refund_id", Id, nullable=True),
    sa.Column("refund_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_returns_buyer", "tenant_id", "buyer_id", "created_position"),
    sa.Index("ix_returns_seller", "tenant_id", "seller_id", "created_position"),
    sa.Index("ix_returns_status", "tenant_id", "status", "created_position"),
)

carts = sa.Table(
    "carts",
    metadata,
    sa.Column("cart_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("buyer_id", Id, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("order_id", Id, nullable=True),
    sa.Column("lines", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    # The promotion codes applied, in order (domain/promotions.py); null: none.
    sa.Column("codes", sa.JSON, nullable=True),
)

# Each seller once per cart that held its products (on the day the first went in): the
# denominator of its cart-to-order conversion.
cart_sellers = sa.Table(
    "cart_sellers",
    metadata,
    sa.Column("cart_id", Id, primary_key=True),
    sa.Column("seller_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Index("ix_cart_sellers_day", "tenant_id", "seller_id", "day"),
)
