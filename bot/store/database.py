"""One engine and session factory per database URL, shared by every part of the store, and
:class:`RowInsert` for the inserts on the hot path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event, insert
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.future import create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL + synchronous=FULL: a committed report survives power loss, not only a crash.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def build_engine(url: str) -> Engine:
    """Create the engine for ``url`` (SQLite: WAL, foreign keys, parent folder created)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            future=True,
            poolclass=QueuePool,
            pool_size=5,
            max_overflow=10,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


class Database:
    """The engine and sessions of one database URL (built when the store is built)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = build_engine(url)
        self._session = sessionmaker(self.engine, future=True, expire_on_commit=False)

    def session(self) -> Session:
        return self._session()

    def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations up to ``revision`` (idempotent)."""
        from bot.store.migrate import upgrade

        upgrade(self.engine, revision)

    def dispose(self) -> None:
        self.engine.dispose()


class RowInsert:
    """One INSERT of fixed columns, compiled once per dialect by SQLAlchemy and run on the DBAPI
    cursor of the caller's connection, each value converted by the column type's own bind
    processor (what a Core ``execute`` would send, byte for byte).

    Every report goes through two or three of these in its one transaction. On this machine a
    Core ``execute`` of the same statement costs 26-29 us of CPU (cache lookup, parameter set-up,
    result object, events) and this 9-15 us; with a fast disk the CPU bounds the insert rate
    (bench/store_bench.py). A database error is raised as SQLAlchemy's (``IntegrityError``...).
    """

    def __init__(self, table: Table, keys: Sequence[str], *, returns_id: bool = False) -> None:
        self.table, self.keys, self.returns_id = table, tuple(keys), returns_id
        self._compiled: dict[Any, tuple[str, bool, list[tuple[str, Any]]]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, bool, list[tuple[str, Any]]]:
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        if key not in self._compiled:
            stmt = insert(self.table)
            use_rowid = dialect.name == "sqlite"  # SQLite (SQLAlchemy 1.4): no RETURNING
            if self.returns_id and not use_rowid:
                stmt = stmt.returning(self.table.c.id)
            compiled = stmt.compile(dialect=dialect, column_keys=list(self.keys))
            order = compiled.positiontup or list(self.keys)
            if sorted(order) != sorted(self.keys):  # bind names are the column keys
                raise ValueError(f"unexpected bind names {order} for {self.keys}")
            processors = [
                (k, self.table.c[k].type.dialect_impl(dialect).bind_processor(dialect))
                for k in order
            ]
            self._compiled[key] = (compiled.string, use_rowid, processors)
        return self._compiled[key]

    def __call__(self, conn: Connection, values: Mapping[str, Any]) -> int | None:
        """Insert one row on ``conn`` (in its transaction); the new ``id`` if ``returns_id``."""
        sql, use_rowid, processors = self._for(conn.dialect)
        converted = [(k, values[k] if p is None else p(values[k])) for k, p in processors]
        params: Any = [v for _, v in converted] if conn.dialect.positional else dict(converted)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, params)
            if not self.returns_id:
                return None
            return int(cursor.lastrowid if use_rowid else cursor.fetchone()[0])
        except conn.dialect.dbapi.Error as exc:
            raise DBAPIError.instance(sql, params, exc, conn.dialect.dbapi.Error) from exc
        finally:
            cursor.close()
