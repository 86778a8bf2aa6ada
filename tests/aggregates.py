"""A tiny aggregate for exercising the event store itself, apart from any business context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.base import TenantAggregate


class Counter(TenantAggregate):
    @event("Started")
    def __init__(self, tenant_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.count = 0

    @event("Incremented")
    def increment(self, by: int) -> None:
        self.count += by


class Nickname(TenantAggregate):
    """Holds personal data: its renames are sealed with the person's key."""

    class Renamed(TenantAggregate.Event):
        personal: ClassVar[Mapping[str, str]] = {"nickname": "originator_id"}
        nickname: str

    @event("Started")
    def __init__(self, tenant_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.nickname = ""

    def rename(self, nickname: str) -> None:
        self._renamed(nickname=nickname)

    @event(Renamed)
    def _renamed(self, nickname: str) -> None:
        self.nickname = nickname


class Beacon(Aggregate):
    """Belongs to no tenant: a projector that fails on its event cannot hold a tenant back."""

    @event("Lit")
    def __init__(self, colour: str) -> None:
        self.colour = colour
