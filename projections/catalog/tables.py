"""The tables of sellers and the catalog: the sellers projector writes `sellers`, `plans`,
`plan_charges` and `shipping_rates` (projections/catalog/sellers.py); the catalog projector the
products, their variants and stock, stock alerts, reviews and seller ratings
(projections/catalog/projector.py)."""

from __future__ import annotations

import sqlalchemy as sa

from projections.schema import MONEY, Id, Timestamp, metadata

sellers = sa.Table(
    "sellers",
    metadata,
    sa.Column("seller_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("commission_bps", sa.Integer, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Column("payout_account", sa.String(255), nullable=True),
    sa.Column("plan_id", Id, nullable=True),
    sa.Column("plan_name", sa.String(60), nullable=True),
    sa.Column("plan_since", Timestamp, nullable=True),
    sa.Column("plan_period", sa.String(7), nullable=True),  # the last month charged, YYYY-MM
    sa.Index("ix_sellers_tenant_position", "tenant_id", "created_position"),
    sa.Index("ix_sellers_plan", "plan_id"),
)

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("plan_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("name", sa.String(60), nullable=False),
    sa.Column("monthly_fee", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("product_limit", sa.Integer, nullable=True),
    sa.Column("commission_discount_bps", sa.Integer, nullable=False),
    sa.Column("subscribers", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_plans_tenant_position", "tenant_id", "created_position"),
)

# What sellers were charged for their plans, and credited back on a change or cancellation:
# lines of the earnings statement beside the seller orders.
plan_charges = sa.Table(
    "plan_charges",
    metadata,
    sa.Column("charge_id", Id, primary_key=True),  # the event's id: one line per event
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("plan_id", Id, nullable=False),
    sa.Column("plan_name", sa.String(60), nullable=False),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("charged", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("credited", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("charged_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_plan_charges_seller", "tenant_id", "seller_id", "created_position"),
)

# A seller's shipping rates: where it ships, for how much (free from `free_over_amount` of its
# subtotal), and how long it takes. A removed rate's row goes.
shipping_rates = sa.Table(
    "shipping_rates",
    metadata,
    sa.Column("rate_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("countries", sa.JSON, nullable=False),
    sa.Column("price_amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("free_over_amount", sa.BigInteger, nullable=True),
    sa.Column("min_days", sa.Integer, nullable=False),
    sa.Column("max_days", sa.Integer, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_shipping_rates_seller", "seller_id", "created_position"),
)

products = sa.Table(
    "products",
    metadata,
    sa.Column("product_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("category", sa.String(100), nullable=False),
    sa.Column("price_amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("attributes", sa.JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("seller_status", sa.String(16), nullable=False),
    sa.Column("commission_bps", sa.Integer, nullable=True),
    sa.Column("on_hand", sa.BigInteger, nullable=False),
    sa.Column("held", sa.BigInteger, nullable=False),
    sa.Column("sold", sa.BigInteger, nullable=False),
    sa.Column("rating_count", sa.Integer, nullable=False),
    sa.Column("rating_sum", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    # The position of the last event that changed the row: the search index's document version.
    sa.Column("updated_position", sa.BigInteger, nullable=False, server_default="0"),
    # Shown in this order: [{image_id, content_type, width, height, keys: {size: blob key}}].
    sa.Column("images", sa.JSON, nullable=True),
    # Featured by a marketplace admin until then (null: not featured).
    sa.Column("featured_until", Timestamp, nullable=True),
    # A moderated edit (a revision) waiting for approval, or the last one rejected (status
    # `pending_approval` or `rejected`, null: none), shown to its seller and moderators only.
    # Title, description and category above stay the approved version buyers and search see.
    sa.Column("revision_status", sa.String(20), nullable=True),
    sa.Column("revision_title", sa.String(200), nullable=True),
    sa.Column("revision_description", sa.Text, nullable=True),
    sa.Column("revision_category", sa.String(100), nullable=True),
    sa.Column("revision_reason", sa.String(500), nullable=True),
    # The options its variants are chosen by: [{name, values}] (null: none).
    sa.Column("options", sa.JSON, nullable=True),
    # The product's own price, which variants without a price of their own sell at;
    # `price_amount` above is the lowest price of its variants on sale (domain/variants.py).
    sa.Column("base_price_amount", sa.BigInteger, nullable=False, info=MONEY),
    # What buyers can take now: each variant on sale's on hand - held - sold, at least 0, summed.
    sa.Column("available", sa.BigInteger, nullable=False),
    sa.Index("ix_products_tenant_position", "tenant_id", "created_position"),
    sa.Index("ix_products_seller", "seller_id", "created_position"),
    sa.Index("ix_products_category", "tenant_id", "category"),
    sa.Index("ix_products_featured", "featured_until"),
    sa.Index("ix_products_revision", "tenant_id", "revision_status"),
)

# A product's variants as buyers choose between them: a product without variants of its own
# has one row, under its own id. A retired variant keeps its row (orders name it).
product_variants = sa.Table(
    "product_variants",
    metadata,
    sa.Column("variant_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("product_id", Id, nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("options", sa.JSON, nullable=False),
    # Its own price, or null: the product's (`base_price_amount`), which `price_amount` then is.
    sa.Column("own_price_amount", sa.BigInteger, nullable=True),
    sa.Column("price_amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("retired", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("on_hand", sa.BigInteger, nullable=False),
    sa.Column("held", sa.BigInteger, nullable=False),
    sa.Column("sold", sa.BigInteger, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_product_variants_product", "product_id", "created_position"),
)

# On hand per variant and warehouse (a product without variants: its own id is the variant's).
stock_levels = sa.Table(
    "stock_levels",
    metadata,
    sa.Column("variant_id", Id, primary_key=True),
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("product_id", Id, nullable=False),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("on_hand", sa.BigInteger, nullable=False),
)

# Seller Pro's one stock (docs/api-seller-pro.md): each master variant's, on the platform
# (tenant zero), as its organisation sees it; and each listing variant that sells from it, in its
# marketplace's tenant (projections/catalog/shared_stock.py).
organisation_stocks = sa.Table(
    "organisation_stocks",
    metadata,
    sa.Column("variant_id", Id, primary_key=True),
    sa.Column("product_id", Id, nullable=False),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("on_hand", sa.BigInteger, nullable=False),
    sa.Column("held", sa.BigInteger, nullable=False),
    sa.Column("sold", sa.BigInteger, nullable=False),
)

stock_shares = sa.Table(
    "stock_shares",
    metadata,
    sa.Column("variant_id", Id, primary_key=True),
    sa.Column("product_id", Id, nullable=False),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("stock_variant_id", Id, nullable=False),
    sa.Column("master_id", Id, nullable=False),
    sa.Index("ix_stock_shares_stock", "stock_variant_id"),
    sa.Index("ix_stock_shares_master", "master_id"),
)

stock_alerts = sa.Table(
    "stock_alerts",
    metadata,
    # Derived from the event's id: one row per raised alert, whatever replays.
    sa.Column("alert_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("product_id", Id, nullable=False),
    sa.Column("warehouse", sa.String(64), nullable=False),
    sa.Column("threshold", sa.BigInteger, nullable=False),
    sa.Column("available", sa.BigInteger, nullable=False),
    sa.Column("raised_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_stock_alerts_seller", "tenant_id", "seller_id", "created_position"),
)

reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("review_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("product_id", Id, nullable=False),
    sa.Column("buyer_id", Id, nullable=False),
    sa.Column("order_id", Id, nullable=False),
    sa.Column("rating", sa.Integer, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    # Hidden by a marketplace admin (with the reason): out of lists and ratings.
    sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("hidden_reason", sa.String(500), nullable=True),
    sa.Column("reply", sa.Text, nullable=True),
    sa.Column("replied_at", Timestamp, nullable=True),
    # The variants of the product the reviewer bought in that order: [{id, sku, options}].
    sa.Column("variants", sa.JSON, nullable=True),
    sa.Index("ix_reviews_product", "product_id", "created_position"),
)

# A seller's rating: its products' visible reviews, counted per star.
seller_ratings = sa.Table(
    "seller_ratings",
    metadata,
    sa.Column("seller_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("rating_count", sa.Integer, nullable=False),
    sa.Column("rating_sum", sa.Integer, nullable=False),
    *(sa.Column(f"stars_{n}", sa.Integer, nullable=False) for n in range(1, 6)),
    sa.Column("created_position", sa.BigInteger, nullable=False),
)
