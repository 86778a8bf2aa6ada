"""Locks that let only one process at a time do a job (one relay per outbox, one rebuild per read
store). Each is held for as long as the job runs and let go however it ends, a crash included:
the operating system drops a file lock, and the database drops a session's lock with the
session."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Busy(RuntimeError):
    """Another process holds the lock."""


class LockLost(RuntimeError):
    """The lock went while the job ran (its database session was dropped): the job must stop
    and take it again, for another process may hold it now."""


# Raises LockLost once the lock has gone; a job calls it before each step it must not share.
StillHeld = Callable[[], None]


def held() -> None:
    """The check of a lock that cannot go while its process lives (a file lock)."""


@contextmanager
def file_lock(path: str, what: str) -> Iterator[StillHeld]:
    """An exclusive lock on a file beside an embedded database; Busy at once if held."""
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"another {what} is running") from None
        yield held
