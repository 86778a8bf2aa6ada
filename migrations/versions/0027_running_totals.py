"""Analytics read bounded by range (issue 18, point 9): running totals per seller and product
through each month (`seller_running`, `product_running`) in place of the monthly ones, and
per-day counts of buyers by the month of their day before (`buyer_day_counts`), so a year's
dashboard reads two months' rows instead of twelve. Filled here from the tables they replace,
so no rebuild is needed.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

Id = sa.String(36)
FIRST_PURCHASE = date(1970, 1, 1)
SELLER_FIGURES = ("gmv", "commission", "refunds", "orders", "units", "placed")


def upgrade() -> None:
    op.create_table(
        "seller_running",
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("seller_id", Id, primary_key=True),
        sa.Column("gmv", sa.BigInteger, nullable=False),
        sa.Column("commission", sa.BigInteger, nullable=False),
        sa.Column("refunds", sa.BigInteger, nullable=False),
        sa.Column("orders", sa.Integer, nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("placed", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "product_running",
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("product_id", Id, primary_key=True),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("gmv", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_product_running_seller",
        "product_running",
        ["tenant_id", "currency", "seller_id", "month"],
    )
    op.create_table(
        "buyer_day_counts",
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("previous_month", sa.Date, primary_key=True),
        sa.Column("buyers", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    _carry_forward("seller_monthly", "seller_running", "seller_id", SELLER_FIGURES)
    _carry_forward("product_monthly", "product_running", "product_id", ("units", "gmv"))
    _count_buyer_days()
    op.create_index("ix_buyer_days_previous", "buyer_days", ["tenant_id", "previous_day", "day"])
    op.drop_index("ix_buyer_days_first", table_name="buyer_days")
    op.drop_index("ix_product_monthly_seller", table_name="product_monthly")
    op.drop_index("ix_product_monthly_month", table_name="product_monthly")
    op.drop_table("product_monthly")
    op.drop_index("ix_seller_monthly_month", table_name="seller_monthly")
    op.drop_table("seller_monthly")


def _carry_forward(monthly: str, running: str, key: str, figures: tuple[str, ...]) -> None:
    """Each month that has figures gets every key's sum over it and the months before it."""
    seller = ", MIN(p.seller_id)" if key == "product_id" else ""
    seller_column = ", seller_id" if key == "product_id" else ""
    sums = ", ".join(f"SUM(p.{f})" for f in figures)
    op.execute(  # the names are this module's constants
        f"INSERT INTO {running} (tenant_id, currency, month, {key}{seller_column}, "  # noqa: S608
        f"{', '.join(figures)}) "
        f"SELECT m.tenant_id, m.currency, m.month, p.{key}{seller}, {sums} "
        f"FROM (SELECT DISTINCT tenant_id, currency, month FROM {monthly}) m "
        f"JOIN {monthly} p ON p.tenant_id = m.tenant_id AND p.currency = m.currency "
        f"AND p.month <= m.month "
        f"GROUP BY m.tenant_id, m.currency, m.month, p.{key}"
    )


def _count_buyer_days() -> None:
    conn = op.get_bind()
    counts: Counter[tuple[str, date, date]] = Counter()
    rows = conn.execute(
        sa.text(
            "SELECT tenant_id, day, previous_day, COUNT(*) FROM buyer_days "
            "GROUP BY tenant_id, day, previous_day"
        )
    )
    for tenant_id, day, previous_day, n in rows:
        day, previous_day = _as_date(day), _as_date(previous_day)
        month = FIRST_PURCHASE if previous_day is None else previous_day.replace(day=1)
        counts[(tenant_id, day, month)] += int(n)
    table = sa.table(
        "buyer_day_counts",
        sa.column("tenant_id"),
        sa.column("day", sa.Date),
        sa.column("previous_month", sa.Date),
        sa.column("buyers"),
    )
    values = [
        {"tenant_id": t, "day": d, "previous_month": m, "buyers": n}
        for (t, d, m), n in counts.items()
    ]
    for at in range(0, len(values), 1000):
        conn.execute(table.insert(), values[at : at + 1000])


def _as_date(value: object) -> date | None:
    """A DATE as the driver gives it: a date on MariaDB, ISO text on SQLite."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def downgrade() -> None:
    """The monthly tables again, summed from the daily ones."""
    op.create_table(
        "seller_monthly",
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("seller_id", Id, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        *(sa.Column(f, sa.BigInteger, nullable=False) for f in SELLER_FIGURES[:3]),
        *(sa.Column(f, sa.Integer, nullable=False) for f in SELLER_FIGURES[3:]),
    )
    op.create_index(
        "ix_seller_monthly_month",
        "seller_monthly",
        ["tenant_id", "month", "currency", "seller_id", "gmv", "commission", "orders"],
    )
    op.create_table(
        "product_monthly",
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("product_id", Id, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("gmv", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_product_monthly_month",
        "product_monthly",
        ["tenant_id", "month", "currency", "product_id", "seller_id", "gmv", "units"],
    )
    op.create_index(
        "ix_product_monthly_seller", "product_monthly", ["tenant_id", "seller_id", "month"]
    )
    _sum_months("seller_daily", "seller_monthly", ("seller_id",), SELLER_FIGURES)
    _sum_months(
        "product_daily", "product_monthly", ("product_id", "seller_id", "title"), ("units", "gmv")
    )
    op.create_index("ix_buyer_days_first", "buyer_days", ["tenant_id", "day", "previous_day"])
    op.drop_index("ix_buyer_days_previous", table_name="buyer_days")
    op.drop_table("buyer_day_counts")
    op.drop_index("ix_product_running_seller", table_name="product_running")
    op.drop_table("product_running")
    op.drop_table("seller_running")


def _sum_months(daily: str, monthly: str, keys: tuple[str, ...], figures: tuple[str, ...]) -> None:
    conn = op.get_bind()
    sums: dict[tuple[object, ...], dict[str, object]] = {}
    names = ("tenant_id", "currency", *keys)
    for row in conn.execute(
        sa.text(f"SELECT {', '.join(names)}, day, {', '.join(figures)} FROM {daily}")  # noqa: S608
    ).mappings():
        month = _as_date(row["day"]).replace(day=1)  # type: ignore[union-attr]
        into = sums.setdefault(
            (row["tenant_id"], row["currency"], row[keys[0]], month),
            {n: row[n] for n in names} | {"month": month} | dict.fromkeys(figures, 0),
        )
        for f in figures:
            into[f] = int(into[f]) + int(row[f])  # type: ignore[call-overload]
    table = sa.table(
        monthly,
        *(sa.column(n) for n in names),
        sa.column("month", sa.Date),
        *(sa.column(f) for f in figures),
    )
    values = list(sums.values())
    for at in range(0, len(values), 1000):
        conn.execute(table.insert(), values[at : at + 1000])
