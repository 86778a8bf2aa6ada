"""What an operator does to a running Velora: sees where each projector stands, moves a stopped
one past the event it stopped on (a decision recorded in the log), and rebuilds read models or
the search index beside the live ones. The CLI and `GET /v1/ops/projections` call it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.audit import NothingQuarantined, StillFailing, UnknownProjector
from eventstore.context import CommandContext
from eventstore.log import EventLog
from projections.background import Background
from projections.rebuild import ModelRebuildReport, Progress, quiet, rebuild_models
from projections.runner import ProjectionRunner, ReplayFailed
from projections.search.port import SearchIndex
from projections.search.rebuild import RebuildReport, rebuild_search
from projections.store import ReadStore
from services.audit import NotStoppedThere, OperatorApplication


@dataclass(frozen=True)
class ProjectionHealth:
    stopped: dict[str, str]  # projector -> why it stopped
    quarantined: dict[str, int]  # projector -> how many tenants it quarantines
    running_here: bool  # this process runs the projection group
    failing: str | None  # why the group here is not running, while it is not
    restarts: int  # how many times the group here was started again after failing

    @property
    def ready(self) -> bool:
        return not self.stopped and self.failing is None


def _failing(group: Background) -> str | None:
    if not group.dead:
        return None
    return group.crash or "the projection thread is gone"


def _state(group: Background | None) -> str:
    """`running` or `failing` for the projection thread of this process; `elsewhere` where
    the projectors run in another process (`velora project`)."""
    if group is None or not (group.running or group.dead):
        return "elsewhere"
    return "failing" if group.dead else "running"


def _upstream_of(runner: ProjectionRunner, runners: Sequence[ProjectionRunner]) -> set[str]:
    """The projectors whose models `runner` reads, directly or through others."""
    return {r.name for r in runners if runner in r.downstream()}


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
        """Each projector's position, the log's head, the lag, where it stopped if it did, the
        tenants it quarantines, and how the projection thread of this process is doing."""
        head = self.log.head()
        rows = {r["name"]: r for r in self.read_store.tracking()}
        quarantined: dict[str, list[dict[str, Any]]] = {}
        for q in self.read_store.quarantines():
            quarantined.setdefault(q.name, []).append(q.as_json())
        group = self._group()
        worker = {
            "state": _state(group),
            "error": None if group is None else _failing(group),
            "restarts": 0 if group is None else group.restarts,
        }
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
                    "quarantined": quarantined.get(runner.name, []),
                    "worker": worker,
                }
            )
        return status

    def health(self) -> ProjectionHealth:
        """What /readyz and the metrics say of the projectors: those stopped on an event no
        tenant can be told of, the tenants each quarantines, and whether the group this process
        runs is alive (None where it runs elsewhere)."""
        names = {r.name for r in self.runners}
        stopped = {
            row["name"]: str(row["failure"] or "")
            for row in self.read_store.tracking()
            if row["name"] in names and row["failed_position"] is not None
        }
        quarantined: dict[str, int] = dict.fromkeys(sorted(names), 0)
        for q in self.read_store.quarantines():
            if q.name in quarantined:
                quarantined[q.name] += 1
        group = self._group()
        return ProjectionHealth(
            stopped=stopped,
            quarantined=quarantined,
            running_here=group is not None and group.running,
            failing=None if group is None else _failing(group),
            restarts=0 if group is None else group.restarts,
        )

    def _group(self) -> Background | None:
        return next((r.group for r in self.runners if r.group is not None), None)

    def replay(
        self, ctx: CommandContext, tenant_id: UUID, names: Sequence[str] = ()
    ) -> tuple[dict[str, int], int]:
        """Applies the events of a tenant that projectors quarantined (all of them, or the named
        ones), upstream first, lifting each quarantine, and records the replay in the log.
        Returns how many events each projector applied, and the record's position. A projector
        cannot be replayed while one it reads from still quarantines the tenant and is not
        replayed with it."""
        tenant = str(tenant_id)
        unknown = sorted(set(names) - {r.name for r in self.runners})
        if unknown:
            raise UnknownProjector(f"no projector named {', '.join(unknown)}")
        held = {q.name for q in self.read_store.quarantines() if q.tenant_id == tenant}
        wanted = set(names) or held
        if not wanted & held:
            raise NothingQuarantined(f"no projector quarantines tenant {tenant}")
        replayed: dict[str, int] = {}
        for runner in self.runners:  # upstream first, as the group applies them
            if runner.name not in wanted & held:
                continue
            blocking = sorted((held - wanted) & _upstream_of(runner, self.runners))
            if blocking:
                raise NothingQuarantined(
                    f"{runner.name} reads {', '.join(blocking)}, which still quarantine tenant "
                    f"{tenant} back: replay them with it"
                )
            try:
                replayed[runner.name] = runner.replay(tenant)
            except ReplayFailed as e:
                raise StillFailing(str(e)) from None
        return replayed, self.operator.record_replay(ctx, tenant_id, replayed)

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
