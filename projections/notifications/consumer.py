"""The notifications consumer (`velora consume notifications`): reads the published order,
payment and catalog events and records a notification for each buyer and seller they concern
(a wished product's price drop goes to everyone who wishes for it, as the wishlist model has
them), then hands each one to the email port.

Exactly one effect per event: a batch's notifications and the ids of the events it applied
commit in one transaction, and an event whose id is already recorded is passed over. Offsets
are committed to the broker only after that, so a crash redelivers and never loses. The
applied ids are kept for a retention period (`forget_consumed`, run by the scheduler); an event
sent again after that (a relay started over from the beginning, say) still adds nothing, since
each notification's id is derived from the event's and one already there is not made again. Email is
an outside effect and cannot share the transaction: a notification is marked emailed once the
port has taken it, and unmarked ones are sent again, so the port sees each at least once and
gets the notification id to drop repeats with.

Each message is rendered from the mail templates (projections/mail/), the same ones account
mail uses, and addressed from the read models: a buyer's email from `users`, a seller's from
the user who owns the shop. A recipient the read models do not hold yet is tried again on the
next pass; one who was erased is not written to, and the notification counts as sent."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

import sqlalchemy as sa

from projections.catalog.tables import sellers
from projections.identity.tables import users
from projections.mail import Email, EmailPort, MailTemplates
from projections.notifications.tables import consumed_events, notifications
from projections.orders.tables import orders
from projections.runner import TRANSIENT
from projections.scope import TenantScope
from projections.store import ReadStore, naive_utc, utcnow
from projections.wishlists.tables import wishlist_items

log = logging.getLogger("velora.notifications")

CONSUMER = "notifications"
# The topic kinds it reads: `<prefix>.orders`, `.payments`, `.catalog` and `.returns`.
KINDS = ("orders", "payments", "catalog", "returns")

# Return events: who hears of each.
RETURN_NOTICES = {
    "return.requested": ("return_requested", "seller"),
    "return.authorized": ("return_authorized", "buyer"),
    "return.rejected": ("return_rejected", "buyer"),
    "return.shipped": ("return_shipped", "seller"),
    "return.received": ("return_received", "buyer"),
}


class Source(Protocol):
    def poll(self, timeout_s: float) -> list[Any]: ...

    def commit(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Handled:
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    malformed: int = 0
    notified: int = 0


Recipient = tuple[str, str, str, str | None]  # (kind, role, id, seller order id)


def _recipients(
    conn: sa.Connection, tenant_id: str, type_: str, data: dict[str, Any]
) -> list[Recipient]:
    if type_ == "product.price_lowered":
        wish = wishlist_items
        wishers = TenantScope.only(tenant_id).select(
            wish, wish.c.product_id == str(data["product_id"])
        )
        return [("price_dropped", "buyer", row.buyer_id, None) for row in conn.execute(wishers)]
    if type_ == "stock.alert_raised":
        return [("stock_low", "seller", str(data["seller_id"]), None)]
    if "buyer_id" not in data:
        return []  # the rest of the catalog's events tell no one anything
    buyer = str(data["buyer_id"])
    if type_ == "order.paid":
        sellers = [
            ("new_order", "seller", s["seller_id"], s["seller_order_id"]) for s in data["sellers"]
        ]
        return [("order_paid", "buyer", buyer, None), *sellers]
    if type_ == "order.shipped":
        return [("order_shipped", "buyer", buyer, data["seller_order_id"])]
    if type_ == "order.delivered":
        part = data["seller_order_id"]
        return [
            ("order_delivered", "buyer", buyer, part),
            ("order_delivered_seller", "seller", data["seller_id"], part),
        ]
    if type_ == "payment.failed":
        return [("payment_failed", "buyer", buyer, None)]
    if type_ in RETURN_NOTICES:
        kind, role = RETURN_NOTICES[type_]
        who = buyer if role == "buyer" else str(data["seller_id"])
        return [(kind, role, who, data["seller_order_id"])]
    return []


class NotificationsConsumer:
    def __init__(
        self,
        store: ReadStore,
        email: EmailPort,
        *,
        templates: MailTemplates | None = None,
        name: str = CONSUMER,
        on_handled: Callable[[Handled], None] = lambda _: None,
    ) -> None:
        self.store = store
        self.email = email
        self.templates = templates or MailTemplates()
        self.name = name
        self.on_handled = on_handled

    def handle(self, values: Sequence[bytes]) -> Handled:
        """Applies a batch of CloudEvents (JSON) in one transaction, then emails what it made."""
        events, malformed = _decoded(values)
        counts = Counter(malformed=malformed)
        now = utcnow()
        with self.store.begin() as conn:
            made: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
            seen = self._applied(conn, [e["id"] for e in events])
            for event in events:
                if event["id"] in seen or event["id"] in made:
                    counts["duplicates"] += 1
                    continue
                try:
                    made[event["id"]] = (event, self._notifications(conn, event, now))
                except (KeyError, TypeError) as e:
                    log.error("consumer passed over %s %s: no %s", event["type"], event["id"], e)
                    counts["malformed"] += 1
            there = _existing(conn, [n["notification_id"] for _, ns in made.values() for n in ns])
            for event, rows in made.values():
                conn.execute(
                    sa.insert(consumed_events).values(
                        consumer=self.name,
                        event_id=event["id"],
                        tenant_id=event["tenantid"],
                        event_type=event["type"],
                        consumed_at=now,
                    )
                )
                new = [n for n in rows if n["notification_id"] not in there]
                if new:
                    conn.execute(sa.insert(notifications), new)
                # Made before, under an id since forgotten: a duplicate all the same.
                counts["applied" if new else "duplicates" if rows else "ignored"] += 1
                counts["notified"] += len(new)
        handled = Handled(**counts)
        self.on_handled(handled)
        self.send_pending()
        return handled

    def _applied(self, conn: sa.Connection, ids: list[str]) -> set[str]:
        query = sa.select(consumed_events.c.event_id).where(
            consumed_events.c.consumer == self.name, consumed_events.c.event_id.in_(ids)
        )
        return set(conn.execute(query).scalars())

    def _notifications(
        self, conn: sa.Connection, event: dict[str, Any], now: Any
    ) -> list[dict[str, Any]]:
        data = event.get("data") or {}
        return [
            {
                "notification_id": str(uuid5(NAMESPACE_URL, f"{event['id']}:{role}:{who}")),
                "tenant_id": event["tenantid"],
                "event_id": event["id"],
                "event_type": event["type"],
                "kind": kind,
                "recipient_role": role,
                "recipient_id": who,
                "order_id": data.get("order_id"),
                "seller_order_id": part,
                "product_id": data.get("product_id"),
                "amount_minor": data.get(
                    "total_minor", data.get("amount_minor", data.get("price_minor"))
                ),
                "currency": data.get("currency"),
                "created_at": now,
                "emailed_at": None,
            }
            for kind, role, who, part in _recipients(conn, event["tenantid"], event["type"], data)
        ]

    def send_pending(self, limit: int = 200) -> int:
        """Hands unsent notifications to the email port, oldest first. Returns how many."""
        query = (
            TenantScope.every_tenant()
            .select(notifications, notifications.c.emailed_at.is_(None))
            .order_by(notifications.c.created_at, notifications.c.notification_id)
            .limit(limit)
        )
        with self.store.engine.connect() as conn:
            pending = conn.execute(query).mappings().all()
            addresses = {
                (r["recipient_role"], r["recipient_id"]): _address(conn, r) for r in pending
            }
        sent = 0
        for row in pending:
            address = addresses[row["recipient_role"], row["recipient_id"]]
            if address is _UNKNOWN:
                continue  # the read models do not hold the recipient yet: the next pass will
            try:
                if address is not _ERASED:
                    self.email.send(self._email(row, str(address)))
            except Exception:  # the port's failure: the notification stays unsent, for later
                log.warning("email %s not sent; will retry", row["notification_id"], exc_info=True)
                break
            with self.store.begin() as conn:
                conn.execute(
                    sa.update(notifications)
                    .where(
                        notifications.c.notification_id == row["notification_id"],
                        notifications.c.emailed_at.is_(None),
                    )
                    .values(emailed_at=utcnow())
                )
            sent += 1
        return sent

    def _email(self, row: Any, address: str) -> Email:
        return self.templates.compose(
            row["kind"],
            to=address,
            notification_id=row["notification_id"],
            tenant_id=row["tenant_id"],
            recipient_id=row["recipient_id"],
            order_id=row["order_id"],
            seller_order_id=row["seller_order_id"],
            product_id=row["product_id"],
            amount_minor=row["amount_minor"],
            currency=row["currency"],
        )

    def run(
        self, open_source: Callable[[], Source], stop: threading.Event, *, poll_s: float = 1.0
    ) -> None:
        """Consumes until `stop` is set. After a failure of the store it starts over from the
        broker's committed offsets, so nothing between is lost."""
        log.info("consumer %s started", self.name)
        while not stop.is_set():
            source = open_source()
            try:
                while not stop.is_set():
                    records = source.poll(poll_s)
                    if records:
                        self.handle([r.value for r in records])
                        source.commit()
                    else:
                        self.send_pending()
            except TRANSIENT as e:
                log.warning("consumer %s: %s; starting over from committed offsets", self.name, e)
                stop.wait(2.0)
            finally:
                source.close()


def _existing(conn: sa.Connection, notification_ids: list[str]) -> set[str]:
    query = sa.select(notifications.c.notification_id).where(
        notifications.c.notification_id.in_(notification_ids)
    )
    return set(conn.execute(query).scalars())


def forget_consumed(store: ReadStore, before: datetime) -> int:
    """Deletes the applied-event ids every consumer recorded before `before`. Keep them longer
    than the topics keep their events: until then the broker may deliver an event again."""
    with store.begin() as conn:
        query = sa.delete(consumed_events).where(consumed_events.c.consumed_at < naive_utc(before))
        return conn.execute(query).rowcount


def _decoded(values: Iterable[bytes]) -> tuple[list[dict[str, Any]], int]:
    """The CloudEvents among the values. Anything else is logged and passed over: it can never
    be applied, and holding the partition up for it would stop every event behind it."""
    events, malformed = [], 0
    for value in values:
        try:
            event = json.loads(value)
            if not all(isinstance(event.get(k), str) for k in ("id", "type", "tenantid")):
                raise ValueError("not a Velora CloudEvent (id, type, tenantid)")
            UUID(event["id"])
            events.append(event)
        except (ValueError, AttributeError) as e:
            malformed += 1
            log.error("consumer passed over a malformed record: %s", e)
    return events, malformed


# What `_address` answers for a recipient it cannot write to: not in the read models yet, or
# erased (nobody to write to, ever).
_UNKNOWN = object()
_ERASED = object()


def _address(conn: sa.Connection, row: Any) -> object:
    """Where a notification goes: the buyer's email, or that of the user who owns the shop."""
    user_id = row["recipient_id"]
    if row["recipient_role"] == "seller":
        owner = sa.select(sellers.c.user_id).where(sellers.c.seller_id == user_id)
        user_id = conn.execute(owner).scalar()
        if user_id is None:
            return _UNKNOWN
    found = conn.execute(
        sa.select(users.c.email, users.c.erased_at).where(users.c.user_id == user_id)
    ).first()
    if found is None:
        # A guest has no account: its orders keep the email it checked out with.
        guest = conn.execute(
            sa.select(orders.c.guest_email)
            .where(orders.c.buyer_id == user_id, orders.c.guest_email.is_not(None))
            .limit(1)
        ).scalar()
        return _UNKNOWN if guest is None else guest
    return _ERASED if found.erased_at is not None else found.email
