"""Migrations 0039 and 0040 on a read model that already has rows: a seller order's dispute
columns keep their values under their new names, and transfers of the renamed kinds are renamed
(the others kept), both ways. On SQLite and on MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from migrations.runner import alembic_config
from projections.store import make_engine

KINDS = ["escrow_hold", "dispute_hold", "dispute_release", "payout"]


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


def _table(name: str, row: dict[str, object]) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in row))


def _one(engine: sa.Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def test_the_money_words_migrate_with_their_values_both_ways(engine: sa.Engine) -> None:
    _migrate(engine, "0038")
    row = {
        "seller_order_id": "so",
        "tenant_id": "t",
        "order_id": "o",
        "buyer_id": "b",
        "seller_id": "s",
        "status": "paid",
        "escrow_status": "held",
        "currency": "USD",
        "subtotal_amount": 1000,
        "commission_amount": 100,
        "seller_net_amount": 900,
        "lines": "[]",
        "created_at": "2026-12-01",
        "updated_at": "2026-12-01",
        "created_position": 1,
        "dispute_status": "open",
        "dispute_amount": 400,
        "dispute_commission_amount": 40,
        "disputed_amount": 250,
    }
    transfer = {
        "tenant_id": "t",
        "currency": "USD",
        "amount": 1,
        "posted_amount": 0,
        "state": "pending",
        "debit_account_id": "a",
        "credit_account_id": "b",
        "created_at": "2026-12-01",
        "created_position": 1,
    }
    with engine.begin() as conn:
        conn.execute(_table("seller_orders", row).insert().values(row))
        for n, kind in enumerate(KINDS):
            made = {**transfer, "transfer_id": f"t{n}", "transfer_key": f"k{n}", "kind": kind}
            conn.execute(_table("ledger_transfers", made).insert().values(made))
    _migrate(engine, "head")
    assert _one(
        engine,
        "SELECT dispute_share_amount, dispute_share_commission_amount, dispute_lost_amount"
        " FROM seller_orders",
    ) == [(400, 40, 250)]
    assert _one(engine, "SELECT kind FROM ledger_transfers ORDER BY transfer_id") == [
        ("escrow_pending",),
        ("dispute_reserve",),
        ("dispute_reserve_returned",),
        ("payout",),
    ]
    _migrate(engine, "0038", down=True)
    assert _one(
        engine,
        "SELECT dispute_amount, dispute_commission_amount, disputed_amount FROM seller_orders",
    ) == [(400, 40, 250)]
    assert _one(engine, "SELECT kind FROM ledger_transfers ORDER BY transfer_id") == [
        (kind,) for kind in KINDS
    ]
