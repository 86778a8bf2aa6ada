"""Tenant scoping: the one place where every read-model query gets its tenant filter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class TenantScope:
    """The tenants a caller may see. None means every tenant (the cross-tenant roles)."""

    tenant_ids: frozenset[str] | None

    @classmethod
    def every_tenant(cls) -> TenantScope:
        return cls(None)

    @classmethod
    def only(cls, tenant_id: object) -> TenantScope:
        return cls(frozenset({str(tenant_id)}))

    def allows(self, tenant_id: object) -> bool:
        return self.tenant_ids is None or str(tenant_id) in self.tenant_ids

    def narrowed_to(self, tenant_id: object) -> TenantScope:
        """The scope for a path that names one tenant: that tenant if allowed, else nothing."""
        return TenantScope.only(tenant_id) if self.allows(tenant_id) else TenantScope(frozenset())

    def select(self, table: sa.Table, *where: Any) -> sa.Select[Any]:
        """SELECT from a read-model table with the tenant filter already applied. Queries build
        on this and never on sa.select(table) directly."""
        stmt = sa.select(table).where(*where)
        if self.tenant_ids is not None:
            stmt = stmt.where(table.c.tenant_id.in_(sorted(self.tenant_ids)))
        return stmt
