"""Zero-downtime rebuild of the search index.

1. A new generation is made beside the live one, which keeps serving queries and taking changes.
2. It is filled from the catalog read model as it stands (a snapshot at the catalog's position).
3. A second projector, with its own tracking row, catches the new generation up from that
   position through the event log.
4. Holding the live projector's tracking row (so the live projector pauses), the new generation
   applies the last few events, becomes live in one atomic step, and the live projector is moved
   to its position. Queries see the old generation or the new one, complete, never a mix.

If it fails before the switch, the new generation is thrown away and the live one is untouched.
If it fails just after the switch, the live projector applies the last events again, which the
documents' versions make harmless."""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from eventstore.log import EventLog
from projections.catalog.tables import products
from projections.rebuild import Progress, quiet
from projections.runner import ProjectionRunner
from projections.search.port import Rebuild, SearchIndex
from projections.search.projector import SearchProjector, changes, variants_of
from projections.store import ReadStore

SNAPSHOT_BATCH = 1000


@dataclass(frozen=True)
class RebuildReport:
    previous: str
    generation: str
    documents: int
    events: int
    position: int
    elapsed_s: float


def rebuild_search(
    log: EventLog,
    store: ReadStore,
    index: SearchIndex,
    *,
    live_name: str = "search",
    on_progress: Progress = quiet,
    catch_up_lag: int = 500,
) -> RebuildReport:
    started = time.monotonic()
    previous = index.generation()
    rebuild = index.begin_rebuild()
    name = f"{live_name}@{rebuild.generation}"
    runner = ProjectionRunner(log, store, SearchProjector(rebuild, name=name))
    try:
        from_position, documents = _snapshot(store, rebuild, on_progress)
        with store.begin() as conn:
            store.place(conn, name, from_position)
        _catch_up(runner, store, from_position, catch_up_lag, on_progress)
        with store.begin() as conn:
            # Upstream first, the order the projection group takes them in: the other order
            # deadlocks with a group applying a batch at the same moment.
            until = store.lock(conn, "catalog")
            store.lock(conn, live_name)
            position = runner.apply_within(conn, until)
            index.publish(rebuild)
            store.place(conn, live_name, position)
            store.forget(conn, name)
    except BaseException:
        index.discard(rebuild)
        with store.begin() as conn:
            store.forget(conn, name)
        raise
    on_progress("switched", 1, 1)
    return RebuildReport(
        previous=previous,
        generation=rebuild.generation,
        documents=documents,
        events=position - from_position,
        position=position,
        elapsed_s=round(time.monotonic() - started, 3),
    )


def _snapshot(store: ReadStore, rebuild: Rebuild, on_progress: Progress) -> tuple[int, int]:
    """Indexes every searchable product as the catalog holds it now. Returns the catalog's
    position, read first: every change after it reaches the new generation through catch-up."""
    position = store.position("catalog")
    with store.read() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(products)).scalar() or 0
    done, documents, after = 0, 0, ""
    while True:
        page = (
            sa.select(products)
            .where(products.c.product_id > after)
            .order_by(products.c.product_id)
            .limit(SNAPSHOT_BATCH)
        )
        with store.read() as conn:
            rows = [r._mapping for r in conn.execute(page)]
            variants = variants_of(conn, [row["product_id"] for row in rows])
        if not rows:
            return position, documents
        upserts, _ = changes(rows, variants)  # a new generation holds nothing to remove
        rebuild.apply(upserts, [])
        documents += len(upserts)
        done += len(rows)
        after = rows[-1]["product_id"]
        on_progress("snapshot", done, max(total, done))


def _catch_up(
    runner: ProjectionRunner, store: ReadStore, start: int, lag: int, on_progress: Progress
) -> None:
    """Follows the log until the new generation is within `lag` events of the head, so the
    final step, which pauses the live projector, has little left to do."""
    while True:
        head = runner.log.head()
        position = store.position(runner.name)
        on_progress("catch-up", position - start, max(head, position) - start)
        if head - position <= lag or runner.run_once() == 0:
            return
