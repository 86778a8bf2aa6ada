"""Locks that let only one process at a time do a job (one relay per outbox, one rebuild per read
store). Each is held for as long as the job runs and let go however it ends, a crash included:
the operating system drops a file lock, and the database drops a session's lock with the
session."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager


class Busy(RuntimeError):
    """Another process holds the lock."""


@contextmanager
def file_lock(path: str, what: str) -> Iterator[None]:
    """An exclusive lock on a file beside an embedded database; Busy at once if held."""
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"another {what} is running") from None
        yield
