"""Issue 27's follow-up: a command names a current ISO 4217 currency, but a ledger account is
opened in a currency already stored (the tenant's, an order's), which only needs the shape. A
tenant stored with a currency an older Velora let in must still be able to take payments."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.application import Application

from domain.ledger import Account, AccountType, Chart, Limit
from domain.money import InvalidCurrency, parse_currency
from eventstore.books import Books
from eventstore.currencies import install_iso_4217


@pytest.mark.parametrize("currency", ["ZZZ", "HRK"])
def test_an_account_opens_in_a_stored_currency_the_list_no_longer_has(currency: str) -> None:
    install_iso_4217()
    with pytest.raises(InvalidCurrency):
        parse_currency(currency)  # a command could not name it today
    account = Account.open(uuid4(), currency, "clearing", AccountType.ASSET)
    assert account.currency == currency


def test_books_in_such_a_currency_move_money() -> None:
    install_iso_4217()
    store: Application = Application()
    tenant_id, seller_id = uuid4(), uuid4()
    books = Books(store.repository, tenant_id, "ZZZ")
    escrow = Chart.escrow(seller_id)
    books.transfer("pay-1", Chart.PROCESSOR_CLEARING, escrow, 1_000, kind="escrow_pending")
    store.save(*books.changed())
    assert Books(store.repository, tenant_id, "ZZZ").balance(escrow) == 1_000


@pytest.mark.parametrize("currency", ["usd", "US", "EURO", ""])
def test_an_account_still_refuses_what_is_no_currency_code_at_all(currency: str) -> None:
    install_iso_4217()
    with pytest.raises(InvalidCurrency):
        Account.open(uuid4(), currency, "clearing", AccountType.ASSET, Limit.NONE)
