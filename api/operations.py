"""What an operator does to a running Velora: sees where each projector stands, moves a stopped
one past the event it stopped on (a decision recorded in the log), and rebuilds read models or
the search index beside the live ones. The CLI and `GET /v1/ops/projections` call it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventstore.context import CommandContext
from eventstore.log import EventLog
from projections.rebuild import ModelRebuildReport, Progress, quiet, rebuild_models
from projections.runner import ProjectionRunner
from projections.search.port import SearchIndex
from projections.search.rebuild import RebuildReport, rebuild_search
from projections.store import ReadStore
from services.audit import NotStoppedThere, OperatorApplication


@dataclass
class Operations:
    log: EventLog
    read_store: ReadStore
    search: SearchIndex
    operator: OperatorApplication
    runners: list[ProjectionRunner]

    def runner(self, name: str) -> ProjectionRunner:
        for runner in self.runners:
            if runner.name == name:
                return runner
        raise KeyError(name)

    def projection_status(self) -> list[dict[str, Any]]:
        """Each projector's position, the log's head, the lag, and where it stopped if it did."""
        head = self.log.head()
        rows = {r["name"]: r for r in self.read_store.tracking()}
        status = []
        for runner in self.runners:
            row = rows.get(runner.name, {})
            position = int(row.get("position", 0))
            status.append(
                {
                    "name": runner.name,
                    "position": position,
                    "head": head,
                    "lag": head - position,
                    "failed_position": row.get("failed_position"),
                    "failure": row.get("failure"),
                    "paused_by": row.get("paused_by"),
                }
            )
        return status

    def skip_event(self, ctx: CommandContext, name: str, position: int) -> int:
        """Moves a stopped projector past the event it stopped on, and records that decision.
        Refused unless the projector is stopped at exactly that position."""
        runner = self.runner(name)
        row = next((r for r in self.read_store.tracking() if r["name"] == name), {})
        if row.get("failed_position") != position:
            raise NotStoppedThere(f"{name} is not stopped at position {position}")
        recorded = self.operator.record_skip(ctx, name, position, row.get("failure") or "")
        with self.read_store.begin() as conn:
            current = self.read_store.lock(conn, name)
            self.read_store.place(conn, name, max(current, position))
        runner.wake()
        return recorded

    def rebuild_search(self, on_progress: Progress | None = None) -> RebuildReport:
        """Builds a new search index beside the live one and switches to it once caught up."""
        return rebuild_search(
            self.log, self.read_store, self.search, on_progress=on_progress or quiet
        )

    def rebuildable_models(self) -> list[str]:
        """The projectors whose SQL tables `rebuild_models` can rebuild, upstream first."""
        return [r.name for r in self.runners if r.projector.writes]

    def rebuild_models(
        self, names: Sequence[str], *, force: bool = False, on_progress: Progress | None = None
    ) -> ModelRebuildReport:
        """Rebuilds the named SQL read models in shadow tables, compares their checksums with
        the live ones, and swaps them in when they match (or when forced)."""
        wanted = {self.runner(name).name for name in names}  # an unknown name raises here
        # In the projection group's order, upstream first: locking their tracking rows in
        # another order could deadlock with the group applying a batch.
        projectors = [r.projector for r in self.runners if r.name in wanted]
        return rebuild_models(
            self.log, self.read_store, projectors, force=force, on_progress=on_progress or quiet
        )
