from __future__ import annotations

import json
import sqlite3
import subprocess
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.utils import get_topic

from api.bootstrap import Container
from domain.ledger import Account
from eventstore.context import CommandContext
from tests.e2e.audit_scenarios import AuditScenarios, last_month
from tests.e2e.backends import VELORA, Embedded, cli_env
from tests.e2e.client import Api


class TestAuditEmbedded(Embedded, AuditScenarios):
    # Whoever holds the SQLite file can drop the guard and edit an event; verification says where.

    def test_an_edited_ledger_entry_breaks_the_chain_the_books_and_the_seal(
        self, api: Api, root: str, container: Container
    ) -> None:
        shop = self.delivered_order(api, root, container)
        tenant = shop["m"].tenant_id
        container.operations.operator.seal_period(
            CommandContext.system("test"), UUID(tenant), last_month(), datetime.now(UTC)
        )
        # The read models have folded the true events before anyone tampers with the store (the
        # ledger model still balances afterwards; only verification sees the edit).
        names = tuple(r.name for r in container.runners)
        assert container.wait_for_projections(container.log.head(), names, 10)
        entered = get_topic(Account.Entered)
        victim = next(n for n in container.log.read_raw(0, 10_000) if n.topic == entered).id
        path = container.settings.data_dir / "events.sqlite3"
        with sqlite3.connect(path) as conn:
            conn.executescript(
                "DROP TRIGGER velora_immutable_update;"
                "UPDATE velora_events SET state = CAST(replace(CAST(state AS TEXT), "
                f"'\"amount\":', '\"amount\":1') AS BLOB) WHERE rowid = {victim};"
                "CREATE TRIGGER velora_immutable_update BEFORE UPDATE ON velora_events BEGIN "
                "SELECT RAISE(ABORT, 'velora: stored events are immutable'); END;"
            )
        report = api.get("/v1/audit/verify", token=root).json()
        assert not report["chain_intact"] and not report["ledger_balanced"]
        assert report["first_broken"]["position"] == victim
        assert report["first_broken"]["type"] == "Account.Entered"
        (seal,) = [s for s in report["seals"] if s["tenant_id"] == tenant]
        assert not seal["intact"] and seal["reason"] == "the chain up to the seal has changed"

        cli = subprocess.run(
            [VELORA, "audit", "verify"],
            env=cli_env(container),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert cli.returncode == 1 and "verification failed" in cli.stdout
        assert (
            json.loads(cli.stdout[cli.stdout.index("{") : cli.stdout.rindex("}") + 1])[
                "first_broken"
            ]["position"]
            == victim
        )
