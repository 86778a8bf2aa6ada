"""The profiles projector: a person's profile as they change it, their saved addresses, and
both redacted once the person is erased."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.identity import User
from domain.personal import erased_marker, redacted
from domain.profiles import Profile
from eventstore.mapper import RecordedEvent
from projections.profiles.tables import BLANK
from projections.projector import Projector
from projections.store import naive_utc


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
