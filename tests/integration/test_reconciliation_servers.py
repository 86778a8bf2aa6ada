"""Reconciliation on PostgreSQL + MariaDB with Stripe (localstripe, through the official SDK):
the buyer pays at Stripe, Velora is told by a signed webhook built from the intent Stripe holds,
and a refund is made at Stripe behind Velora's back through the SDK. A buyer who pays with
Stripe's disputed test card disputes the charge: Stripe withdraws the amount and its fee, and
Velora is told by `charge.dispute.created` and `charge.dispute.closed` built from the dispute
Stripe holds (its balance transactions with them), after the evidence won or lost it at Stripe.
The localstripe server is shared by the whole session, so its statement holds other tests'
transactions: each must be attributed to its own marketplace, and none of them may show in
these."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import pytest
import stripe

from api.bootstrap import Container
from tests.conftest import built, make_settings
from tests.e2e.backends import Served
from tests.e2e.client import Api
from tests.e2e.reconciliation_scenarios import ReconciliationScenarios
from tests.integration.test_stripe import (
    API_KEY,
    DISPUTED_CARD,
    WEBHOOK_SECRET,
    charge_of,
    pay_at_stripe,
)


@pytest.fixture(scope="module")
def stripe_servers_container(
    tmp_path_factory: pytest.TempPathFactory,
    new_pg_database: Callable[[], str],
    new_mysql_database: Callable[[], str],
    stripe_server: str,
) -> Iterator[Container]:
    container = built(
        make_settings(
            tmp_path_factory.mktemp("velora"),
            eventstore_url=new_pg_database(),
            read_db_url=new_mysql_database(),
            stripe_api_key=API_KEY,
            stripe_api_base=stripe_server,
            stripe_webhook_secret=WEBHOOK_SECRET,
        )
    )
    yield container
    container.close()


class TestReconciliationWithStripeOnServers(Served, ReconciliationScenarios):
    @pytest.fixture
    def container(self, stripe_servers_container: Container) -> Container:
        assert stripe_servers_container.log.backend == "postgres"
        assert stripe_servers_container.read_store.backend == "mysql"
        assert stripe_servers_container.checkout.payments.name == "stripe"
        return stripe_servers_container

    @pytest.fixture(autouse=True)
    def _client(self, stripe_server: str) -> None:
        self.client = stripe.StripeClient(API_KEY, base_addresses={"api": stripe_server})  # type: ignore[typeddict-item]

    def pay_at_provider(
        self, api: Api, container: Container, order: dict[str, Any], card: Any = None
    ) -> None:
        intent_id = order["payment"]["intent_id"]
        intent = pay_at_stripe(self.client, intent_id, **({"card": card} if card else {}))
        held = self.client.v1.payment_intents.retrieve(intent_id).to_dict()
        held["latest_charge"] = charge_of(intent)
        event = {"id": f"evt_{intent_id}", "object": "event", "type": "payment_intent.succeeded"}
        response = self.post_event(api, container, {**event, "data": {"object": held}})
        assert response.json()["outcome"] == "paid", response.text

    def told(self, api: Api, container: Container, kind: str, dispute_id: str) -> str:
        """Stripe's `charge.dispute.*` event, of the dispute as Stripe holds it: Velora's
        outcome."""
        held = self.client.v1.disputes.retrieve(dispute_id).to_dict()
        event = {"id": f"evt_{uuid4().hex}", "object": "event", "type": kind}
        response = self.post_event(api, container, {**event, "data": {"object": held}})
        assert response.status_code == 200, response.text
        return str(response.json()["outcome"])

    def pay_and_dispute(self, api: Api, container: Container, order: dict[str, Any]) -> str:
        self.pay_at_provider(api, container, order, card=DISPUTED_CARD)
        intent_id = order["payment"]["intent_id"]
        [dispute] = self.client.v1.disputes.list(params={"payment_intent": intent_id}).data
        assert self.told(api, container, "charge.dispute.created", dispute.id) == "disputed"
        return str(dispute.id)

    def close_dispute(
        self, api: Api, container: Container, order: dict[str, Any], dispute_id: str, won: bool
    ) -> None:
        if won:
            evidence = {"uncategorized_text": "winning_evidence"}
            self.client.v1.disputes.update(dispute_id, params={"evidence": evidence})
        else:
            self.client.v1.disputes.close(dispute_id)  # accepted: lost
        expected = "won" if won else "lost"
        assert self.told(api, container, "charge.dispute.closed", dispute_id) == expected

    def pay_unheard(self, container: Container, order: dict[str, Any]) -> None:
        pay_at_stripe(self.client, order["payment"]["intent_id"])

    def refund_behind_velora(self, container: Container, intent_id: str, amount: int) -> str:
        refund = self.client.v1.refunds.create(
            params={"payment_intent": intent_id, "amount": amount}
        )
        return refund.id

    def payout_account(self, api: Api, seller: str, seller_id: str) -> None:
        account = self.client.v1.accounts.create(params={"type": "express"}).id
        response = api.request(
            "PUT",
            f"/v1/sellers/{seller_id}/payout-account",
            token=seller,
            json={"account_id": account},
        )
        assert response.status_code == 200, response.text
