"""Migration 0027 on a read model that already has analytics facts: the running totals and the
buyer-day counts it fills from the monthly tables it replaces are what the projector would
have kept, and its downgrade gives the monthly tables back. On SQLite and on MariaDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from migrations.runner import alembic_config
from projections.store import make_engine

T = "t-1"
# (seller, product, day, gmv): two months with sales, one without, a third after it
SALES = [
    ("s1", "p1", date(2026, 1, 5), 100),
    ("s1", "p1", date(2026, 1, 20), 50),
    ("s2", "p2", date(2026, 1, 31), 7),
    ("s1", "p3", date(2026, 2, 1), 30),
    ("s2", "p2", date(2026, 4, 9), 11),
]
# (buyer, day, previous day)
BUYER_DAYS = [
    ("b1", date(2026, 1, 5), None),
    ("b1", date(2026, 1, 20), date(2026, 1, 5)),
    ("b2", date(2026, 1, 31), None),
    ("b1", date(2026, 2, 1), date(2026, 1, 20)),
    ("b2", date(2026, 4, 9), date(2026, 1, 31)),
]


@pytest.fixture(params=["sqlite", "mariadb"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    url = None
    if request.param == "mariadb":
        url = request.getfixturevalue("new_mysql_database")()
    made = make_engine(url, tmp_path)
    yield made
    made.dispose()


def _migrate(engine: sa.Engine, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _rows(conn: sa.Connection, sql: str) -> list[tuple[object, ...]]:
    return [
        tuple(str(v) if isinstance(v, date) else v for v in row)
        for row in conn.execute(sa.text(sql))
    ]


def _summed(
    by: Callable[[str, str, date], tuple[object, ...]],
) -> dict[tuple[object, ...], list[int]]:
    sums: dict[tuple[object, ...], list[int]] = {}
    for seller, product, day, gmv in SALES:
        counts = sums.setdefault(by(seller, product, day), [0, 0])
        counts[0] += gmv
        counts[1] += 1
    return sums


def test_running_totals_are_filled_from_the_monthly_tables_and_given_back(
    engine: sa.Engine,
) -> None:
    _migrate(engine, "0026")
    with engine.begin() as conn:
        for table, when in (("seller_daily", "day"), ("seller_monthly", "month")):
            for (seller, at), (gmv, n) in _summed(
                lambda s, _, d, w=when: (s, d if w == "day" else d.replace(day=1))
            ).items():
                conn.execute(
                    sa.text(
                        f"INSERT INTO {table} (tenant_id, seller_id, {when}, currency, gmv, "
                        "commission, refunds, orders, units, placed) "
                        "VALUES (:t, :s, :at, 'USD', :gmv, 0, 0, :n, :n, :n)"
                    ),
                    {"t": T, "s": seller, "at": at, "gmv": gmv, "n": n},
                )
        for table, when in (("product_daily", "day"), ("product_monthly", "month")):
            for (seller, product, at), (gmv, n) in _summed(
                lambda s, p, d, w=when: (s, p, d if w == "day" else d.replace(day=1))
            ).items():
                conn.execute(
                    sa.text(
                        f"INSERT INTO {table} (tenant_id, product_id, {when}, currency, "
                        "seller_id, title, units, gmv) "
                        "VALUES (:t, :p, :at, 'USD', :s, 'P', :n, :gmv)"
                    ),
                    {"t": T, "p": product, "s": seller, "at": at, "gmv": gmv, "n": n},
                )
        for buyer, day, previous in BUYER_DAYS:
            conn.execute(
                sa.text("INSERT INTO buyer_days VALUES (:t, :d, :b, :p)"),
                {"t": T, "d": day, "b": buyer, "p": previous},
            )
        before = {
            table: _rows(conn, f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4")
            for table in ("seller_monthly", "product_monthly")
        }

    _migrate(engine, "0027")
    with engine.connect() as conn:
        assert _rows(
            conn,
            "SELECT month, product_id, seller_id, units, gmv FROM product_running "
            "ORDER BY month, product_id",
        ) == [
            ("2026-01-01", "p1", "s1", 2, 150),
            ("2026-01-01", "p2", "s2", 1, 7),
            ("2026-02-01", "p1", "s1", 2, 150),  # carried into a month it did not sell in
            ("2026-02-01", "p2", "s2", 1, 7),
            ("2026-02-01", "p3", "s1", 1, 30),
            # March had no sales: no rows; its totals are February's
            ("2026-04-01", "p1", "s1", 2, 150),
            ("2026-04-01", "p2", "s2", 2, 18),
            ("2026-04-01", "p3", "s1", 1, 30),
        ]
        assert _rows(
            conn, "SELECT month, seller_id, gmv, orders FROM seller_running ORDER BY 1, 2"
        ) == [
            ("2026-01-01", "s1", 150, 2),
            ("2026-01-01", "s2", 7, 1),
            ("2026-02-01", "s1", 180, 3),
            ("2026-02-01", "s2", 7, 1),
            ("2026-04-01", "s1", 180, 3),
            ("2026-04-01", "s2", 18, 2),
        ]
        assert _rows(
            conn, "SELECT day, previous_month, buyers FROM buyer_day_counts ORDER BY 1, 2"
        ) == [
            ("2026-01-05", "1970-01-01", 1),
            ("2026-01-20", "2026-01-01", 1),
            ("2026-01-31", "1970-01-01", 1),
            ("2026-02-01", "2026-01-01", 1),
            ("2026-04-09", "2026-01-01", 1),
        ]

    _migrate(engine, "0026", down=True)
    with engine.connect() as conn:
        for table, rows in before.items():
            assert _rows(conn, f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4") == rows
