"""The tax report: what the marketplace collected and gave back, per place and rate."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from projections.scope import TenantScope
from projections.store import ReadStore
from projections.tax.tables import tax_facts


def tax_report(
    store: ReadStore, scope: TenantScope, *, start: date, end: date
) -> list[dict[str, Any]]:
    """Collected, refunded and net tax over [start, end] (UTC days) by currency, country,
    region and rate. Over all days, each currency's net is its `tax_payable` balance."""
    f = tax_facts
    keys = (f.c.currency, f.c.country, f.c.region, f.c.rate_bps, f.c.name)
    stmt = (
        scope.select(f, f.c.day >= start, f.c.day <= end)
        .with_only_columns(*keys, sa.func.sum(f.c.collected), sa.func.sum(f.c.refunded))
        .group_by(*keys)
        .order_by(*keys)
    )
    with store.read() as conn:
        return [
            {
                "currency": currency,
                "country": country,
                "region": region or None,
                "rate_bps": int(rate_bps),
                "name": name,
                "collected": int(collected),
                "refunded": int(refunded),
                "net": int(collected) - int(refunded),
            }
            for currency, country, region, rate_bps, name, collected, refunded in conn.execute(stmt)
        ]
