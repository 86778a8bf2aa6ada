"""How the dashboards' facts are added up: a day's row per key bumped by an event's figures
(`bump`), and running totals carried through every month after the day (`carry`). The analytics
projector writes its facts with them, and the carts projector its `cart_sellers`."""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.engine import Connection

from projections.analytics.tables import FIRST_PURCHASE


def day_of(e: Any) -> date:
    """The UTC day an event happened on: the day the dashboards count it."""
    return e.timestamp.astimezone(UTC).date()  # type: ignore[no-any-return]


def month_of(day: date | None) -> date:
    """The first day of the day's month; FIRST_PURCHASE for no day."""
    return FIRST_PURCHASE if day is None else day.replace(day=1)


def carry(
    conn: Connection,
    table: sa.Table,
    tenant_id: object,
    currency: str,
    day: date,
    rows: list[tuple[dict[str, Any], dict[str, int]]],
) -> None:
    """Adds each (key, values) to the key's running totals in `table` (seller_running,
    product_running) for the day's month and every later month the tenant has totals in. A
    month's first figures start its rows as a copy of the month's before it, so each month
    holds every key that has figures by its end."""
    month = day.replace(day=1)
    ours = (table.c.tenant_id == str(tenant_id), table.c.currency == currency)

    def last_month(*where: Any) -> date | None:
        return conn.execute(sa.select(sa.func.max(table.c.month)).where(*ours, *where)).scalar()

    latest = last_month()
    if latest is not None and latest > month:  # out of day order: later months hold it too
        months = sa.select(table.c.month).where(*ours, table.c.month >= month).distinct()
        later = list(conn.execute(months.order_by(table.c.month)).scalars())
    else:
        later = [month] if latest == month else []
    if not later or later[0] != month:  # the month's first figures: it starts as the last one
        since = last_month(table.c.month < month)
        if since is not None:
            copied = [c.name for c in table.columns]
            conn.execute(
                table.insert().from_select(
                    copied,
                    sa.select(
                        *(
                            sa.literal(month).label(c) if c == "month" else table.c[c]
                            for c in copied
                        )
                    ).where(*ours, table.c.month == since),
                )
            )
        later.insert(0, month)
    for key, values in rows:
        for held_month in later:
            key_then = key | {"month": held_month, "currency": currency}
            bump(conn, table, tenant_id, key_then, **values)


_UPSERTS: dict[tuple[sa.Table, str, tuple[str, ...]], Any] = {}


def bump(
    conn: Connection, table: sa.Table, tenant_id: object, key: dict[str, Any], **values: Any
) -> None:
    """Adds the integer `values` to the row with `key`, or makes it with them: one upsert, built
    once per table and kind of change, where the database has one. A row that exists keeps its
    other values (non-integers given are set only on making it)."""
    counters = {
        c.name: 0
        for c in table.columns
        if isinstance(c.type, sa.Integer) and c.name not in key and not c.primary_key
    }
    row = {"tenant_id": str(tenant_id), **key, **counters, **values}
    adds = tuple(k for k, v in values.items() if type(v) is int and v)
    dialect = conn.dialect.name
    upsert = _UPSERTS.get((table, dialect, adds))
    if upsert is None and dialect == "sqlite":
        insert = sqlite.insert(table)
        keys = [c.name for c in table.primary_key.columns]
        upsert = (
            insert.on_conflict_do_update(
                index_elements=keys, set_={k: table.c[k] + insert.excluded[k] for k in adds}
            )
            if adds
            else insert.on_conflict_do_nothing(index_elements=keys)
        )
    elif upsert is None and dialect in ("mysql", "mariadb"):
        on_mysql = mysql.insert(table)
        upsert = on_mysql.on_duplicate_key_update(
            {k: table.c[k] + on_mysql.inserted[k] for k in adds}
            or {"tenant_id": on_mysql.inserted.tenant_id}
        )
    if upsert is not None:
        _UPSERTS[(table, dialect, adds)] = upsert
        conn.execute(upsert, row)
        return
    where = [table.c.tenant_id == str(tenant_id), *(table.c[k] == v for k, v in key.items())]
    if conn.execute(sa.select(sa.literal(1)).where(*where)).first() is None:
        conn.execute(table.insert().values(row))
    elif adds:
        conn.execute(table.update().where(*where).values({k: table.c[k] + row[k] for k in adds}))
