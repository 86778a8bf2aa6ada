"""How the dashboards' facts are added up: a day's row per key bumped by an event's figures
(`bump`), and running totals carried through every month after the day (`carry`). The analytics
projector writes its facts with them, and the carts projector its `cart_sellers`."""

from __future__ import annotations

from datetime import UTC, date
from functools import lru_cache
from typing import Any, NamedTuple

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
    holds every key that has figures by its end.

    Called for every seller order placed and paid, so its statements are built once per table
    (`_carrying`) and only their values bound here."""
    month = day.replace(day=1)
    sql = _carrying(table)
    ours = {"c_tenant": str(tenant_id), "c_currency": currency, "c_month": month}
    latest = conn.execute(sql.latest, ours).scalar()
    if latest is not None and latest > month:  # out of day order: later months hold it too
        later = list(conn.execute(sql.months_from, ours).scalars())
    else:
        later = [month] if latest == month else []
    if not later or later[0] != month:  # the month's first figures: it starts as the last one
        since = conn.execute(sql.latest_before, ours).scalar()
        if since is not None:
            conn.execute(sql.copy, ours | {"c_since": since})
        later.insert(0, month)
    for key, values in rows:
        for held_month in later:
            key_then = key | {"month": held_month, "currency": currency}
            bump(conn, table, tenant_id, key_then, **values)


class _Carrying(NamedTuple):
    """`carry`'s statements on one running-totals table, with the tenant, currency and month
    (`c_tenant`, `c_currency`, `c_month`) and the month copied from (`c_since`) bound."""

    latest: sa.Select[date]  # the tenant's last month in the currency
    latest_before: sa.Select[date]  # its last month before c_month
    months_from: sa.Select[date]  # its months from c_month on, in order
    copy: sa.Insert  # c_since's rows copied as c_month's


# A rebuild's shadow tables are new Table objects: a few kept, not one per rebuild.
@lru_cache(maxsize=8)
def _carrying(table: sa.Table) -> _Carrying:
    month = sa.bindparam("c_month", type_=table.c.month.type)
    ours = (
        table.c.tenant_id == sa.bindparam("c_tenant"),
        table.c.currency == sa.bindparam("c_currency"),
    )
    last = sa.select(sa.func.max(table.c.month)).where(*ours)
    months = sa.select(table.c.month).where(*ours, table.c.month >= month).distinct()
    copied = [c.name for c in table.columns]
    copy = table.insert().from_select(
        copied,
        sa.select(*(month.label(c) if c == "month" else table.c[c] for c in copied)).where(
            *ours, table.c.month == sa.bindparam("c_since")
        ),
    )
    return _Carrying(
        latest=last,
        latest_before=last.where(table.c.month < month),
        months_from=months.order_by(table.c.month),
        copy=copy,
    )


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
