"""Quarantine: one tenant's events kept out of one projector.

A projector that cannot apply an event (a value its model cannot hold, a bug that one tenant's
data sets off) used to stop on it, and every tenant's read model stopped with it. Now the runner
quarantines that event's tenant in that projector instead: it records the tenant, the event and
the error, moves past the event, and from then on passes over that tenant's events, so every
other tenant's rows keep moving. Projectors that read this one's model quarantine the same
tenant at the same position, since their rows for it would be built on a model that stopped.

The tenant's reads that wait for a position past the quarantine answer 503 at once instead of
serving rows that lack it (`api/deps.ReadAfter`); `/readyz`, `/v1/ops/projections` and the
metrics show every quarantine. Once the projector is fixed, an operator replays the tenant
(`velora projections replay --tenant`): its passed-over events are applied in log order, upstream
projectors first, each projector's in one transaction, and the quarantine is lifted. A replay
that fails again changes nothing and records the new error.

Which failures are an event's: anything the projector raises, and the database refusing a value
(DataError, IntegrityError). Not an event's: a store that cannot be reached or has lost a table
(OperationalError, ProgrammingError, ...), which the supervisor retries for every tenant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.engine import Connection

from projections.schema import projection_quarantine as q

# Faults of the read store itself, whatever the event: never blamed on a tenant.
_STORE_FAULTS = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.ProgrammingError,
    sqlalchemy.exc.InternalError,
    sqlalchemy.exc.NotSupportedError,
    sqlalchemy.exc.ResourceClosedError,
)
FAILURE_CHARS = 2000


def blames_event(error: BaseException) -> bool:
    """Whether `error`, raised while applying one event, is that event's (its tenant is then
    quarantined) rather than the store's (retried for everyone)."""
    return not isinstance(error, _STORE_FAULTS)


@dataclass(frozen=True)
class Quarantine:
    name: str
    tenant_id: str
    position: int
    topic: str
    originator_id: str
    failure: str
    quarantined_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "position": self.position,
            "topic": self.topic,
            "originator_id": self.originator_id,
            "failure": self.failure,
            "quarantined_at": self.quarantined_at.isoformat() + "Z",
        }


def of(conn: Connection, names: Iterable[str]) -> dict[str, dict[str, int]]:
    """For each named projector, the tenants it quarantines, each with the position of the
    first event it passed over."""
    wanted = list(names)
    found: dict[str, dict[str, int]] = {name: {} for name in wanted}
    if not wanted:
        return found
    # Every batch of every projector asks, and the table is all but always empty: one prebuilt
    # statement reads it whole, and the names are picked here.
    for name, tenant_id, position in conn.execute(_EVERY):
        if name in found:
            found[name][tenant_id] = int(position)
    return found


_EVERY = sa.select(q.c.name, q.c.tenant_id, q.c.position)


def add(
    conn: Connection,
    names: Iterable[str],
    *,
    tenant_id: str,
    position: int,
    topic: str,
    originator_id: str,
    failures: Mapping[str, str],
    now: datetime,
) -> None:
    """Quarantines the tenant in each named projector that does not quarantine it already."""
    already = of(conn, names)
    rows = [
        {
            "name": name,
            "tenant_id": tenant_id,
            "position": position,
            "topic": topic[:255],
            "originator_id": originator_id,
            "failure": failures[name][:FAILURE_CHARS],
            "quarantined_at": now,
        }
        for name in already
        if tenant_id not in already[name]
    ]
    if rows:
        conn.execute(q.insert(), rows)


def lift(conn: Connection, name: str, tenant_id: str) -> None:
    conn.execute(q.delete().where(q.c.name == name, q.c.tenant_id == tenant_id))


def note_failure(conn: Connection, name: str, tenant_id: str, failure: str) -> None:
    """A replay failed again: the quarantine stays, with the newest error."""
    conn.execute(
        q.update()
        .where(q.c.name == name, q.c.tenant_id == tenant_id)
        .values(failure=failure[:FAILURE_CHARS])
    )


def forget(conn: Connection, name: str) -> None:
    conn.execute(q.delete().where(q.c.name == name))


def adopt(conn: Connection, source: str, name: str) -> None:
    """A rebuilt model replaces the live one: its quarantines replace the live one's too (a
    rebuild after a fix has none)."""
    forget(conn, name)
    conn.execute(q.update().where(q.c.name == source).values(name=name))


def listed(conn: Connection) -> list[Quarantine]:
    rows = conn.execute(sa.select(q).order_by(q.c.name, q.c.position))
    return [Quarantine(**row._mapping) for row in rows]
