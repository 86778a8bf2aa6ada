"""One fulfilment queue and one dashboard (docs/api-seller-pro.md), as a business selling on a
dollar and a euro marketplace reads it: its seller orders across both, newest first; its
balance and payouts in each, in that marketplace's currency; its sales per marketplace and per
currency, never summed across currencies. And no one else's: not another seller's in the same
marketplace, not another business's, and nothing for the marketplaces' own people."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.organisation_scenarios import OrganisationScenarios
from tests.e2e.shop import Shop, intent_event, price
from tests.e2e.world import Marketplace

ROUTES = ("seller-orders", "balances", "payouts", "analytics")
SHIP = {"carrier": "UPS", "tracking_number": "1Z"}


def amounts(figures: dict[str, Any]) -> dict[str, Any]:
    """Money objects as their amounts; counts and codes as they are."""
    return {k: v["amount"] if isinstance(v, dict) else v for k, v in figures.items()}


def unnamed(problem: dict[str, Any], named: str) -> dict[str, Any]:
    """A problem with the id it names blanked, to compare two refusals."""
    return {k: v.replace(named, "ID") if isinstance(v, str) else v for k, v in problem.items()}


class OrganisationDashboardScenarios(Shop):
    # The organisation's steps, taken without its tests (which would run again here).
    seller_pro = OrganisationScenarios.seller_pro
    organisation = OrganisationScenarios.organisation
    join = OrganisationScenarios.join
    marketplace_token = OrganisationScenarios.marketplace_token

    def joined(self, api: Api, pro: str, organisation: str, m: Marketplace) -> tuple[str, str]:
        """The organisation applies to `m`, whose admin approves it: (token there, seller id)."""
        seller_id = self.join(api, pro, organisation, m.tenant_id)["seller_id"]
        assert api.post(f"/v1/sellers/{seller_id}/approve", token=m.admin_token).is_success
        return self.marketplace_token(api, pro, organisation, m.tenant_id), seller_id

    def bought(
        self, api: Api, container: Container, buyer: str, product: str, quantity: int, **kw: Any
    ) -> str:
        """A buyer's order of one product, paid through the provider's signed webhook unless
        `paid` is False: its one seller order's id."""
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: quantity}))
        assert order.status_code == 201, order.text
        body = order.json()
        if kw.get("paid", True):
            total = body["total"]
            event = intent_event(
                "payment_intent.succeeded",
                body["payment"]["intent_id"],
                total["amount"],
                total["currency"].lower(),
            )
            assert self.post_event(api, container, event).json()["outcome"] == "paid"
        return str(body["seller_orders"][0]["id"])

    def test_one_queue_and_one_dashboard_across_two_currencies(
        self, api: Api, root: str, container: Container
    ) -> None:
        usd = self.marketplace(api, root, "Acme", moderation="auto", hold_days=0)
        eur = self.marketplace(api, root, "Globex", moderation="auto", hold_days=0, currency="EUR")
        more_usd = self.marketplace(api, root, "Initech", moderation="auto", hold_days=0)
        pro = self.seller_pro(api)
        org = self.organisation(api, pro)
        at_usd, usd_seller = self.joined(api, pro, org, usd)
        at_eur, eur_seller = self.joined(api, pro, org, eur)
        at_more, more_seller = self.joined(api, pro, org, more_usd)
        teapot = self.stocked(api, at_usd, 10, 2_000)
        kettle = self.stocked(api, at_eur, 10, 3_000, currency="EUR")
        mug = self.stocked(api, at_more, 10, 500)
        # Another seller of the dollar marketplace, with an order and a payout of its own.
        plain, plain_id = self.approved_seller(api, usd)
        cup = self.stocked(api, plain, 10, 1_000)
        buyer_usd, buyer_eur = self.user(api, usd, "buyer"), self.user(api, eur, "buyer")
        buyer_more = self.user(api, more_usd, "buyer")

        so_usd = self.bought(api, container, buyer_usd, teapot, 2)
        so_eur = self.bought(api, container, buyer_eur, kettle, 1)
        so_plain = self.bought(api, container, buyer_usd, cup, 1)
        so_more = self.bought(api, container, buyer_more, mug, 3)
        so_unpaid = self.bought(api, container, buyer_usd, teapot, 1, paid=False)

        # The queue: its seller orders in every marketplace, newest first, none of the other
        # seller's, each exactly as that marketplace's own route shows it.
        queue_path = f"/v1/organisations/{org}/seller-orders"
        queue = api.get(queue_path, token=pro).json()
        assert queue["next_cursor"] is None
        items = queue["items"]
        assert [o["id"] for o in items] == [so_unpaid, so_more, so_eur, so_usd]
        assert [o["tenant_id"] for o in items] == [
            usd.tenant_id,
            more_usd.tenant_id,
            eur.tenant_id,
            usd.tenant_id,
        ]
        assert so_plain not in {o["id"] for o in items}
        tokens = {usd.tenant_id: at_usd, eur.tenant_id: at_eur, more_usd.tenant_id: at_more}
        for item in items:
            own = api.get(f"/v1/seller-orders/{item['id']}", token=tokens[item["tenant_id"]])
            assert own.json() == item
        assert items[2]["subtotal"] == price(3_000, "EUR")
        assert api.get(queue_path, token=root).json() == queue  # the platform's super admin

        def ids(**params: Any) -> list[str]:
            answer = api.get(queue_path, token=pro, params=params)
            assert answer.status_code == 200, answer.text
            return [o["id"] for o in answer.json()["items"]]

        assert ids(status="paid") == [so_more, so_eur, so_usd]
        assert ids(status="pending_payment") == [so_unpaid]
        assert ids(status="shipped") == []
        assert ids(tenant_id=usd.tenant_id) == [so_unpaid, so_usd]
        assert ids(tenant_id=eur.tenant_id, status="paid") == [so_eur]
        paged, cursor = [], None
        while True:
            page = api.get(queue_path, token=pro, params={"limit": 3, "cursor": cursor}).json()
            paged.append([o["id"] for o in page["items"]])
            if (cursor := page["next_cursor"]) is None:
                break
        assert paged == [[so_unpaid, so_more, so_eur], [so_usd]]
        assert_problem(api.get(queue_path, token=pro, params={"cursor": "nonsense"}), 422)

        # Balances: per marketplace, in its currency, as each seller's own balance reads.
        balances_path = f"/v1/organisations/{org}/balances"

        def balances() -> list[dict[str, Any]]:
            answer = api.get(balances_path, token=pro)
            assert answer.status_code == 200, answer.text
            items: list[dict[str, Any]] = answer.json()["items"]
            for item, (token, seller) in zip(
                items,
                ((at_usd, usd_seller), (at_eur, eur_seller), (at_more, more_seller)),
                strict=True,
            ):
                own = api.get(f"/v1/sellers/{seller}/balance", token=token).json()
                assert item == {"tenant_id": item["tenant_id"], "seller_id": seller, **own}
            return items

        held = balances()
        assert [(b["tenant_id"], b["seller_id"]) for b in held] == [
            (usd.tenant_id, usd_seller),
            (eur.tenant_id, eur_seller),
            (more_usd.tenant_id, more_seller),
        ]
        assert [(b["in_escrow"], b["available"]) for b in held] == [
            (price(3_600), price(0)),
            (price(2_700, "EUR"), price(0, "EUR")),
            (price(1_350), price(0)),
        ]
        assert api.get(balances_path, token=root).json()["items"] == held

        # Delivered, the escrow is released (no hold days); finance pays each marketplace out.
        for so, token in (
            (so_usd, at_usd),
            (so_eur, at_eur),
            (so_more, at_more),
            (so_plain, plain),
        ):
            assert api.post(f"/v1/seller-orders/{so}/ship", token=token, json=SHIP).is_success
            assert api.post(f"/v1/seller-orders/{so}/deliver", token=token).is_success
        # (with no hold days, delivery releases the escrow at once: the orders are completed)
        assert ids(status="completed") == [so_more, so_eur, so_usd]
        finance = self.platform_user(api, root, "finance_admin")
        for m in (usd, eur, more_usd):
            run = api.post("/v1/payouts/run", token=finance, json={"tenant_id": m.tenant_id})
            assert run.status_code == 201, run.text
        paid = balances()
        assert [(b["available"], b["paid_out"]) for b in paid] == [
            (price(0), price(3_600)),
            (price(0, "EUR"), price(2_700, "EUR")),
            (price(0), price(1_350)),
        ]

        # Payouts: its own in every marketplace, oldest first, none of the other seller's.
        payouts_path = f"/v1/organisations/{org}/payouts"
        listed = api.get(payouts_path, token=pro).json()
        assert listed["next_cursor"] is None
        assert [
            (p["tenant_id"], p["seller_id"], p["amount"], p["status"]) for p in listed["items"]
        ] == [
            (usd.tenant_id, usd_seller, price(3_600), "paid"),
            (eur.tenant_id, eur_seller, price(2_700, "EUR"), "paid"),
            (more_usd.tenant_id, more_seller, price(1_350), "paid"),
        ]
        assert plain_id not in {p["seller_id"] for p in listed["items"]}
        assert api.get(payouts_path, token=at_eur).status_code == 403  # a marketplace token
        own = api.get("/v1/payouts", token=at_eur).json()["items"]
        assert own == [p for p in listed["items"] if p["tenant_id"] == eur.tenant_id]
        only_eur = api.get(payouts_path, token=pro, params={"tenant_id": eur.tenant_id}).json()
        assert only_eur["items"] == own
        first = api.get(payouts_path, token=pro, params={"limit": 2}).json()
        rest = api.get(payouts_path, token=pro, params={"cursor": first["next_cursor"]}).json()
        assert first["items"] + rest["items"] == listed["items"]
        assert rest["next_cursor"] is None
        assert api.get(payouts_path, token=root).json() == listed

        # Analytics: per marketplace as each seller's own dashboard totals it, and per
        # currency: the two dollar marketplaces add up, euros stand apart.
        analytics_path = f"/v1/organisations/{org}/analytics"
        body = api.get(analytics_path, token=pro).json()
        assert [(m["tenant_id"], m["seller_id"], m["currency"]) for m in body["marketplaces"]] == [
            (usd.tenant_id, usd_seller, "USD"),
            (eur.tenant_id, eur_seller, "EUR"),
            (more_usd.tenant_id, more_seller, "USD"),
        ]
        for row, (token, seller) in zip(
            body["marketplaces"],
            ((at_usd, usd_seller), (at_eur, eur_seller), (at_more, more_seller)),
            strict=True,
        ):
            own = api.get(f"/v1/sellers/{seller}/analytics", token=token).json()
            assert (own["start"], own["end"]) == (body["start"], body["end"])
            assert row["totals"] == {k: v for k, v in own["totals"].items() if k != "conversion"}
        assert [amounts(m["totals"]) for m in body["marketplaces"]] == [
            {
                "gmv": 4_000,
                "orders": 1,
                "units": 2,
                "average_order_value": 4_000,
                "refunds": 0,
                "commission": 400,
                "net": 3_600,
            },
            {
                "gmv": 3_000,
                "orders": 1,
                "units": 1,
                "average_order_value": 3_000,
                "refunds": 0,
                "commission": 300,
                "net": 2_700,
            },
            {
                "gmv": 1_500,
                "orders": 1,
                "units": 3,
                "average_order_value": 1_500,
                "refunds": 0,
                "commission": 150,
                "net": 1_350,
            },
        ]
        assert [t["currency"] for t in body["totals"]] == ["EUR", "USD"]
        assert body["totals"][0]["gmv"] == price(3_000, "EUR")
        assert [amounts(t) for t in body["totals"]] == [
            {
                "currency": "EUR",
                "gmv": 3_000,
                "orders": 1,
                "units": 1,
                "average_order_value": 3_000,
                "refunds": 0,
                "commission": 300,
                "net": 2_700,
            },
            {
                "currency": "USD",
                "gmv": 5_500,
                "orders": 2,
                "units": 5,
                "average_order_value": 2_750,
                "refunds": 0,
                "commission": 550,
                "net": 4_950,
            },
        ]
        assert api.get(analytics_path, token=root).json() == body
        # A range before any sale: every marketplace and currency is there, at zero.
        before = api.get(
            analytics_path, token=pro, params={"from": "2020-01-01", "to": "2020-01-31"}
        ).json()
        assert (before["start"], before["end"]) == ("2020-01-01", "2020-01-31")
        assert [t["currency"] for t in before["totals"]] == ["EUR", "USD"]
        assert {t["gmv"]["amount"] for t in before["totals"]} == {0}
        assert len(before["marketplaces"]) == 3
        backwards = api.get(
            analytics_path, token=pro, params={"from": "2020-02-01", "to": "2020-01-01"}
        )
        assert_problem(backwards, 422)

    def test_the_dashboard_is_the_organisations_alone(self, api: Api, root: str) -> None:
        acme = self.marketplace(api, root, "Acme", moderation="auto")
        other = self.marketplace(api, root, "Other")
        pro, rival = self.seller_pro(api), self.seller_pro(api)
        org = self.organisation(api, pro)
        rivals = self.organisation(api, rival, "Rival")
        self.joined(api, pro, org, acme)
        unknown = str(uuid4())

        # Another business gets 404, exactly as for an unknown id (but for the id named).
        for route in ROUTES:
            answers = [
                unnamed(assert_problem(api.get(f"/v1/organisations/{o}/{route}", token=t), 404), o)
                for o, t in ((org, rival), (unknown, rival), (unknown, root))
            ]
            assert answers[0] == answers[1] == answers[2], route

        # A marketplace it has not joined answers as one that does not exist.
        for route in ("seller-orders", "payouts"):
            path = f"/v1/organisations/{org}/{route}"
            answers = [
                unnamed(assert_problem(api.get(path, token=pro, params={"tenant_id": t}), 404), t)
                for t in (other.tenant_id, str(uuid4()))
            ]
            assert answers[0] == answers[1], route
            assert api.get(path, token=pro, params={"tenant_id": acme.tenant_id}).is_success

        # A marketplace's own people, its seller (the organisation's own, with its marketplace
        # token, included) and the platform's finance and audit staff: 403, whatever the id.
        refused = (
            acme.admin_token,
            self.user(api, acme, "buyer"),
            self.user(api, acme, "seller"),
            self.marketplace_token(api, pro, org, acme.tenant_id),
            self.platform_user(api, root, "finance_admin"),
            self.platform_user(api, root, "auditor"),
        )
        for token in refused:
            for route in ROUTES:
                for o in (org, unknown):
                    assert_problem(api.get(f"/v1/organisations/{o}/{route}", token=token), 403)
        for route in ROUTES:
            assert_problem(api.get(f"/v1/organisations/{org}/{route}"), 401)

        # Its own, and the platform's super admin, read it: empty until it sells.
        for token in (pro, root):
            assert api.get(f"/v1/organisations/{org}/seller-orders", token=token).json() == {
                "items": [],
                "next_cursor": None,
            }
            balances = api.get(f"/v1/organisations/{org}/balances", token=token).json()
            assert [(b["tenant_id"], b["available"]) for b in balances["items"]] == [
                (acme.tenant_id, price(0))
            ]
            assert api.get(f"/v1/organisations/{org}/payouts", token=token).json()["items"] == []
            totals = api.get(f"/v1/organisations/{org}/analytics", token=token).json()["totals"]
            assert [(t["currency"], t["gmv"]) for t in totals] == [("USD", price(0))]
        # An organisation that has joined no marketplace yet has nothing to show.
        for route in ROUTES:
            empty = api.get(f"/v1/organisations/{rivals}/{route}", token=rival)
            assert empty.status_code == 200, empty.text
            body = empty.json()
            assert (
                body.get("items", [])
                == body.get("marketplaces", [])
                == body.get("totals", [])
                == []
            )
