"""Small tables beside the log in the event store's database (the personal keys, the relay's
position). Unlike the log they may change, and they are not under its immutability triggers.

Each statement is written once for both databases, which differ only in types and placeholders,
and rendered once per backend when the table is built."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg.sql import SQL, Identifier

_TYPES = {
    "postgres": {
        "uuid": "uuid",
        "blob": "bytea",
        "time": "timestamptz",
        "text": "text",
        "bigint": "bigint",
        "p": "%s",
    },
    "sqlite": {
        "uuid": "TEXT",
        "blob": "BLOB",
        "time": "TEXT",
        "text": "TEXT",
        "bigint": "INTEGER",
        "p": "?",
    },
}


class SideTable:
    """One table's statements, named by operation. In a statement `{table}` is the qualified
    table, `{name}` its bare name (to qualify columns), and `{uuid}`, `{blob}`, `{time}`,
    `{text}`, `{bigint}` and `{p}` (a placeholder) are the backend's spellings."""

    def __init__(
        self,
        datastore: SQLiteDatastore | PostgresDatastore,
        name: str,
        statements: Mapping[str, str],
    ) -> None:
        self.datastore = datastore
        self.name = name
        self._sql: dict[str, Any]
        if isinstance(datastore, PostgresDatastore):
            types = _TYPES["postgres"]
            self._sql = {
                op: SQL(text.format(table="{table}", name="{name}", **types)).format(
                    table=Identifier(datastore.schema, name), name=Identifier(name)
                )
                for op, text in statements.items()
            }
            self._values: Callable[..., tuple[Any, ...]] = lambda *values: values
        else:
            types = _TYPES["sqlite"]
            self._sql = {
                op: text.format(table=name, name=name, **types) for op, text in statements.items()
            }
            self._values = _sqlite_values

    def execute(self, op: str, *values: Any) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(self._sql[op], self._values(*values))

    def fetchone(self, op: str, *values: Any) -> Mapping[str, Any] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(self._sql[op], self._values(*values))
            row: Mapping[str, Any] | None = c.fetchone()
            return row


def _sqlite_values(*values: Any) -> tuple[Any, ...]:
    """SQLite stores ids and times as text and bytes as blobs."""
    converted: list[Any] = []
    for v in values:
        if isinstance(v, UUID):
            converted.append(str(v))
        elif isinstance(v, datetime):
            converted.append(v.isoformat())
        elif isinstance(v, bytes):
            converted.append(sqlite3.Binary(v))
        else:
            converted.append(v)
    return tuple(converted)
