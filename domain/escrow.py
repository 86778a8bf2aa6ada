"""How a seller order's money moves through the ledger (docs/ledger.md draws it).

- Paid: the buyer's money for the seller order arrives in processor clearing and is owed to the
  seller's escrow (posted); escrow then holds it, pending, toward the seller's payable (net) and
  the platform's commission revenue.
- Released (delivered, and the hold has passed): both pending transfers are posted.
- Cancelled while held: both pending transfers are voided and escrow pays the subtotal back out
  through processor clearing.

Transfer keys name the seller order, so the same fact recorded twice moves nothing twice."""

from __future__ import annotations

from typing import Any, Protocol

from domain.ledger import Chart
from domain.orders import SellerOrder


class Books(Protocol):
    def transfer(
        self, key: str, debit: str, credit: str, amount: int, *, kind: str, pending: bool = False
    ) -> Any: ...

    def post(self, key: str, amount: int | None = None) -> None: ...

    def void(self, key: str) -> None: ...


def _keys(so: SellerOrder) -> tuple[str, str, str]:
    return f"payment:{so.id}", f"escrow:{so.id}:net", f"escrow:{so.id}:commission"


def hold(books: Books, so: SellerOrder) -> None:
    payment, net, commission = _keys(so)
    escrow = Chart.escrow(so.seller_id)
    books.transfer(payment, Chart.PROCESSOR_CLEARING, escrow, so.subtotal_minor, kind="payment")
    books.transfer(
        net,
        escrow,
        Chart.seller_payable(so.seller_id),
        so.seller_net_minor,
        kind="escrow_hold",
        pending=True,
    )
    books.transfer(
        commission,
        escrow,
        Chart.PLATFORM_COMMISSION,
        so.commission_minor,
        kind="escrow_hold",
        pending=True,
    )


def release(books: Books, so: SellerOrder) -> None:
    _, net, commission = _keys(so)
    books.post(net)
    books.post(commission)


def refund_cancelled(books: Books, so: SellerOrder) -> None:
    _, net, commission = _keys(so)
    books.void(net)
    books.void(commission)
    books.transfer(
        f"refund:{so.id}:cancelled",
        Chart.escrow(so.seller_id),
        Chart.PROCESSOR_CLEARING,
        so.subtotal_minor,
        kind="refund",
    )
