"""Profiles and saved addresses: the read models of the Profile aggregate, and their queries."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.identity import User
from domain.personal import erased_marker, redacted
from domain.profiles import Profile
from eventstore.mapper import RecordedEvent
from projections.projector import Projector
from projections.schema import Id, Timestamp, metadata
from projections.scope import TenantScope
from projections.store import Page, ReadStore, naive_utc, zoned

profiles = sa.Table(
    "profiles",
    metadata,
    sa.Column("user_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    # Personal: redacted to a marker naming the person once they are erased.
    sa.Column("display_name", sa.String(100), nullable=True),
    sa.Column("phone", sa.String(64), nullable=True),
    sa.Column("locale", sa.String(64), nullable=True),
    sa.Column("marketing_opt_in", sa.Boolean, nullable=False),
    # When the person last gave or withdrew their consent (the proof GDPR asks for).
    sa.Column("marketing_changed_at", Timestamp, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
)

addresses = sa.Table(
    "addresses",
    metadata,
    sa.Column("address_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("user_id", Id, nullable=False),
    # Personal: name, line1, line2, city, region, postal_code, country; redacted on erasure.
    sa.Column("address", sa.JSON, nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_addresses_user", "tenant_id", "user_id", "created_position"),
)


# What a profile reads as before its person has changed anything.
BLANK = {"display_name": None, "phone": None, "locale": None, "marketing_opt_in": False}


class ProfilesProjector(Projector):
    name = "profiles"
    writes = ("profiles", "addresses")

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events do not touch profiles."""

    @apply.register
    def _started(self, e: Profile.Started, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.profiles.insert().values(
                user_id=str(e.user_id),
                tenant_id=str(e.tenant_id),
                **BLANK,
                updated_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _changed(self, e: Profile.Changed, conn: Connection, r: RecordedEvent) -> None:
        values: dict[str, Any] = {**e.changes, "updated_at": naive_utc(e.timestamp)}
        if "marketing_opt_in" in e.changes:
            values["marketing_changed_at"] = naive_utc(e.timestamp)
        t = self.tables.profiles
        conn.execute(t.update().where(t.c.user_id == str(e.user_id)).values(**values))

    @apply.register
    def _address_added(self, e: Profile.AddressAdded, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.addresses.insert().values(
                address_id=str(e.address_id),
                tenant_id=str(e.tenant_id),
                user_id=str(e.user_id),
                address=dict(e.address),
                is_default=False,
                created_at=naive_utc(e.timestamp),
                updated_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _address_changed(
        self, e: Profile.AddressChanged, conn: Connection, r: RecordedEvent
    ) -> None:
        t = self.tables.addresses
        conn.execute(
            t.update()
            .where(t.c.address_id == str(e.address_id))
            .values(address=dict(e.address), updated_at=naive_utc(e.timestamp))
        )

    @apply.register
    def _address_removed(
        self, e: Profile.AddressRemoved, conn: Connection, r: RecordedEvent
    ) -> None:
        t = self.tables.addresses
        conn.execute(t.delete().where(t.c.address_id == str(e.address_id)))

    @apply.register
    def _default_chosen(
        self, e: Profile.DefaultAddressChosen, conn: Connection, r: RecordedEvent
    ) -> None:
        t = self.tables.addresses
        chosen = str(e.address_id) if e.address_id else ""
        conn.execute(
            t.update()
            .where(t.c.tenant_id == str(e.tenant_id), t.c.user_id == str(e.user_id))
            .values(is_default=t.c.address_id == chosen)
        )

    @apply.register
    def _erased(self, e: User.Erased, conn: Connection, r: RecordedEvent) -> None:
        """The person's details and addresses become markers, as their events now read."""
        user_id, marker = str(e.originator_id), erased_marker(e.originator_id)
        p = self.tables.profiles
        conn.execute(
            p.update()
            .where(p.c.user_id == user_id)
            .values(
                display_name=marker,
                phone=marker,
                locale=marker,
                marketing_opt_in=False,
                updated_at=naive_utc(e.timestamp),
            )
        )
        a = self.tables.addresses
        theirs = sa.select(a.c.address_id, a.c.address).where(
            a.c.tenant_id == str(e.tenant_id), a.c.user_id == user_id
        )
        for address_id, address in conn.execute(theirs).all():
            conn.execute(
                a.update()
                .where(a.c.address_id == address_id)
                .values(address=redacted(address, e.originator_id))
            )


def profile_json(row: dict[str, Any] | None) -> dict[str, Any]:
    """A profile as `GET /v1/me` shows it (blank until its person changes something)."""
    if row is None:
        return {**BLANK, "marketing_changed_at": None}
    changed = row["marketing_changed_at"]
    return {
        **{k: row[k] for k in BLANK},
        "marketing_changed_at": zoned(changed) if changed is not None else None,
    }


def address_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["address_id"],
        **row["address"],
        "default": bool(row["is_default"]),
        "created_at": zoned(row["created_at"]),
        "updated_at": zoned(row["updated_at"]),
    }


class ProfileQueries:
    """Reads profiles and saved addresses, within the caller's TenantScope."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def profile(self, scope: TenantScope, user_id: str) -> dict[str, Any]:
        return profile_json(self.store.one(scope, profiles, profiles.c.user_id == user_id))

    def addresses(
        self, scope: TenantScope, user_id: str, *, limit: int, cursor: str | None
    ) -> Page:
        page = self.store.page(
            scope, addresses, addresses.c.user_id == user_id, limit=limit, cursor=cursor
        )
        return Page([address_json(r) for r in page.items], page.next_cursor)

    def address(self, scope: TenantScope, user_id: str, address_id: str) -> dict[str, Any] | None:
        row = self.store.one(
            scope,
            addresses,
            addresses.c.address_id == address_id,
            addresses.c.user_id == user_id,
        )
        return address_json(row) if row is not None else None
