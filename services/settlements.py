"""Finding a seller order's settlement (domain/settlement.py) for a command.

A seller order paid since settlements exist has one in its own stream. One paid before kept its
money events in the seller order's stream: its settlement is carried over from them the first
time a command needs it, and saved with that command (a new stream; the seller order's is read,
never rewritten). A seller order never paid has none."""

from __future__ import annotations

from domain.carried_over import MONEY_EVENTS, carry_over
from domain.seller_orders import SellerOrder
from domain.settlement import Settlement, WrongSettlementStep, settlement_id
from eventstore.application import VeloraApplication


def settlement_of(app: VeloraApplication, so: SellerOrder) -> Settlement | None:
    """The seller order's settlement, a copy the command may change and save; None if the
    seller order was never paid."""
    found = app.get_or_none(settlement_id(so.id))
    if isinstance(found, Settlement):
        return found
    if not so.funded_before_settlements:
        return None
    recorded = app.repository.event_store.get(so.id, lte=so.version)
    return carry_over(so, (e for e in recorded if type(e).__name__ in MONEY_EVENTS))


def paid_settlement(app: VeloraApplication, so: SellerOrder) -> Settlement:
    """The settlement of a seller order the caller knows was paid."""
    found = settlement_of(app, so)
    if found is None:
        raise WrongSettlementStep(f"seller order {so.id} was never paid")
    return found
