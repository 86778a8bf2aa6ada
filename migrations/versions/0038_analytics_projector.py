"""The analytics facts get a projector of their own (issue 29, "smaller hubs"): `analytics`, with
its own tracking row, beside the orders projector that wrote them until now.

The facts the orders projector wrote stand exactly where its tracking row does, so the new
projector starts there: its tracking row is the orders projector's position, and it quarantines
the tenants the orders projector quarantines, from the same positions (their facts stopped there
too, and a replay applies them from there). Nothing before that position is counted again, and
nothing after it is missed.

What it keeps of each seller order (`analytics_seller_orders`: who paid, the latest dispute's
share) is filled from the seller orders as they stand at that same position, which is what the
orders projector read when it counted them.

Stop the previous release's projectors (`velora serve`, `velora project`) before migrating: an
orders projector of that release still running afterwards would add facts the analytics
projector adds again.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None

Id = sa.String(36)
ORDERS, ANALYTICS = "orders", "analytics"
KEPT = (
    "seller_order_id",
    "tenant_id",
    "order_id",
    "seller_id",
    "buyer_id",
    "currency",
    "dispute_share_amount",
    "dispute_share_commission_amount",
)
# The same columns of seller_orders, as they were named until 0039.
FROM = (*KEPT[:-2], "dispute_amount", "dispute_commission_amount")

tracking = sa.table(
    "projection_tracking",
    sa.column("name", sa.String),
    sa.column("position", sa.BigInteger),
    sa.column("updated_at", sa.DateTime),
)
quarantine = sa.table(
    "projection_quarantine",
    sa.column("name", sa.String),
    sa.column("tenant_id", sa.String),
    sa.column("position", sa.BigInteger),
    sa.column("topic", sa.String),
    sa.column("originator_id", sa.String),
    sa.column("failure", sa.Text),
    sa.column("quarantined_at", sa.DateTime),
)


def upgrade() -> None:
    op.create_table(
        "analytics_seller_orders",
        sa.Column("seller_order_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("buyer_id", Id, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("dispute_share_amount", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column(
            "dispute_share_commission_amount", sa.BigInteger, nullable=False, server_default="0"
        ),
    )
    op.create_index("ix_analytics_seller_orders_order", "analytics_seller_orders", ["order_id"])
    conn = op.get_bind()
    kept = sa.table("analytics_seller_orders", *(sa.column(c) for c in KEPT))
    seller_orders = sa.table("seller_orders", *(sa.column(c) for c in FROM))
    conn.execute(kept.insert().from_select(KEPT, sa.select(*seller_orders.c)))
    conn.execute(
        tracking.insert().from_select(
            ["name", "position", "updated_at"],
            sa.select(sa.literal(ANALYTICS), tracking.c.position, tracking.c.updated_at).where(
                tracking.c.name == ORDERS
            ),
        )
    )
    q = quarantine.c
    conn.execute(
        quarantine.insert().from_select(
            [c.name for c in quarantine.c],
            sa.select(
                sa.literal(ANALYTICS),
                q.tenant_id,
                q.position,
                q.topic,
                q.originator_id,
                sa.literal(f"reads {ORDERS}, which quarantined this tenant: ") + q.failure,
                q.quarantined_at,
            ).where(q.name == ORDERS),
        )
    )


def downgrade() -> None:
    """The orders projector of the release before writes the facts again, from its own
    position: refused unless the analytics projector stands there too, with no quarantine the
    orders projector lacks, or the facts in between would never be counted."""
    conn = op.get_bind()
    positions = dict(
        conn.execute(
            sa.select(tracking.c.name, tracking.c.position).where(
                tracking.c.name.in_([ORDERS, ANALYTICS])
            )
        ).all()
    )
    held = {
        name: set(
            conn.execute(
                sa.select(quarantine.c.tenant_id).where(quarantine.c.name == name)
            ).scalars()
        )
        for name in (ORDERS, ANALYTICS)
    }
    if positions.get(ANALYTICS, 0) != positions.get(ORDERS, 0) or held[ANALYTICS] - held[ORDERS]:
        raise RuntimeError(
            "the analytics projector must stand where the orders projector does, with no "
            "tenant of its own quarantined, before this downgrade: let it catch up (velora "
            "projections status) or replay its tenants first"
        )
    conn.execute(quarantine.delete().where(quarantine.c.name == ANALYTICS))
    conn.execute(tracking.delete().where(tracking.c.name == ANALYTICS))
    op.drop_index("ix_analytics_seller_orders_order", table_name="analytics_seller_orders")
    op.drop_table("analytics_seller_orders")
