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
  amount out, no fee), as Stripe's do. Payouts to a bank, which localstripe does not make,
  record none.
- Disputes, which localstripe lacks entirely, as Stripe's test mode makes them: a charge paid
  with the test card 4000 0000 0000 0259 succeeds and is disputed at once (`fraudulent`,
  `needs_response`). As Stripe's documentation describes, the dispute withdraws the amount and
  a 15.00 dispute fee from the balance when it opens (an `adjustment` balance transaction whose
  source is the dispute, in the dispute's `balance_transactions` too); submitting the evidence
  text `winning_evidence` wins it and reinstates the amount and the fee (a second adjustment),
  `losing_evidence` or closing it (accepting it) loses it, which moves no money. Unlike Stripe,
  it closes at once (Stripe reviews the evidence for a while first), it sends no webhooks of its
  own (the tests build `charge.dispute.*` from the dispute as it holds it, and sign them as
  Stripe would), and its fee is always given back with a won dispute: pricing that keeps a
  part of it is not modelled. `GET /v1/disputes` filters by `charge` and `payment_intent`.

Run: python scripts/localstripe_server.py [--port 8420] [--store PATH]. It binds to loopback
only and starts from an empty store; localstripe saves its store to a file after each change,
`/tmp/localstripe.pickle` unless `--store` names another (so two servers can run side by
side)."""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
from typing import Any

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError

# Where localstripe saves its state (it reads it back only when told to; each start here begins
# from an empty store).
STORE_FILE = "/tmp/localstripe.pickle"  # noqa: S108
# Stripe's test card whose charges are disputed, and the dispute fee Stripe withdraws.
DISPUTE_CARD = "4000000000000259"
DISPUTE_FEE = 1_500

_plain_init = resources.PaymentIntent.__init__
_plain_txn_init = resources.BalanceTransaction.__init__


def _intent_init(self: Any, transfer_group: str | None = None, **kwargs: Any) -> None:
    _plain_init(self, **kwargs)
    self.transfer_group = transfer_group


resources.PaymentIntent.__init__ = _intent_init  # type: ignore[method-assign]


def card_fee(amount: int) -> int:
    """Stripe's standard card pricing: 2.9% + 30, in minor units, rounded half up."""
    return (amount * 29 + 500) // 1000 + 30


def _own_txn(self: Any, kind: str, category: str, source: str, fee: int, **kw: Any) -> None:
    """A balance transaction localstripe's own checks would refuse (they know only charges and
    refunds): a transfer's or a dispute's."""
    resources.StripeObject.__init__(self)
    amount = resources.try_convert_to_int(kw.get("amount"))
    self.amount, self.available_on, self.currency = amount, self.created, kw["currency"]
    self.description, self.exchange_rate = kw.get("description"), None
    self.fee = fee
    self.fee_details = (
        [{"amount": fee, "currency": self.currency, "type": "stripe_fee"}] if fee else []
    )
    self.reporting_category, self.source, self.status, self.type = (
        category,
        source,
        "available",
        kind,
    )


def _txn_init(
    self: Any, type: str | None = None, source: str | None = None, fee: int = 0, **kw: Any
) -> None:
    if type == "transfer" and isinstance(source, str) and source.startswith("tr_"):
        _own_txn(self, "transfer", "transfer", source, 0, **kw)
        return
    if type == "adjustment" and isinstance(source, str) and source.startswith("dp_"):
        # Stripe's dispute withdrawals and reinstatements are adjustments, sourced by the dispute.
        category = (
            "dispute" if resources.try_convert_to_int(kw["amount"]) < 0 else "dispute_reversal"
        )
        _own_txn(self, "adjustment", category, source, fee, **kw)
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


class Dispute(resources.StripeObject):  # type: ignore[misc]
    """A dispute of a charge: made by the server when a charge of the dispute card succeeds."""

    object = "dispute"
    _id_prefix = "dp_"

    def __init__(self, charge: Any) -> None:
        super().__init__()
        self.amount = charge.amount
        self.currency = charge.currency
        self.charge = charge.id
        self.payment_intent = charge.payment_intent
        self.reason = "fraudulent"
        self.status = "needs_response"
        self.evidence: dict[str, Any] = {}
        self.is_charge_refundable = False
        self.metadata: dict[str, str] = {}
        self.balance_transactions = [self._moved(-self.amount, DISPUTE_FEE)]

    def _moved(self, amount: int, fee: int) -> Any:
        return resources.BalanceTransaction(
            amount=amount, currency=self.currency, type="adjustment", source=self.id, fee=fee
        )

    def _close(self, won: bool) -> None:
        if self.status not in ("needs_response", "under_review"):
            raise UserError(400, f"This dispute is already closed ({self.status}).")
        self.status = "won" if won else "lost"
        if won:  # the amount and the fee go back to the balance
            self.balance_transactions.append(self._moved(self.amount, -DISPUTE_FEE))

    @classmethod
    def _api_create(cls, **data: Any) -> Any:
        raise UserError(405, "Method Not Allowed")

    @classmethod
    def _api_update(
        cls,
        id: str,
        evidence: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
        submit: Any = None,
        **kwargs: Any,
    ) -> Any:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs))
        dispute = cls._api_retrieve(id)
        dispute.metadata.update(metadata or {})
        if evidence:
            dispute.evidence.update(evidence)
            text = evidence.get("uncategorized_text")
            if text in ("winning_evidence", "losing_evidence"):
                dispute._close(won=text == "winning_evidence")
            elif resources.try_convert_to_bool(submit) is not False:
                dispute.status = "under_review"
        return dispute

    @classmethod
    def _api_close(cls, id: str, **kwargs: Any) -> Any:
        """Accepting the dispute: it is lost."""
        dispute = cls._api_retrieve(id)
        dispute._close(won=False)
        return dispute

    @classmethod
    def _api_list_all(
        cls,
        url: str,
        limit: Any = None,
        starting_after: str | None = None,
        charge: str | None = None,
        payment_intent: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs))
        listed = resources.List(url, limit=limit, starting_after=starting_after)
        listed._list = [
            d
            for key, d in resources.store.items()
            if key.startswith("dispute:")
            and charge in (None, d.charge)
            and payment_intent in (None, d.payment_intent)
        ]
        return listed


_plain_trigger = resources.Charge._trigger_payment


def _trigger_payment(self: Any, on_success: Any = None) -> None:
    _plain_trigger(self, on_success)
    method = resources.PaymentMethod._api_retrieve(self.payment_method)
    if self.status == "succeeded" and getattr(method, "_card_number", None) == DISPUTE_CARD:
        Dispute(self)


resources.Charge._trigger_payment = _trigger_payment  # type: ignore[method-assign]


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
    disputes = "/v1/disputes"
    app.router.add_route("GET", disputes + "/{id}", server.api_retrieve(Dispute, disputes))
    app.router.add_route("POST", disputes + "/{id}", server.api_update(Dispute, disputes))
    app.router.add_route("GET", disputes, server.api_list_all(Dispute, disputes))
    close = disputes + "/{id}/close"
    app.router.add_route("POST", close, server.api_extra(Dispute._api_close, close))
    return app


def _keep_store_in(path: str) -> None:
    """localstripe names its store's file in the code; saved here to `path` instead."""

    def dump(store: Any) -> None:
        with open(path, "wb") as f:
            pickle.dump(store, f, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.dump_to_disk = dump  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--store", default=STORE_FILE, help="the file the store is saved to")
    args = parser.parse_args()
    if os.path.exists(args.store):
        os.remove(args.store)
    _keep_store_in(args.store)
    web.run_app(make_app(), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
