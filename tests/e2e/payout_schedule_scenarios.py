"""Scheduled payouts over HTTP and through the scheduler: a tenant's schedule pays each seller
once per period, however many schedulers pass, and whether or not one stopped mid-run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.payments.stripe import StripeProvider
from api.bootstrap import Container
from eventstore.context import CommandContext
from projections.scope import TenantScope
from tests.e2e.client import Api, assert_problem
from tests.e2e.money_scenarios import accounts, balanced
from tests.e2e.shop import Marketplace, Shop

WED = datetime(2026, 12, 2, 9, tzinfo=UTC)  # ISO week 49 of 2026


class PayoutScheduleScenarios(Shop):
    def scheduled(
        self, api: Api, root: str, container: Container, name: str
    ) -> tuple[Marketplace, str, str, str, str]:
        """A marketplace paying weekly on Wednesdays, with a seller owed 18,000."""
        m = self.marketplace(api, root, name, moderation="auto", hold_days=0)
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        path = f"/v1/tenants/{m.tenant_id}/payout-schedule"
        done = api.request("PUT", path, token=finance, json={"interval": "weekly", "day": 3})
        assert done.status_code == 200, done.text
        self.delivered(api, container, seller, buyer)
        assert self.balance(api, finance, seller_id)["available"] == 18_000
        return m, seller, seller_id, buyer, finance

    def paid(self, api: Api, token: str, seller_id: str) -> list[tuple[int, str]]:
        listed = api.get("/v1/payouts", token=token, params={"seller_id": seller_id}).json()
        return [(p["amount"]["amount"], p["status"]) for p in listed["items"]]

    def passes(self, api: Api, container: Container, *moments: datetime) -> None:
        for now in moments:
            container.catch_up()
            container.scheduler.run_once(now)
        api.position = container.log.head()

    def test_a_weekly_schedule_pays_once_a_week_from_its_day(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller, seller_id, buyer, finance = self.scheduled(api, root, container, "Weekly")
        self.passes(api, container, WED - timedelta(days=1))  # Tuesday: not yet
        assert self.paid(api, finance, seller_id) == []
        self.passes(api, container, WED, WED + timedelta(hours=5), WED + timedelta(days=2))
        assert self.paid(api, finance, seller_id) == [(18_000, "paid")]
        shown = api.get(f"/v1/tenants/{m.tenant_id}", token=finance).json()
        assert shown["payout_schedule"] == {
            "interval": "weekly",
            "day": 3,
            "last_period": "2026-W49",
        }

        # Money released later in the week waits for next week's run.
        self.delivered(api, container, seller, buyer)
        self.passes(api, container, WED + timedelta(days=3))
        assert self.paid(api, finance, seller_id) == [(18_000, "paid")]
        self.passes(api, container, WED + timedelta(days=7), WED + timedelta(days=8))
        assert self.paid(api, finance, seller_id) == [(18_000, "paid"), (18_000, "paid")]
        assert self.balance(api, seller, seller_id) == {
            "in_escrow": 0,
            "available": 0,
            "in_dispute": 0,
            "paid_out": 36_000,
        }
        balanced(api, finance, m.tenant_id)

    def test_schedulers_racing_or_restarted_mid_run_pay_each_seller_once(
        self, api: Api, root: str, container: Container
    ) -> None:
        _, _, seller_id, _, finance = self.scheduled(api, root, container, "Racing")
        container.catch_up()
        # Four schedulers pass at once.
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: container.payout_runs.run_scheduled(WED), range(4)))
        api.position = container.log.head()
        assert self.paid(api, finance, seller_id) == [(18_000, "paid")]

        # Next week a scheduler stops after paying, before noting the week as paid: the next
        # pass runs the same week's run again and pays nobody twice.
        m2, seller2, seller2_id, buyer2, _ = self.scheduled(api, root, container, "Restarted")
        container.catch_up()
        week50 = WED + timedelta(days=7)
        ctx = CommandContext.system("scheduler:payouts")
        container.payout_runs.run(ctx, TenantScope.only(m2.tenant_id), "schedule:2026-W50")
        self.passes(api, container, week50, week50 + timedelta(hours=1))
        assert self.paid(api, finance, seller2_id) == [(18_000, "paid")]
        shown = api.get(f"/v1/tenants/{m2.tenant_id}", token=finance).json()
        assert shown["payout_schedule"]["last_period"] == "2026-W50"
        assert accounts(api, finance, m2.tenant_id)[f"seller:payable:{seller2_id}"] == 0

        # The provider does not answer: the payout waits, the week is not noted, and the next
        # pass asks again with the same key.
        path = f"/v1/sellers/{seller2_id}/payout-account"
        assert api.request("PUT", path, token=seller2, json={"account_id": "acct_1S"}).is_success
        self.delivered(api, container, seller2, buyer2)
        week51 = week50 + timedelta(days=7)
        reachable = container.payouts.payments
        container.payouts.payments = StripeProvider(
            "sk_test_unreachable", api_base="http://127.0.0.1:9", max_retries=0
        )
        try:
            self.passes(api, container, week51)
        finally:
            container.payouts.payments = reachable
        assert self.paid(api, finance, seller2_id) == [(18_000, "paid"), (18_000, "pending")]
        assert (
            api.get(f"/v1/tenants/{m2.tenant_id}", token=finance).json()["payout_schedule"][
                "last_period"
            ]
            == "2026-W50"
        )
        self.passes(api, container, week51 + timedelta(minutes=1))
        assert self.paid(api, finance, seller2_id) == [(18_000, "paid"), (18_000, "paid")]
        balanced(api, finance, m2.tenant_id)

    def test_only_finance_sets_a_schedule_of_a_shape_it_can_keep(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller, _, buyer, _ = self.shop(api, root)
        finance = self.platform_user(api, root, "finance_admin")
        path = f"/v1/tenants/{m.tenant_id}/payout-schedule"
        weekly = {"interval": "weekly", "day": 5}
        for token in (buyer, seller, m.admin_token):
            assert_problem(api.request("PUT", path, token=token, json=weekly), 403)
        unknown = "/v1/tenants/00000000-0000-4000-8000-000000000000/payout-schedule"
        assert_problem(api.request("PUT", unknown, token=finance, json=weekly), 404)
        bad: list[dict[str, Any]] = [
            {"interval": "hourly"},
            {"interval": "daily", "day": 1},
            {"interval": "weekly"},
            {"interval": "weekly", "day": 8},
            {"interval": "monthly", "day": 29},
            {"interval": "monthly", "day": "1"},
            {"interval": "monthly", "day": 1, "at": "09:00"},
            {},
        ]
        for body in bad:
            assert_problem(api.request("PUT", path, token=finance, json=body), 422)
        assert (
            api.get(f"/v1/tenants/{m.tenant_id}", token=finance).json()["payout_schedule"] is None
        )
        assert api.request("PUT", path, token=finance, json=weekly).status_code == 200
        daily = api.request("PUT", path, token=finance, json={"interval": "daily"})
        assert daily.status_code == 200
        assert api.get(f"/v1/tenants/{m.tenant_id}", token=finance).json()["payout_schedule"] == {
            "interval": "daily",
            "day": None,
            "last_period": None,
        }
