"""The aggregates one process has loaded or saved, shared by all its applications and kept
current by following the event log.

Reading an aggregate from the store costs a round trip per aggregate, and a checkout touches a
dozen (tenant, cart, products, sellers, stocks, the order). Here each command first reads what the
log has gained since the cache last looked: only positions, ids and versions, one indexed range
scan, shared by every command that arrives meanwhile. Any cached aggregate with a newer version in
the log is marked behind. The command's loads are then answered from memory; a copy marked behind
reads only the events after its version (a hot stock with thousands of holds is never replayed
whole), and only misses read a whole stream. A save still appends with the expected versions, so
the store, not the cache, decides what is current: a copy gone stale since the look costs a
conflict, which marks the copies the save held as behind, and the command runs again on fresh
state. Never a wrong answer.

Freshness is per command: inside `command()` the log is read once, at the first load; outside
one, every load reads it first. Either way a load sees every event committed before it began,
whichever process wrote it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from copy import deepcopy
from typing import Any
from uuid import UUID

# (position, aggregate id, version) of each event after a position, oldest first.
Changes = Callable[[int, int], Sequence[tuple[int, UUID, int]]]

_PAGE = 5_000
# Past this many pages behind, forgetting everything is cheaper than reading every change.
_MAX_PAGES = 20


class AggregateCache:
    def __init__(self, changes: Changes, head: Callable[[], int], maxsize: int = 50_000) -> None:
        self._changes = changes
        self._head = head
        self.maxsize = maxsize
        self._items: OrderedDict[UUID, Any] = OrderedDict()
        # Cached aggregates known to be behind the store, each with the mark it was given.
        self._behind: dict[UUID, int] = {}
        self._marks = 0
        # The newest version the log has shown of each aggregate, cached or not, so that a copy
        # read from the store before a newer event was seen is not cached after it. Forgotten
        # wholesale when large; `_era` counts those forgettings.
        self._seen: dict[UUID, int] = {}
        self._era = 0
        # Ids a load found nothing for, each with the era it looked in: still nothing while the
        # era lasts and the log has shown no event of that id (`_seen`). A product's own id asked
        # of as a variant's, a seller without shipping rates: asked on every cart command.
        self._absent: dict[UUID, int] = {}
        self._position: int | None = None
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._begun = 0
        self._completed = 0
        self._local = threading.local()
        # Per aggregate being changed: its lock and how many commands want it.
        self._writers: dict[UUID, list[Any]] = {}
        self._writers_lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.forwarded = 0

    # -- writers -----------------------------------------------------------------------------

    @contextmanager
    def writing(self, aggregate_ids: Sequence[UUID]) -> Iterator[None]:
        """Lets one command of this process at a time change these aggregates. Commands racing
        on a hot aggregate (a popular product's stock) would otherwise all load the same
        version, all but one conflict on saving, and each run again; here they queue instead.
        Taken in id order, so two commands can never wait on each other."""
        ordered = sorted(set(aggregate_ids))
        with self._writers_lock:
            entries = [self._writers.setdefault(i, [threading.Lock(), 0]) for i in ordered]
            for entry in entries:
                entry[1] += 1
        taken = []
        try:
            for entry in entries:
                entry[0].acquire()
                taken.append(entry)
            yield
        finally:
            for entry in reversed(taken):
                entry[0].release()
            with self._writers_lock:
                for aggregate_id, entry in zip(ordered, entries, strict=True):
                    entry[1] -= 1
                    if entry[1] == 0:
                        del self._writers[aggregate_id]

    # -- freshness -------------------------------------------------------------------------------

    @contextmanager
    def command(self) -> Iterator[None]:
        """Reads the log once, at the first load inside, instead of before every load."""
        if getattr(self._local, "depth", 0):
            self._local.depth += 1
        else:
            self._local.depth, self._local.fresh = 1, False
        try:
            yield
        finally:
            self._local.depth -= 1

    def _freshen(self) -> None:
        if getattr(self._local, "depth", 0):
            if self._local.fresh:
                return
            self._local.fresh = True
        self.refresh()

    def refresh(self) -> None:
        """Drops every cached aggregate the log has a newer version of. A caller waits for a
        read of the log that began after it arrived: its own, or one that overtook it."""
        ticket = self._begun
        with self._refresh_lock:
            if self._completed > ticket:
                return
            self._begun += 1
            mine = self._begun
            if self._position is None:
                # The first look: nothing kept before it can be checked against the log.
                head = self._head()
                self.clear()
                self._position = head
            else:
                self._follow()
            self._completed = mine

    def _follow(self) -> None:
        assert self._position is not None
        for _ in range(_MAX_PAGES):
            rows = self._changes(self._position, _PAGE)
            if not rows:
                return
            with self._lock:
                for _, aggregate_id, version in rows:
                    if self._seen.get(aggregate_id, 0) < version:
                        self._seen[aggregate_id] = version
                    cached = self._items.get(aggregate_id)
                    if cached is not None and cached.version < version:
                        self._mark_behind(aggregate_id)
                if len(self._seen) > self.maxsize * 2:
                    self._seen.clear()
                    self._era += 1
                self._position = rows[-1][0]
            if len(rows) < _PAGE:
                return
        # Far behind: start afresh at the head rather than read every change.
        head = self._head()
        self.clear()
        self._position = head

    # -- loads and saves -------------------------------------------------------------------------

    def get(
        self,
        aggregate_id: UUID,
        load: Callable[[], Any],
        forward: Callable[[Any], Any],
        *,
        shared: bool = False,
    ) -> Any:
        """A private copy of the aggregate: from memory if current; brought up to date with
        `forward` (which applies the events after its version) if the log or a conflict showed
        it is behind; else from `load`. `load` raises if the store has no such aggregate, or
        returns None, and then the absence is kept (see `_absent`) and None returned until the
        log shows that id. With `shared`, the kept copy itself instead of a private one, for a
        caller that only reads it: the cache never changes a copy it keeps (it replaces it), so
        a reader sees one consistent version."""
        self._freshen()
        with self._lock:
            era = self._era
            found = self._items.get(aggregate_id)
            if found is not None:
                self._items.move_to_end(aggregate_id)
                behind = self._behind.get(aggregate_id)
                if behind is None:
                    self.hits += 1
                    return found if shared else deepcopy(found)
            elif self._absent.get(aggregate_id) == era and aggregate_id not in self._seen:
                self.hits += 1
                return None
        if found is None:
            self.misses += 1
            found = load()
            if found is None:
                self._note_absent(aggregate_id, era)
                return None
            self._offer(found, era)
        else:
            self.forwarded += 1
            found = forward(deepcopy(found))
            self._offer(found, era, caught_up=behind)
        return found if shared else deepcopy(found)

    def era(self) -> int:
        with self._lock:
            return self._era

    def saved(self, aggregates: Sequence[Any], era: int) -> None:
        """Keeps what a save just appended; `era` is `era()` from before the save. A copy: the
        caller may go on changing its aggregate, and only what was stored may be cached."""
        for aggregate in aggregates:
            with self._lock:
                self._absent.pop(aggregate.id, None)
            self._offer(deepcopy(aggregate), era)

    def forget(self, aggregate_ids: Sequence[UUID]) -> None:
        """Marks copies a conflicting save held as behind: the store has moved past at least
        one of them, and the next load reads what it has gained since."""
        with self._lock:
            for aggregate_id in aggregate_ids:
                if aggregate_id in self._items:
                    self._mark_behind(aggregate_id)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._behind.clear()
            self._seen.clear()
            self._absent.clear()
            self._era += 1

    def _note_absent(self, aggregate_id: UUID, era: int) -> None:
        """Keeps that the store had nothing for this id, unless the log has shown it since."""
        with self._lock:
            if era != self._era or aggregate_id in self._seen:
                return
            if len(self._absent) >= self.maxsize:
                self._absent.clear()
            self._absent[aggregate_id] = era

    def _mark_behind(self, aggregate_id: UUID) -> None:
        self._marks += 1
        self._behind[aggregate_id] = self._marks

    def _offer(self, aggregate: Any, era: int, caught_up: int | None = None) -> None:
        """Keeps a copy unless the log may already hold something newer. `caught_up` is the
        mark of a copy just brought up to date: it is current unless marked again meanwhile."""
        with self._lock:
            if era != self._era or self._seen.get(aggregate.id, 0) > aggregate.version:
                return
            cached = self._items.get(aggregate.id)
            if cached is not None and cached.version > aggregate.version:
                return
            self._items[aggregate.id] = aggregate
            self._items.move_to_end(aggregate.id)
            mark = self._behind.get(aggregate.id)
            if mark is not None and (
                mark == caught_up or (cached is not None and cached.version < aggregate.version)
            ):
                del self._behind[aggregate.id]
            while len(self._items) > self.maxsize:
                dropped, _ = self._items.popitem(last=False)
                self._behind.pop(dropped, None)
