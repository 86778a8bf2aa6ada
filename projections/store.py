"""The read-model store: one SQLAlchemy engine on SQLite (embedded) or MySQL/MariaDB, with the
projection tracking rows that make each projector's writes exactly-once."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from projections import quarantine
from projections.schema import projection_tracking
from projections.scope import TenantScope

MAX_LIMIT = 500
_WRITE = "velora_write"


class TrackingConflict(Exception):
    """Another runner advanced the same projector first; this batch must not commit."""


def utcnow() -> datetime:
    # Read models store naive UTC: MySQL's DATETIME has no zone.
    return datetime.now(UTC).replace(tzinfo=None)


def naive_utc(ts: datetime) -> datetime:
    """An aware timestamp as the naive UTC value a read-model column stores."""
    return ts.astimezone(UTC).replace(tzinfo=None)


def zoned(value: datetime) -> datetime:
    """A stored naive UTC value, answered with its zone stated."""
    return value.replace(tzinfo=UTC)


def sqlalchemy_url(url: str) -> str:
    """Accepts the mysql:// URLs operators write and picks the pure-Python driver."""
    if url.startswith("mysql://"):
        url = "mysql+pymysql://" + url[len("mysql://") :]
    if url.startswith("mysql+pymysql://") and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    return url


def make_engine(url: str | None, data_dir: Path) -> Engine:
    if not url:
        data_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{data_dir / 'read.sqlite3'}"
    url = sqlalchemy_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # Let SQLAlchemy, not pysqlite, decide when transactions begin. Writers take the write
        # lock at BEGIN so two of them never deadlock upgrading read locks; readers do not.
        @sa.event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_conn: Any, _: Any) -> None:
            dbapi_conn.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            writing = conn.get_execution_options().get(_WRITE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

        return engine
    # As many pooled connections as the API's worker threads and the projectors can use at
    # once: a connection beyond the pool is opened and closed per use, and PyMySQL builds a TLS
    # context for each, which cost more CPU than the queries under load. No ping before each
    # use either: a dead connection fails its statement, the pool is refreshed, and the API
    # answers 503 (api/problems.py) or the projector retries.
    return sa.create_engine(
        url,
        pool_pre_ping=False,
        pool_size=48,
        max_overflow=16,
        pool_recycle=3600,
        isolation_level="READ COMMITTED",
    )


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p:{position}".encode()).decode().rstrip("=")


class InvalidCursor(ValueError):
    pass


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, value = raw.split(":", 1)
        if kind != "p":
            raise ValueError(kind)
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor(f"cursor {cursor!r} is not one this server issued") from None


class ReadStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def backend(self) -> Literal["sqlite", "mysql"]:
        return "sqlite" if self.engine.dialect.name == "sqlite" else "mysql"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: commits on success, rolls back on any exception."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def ping(self) -> None:
        with self.read() as conn:
            conn.execute(sa.text("SELECT 1"))

    # -- tracking -------------------------------------------------------------------------------

    def positions(self) -> dict[str, int]:
        with self.read() as conn:
            t = projection_tracking
            return {name: pos for name, pos in conn.execute(sa.select(t.c.name, t.c.position))}

    def tracking(self) -> list[dict[str, Any]]:
        with self.read() as conn:
            rows = conn.execute(sa.select(projection_tracking).order_by(projection_tracking.c.name))
            return [dict(r._mapping) for r in rows]

    def wait_for(self, position: int, names: Iterable[str], timeout_s: float) -> bool:
        """Waits until the named read models have processed `position`; False on timeout."""
        deadline = time.monotonic() + timeout_s
        delay_s = 0.005
        while True:
            positions = self.positions()
            if all(positions.get(name, 0) >= position for name in names):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay_s)
            delay_s = min(delay_s * 2, 0.2)

    def position(self, name: str) -> int:
        return self.positions().get(name, 0)

    def hold(self, conn: Connection, name: str, expected: int) -> None:
        """Locks a projector's tracking row for this transaction and checks it is still at the
        position this runner read. A second runner of the same projector waits here, then backs
        off without applying anything, instead of applying the same events twice."""
        found, paused_by = self._locked(conn, name)
        if paused_by is not None:
            raise TrackingConflict(f"{name} is paused by {paused_by}")
        if found != expected:
            raise TrackingConflict(f"{name} is at {found}, not {expected}")

    def claim(self, conn: Connection, name: str, expected: int) -> bool:
        """Like `hold`, for a group of projectors: False (and nothing to apply) while the
        projector is paused, so the others in its transaction go on without it."""
        found, paused_by = self._locked(conn, name)
        if paused_by is not None:
            return False
        if found != expected:
            raise TrackingConflict(f"{name} is at {found}, not {expected}")
        return True

    def claim_all(self, conn: Connection, expected: Mapping[str, int]) -> set[str]:
        """`claim` for several projectors in one statement instead of one each: locks their
        rows (in the order of their names, as every group takes them) and returns those that
        are not paused. Raises TrackingConflict if one is not where its runner read it."""
        t = projection_tracking
        rows = {
            row.name: row
            for row in conn.execute(
                sa.select(t.c.name, t.c.position, t.c.paused_by)
                .where(t.c.name.in_(sorted(expected)))
                .order_by(t.c.name)
                .with_for_update()
            )
        }
        claimed = set()
        for name, position in expected.items():
            row = rows.get(name)
            if row is None:
                if self.claim(conn, name, position):  # its first batch: makes its row
                    claimed.add(name)
            elif row.paused_by is None:
                if int(row.position) != position:
                    raise TrackingConflict(f"{name} is at {row.position}, not {position}")
                claimed.add(name)
        return claimed

    def lock(self, conn: Connection, name: str) -> int:
        """Locks a projector's tracking row (made at 0 if new) and returns its position."""
        return self._locked(conn, name)[0]

    def _locked(self, conn: Connection, name: str) -> tuple[int, str | None]:
        t = projection_tracking
        found = conn.execute(
            sa.select(t.c.position, t.c.paused_by).where(t.c.name == name).with_for_update()
        ).first()
        if found is None:
            try:
                with conn.begin_nested():
                    conn.execute(t.insert().values(name=name, position=0, updated_at=utcnow()))
            except sa.exc.IntegrityError:
                raise TrackingConflict(f"{name} was started by another runner") from None
            return 0, None
        return int(found.position), found.paused_by

    def pause(self, conn: Connection, names: Iterable[str], by: str) -> None:
        """Keeps the named projectors where they are, once this transaction commits, until
        `resume`: their runners back off instead of applying anything."""
        t = projection_tracking
        conn.execute(t.update().where(t.c.name.in_(list(names))).values(paused_by=by))

    def resume(self, conn: Connection, by: str) -> list[str]:
        """Lifts every pause set by `by`; returns the projectors it applied to."""
        t = projection_tracking
        names = list(conn.execute(sa.select(t.c.name).where(t.c.paused_by == by)).scalars())
        conn.execute(t.update().where(t.c.paused_by == by).values(paused_by=None))
        return names

    def place(self, conn: Connection, name: str, position: int) -> None:
        """Sets a projector's position outright: a rebuilt model that starts where its source
        stands, or one that takes over from another."""
        self.lock(conn, name)
        self.advance(conn, name, position)

    def forget(self, conn: Connection, name: str) -> None:
        conn.execute(projection_tracking.delete().where(projection_tracking.c.name == name))
        quarantine.forget(conn, name)

    def quarantined_for(self, tenant_id: str, names: Iterable[str]) -> dict[str, int]:
        """The named projectors that quarantine this tenant, each with the position it was
        quarantined at (projections/quarantine.py)."""
        with self.read() as conn:
            found = quarantine.of(conn, names)
        return {name: tenants[tenant_id] for name, tenants in found.items() if tenant_id in tenants}

    def quarantines(self) -> list[quarantine.Quarantine]:
        with self.read() as conn:
            return quarantine.listed(conn)

    def advance(self, conn: Connection, name: str, new: int) -> None:
        """Moves a held projector's position, in the same transaction as its row changes."""
        self.advance_all(conn, {name: new})

    def advance_all(self, conn: Connection, reached: Mapping[str, int]) -> None:
        """`advance` for several held projectors at once: one statement, not one each."""
        if not reached:
            return
        t = projection_tracking
        conn.execute(
            t.update()
            .where(t.c.name.in_(list(reached)))
            .values(
                position=sa.case(reached, value=t.c.name),
                updated_at=utcnow(),
                failed_position=None,
                failure=None,
            )
        )

    def failed_position(self, name: str) -> int | None:
        """Where a projector stopped on a bad event, or None while it is not stopped."""
        t = projection_tracking
        with self.read() as conn:
            return conn.execute(sa.select(t.c.failed_position).where(t.c.name == name)).scalar()

    def record_failure(self, name: str, position: int, failure: str) -> None:
        t = projection_tracking
        with self.begin() as conn:
            updated = conn.execute(
                t.update().where(t.c.name == name).values(failed_position=position, failure=failure)
            )
            if updated.rowcount == 0:
                conn.execute(
                    t.insert().values(
                        name=name,
                        position=0,
                        updated_at=utcnow(),
                        failed_position=position,
                        failure=failure,
                    )
                )

    # -- scoped reads ---------------------------------------------------------------------------

    def one(self, scope: TenantScope, table: sa.Table, *where: Any) -> dict[str, Any] | None:
        with self.read() as conn:
            row = conn.execute(scope.select(table, *where)).first()
            return dict(row._mapping) if row is not None else None

    def page(
        self, scope: TenantScope, table: sa.Table, *where: Any, limit: int, cursor: str | None
    ) -> Page:
        """A page in creation order, keyed on the position of the event that created each row."""
        after = decode_cursor(cursor)
        key = table.c.created_position
        stmt = scope.select(table, *where).where(key > after).order_by(key).limit(limit + 1)
        with self.read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, encode_cursor(rows[-1]["created_position"]) if more else None)
