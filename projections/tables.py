"""Read-model tables (SQLAlchemy Core). Alembic migrations in migrations/ create them; a test
checks that the migrations and these definitions agree. Every row carries tenant_id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

metadata = sa.MetaData()

# Microsecond timestamps on MySQL/MariaDB too (their DATETIME defaults to whole seconds).
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Id = sa.String(36)
# Column info read by a rebuild's checksums: money columns are summed per account, per seller,
# or per tenant and currency; a grouping column splits those sums further.
MONEY = {"money": True}
GROUPING = {"grouping": True}

projection_tracking = sa.Table(
    "projection_tracking",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    # Set when the projector stopped on an event it could not apply; cleared when it gets past.
    sa.Column("failed_position", sa.BigInteger, nullable=True),
    sa.Column("failure", sa.Text, nullable=True),
    # Set while a rebuild swaps this projector's tables: the live runner must not move meanwhile.
    sa.Column("paused_by", sa.String(100), nullable=True),
)

# A tenant whose events one projector could not apply: that projector passes over the tenant's
# events from `position` on, so every other tenant's rows keep moving, until an operator replays
# them after a fix (`velora projections replay`). Projectors that read this one's model
# quarantine the same tenant too, each under its own row.
projection_quarantine = sa.Table(
    "projection_quarantine",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),  # the first event passed over
    sa.Column("topic", sa.String(255), nullable=False),
    sa.Column("originator_id", Id, nullable=False),
    sa.Column("failure", sa.Text, nullable=False),
    sa.Column("quarantined_at", Timestamp, nullable=False),
)

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("commission_bps", sa.Integer, nullable=False),
    sa.Column("escrow_hold_days", sa.Integer, nullable=False),
    sa.Column("product_moderation", sa.String(16), nullable=False),
    sa.Column("hold_timeout_s", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False, unique=True),
    sa.Column("min_payout_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column("payout_interval", sa.String(8), nullable=True),
    sa.Column("payout_day", sa.Integer, nullable=True),
    sa.Column("payouts_ran_period", sa.String(10), nullable=True),
    sa.Column("dispute_fee_payer", sa.String(8), nullable=False, server_default="seller"),
    sa.Column("return_window_days", sa.Integer, nullable=False, server_default="30"),
    # Whether commission is taken on shipping too (API.md: free of commission unless set).
    sa.Column("commission_on_shipping", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("seller_signup", sa.Boolean, nullable=False, server_default=sa.true()),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    # Compared exactly (emails are kept in NFC, lower case): MySQL's default collation would
    # take "cafe" and "café" for one email.
    sa.Column(
        "email",
        sa.String(254).with_variant(mysql.VARCHAR(254, collation="utf8mb4_bin"), "mysql"),
        nullable=False,
    ),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    # Set when the person was erased: their email is gone and their tokens open nothing.
    sa.Column("erased_at", Timestamp, nullable=True),
    # Set when the person showed they read mail sent to the email (User.EmailVerified).
    sa.Column("email_verified_at", Timestamp, nullable=True),
    sa.UniqueConstraint("tenant_id", "email", name="uq_users_tenant_email"),
    sa.Index("ix_users_tenant_position", "tenant_id", "created_position"),
)

# Not a read model: the API's durable record of idempotent requests (kept at least 24 hours).
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("scope", sa.String(100), primary_key=True),
    sa.Column("idem_key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("response_headers", sa.JSON, nullable=True),
    sa.Column("response_body", sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    # The API process (api_processes) running the request while the key is in flight.
    sa.Column("owner", sa.String(32), nullable=True),
    sa.Index("ix_idempotency_expires", "expires_at"),
)

# Every running API process beats here every few seconds: a process that stopped beating
# crashed, and the requests it was running can no longer finish.
api_processes = sa.Table(
    "api_processes",
    metadata,
    sa.Column("process_id", sa.String(32), primary_key=True),
    sa.Column("seen_at", Timestamp, nullable=False),
)

# Not read models either: what consumers of the published events made of them. Each consumer
# records the CloudEvents ids it has applied, in the same transaction as its effects, so an event
# delivered twice has one effect.
consumed_events = sa.Table(
    "consumed_events",
    metadata,
    sa.Column("consumer", sa.String(100), primary_key=True),
    sa.Column("event_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("consumed_at", Timestamp, nullable=False),
    sa.Index("ix_consumed_events_age", "consumed_at"),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("notification_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("event_id", Id, nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    # "buyer" (a user id) or "seller" (a seller id): the email port finds where to write.
    sa.Column("recipient_role", sa.String(16), nullable=False),
    sa.Column("recipient_id", Id, nullable=False),
    # What it is about: an order (and one seller's part of it), or a product.
    sa.Column("order_id", Id, nullable=True),
    sa.Column("seller_order_id", Id, nullable=True),
    sa.Column("product_id", Id, nullable=True),
    sa.Column("amount_minor", sa.BigInteger, nullable=True),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    # Set once the email port took the message; unset ones are sent again after a crash.
    sa.Column("emailed_at", Timestamp, nullable=True),
    sa.Index("ix_notifications_recipient", "tenant_id", "recipient_id", "created_at"),
    sa.Index("ix_notifications_unsent", "emailed_at", "created_at"),
)

profiles = sa.Table(
    "profiles",
    metadata,
    sa.Column("user_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    # Personal: redacted to a marker naming the person once they are erased.
    sa.Column("display_name", sa.String(100), nullable=True),
    sa.Column("phone", sa.String(64), nullable=True),
    sa.Column("locale", sa.String(64), nullable=True),
    sa.Column("marketing_opt_in", sa.Boolean, nullable=False),
    # When the person last gave or withdrew their consent (the proof GDPR asks for).
    sa.Column("marketing_changed_at", Timestamp, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
)

addresses = sa.Table(
    "addresses",
    metadata,
    sa.Column("address_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("user_id", Id, nullable=False),
    # Personal: name, line1, line2, city, region, postal_code, country; redacted on erasure.
    sa.Column("address", sa.JSON, nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_addresses_user", "tenant_id", "user_id", "created_position"),
)

wishlist_items = sa.Table(
    "wishlist_items",
    metadata,
    sa.Column("buyer_id", Id, primary_key=True),
    sa.Column("product_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("added_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_wishlist_items_buyer", "tenant_id", "buyer_id", "created_position"),
    sa.Index("ix_wishlist_items_product", "tenant_id", "product_id"),
)

# A marketplace's publishable keys as its admins list them: never the key or its digest (those
# stay on the write side, where guests' keys are checked).
publishable_keys = sa.Table(
    "publishable_keys",
    metadata,
    sa.Column("key_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("hint", sa.String(8), nullable=False),  # the key's last characters
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Column("deleted_at", Timestamp, nullable=True),
    sa.Index("ix_publishable_keys_tenant", "tenant_id", "created_position"),
)

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

categories = sa.Table(
    "categories",
    metadata,
    sa.Column("category_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("parent_id", Id, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_categories_tenant", "tenant_id", "created_position"),
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
)

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
    sa.Column("dispute_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column(
        "dispute_commission_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY
    ),
    sa.Column("disputed_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column("dispute_fee_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    # What the buyer paid to ship it (escrowed for the seller with the items), and the rate
    # chosen: {rate_id, name, min_days, max_days} (null: the seller ships free, without rates).
    sa.Column("shipping_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column("shipping_rate", sa.JSON, nullable=True),
    sa.Index("ix_seller_orders_order", "order_id"),
    sa.Index("ix_seller_orders_seller", "tenant_id", "seller_id", "created_position"),
    sa.Index(
        "ix_seller_orders_payout", "tenant_id", "seller_id", "payout_remaining", "created_position"
    ),
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

ledger_accounts = sa.Table(
    "ledger_accounts",
    metadata,
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("code", sa.String(120), nullable=False),
    sa.Column("shard", sa.Integer, nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("limit_kind", sa.String(40), nullable=False),
    sa.Column("debits_pending", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("debits_posted", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("credits_pending", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("credits_posted", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_ledger_accounts_code", "tenant_id", "currency", "code"),
)

ledger_transfers = sa.Table(
    "ledger_transfers",
    metadata,
    sa.Column("transfer_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("transfer_key", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("posted_amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("debit_account_id", Id, nullable=False),
    sa.Column("credit_account_id", Id, nullable=False),
    sa.Column("reverses", Id, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
)

# Posted movements only: a pending transfer appears here when (and as far as) it is posted.
ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("created_position", sa.BigInteger, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("code", sa.String(120), nullable=False),
    sa.Column("transfer_id", Id, nullable=False),
    sa.Column("side", sa.String(6), nullable=False, info=GROUPING),
    sa.Column("amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_ledger_entries_code", "tenant_id", "currency", "code", "created_position"),
    # The journal's order, and (covering) the sums of its opening balances.
    sa.Index(
        "ix_ledger_entries_journal",
        *("tenant_id", "created_at", "created_position", "currency", "code", "side", "amount"),
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

payouts = sa.Table(
    "payouts",
    metadata,
    sa.Column("payout_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("receivable_netted", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Column("failure_reason", sa.String(500), nullable=True),
    sa.Index("ix_payouts_seller", "tenant_id", "seller_id", "created_position"),
)

# One row per money fact of a seller order (paid, refunded, cancelled after payment), written by
# the analytics projector.
sales_facts = sa.Table(
    "sales_facts",
    metadata,
    sa.Column("created_position", sa.BigInteger, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("seller_order_id", Id, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("commission", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("refunds", sa.BigInteger, nullable=False, info=MONEY),
    sa.Index("ix_sales_facts_day", "tenant_id", "day"),
    sa.Index("ix_sales_facts_order", "seller_order_id"),
)

# What the analytics projector keeps of each seller order that the orders model overwrites later:
# who paid for it (a guest's order joins the account that verifies its email) and the share of the
# charge its latest dispute holds (projections/analytics/projector.py).
analytics_seller_orders = sa.Table(
    "analytics_seller_orders",
    metadata,
    sa.Column("seller_order_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("order_id", Id, nullable=False),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("buyer_id", Id, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("dispute_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column(
        "dispute_commission_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY
    ),
    sa.Index("ix_analytics_seller_orders_order", "order_id"),
)

# The analytics dashboards' facts, summed per day (and per seller and product also per month) as
# the events arrive; the analytics projector writes all but the last, the carts projector that. A
# dashboard reads a row per month for the whole months of its range and a row per day for the
# days at its ends, never the orders themselves.
seller_daily = sa.Table(
    "seller_daily",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("seller_id", Id, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("commission", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("refunds", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("orders", sa.BigInteger, nullable=False),  # seller orders paid
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("placed", sa.BigInteger, nullable=False),  # seller orders placed (paid or not)
    # Covers the best sellers' query, so it reads no table rows.
    sa.Index(
        "ix_seller_daily_day",
        "tenant_id",
        "day",
        "currency",
        "seller_id",
        "gmv",
        "commission",
        "orders",
    ),
)

# Each seller's figures from its first through the end of each month (the seller_daily columns
# summed), a row per seller for every month the tenant has figures in, so the seller's totals
# over a range are a difference of two months' rows and the days at the range's ends, however
# long the range. A month with no figures of the tenant has no rows: its totals are the last
# month's before it.
seller_running = sa.Table(
    "seller_running",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),  # its first day
    sa.Column("seller_id", Id, primary_key=True),
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("commission", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("refunds", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("orders", sa.BigInteger, nullable=False),
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("placed", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,  # a month's rows are read in key order with their values
)

product_daily = sa.Table(
    "product_daily",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("product_id", Id, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    # Covers the best products' query, so it reads no table rows.
    sa.Index(
        "ix_product_daily_day",
        "tenant_id",
        "day",
        "currency",
        "product_id",
        "seller_id",
        "gmv",
        "units",
    ),
    sa.Index("ix_product_daily_seller", "tenant_id", "seller_id", "day"),
)

# Each product's units and GMV from its first sale through the end of each month, as
# seller_running keeps them for sellers.
# What each variant sold per day: the best products' breakdown by variant (the ten's rows only).
variant_daily = sa.Table(
    "variant_daily",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("variant_id", Id, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("product_id", Id, nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    sa.Index("ix_variant_daily_product", "tenant_id", "product_id", "day"),
)

product_running = sa.Table(
    "product_running",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("product_id", Id, primary_key=True),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    sa.Index("ix_product_running_seller", "tenant_id", "currency", "seller_id", "month"),
    sqlite_with_rowid=False,
)

# A buyer's days with a paid order, each with the one before it: the buyers active in a range
# are its rows whose previous day falls before the range (or is none), counted without DISTINCT
# (mostly from buyer_day_counts; here only for previous days in the range's first month).
buyer_days = sa.Table(
    "buyer_days",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("buyer_id", Id, primary_key=True),
    sa.Column("previous_day", sa.Date, nullable=True),
    sa.Index("ix_buyer_days_buyer", "tenant_id", "buyer_id", "day"),
    sa.Index("ix_buyer_days_previous", "tenant_id", "previous_day", "day"),
)

# How many buyer_days rows each day has per month of their previous day (FIRST_PURCHASE for
# none): a range's active buyers are summed from at most a row per day and month before it.
buyer_day_counts = sa.Table(
    "buyer_day_counts",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("previous_month", sa.Date, primary_key=True),
    sa.Column("buyers", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,
)
FIRST_PURCHASE = date(1970, 1, 1)  # buyer_day_counts' previous month of a buyer's first day

marketplace_daily = sa.Table(
    "marketplace_daily",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("orders", sa.BigInteger, nullable=False),  # buyers' orders paid
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("commission", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("refunds", sa.BigInteger, nullable=False, info=MONEY),
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


SHADOW_SUFFIX = "__rebuild"


@dataclass(frozen=True)
class Tables:
    """The read-model tables a projector writes and reads: the live ones, or, for the models a
    rebuild is filling, their shadow copies beside them (`<name>__rebuild`)."""

    tenants: sa.Table
    users: sa.Table
    profiles: sa.Table
    addresses: sa.Table
    wishlist_items: sa.Table
    publishable_keys: sa.Table
    sellers: sa.Table
    plans: sa.Table
    plan_charges: sa.Table
    categories: sa.Table
    products: sa.Table
    product_variants: sa.Table
    shipping_rates: sa.Table
    stock_levels: sa.Table
    stock_alerts: sa.Table
    carts: sa.Table
    orders: sa.Table
    seller_orders: sa.Table
    reviews: sa.Table
    seller_ratings: sa.Table
    ledger_accounts: sa.Table
    ledger_transfers: sa.Table
    ledger_entries: sa.Table
    refunds: sa.Table
    returns: sa.Table
    payouts: sa.Table
    sales_facts: sa.Table
    seller_daily: sa.Table
    seller_running: sa.Table
    product_daily: sa.Table
    variant_daily: sa.Table
    product_running: sa.Table
    buyer_days: sa.Table
    buyer_day_counts: sa.Table
    marketplace_daily: sa.Table
    analytics_seller_orders: sa.Table
    cart_sellers: sa.Table

    def shadowing(self, names: Iterable[str], *, dialect: str) -> Tables:
        """These tables with the named ones replaced by shadow copies. SQLite names indexes
        per database, so there a shadow's indexes carry the suffix too; MySQL names them per
        table, so there they keep the live names and a rename swaps nothing else."""
        shadow = sa.MetaData()
        copies = {}
        for name in names:
            copy = getattr(self, name).to_metadata(shadow, name=name + SHADOW_SUFFIX)
            if dialect == "sqlite":
                for index in copy.indexes:
                    index.name = f"{index.name}{SHADOW_SUFFIX}"
            copies[name] = copy
        return replace(self, **copies)

    def all(self) -> list[sa.Table]:
        return [getattr(self, f.name) for f in fields(self)]


LIVE = Tables(**{f.name: metadata.tables[f.name] for f in fields(Tables)})
