"""What a projector is: it folds events into read-model rows with one handler per event class,
and names the models it reads (`upstream`) and the tables it alone writes (`writes`). A runner
(projections/runner.py) feeds it each event of the log exactly once."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from functools import singledispatchmethod
from typing import Any

from sqlalchemy.engine import Connection

from domain.base import topics_of
from eventstore.mapper import RecordedEvent
from projections.schema import SHADOW_SUFFIX
from projections.tables import LIVE, Tables


class EffectUnavailable(RuntimeError):
    """A projector's outside effect (a search engine, say) cannot be reached for now."""


class Projector:
    """Folds events into read-model rows. Each subclass defines its own `apply` as a
    singledispatchmethod with one handler per event class; events without one are passed over
    (and never even decoded)."""

    name: str = ""
    # Projectors whose read models this one reads. It never moves past their positions, so what
    # it reads of them always includes the effect of the event it is applying.
    upstream: tuple[str, ...] = ()
    # The read-model tables this projector alone writes: what a rebuild of it fills and swaps.
    writes: tuple[str, ...] = ()
    # At most one batch per this many seconds in a running group (0: every batch). For a sink
    # whose every batch has a fixed cost whatever its size, as a search index's commit has.
    pace_s: float = 0.0

    def __init__(self, tables: Tables | None = None) -> None:
        self.tables = LIVE if tables is None else tables

    def shadow(self, tables: Tables, rebuilding: Iterable[str]) -> Projector:
        """The same projector writing into a rebuild's shadow tables under its own tracking
        row, and reading the upstream models that are rebuilt with it from their shadows."""
        rebuilt = set(rebuilding)
        copy = type(self)(tables)
        copy.name = self.name + SHADOW_SUFFIX
        copy.upstream = tuple(u + SHADOW_SUFFIX if u in rebuilt else u for u in self.upstream)
        return copy

    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        raise NotImplementedError

    def start_batch(self) -> None:
        """Called before the first event of each batch."""

    def end_batch(self, conn: Connection) -> None:
        """Called after the last event of a batch, before its position commits. A projector
        with an effect outside the read store makes it durable here: if that fails, the batch
        and its position roll back and are applied again."""

    def topics(self) -> frozenset[str]:
        dispatch = inspect.getattr_static(type(self), "apply")
        if not isinstance(dispatch, singledispatchmethod):
            raise TypeError(f"{type(self).__name__}.apply must be a singledispatchmethod")
        registry = dispatch.dispatcher.registry
        return frozenset(t for cls in registry if cls is not object for t in topics_of(cls))
