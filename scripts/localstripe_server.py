"""localstripe, the stateful fake Stripe server, with the parts of Stripe's API that Velora uses
and localstripe lacks, so the StripeProvider is tested through the official SDK end to end:

- idempotency keys: a POST repeated with the same `Idempotency-Key` answers the first response
  again; the same key with other parameters is refused (400 idempotency_error), as Stripe does;
- `transfer_group` on PaymentIntents;
- Connect: accounts and transfers with `source_transaction`. A transfer must name an existing
  account and a succeeded charge in its currency, and the transfers out of one charge may not
  add up to more than what remains of it after refunds.
- Balance transactions as reconciliation reads them. localstripe serves
  `GET /v1/balance_transactions` but refuses every filter, charges no fee and records only
  charges and refunds. Here the list takes `created[gte|gt|lt|lte]` and `type` (newest first,
  paged by `starting_after`, `expand[]=data.source` as before); a card charge's transaction
  carries the fee Stripe's standard card pricing would take (2.9% + 30 minor units, rounded half
  up, in `fee` and `fee_details`); and every Connect transfer records its own transaction (the
  amount out, no fee), as Stripe's do. Disputes and payouts to a bank, which localstripe does
  not make, record none.

Run: python scripts/localstripe_server.py [--port 8420]. It binds to loopback only and starts
from an empty store."""

from __future__ import annotations

import argparse
import hashlib
import os
from typing import Any

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError

# localstripe keeps its state in this fixed file; each start begins from an empty store.
STORE_FILE = "/tmp/localstripe.pickle"  # noqa: S108

_plain_init = resources.PaymentIntent.__init__
_plain_txn_init = resources.BalanceTransaction.__init__


def _intent_init(self: Any, transfer_group: str | None = None, **kwargs: Any) -> None:
    _plain_init(self, **kwargs)
    self.transfer_group = transfer_group


resources.PaymentIntent.__init__ = _intent_init  # type: ignore[method-assign]


def card_fee(amount: int) -> int:
    """Stripe's standard card pricing: 2.9% + 30, in minor units, rounded half up."""
    return (amount * 29 + 500) // 1000 + 30


def _txn_init(self: Any, type: str | None = None, source: str | None = None, **kw: Any) -> None:
    if type == "transfer" and isinstance(source, str) and source.startswith("tr_"):
        # localstripe's own checks know only charges and refunds: a transfer's is made here.
        resources.StripeObject.__init__(self)
        amount = resources.try_convert_to_int(kw.get("amount"))
        self.amount, self.available_on, self.currency = amount, self.created, kw["currency"]
        self.description, self.exchange_rate = kw.get("description"), None
        self.fee, self.fee_details = 0, []
        self.reporting_category, self.source, self.status, self.type = (
            "transfer",
            source,
            "available",
            "transfer",
        )
        return
    _plain_txn_init(self, type=type, source=source, **kw)
    if type == "charge":
        self.fee = card_fee(self.amount)
        self.fee_details = [
            {"amount": self.fee, "currency": self.currency, "type": "stripe_fee"},
        ]


def _created_within(created: Any) -> Any:
    """`created` as Stripe takes it: a Unix time, or bounds gt, gte, lt, lte."""
    bounds = created if isinstance(created, dict) else {"eq": created}
    tests = {
        "eq": lambda a, b: a == b,
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    try:
        checks = [(tests[op], int(value)) for op, value in bounds.items()]
    except (KeyError, TypeError, ValueError):
        raise UserError(400, "Invalid created filter") from None
    return lambda at: all(test(at, value) for test, value in checks)


def _list_txns(
    url: str,
    limit: Any = None,
    starting_after: str | None = None,
    created: Any = None,
    type: str | None = None,
    **kwargs: Any,
) -> Any:
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs))
    listed = resources.List(url, limit=limit, starting_after=starting_after)
    within = _created_within(created) if created is not None else lambda at: True
    listed._list = sorted(
        (
            t
            for key, t in resources.store.items()
            if key.startswith("balance_transaction:")
            and within(t.created)
            and (type is None or t.type == type)
        ),
        key=lambda t: t.created,
        reverse=True,
    )
    return listed


resources.BalanceTransaction.__init__ = _txn_init  # type: ignore[method-assign]
resources.BalanceTransaction._api_list_all = classmethod(  # type: ignore[method-assign]
    lambda cls, url, **kw: _list_txns(url, **kw)
)


class Account(resources.StripeObject):  # type: ignore[misc]
    object = "account"
    _id_prefix = "acct_"

    def __init__(
        self,
        type: str | None = None,
        country: str | None = None,
        email: str | None = None,
        metadata: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs))
        if type not in (None, "custom", "express", "standard"):
            raise UserError(400, "Bad request")
        super().__init__()
        self.type = type or "custom"
        self.country = country or "US"
        self.email = email
        self.metadata = metadata or {}
        self.charges_enabled = True
        self.payouts_enabled = True


class Transfer(resources.StripeObject):  # type: ignore[misc]
    object = "transfer"
    _id_prefix = "tr_"

    def __init__(
        self,
        amount: Any = None,
        currency: str | None = None,
        destination: str | None = None,
        source_transaction: str | None = None,
        transfer_group: str | None = None,
        description: str | None = None,
        metadata: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs))
        amount = resources.try_convert_to_int(amount)
        if not isinstance(amount, int) or amount <= 0 or not currency or not destination:
            raise UserError(400, "amount, currency and destination are required")
        Account._api_retrieve(destination)  # 404 for an unknown account
        if source_transaction is not None:
            charge = resources.Charge._api_retrieve(source_transaction)
            if charge.status != "succeeded":
                raise UserError(400, "the source transaction has not succeeded")
            if charge.currency.lower() != currency.lower():
                raise UserError(400, "the transfer currency must match the source charge")
            spent = sum(
                t.amount
                for key, t in resources.store.items()
                if key.startswith("transfer:") and t.source_transaction == source_transaction
            )
            if spent + amount > charge.amount - charge.amount_refunded:
                raise UserError(
                    400, "transfers would exceed what remains of the source transaction"
                )
        super().__init__()
        self.amount = amount
        self.currency = currency.lower()
        self.destination = destination
        self.source_transaction = source_transaction
        self.transfer_group = transfer_group
        self.description = description
        self.metadata = metadata or {}
        self.reversed = False
        txn = resources.BalanceTransaction(
            amount=-amount, currency=self.currency, type="transfer", source=self.id
        )
        self.balance_transaction = txn.id


_answered: dict[str, tuple[str, int, bytes]] = {}


@web.middleware
async def idempotency(request: web.Request, handler: Any) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    body = await request.read()
    fingerprint = hashlib.sha256(request.path.encode() + b"\0" + body).hexdigest()
    if key in _answered:
        first, status, answer = _answered[key]
        if first != fingerprint:
            return web.json_response(
                {
                    "error": {
                        "type": "idempotency_error",
                        "message": "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.",
                    }
                },
                status=400,
            )
        return web.Response(
            body=answer,
            status=status,
            content_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    response = await handler(request)
    if 200 <= response.status < 300 and isinstance(response, web.Response) and response.body:
        _answered[key] = (fingerprint, response.status, bytes(response.body))  # type: ignore[arg-type]
    return response


def make_app() -> web.Application:
    app: web.Application = server.app
    app.middlewares.insert(0, idempotency)
    for cls in (Account, Transfer):
        plural = f"/v1/{cls.object}s"
        app.router.add_route("POST", plural, server.api_create(cls, plural))
        app.router.add_route("GET", plural + "/{id}", server.api_retrieve(cls, plural))
        app.router.add_route("GET", plural, server.api_list_all(cls, plural))
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args()
    if os.path.exists(STORE_FILE):
        os.remove(STORE_FILE)
    web.run_app(make_app(), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
