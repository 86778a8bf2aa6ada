"""The tamper-evident chain over the event log.

Every stored event gets a link: SHA-256 of the previous link followed by the event's position,
aggregate id, version, topic and stored bytes. The link is written in the same transaction as the
event (by the recorder, under the lock that orders positions), into a table that is as immutable
as the events themselves. Changing any stored event afterwards, even with the immutability guard
turned off by a database superuser, breaks every link from that event on; recomputing the chain
names the first one.

The chain is global, like the log: one sequence of positions, one chain. A per-tenant chain would
need a lock per tenant and a second ordering beside the log's, and an event that concerns several
tenants (none do yet, but the platform's own accounts might) would belong to none. Seals are per
tenant instead: a period close records the global head it was made at, so it vouches for that
tenant's history and everything before it.

Crypto-shredding does not touch the chain: erasure destroys a key, never a stored byte."""

from __future__ import annotations

import hashlib
from uuid import UUID

GENESIS = b""


def canonical(
    position: int, originator_id: object, originator_version: int, topic: str, state: bytes
) -> bytes:
    """What a link covers, in a form both databases produce the same way: the id hyphenated, as
    PostgreSQL prints a uuid (SQLite stores it as bare hex)."""
    head = f"{position}|{UUID(str(originator_id))}|{originator_version}|{topic}|"
    # Stored bytes, normally; whatever else a tampered row holds is hashed as its text.
    body = state.encode() if isinstance(state, str) else bytes(state)
    return head.encode() + body


def link(
    previous: bytes,
    position: int,
    originator_id: object,
    originator_version: int,
    topic: str,
    state: bytes,
) -> bytes:
    digest = hashlib.sha256(previous)
    digest.update(canonical(position, originator_id, originator_version, topic, state))
    return digest.digest()
