"""Reads organisations: one with the marketplaces it joined and its seller's status in each, and
the scope of the tenants an organisation may read its own rows in."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from projections.catalog.tables import sellers
from projections.organisations.tables import organisation_marketplaces, organisations
from projections.scope import TenantScope
from projections.store import ReadStore


class OrganisationQueries:
    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def organisation(self, scope: TenantScope, organisation_id: str) -> dict[str, Any] | None:
        """The organisation, within the caller's scope, with its marketplaces (oldest first)."""
        o, m = organisations, organisation_marketplaces
        with self.store.read() as conn:
            row = conn.execute(scope.select(o, o.c.organisation_id == organisation_id)).first()
            if row is None:
                return None
            joined = conn.execute(
                sa.select(m.c.tenant_id, m.c.seller_id, sellers.c.status)
                .join(sellers, sellers.c.seller_id == m.c.seller_id)
                .where(m.c.organisation_id == organisation_id)
                .order_by(m.c.created_position)
            )
            return {
                "id": row.organisation_id,
                "name": row.name,
                "marketplaces": [
                    {"tenant_id": j.tenant_id, "seller_id": j.seller_id, "status": j.status}
                    for j in joined
                ],
            }

    def marketplaces_of(self, organisation_id: str) -> TenantScope:
        """The tenants the organisation joined: where it may read its own rows."""
        m = organisation_marketplaces
        with self.store.read() as conn:
            found = conn.execute(
                sa.select(m.c.tenant_id).where(m.c.organisation_id == organisation_id)
            )
            return TenantScope(frozenset(t for (t,) in found))
