"""Rebuilds SQL read models beside the live ones, proves them equal, and swaps them in.

1. Shadow tables (`<table>__rebuild`) are made beside the live tables of each projector being
   rebuilt. The API keeps reading, and the live projectors keep writing, the live tables.
2. A second runner per projector, under its own tracking row (`<name>__rebuild`), folds the whole
   log into the shadows. It reads an upstream model from its shadow when that model is rebuilt
   too, else from the live tables, and never passes it, as the live projector never does.
3. Holding the live projectors' tracking rows, so they wait, both sides are brought to the same
   position and their checksums compared: row counts, and money sums per account, per seller,
   or per tenant and currency.
4. A difference stops the rebuild unless forced: the shadows are dropped and nothing live moves.
5. The swap. SQLite renames inside that same transaction. MySQL commits before any RENAME, so the
   live tracking rows are first marked paused (their runners back off), then one RENAME TABLE
   statement swaps every table at once, and then the pause is lifted. Both sides stand at the
   same position while paused, so whichever tables are live after a crash in between, they match
   their tracking rows; the next rebuild lifts a pause left behind (`recover`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from eventstore.locks import Busy, LockLost, StillHeld, file_lock
from eventstore.log import EventLog
from projections import quarantine
from projections.projector import Projector
from projections.runner import ProjectionRunner, link
from projections.schema import SHADOW_SUFFIX
from projections.store import ReadStore
from projections.tables import LIVE

Progress = Callable[[str, int, int], None]
PAUSED_BY = "rebuild"
RETIRED_SUFFIX = "__retired"


@dataclass(frozen=True)
class Difference:
    table: str
    measure: str  # "rows", or the money column summed
    group: dict[str, str]
    live: int
    rebuilt: int


@dataclass(frozen=True)
class TableCount:
    table: str
    live_rows: int
    rebuilt_rows: int


@dataclass
class ModelRebuildReport:
    projectors: list[str]
    position: int = 0  # where the rebuilt models stand: every event up to it was folded
    tables: list[TableCount] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    swapped: bool = False
    forced: bool = False
    elapsed_s: float = 0.0

    @property
    def matched(self) -> bool:
        return not self.differences


class _Refused(Exception):
    """Ends the final transaction without a swap (rolled back), when the checksums differ."""


def quiet(_phase: str, _done: int, _total: int) -> None:
    pass


def upstream_first(projectors: Sequence[Projector]) -> list[Projector]:
    """The projectors ordered so that each comes after every one of them it reads from."""
    by_name = {p.name: p for p in projectors}
    ordered: list[Projector] = []

    def visit(p: Projector) -> None:
        if p in ordered:
            return
        for name in p.upstream:
            if name in by_name:
                visit(by_name[name])
        ordered.append(p)

    for p in projectors:
        visit(p)
    return ordered


def rebuild_models(
    log: EventLog,
    store: ReadStore,
    live: Sequence[Projector],
    *,
    force: bool = False,
    on_progress: Progress = quiet,
    catch_up_lag: int = 500,
    batch_size: int = 1000,
) -> ModelRebuildReport:
    try:
        with _exclusive(store) as still_held:
            return _rebuild(
                log,
                store,
                upstream_first(live),
                force,
                on_progress,
                catch_up_lag,
                batch_size,
                still_held,
            )
    except LockLost as e:
        raise RebuildRunning(
            f"{e}: another rebuild may have started, so this one stopped before its swap; "
            "the next rebuild clears what it left"
        ) from None


def _rebuild(
    log: EventLog,
    store: ReadStore,
    ordered: list[Projector],
    force: bool,
    on_progress: Progress,
    catch_up_lag: int,
    batch_size: int,
    still_held: StillHeld,
) -> ModelRebuildReport:
    started = time.monotonic()
    names = [p.name for p in ordered]
    report = ModelRebuildReport(projectors=names, forced=force)
    recover(store)
    shadow_tables = LIVE.shadowing(
        [t for p in ordered for t in p.writes], dialect=store.engine.dialect.name
    )
    pairs = [(getattr(LIVE, t), getattr(shadow_tables, t)) for p in ordered for t in p.writes]
    shadows = [
        ProjectionRunner(log, store, p.shadow(shadow_tables, names), batch_size=batch_size)
        for p in ordered
    ]
    link(shadows)  # a shadow that holds a tenant back holds it back in those that read it
    try:
        _create(store, [shadow for _, shadow in pairs], [r.name for r in shadows])
        _build(log, store, shadows, catch_up_lag, on_progress)
        still_held()  # the swap is the one step two rebuilds must never share
        with store.begin() as conn:
            report.position = _align(log, store, conn, ordered, shadows)
            on_progress("build", report.position, report.position)
            on_progress("verify", 0, len(pairs))
            _compare(conn, pairs, report, on_progress)
            if report.differences and not force:
                raise _Refused
            if store.backend == "sqlite":
                _swap_sqlite(conn, pairs)
                _forget(store, conn, shadows)
            else:
                store.pause(conn, names, PAUSED_BY)
        if store.backend != "sqlite":
            _swap_mysql(store, pairs, shadows)
        report.swapped = True
        on_progress("swap", 1, 1)
    except _Refused:
        pass
    finally:
        if _holds(still_held):  # else the tables may be another rebuild's now: leave them
            recover(store)
    report.elapsed_s = round(time.monotonic() - started, 3)
    return report


def recover(store: ReadStore) -> list[str]:
    """Lifts a pause that a rebuild interrupted between its check and its swap left behind, and
    drops tables it left. Safe whichever tables ended up live: both stood at one position."""
    with store.begin() as conn:
        resumed = store.resume(conn, PAUSED_BY)
    _drop_leftovers(store)
    return resumed


def _create(store: ReadStore, tables: list[sa.Table], tracking: list[str]) -> None:
    for table in tables:
        table.create(store.engine)
    with store.begin() as conn:
        for name in tracking:
            store.place(conn, name, 0)


def _drop_leftovers(store: ReadStore) -> None:
    """Drops shadow tables and retired live tables, and the shadow runners' tracking rows."""
    existing = sa.inspect(store.engine).get_table_names()
    with store.engine.begin() as conn:
        for name in existing:
            if name.endswith((SHADOW_SUFFIX, RETIRED_SUFFIX)):
                conn.execute(sa.text(f"DROP TABLE {_quoted(conn, name)}"))
    with store.begin() as conn:
        for tracked in store.positions():
            if tracked.endswith(SHADOW_SUFFIX):
                store.forget(conn, tracked)


def _build(
    log: EventLog,
    store: ReadStore,
    runners: list[ProjectionRunner],
    lag: int,
    on_progress: Progress,
) -> None:
    """Folds the log into the shadows, upstream first, until each is within `lag` events of
    the head, so the last step, which holds the live projectors, has little left to do."""
    while True:
        head = log.head()
        positions = store.positions()
        behind = min(positions.get(r.name, 0) for r in runners)
        on_progress("build", behind, max(head, behind))
        if head - behind <= lag:
            return
        if sum(r.run_once() for r in runners) == 0:
            return


def _align(
    log: EventLog,
    store: ReadStore,
    conn: Connection,
    ordered: list[Projector],
    shadows: list[ProjectionRunner],
) -> int:
    """Holds each live projector's row and brings it and its shadow to the same position: the
    further of the two. Returns the highest such position."""
    live_at = {p.name: store.lock(conn, p.name) for p in ordered}
    highest = 0
    for projector, shadow in zip(ordered, shadows, strict=True):
        target = max(live_at[projector.name], store.lock(conn, shadow.name))
        shadow.apply_within(conn, target)
        if live_at[projector.name] < target:
            ProjectionRunner(log, store, projector).apply_within(conn, target)
        highest = max(highest, target)
    return highest


def checksums(conn: Connection, table: sa.Table, like: sa.Table) -> dict[tuple[Any, ...], int]:
    """Row counts and money sums of `table`, grouped by the columns `like` (the live table)
    groups them by: tenant, currency, and account or seller, and any marked grouping column."""
    groups = [n for n in ("tenant_id", "currency", "account_id", "seller_id") if n in like.c]
    groups += [c.name for c in like.c if c.info.get("grouping")]
    money = [c.name for c in like.c if c.info.get("money")]
    stmt = sa.select(
        *(table.c[g] for g in groups),
        sa.func.count(),
        *(sa.func.coalesce(sa.func.sum(table.c[m]), 0) for m in money),
    ).group_by(*(table.c[g] for g in groups))
    sums: dict[tuple[Any, ...], int] = {}
    for row in conn.execute(stmt):
        key = tuple(zip(groups, (str(v) for v in row[: len(groups)]), strict=True))
        values = row[len(groups) :]
        sums[("rows", key)] = int(values[0])
        for name, value in zip(money, values[1:], strict=True):
            sums[(name, key)] = int(value)
    return sums


def _compare(
    conn: Connection,
    pairs: list[tuple[sa.Table, sa.Table]],
    report: ModelRebuildReport,
    on_progress: Progress,
) -> None:
    for done, (live, shadow) in enumerate(pairs, start=1):
        before, after = checksums(conn, live, live), checksums(conn, shadow, live)
        report.tables.append(
            TableCount(
                live.name,
                sum(v for (m, _), v in before.items() if m == "rows"),
                sum(v for (m, _), v in after.items() if m == "rows"),
            )
        )
        for key in sorted(before.keys() | after.keys(), key=repr):
            was, now = before.get(key, 0), after.get(key, 0)
            if was != now:
                measure, group = key
                report.differences.append(Difference(live.name, measure, dict(group), was, now))
        on_progress("verify", done, len(pairs))


def _swap_sqlite(conn: Connection, pairs: list[tuple[sa.Table, sa.Table]]) -> None:
    """Inside the caller's transaction: SQLite's DDL is transactional, so readers see the old
    tables or the new ones. Indexes are named per database there, so the shadow's suffixed
    indexes give way to ones under the live names."""
    for live, shadow in pairs:
        conn.execute(sa.text(f"DROP TABLE {_quoted(conn, live.name)}"))
        for index in shadow.indexes:
            conn.execute(sa.text(f"DROP INDEX {_quoted(conn, str(index.name))}"))
        renamed = f"{_quoted(conn, shadow.name)} RENAME TO {_quoted(conn, live.name)}"
        conn.execute(sa.text(f"ALTER TABLE {renamed}"))
        for index in live.indexes:
            index.create(conn)


def _swap_mysql(
    store: ReadStore, pairs: list[tuple[sa.Table, sa.Table]], shadows: list[ProjectionRunner]
) -> None:
    """One RENAME TABLE statement, atomic across all its tables, then the pause is lifted."""
    with store.engine.begin() as conn:
        renames = ", ".join(
            f"{_quoted(conn, live.name)} TO {_quoted(conn, live.name + RETIRED_SUFFIX)}, "
            f"{_quoted(conn, shadow.name)} TO {_quoted(conn, live.name)}"
            for live, shadow in pairs
        )
        conn.execute(sa.text(f"RENAME TABLE {renames}"))
    with store.begin() as conn:
        store.resume(conn, PAUSED_BY)
        _forget(store, conn, shadows)


def _forget(store: ReadStore, conn: Connection, shadows: list[ProjectionRunner]) -> None:
    """The swapped-in models' tracking rows are gone with the shadows' names; the tenants a
    shadow held back are held back by its live projector now, in place of the live one's."""
    for shadow in shadows:
        quarantine.adopt(conn, shadow.name, shadow.name.removesuffix(SHADOW_SUFFIX))
        store.forget(conn, shadow.name)


class RebuildRunning(RuntimeError):
    """Another rebuild of the read models is under way."""


def lock_name(store: ReadStore) -> str:
    """The named lock (MySQL's GET_LOCK) a rebuild of this read store holds."""
    return f"velora-rebuild:{store.engine.url.database}"


@contextmanager
def _exclusive(store: ReadStore) -> Iterator[StillHeld]:
    """One rebuild at a time per read store: a second would drop the first one's shadows.
    Yields a check that raises LockLost once the lock has gone: MySQL drops a named lock with
    its connection, and a second rebuild may then take it."""
    if store.backend == "sqlite":
        try:
            with file_lock(f"{store.engine.url.database}.rebuild.lock", "rebuild") as still_held:
                yield still_held
        except Busy:
            raise RebuildRunning("another rebuild of these read models is running") from None
        return
    name = lock_name(store)
    with store.engine.connect() as conn:
        if conn.execute(sa.text("SELECT GET_LOCK(:n, 0)"), {"n": name}).scalar() != 1:
            raise RebuildRunning("another rebuild of these read models is running")

        def still_held() -> None:
            query = sa.text("SELECT IS_USED_LOCK(:n) = CONNECTION_ID()")
            try:
                mine = conn.execute(query, {"n": name}).scalar()
            except sa.exc.SQLAlchemyError as e:  # cut, or invalidated by an earlier cut
                raise LockLost("the rebuild lock went with its connection") from e
            if mine != 1:
                raise LockLost("the rebuild lock is no longer held")

        try:
            yield still_held
        finally:
            try:
                conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": name})
            except sa.exc.SQLAlchemyError:
                conn.invalidate()  # ends the session, and the lock with it if it still held it


def _holds(still_held: StillHeld) -> bool:
    try:
        still_held()
    except LockLost:
        return False
    return True


def _quoted(conn: Connection, name: str) -> str:
    """A table or index name quoted as the connection's dialect quotes identifiers."""
    return str(conn.dialect.identifier_preparer.quote_identifier(name))
