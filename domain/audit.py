"""Period close: a tenant's month sealed against the tamper-evident chain and its trial balance."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import PLATFORM_TENANT_ID, TenantAggregate
from domain.errors import Conflict, DomainError, Invalid

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class AuditError(DomainError):
    title = "Audit error"


class InvalidPeriod(AuditError, Invalid):
    title = "Invalid period"


class PeriodAlreadySealed(AuditError, Conflict):
    title = "Period already sealed"


def period_end(period: str) -> datetime:
    """The first instant after a `YYYY-MM` month, in UTC."""
    match = _PERIOD.match(period)
    if not match:
        raise InvalidPeriod(f"a period is a month written YYYY-MM, not {period!r}")
    year, month = int(match.group(1)), int(match.group(2))
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


class PeriodSeal(TenantAggregate):
    """One tenant's month, closed once. It records where the chain stood when it was sealed and
    the tenant's trial balance at that point, so a later verification can prove that nothing
    recorded before the seal has changed since."""

    class Sealed(TenantAggregate.Created):
        period: str
        position: int
        chain_hash: str
        trial_balance: list[dict[str, Any]]

    @staticmethod
    def create_id(tenant_id: UUID, period: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:period-seal:{tenant_id}:{period}")

    @event(Sealed)
    def __init__(
        self,
        tenant_id: UUID,
        period: str,
        position: int,
        chain_hash: str,
        trial_balance: list[dict[str, Any]],
    ) -> None:
        self.tenant_id = tenant_id
        self.period = period
        self.position = position
        self.chain_hash = chain_hash
        self.trial_balance = trial_balance

    @classmethod
    def seal(
        cls,
        tenant_id: UUID,
        period: str,
        *,
        now: datetime,
        position: int,
        chain_hash: str,
        trial_balance: list[dict[str, Any]],
    ) -> PeriodSeal:
        """Seals a month that has ended. `position` and `chain_hash` are the chain's head now."""
        if now < period_end(period):
            raise InvalidPeriod(f"{period} has not ended yet; a month is sealed once it is over")
        if position < 1:
            raise InvalidPeriod("there is nothing recorded to seal")
        return cls(
            tenant_id=tenant_id,
            period=period,
            position=position,
            chain_hash=chain_hash,
            trial_balance=trial_balance,
        )


class ProjectionSkip(TenantAggregate):
    """An operator's decision to move a projector past an event it cannot apply. The read model
    then lacks that event's effect, so the decision is kept with who made it and why."""

    class Skipped(TenantAggregate.Created):
        projector: str
        position: int
        failure: str

    @staticmethod
    def create_id(projector: str, position: int) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:projection-skip:{projector}:{position}")

    @event(Skipped)
    def __init__(self, tenant_id: UUID, projector: str, position: int, failure: str) -> None:
        self.tenant_id = tenant_id
        self.projector = projector
        self.position = position
        self.failure = failure

    @classmethod
    def skip(cls, projector: str, position: int, failure: str) -> ProjectionSkip:
        return cls(
            tenant_id=PLATFORM_TENANT_ID, projector=projector, position=position, failure=failure
        )


class NothingQuarantined(AuditError, Conflict):
    title = "Nothing quarantined"


class UnknownProjector(AuditError, Invalid):
    title = "No such projector"


class StillFailing(AuditError, Conflict):
    title = "The projector still fails"


class TenantReplay(TenantAggregate):
    """An operator's replay of one tenant's events that projectors had quarantined after they
    could not apply one (projections/quarantine.py): the record says who replayed what, and how
    many events each projector applied. It belongs to the tenant whose events were replayed."""

    class Replayed(TenantAggregate.Created):
        projectors: dict[str, int]

    @event(Replayed)
    def __init__(self, tenant_id: UUID, projectors: dict[str, int]) -> None:
        self.tenant_id = tenant_id
        self.projectors = projectors

    @classmethod
    def replayed(cls, tenant_id: UUID, projectors: dict[str, int]) -> TenantReplay:
        if not projectors:
            raise NothingQuarantined(f"no projector replayed tenant {tenant_id}")
        return cls(tenant_id=tenant_id, projectors=dict(projectors))
