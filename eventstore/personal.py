"""Crypto-shredding: personal fields of events are sealed with a key per person, kept beside the
log in `velora_personal_keys` (which, unlike the log, may change). Erasure destroys the key, so
the stored events, never rewritten, keep only ciphertext nobody can open, and the event store's
chain and the ledger stay exactly as they were.

Each person's key is 256 random bits, stored wrapped (AES-GCM) under a key derived from the
deployment's secret, so the keys table alone opens nothing. A sealed field is stored as

    {"__personal__": "<person id>", "sealed": "<base64 nonce ‖ AES-GCM ciphertext>",
     "redacted": <the value's shape with no content>}

and reads back as the value while the key exists, else as `redacted`."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from domain.personal import redacted
from eventstore.sidetable import SideTable

KEYS_TABLE = "velora_personal_keys"
SEALED = "__personal__"
NONCE_BYTES = 12
# How many people's sealing keys one process keeps in memory.
_SEALING_KEYS = 10_000


class PersonalKeysLocked(RuntimeError):
    """The keys cannot be unwrapped with this deployment's secret."""


# One statement per operation, for both databases (see SideTable).
_STATEMENTS = {
    "create": (
        "CREATE TABLE IF NOT EXISTS {table} (subject_id {uuid} PRIMARY KEY, wrapped {blob}, "
        "created_at {time} NOT NULL, erased_at {time})"
    ),
    "read": "SELECT wrapped FROM {table} WHERE subject_id = {p}",
    "insert": (
        "INSERT INTO {table} (subject_id, wrapped, created_at) VALUES ({p}, {p}, {p}) "
        "ON CONFLICT (subject_id) DO NOTHING"
    ),
    "destroy": (
        "INSERT INTO {table} (subject_id, wrapped, created_at, erased_at) "
        "VALUES ({p}, NULL, {p}, {p}) ON CONFLICT (subject_id) "
        "DO UPDATE SET wrapped = NULL, erased_at = COALESCE({name}.erased_at, {p})"
    ),
}


class PersonalKeys:
    """Per-person keys in the event store's database: made on first use, destroyed on
    erasure. A destroyed key leaves a row behind (erased_at set, no key), so no new key is ever
    made for that person and nothing about them can be sealed readably again."""

    def __init__(self, datastore: SQLiteDatastore | PostgresDatastore, secret: str) -> None:
        self.datastore = datastore
        self._wrap = AESGCM(hashlib.sha256(f"velora:personal-keys:{secret}".encode()).digest())
        self._table = SideTable(datastore, KEYS_TABLE, _STATEMENTS)
        self._sealing: OrderedDict[UUID, bytes] = OrderedDict()
        self._sealing_lock = threading.Lock()
        # Called after a key is destroyed, to drop whatever was opened with it from memory.
        self.on_destroyed: Callable[[UUID], None] = lambda _: None

    def create_table(self) -> None:
        self._execute("create")

    def sealing_key(self, subject: UUID) -> bytes | None:
        """The key to seal a new value with: made if the person has none, None once erased.
        Kept in memory for the next seal, so a command does not read the keys table each time.
        A key erased meanwhile by another process can still seal here, but only ciphertext
        that nobody can open: opening always reads the table (`key_for`)."""
        with self._sealing_lock:
            key = self._sealing.get(subject)
            if key is not None:
                self._sealing.move_to_end(subject)
                return key
        key = self.key_for(subject, create=True)
        if key is not None:
            with self._sealing_lock:
                self._sealing[subject] = key
                while len(self._sealing) > _SEALING_KEYS:
                    self._sealing.popitem(last=False)
        return key

    def key_for(self, subject: UUID, *, create: bool) -> bytes | None:
        """The person's key; made now if `create` and they have none. None once erased."""
        wrapped, known = self._read(subject)
        if known or not create:
            return self._unwrap(subject, wrapped)
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + self._wrap.encrypt(nonce, key, subject.bytes)
        self._execute("insert", subject, wrapped, datetime.now(UTC))
        # Whoever inserted first won; everyone uses the key that was stored.
        wrapped, _ = self._read(subject)
        return self._unwrap(subject, wrapped)

    def destroy(self, subject: UUID) -> None:
        """Erases the person's key for good (idempotent)."""
        with self._sealing_lock:
            self._sealing.pop(subject, None)
        now = datetime.now(UTC)
        self._execute("destroy", subject, now, now, now)
        self.on_destroyed(subject)

    def _execute(self, op: str, *values: Any) -> None:
        self._table.execute(op, *values)

    def _read(self, subject: UUID) -> tuple[bytes | None, bool]:
        row = self._table.fetchone("read", subject)
        if row is None:
            return None, False
        wrapped = row["wrapped"]
        return (bytes(wrapped) if wrapped is not None else None), True

    def _unwrap(self, subject: UUID, wrapped: bytes | None) -> bytes | None:
        if wrapped is None:
            return None
        try:
            return self._wrap.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], subject.bytes)
        except InvalidTag:
            raise PersonalKeysLocked(
                "the personal keys were wrapped under another secret: "
                "VELORA_SECRET_KEY is not the one this event store was written with"
            ) from None


class PersonalCipher:
    """Seals and opens personal values with their person's key. `encode` and `decode` turn a
    value into bytes and back (the event store's own transcoder)."""

    def __init__(
        self,
        keys: PersonalKeys,
        encode: Callable[[Any], bytes],
        decode: Callable[[bytes], Any],
    ) -> None:
        self.keys = keys
        self._encode = encode
        self._decode = decode

    def seal(self, value: Any, subject: UUID) -> dict[str, Any]:
        key = self.keys.sealing_key(subject)
        shape = redacted(value, subject)
        if key is None:  # the person is erased already: store nothing readable about them
            return {SEALED: str(subject), "sealed": None, "redacted": shape}
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(key).encrypt(nonce, self._encode(value), subject.bytes)
        sealed = base64.b64encode(nonce + ciphertext).decode()
        return {SEALED: str(subject), "sealed": sealed, "redacted": shape}

    def open(self, stored: Any) -> Any:
        """A stored field's value: opened if sealed and its key exists, redacted if the key is
        gone, and as stored if it was never sealed (events recorded before sealing began)."""
        if not (isinstance(stored, dict) and SEALED in stored):
            return stored
        subject = UUID(stored[SEALED])
        key = self.keys.key_for(subject, create=False) if stored["sealed"] else None
        if key is None:
            return stored["redacted"]
        raw = base64.b64decode(stored["sealed"])
        return self._decode(
            AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], subject.bytes)
        )
