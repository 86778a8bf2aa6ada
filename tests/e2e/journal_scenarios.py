"""The accounting journal over HTTP, as a finance admin's export: every posted movement once
per side, balanced, named by order and seller, with opening and closing balances that tie out
to the ledger's accounts."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import projections.ledger.queries
from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.money_scenarios import accounts, balanced
from tests.e2e.shop import Shop

DEBIT_NORMAL = ("asset", "expense")

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")


def journal(api: Api, token: str, tenant_id: str, start: Any, end: Any) -> dict[str, Any]:
    answer = api.get(
        "/v1/ledger/journal",
        token=token,
        params={"tenant_id": tenant_id, "from": str(start), "to": str(end)},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return answer.json()  # type: ignore[no-any-return]


def net_balances(records: list[dict[str, Any]]) -> dict[str, int]:
    """Balances on their side, as the accounts endpoint gives them (normal side positive)."""
    out = {}
    for r in records:
        net = r["debit"] - r["credit"]
        out[r["account"]] = net if r["type"] in DEBIT_NORMAL else -net
    return out


class JournalScenarios(Shop):
    def test_the_journal_ties_out_to_the_ledger_and_names_orders_and_sellers(
        self, api: Api, root: str, container: Container, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        m = self.marketplace(api, root, "Books", moderation="auto", hold_days=0)
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        auditor = self.platform_user(api, root, "auditor")
        # Delivered and released (payment, escrow released), then refunded after release.
        released = self.delivered(api, container, seller, buyer)
        released_order = api.get(f"/v1/seller-orders/{released}", token=seller).json()["order_id"]
        refund = api.post(
            "/v1/refunds",
            token=buyer,
            json={
                "seller_order_id": released,
                "reason": "late",
                "amount": {"amount": 10_000, "currency": "USD"},
            },
        ).json()
        assert api.post(f"/v1/refunds/{refund['id']}/approve", token=seller).status_code == 200
        # Paid, then cancelled: its escrow goes back to the buyer.
        product = self.stocked(api, seller, 5, 2_500)
        cancelled = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.pay(api, container, cancelled["order_id"])
        api.post(f"/v1/orders/{cancelled['order_id']}/cancel", token=buyer)
        # A payout that nets what the refund charged back.
        run = api.post("/v1/payouts/run", token=finance, json={"tenant_id": m.tenant_id})
        assert [p["amount"]["amount"] for p in run.json()["payouts"]] == [9_000]
        balanced(api, finance, m.tenant_id)

        today = datetime.now(UTC).date()
        body = journal(api, finance, m.tenant_id, today - timedelta(days=1), today)
        assert (body["tenant_id"], body["from"], body["to"]) == (
            m.tenant_id,
            str(today - timedelta(days=1)),
            str(today),
        )
        lines = body["lines"]
        assert body["opening"] == []  # nothing was posted before
        # Double entry: every transfer once on each side, for the same amount.
        sides: dict[str, Counter[str]] = {}
        for line in lines:
            assert (line["debit"] == 0) != (line["credit"] == 0), line
            assert line["currency"] == "USD" and line["date"] == str(today)
            sides.setdefault(line["transfer_id"], Counter())[
                "debit" if line["debit"] else "credit"
            ] += line["debit"] or line["credit"]
        for transfer, amounts in sides.items():
            assert amounts["debit"] == amounts["credit"], transfer
        total = sum(line["debit"] for line in lines)
        assert body["totals"] == [{"currency": "USD", "debit": total, "credit": total}]
        # RFC 3339 in UTC with a Z, as every time Velora writes (domain/times.py).
        assert all(RFC3339.fullmatch(line["at"]) for line in lines), lines[0]["at"]
        posted = [(datetime.fromisoformat(line["at"]), line["position"]) for line in lines]
        assert posted == sorted(posted)  # in the order they were posted
        # Opening (none) plus each account's lines is its closing balance ...
        moved: Counter[str] = Counter()
        for line in lines:
            moved[line["account"]] += line["debit"] - line["credit"]
        assert {r["account"]: r["debit"] - r["credit"] for r in body["closing"]} == moved
        # ... which is the account's balance, and they balance.
        assert net_balances(body["closing"]) == accounts(api, finance, m.tenant_id)
        closing_debits = sum(r["debit"] for r in body["closing"])
        assert closing_debits == sum(r["credit"] for r in body["closing"]) > 0

        def about(memo_word: str) -> list[dict[str, Any]]:
            return [line for line in lines if memo_word in line["memo"]]

        payments = about("payment received")
        assert {line["order_id"] for line in payments} == {
            released_order,
            cancelled["order_id"],
        }
        assert {line["seller_id"] for line in payments} == {seller_id}
        clawback = about("charged back to the seller")
        assert clawback and {line["order_id"] for line in clawback} == {released_order}
        assert {line["order_id"] for line in about("refund to the buyer")} == {
            cancelled["order_id"]
        }
        payout = about("payout to the seller") + about("netted against its payout")
        assert payout and {(line["order_id"], line["seller_id"]) for line in payout} == {
            (None, seller_id)
        }
        commission = [line for line in lines if line["account"] == "platform:commission"]
        assert commission and {line["seller_id"] for line in commission} == {seller_id}

        # A period that starts after it all: opened with what was closed above, no lines.
        later = journal(
            api, auditor, m.tenant_id, today + timedelta(days=1), today + timedelta(days=2)
        )
        assert later["lines"] == [] and later["totals"] == []
        assert later["opening"] == [r | {"date": later["from"]} for r in body["closing"]]
        assert later["closing"] == [r | {"date": later["to"]} for r in body["closing"]]

        # Read a few lines at a time, it is the same journal.
        monkeypatch.setattr(projections.ledger.queries, "JOURNAL_CHUNK", 3)
        assert journal(api, finance, m.tenant_id, today - timedelta(days=1), today) == body

        # The same as CSV, a record per row.
        answer = api.get(
            "/v1/ledger/journal",
            token=finance,
            params={
                "tenant_id": m.tenant_id,
                "from": str(today),
                "to": str(today),
                "format": "csv",
            },
        )
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert list(rows[0]) == [
            "record",
            "date",
            "at",
            "position",
            "transfer_id",
            "account",
            "type",
            "debit",
            "credit",
            "currency",
            "memo",
            "order_id",
            "seller_id",
        ]
        assert Counter(r["record"] for r in rows) == {
            "line": len(lines),
            "closing": len(body["closing"]),
        }
        csv_lines = [r for r in rows if r["record"] == "line"]
        assert all(RFC3339.fullmatch(r["at"]) for r in csv_lines), csv_lines[0]["at"]
        assert [
            (r["transfer_id"], r["account"], int(r["debit"]), int(r["credit"])) for r in csv_lines
        ] == [
            (line["transfer_id"], line["account"], line["debit"], line["credit"]) for line in lines
        ]
        assert [r["order_id"] or None for r in csv_lines] == [line["order_id"] for line in lines]

    def test_only_finance_and_audit_read_the_journal_of_a_named_marketplace(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller, _, buyer, _ = self.shop(api, root)
        finance = self.platform_user(api, root, "finance_admin")
        self.delivered(api, container, seller, buyer)
        today = str(datetime.now(UTC).date())
        span = {"tenant_id": m.tenant_id, "from": today, "to": today}
        for token in (buyer, seller, m.admin_token):
            assert_problem(api.get("/v1/ledger/journal", token=token, params=span), 403)
        other = self.marketplace(api, root, "Elsewhere")
        assert journal(api, finance, other.tenant_id, today, today)["lines"] == []
        assert journal(api, finance, m.tenant_id, today, today)["lines"]
        for params, status in (
            ({"from": today, "to": today}, 422),  # which marketplace?
            ({**span, "tenant_id": "00000000-0000-4000-8000-000000000000"}, 404),
            ({**span, "from": "2026-13-01"}, 422),
            ({**span, "from": today, "to": "2020-01-01"}, 422),
            ({**span, "from": "2010-01-01"}, 422),  # more than ten years
            ({**span, "format": "xml"}, 422),
            ({"tenant_id": m.tenant_id, "to": today}, 422),
        ):
            assert_problem(api.get("/v1/ledger/journal", token=finance, params=params), status)
