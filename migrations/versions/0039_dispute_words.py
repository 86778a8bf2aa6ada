"""One word per idea (issue 29): a seller order's columns for its latest dispute's share and for
what lost disputes took were `dispute_amount` and `disputed_amount`, two names a letter apart
for different things. They are `dispute_share_amount` (with `dispute_share_commission_amount`)
and `dispute_lost_amount`, as the glossary in docs/architecture.md says.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None

RENAMED = {
    "dispute_amount": "dispute_share_amount",
    "dispute_commission_amount": "dispute_share_commission_amount",
    "disputed_amount": "dispute_lost_amount",
}


def _rename(names: dict[str, str]) -> None:
    with op.batch_alter_table("seller_orders") as table:
        for old, new in names.items():
            table.alter_column(
                old,
                new_column_name=new,
                existing_type=sa.BigInteger,
                existing_nullable=False,
                existing_server_default="0",
            )


def upgrade() -> None:
    _rename(RENAMED)


def downgrade() -> None:
    _rename({new: old for old, new in RENAMED.items()})
