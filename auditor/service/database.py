"""Engines and sessions: SQLite with WAL and a busy timeout, or PostgreSQL through psycopg 3.

On SQLite every transaction starts with our own BEGIN, chosen from the connection's execution
options:

- ``transaction`` (the default, also for ``engine.begin()``): ``BEGIN IMMEDIATE``, which takes
  the write lock up front, so two writers that read then write (a claim, a submit, a finish)
  queue on the busy timeout instead of one failing at its first write;
- ``read_transaction``: a deferred ``BEGIN``. In WAL mode a reader takes no lock and never waits
  for a writer, so the GET endpoints, the pages and the token lookup answer while a long write
  (an ingest, a delete) holds the lock.

``lock_wait_ms`` bounds how long a transaction waits for a lock (best-effort writes such as a
token's ``last_used_at``): the busy timeout on SQLite, ``lock_timeout`` on PostgreSQL. Otherwise
PostgreSQL transactions are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_MS = 30_000
# PostgreSQL: give up connecting after 10 s, and notice a dead server or link within about
# half a minute (TCP keepalives for an idle connection, tcp_user_timeout for one waiting on
# unacknowledged data), instead of the kernel's two hours. A worker's call that hangs would
# outlive its job's lease. The URL's own values, if any, are kept.
POSTGRES_CONNECT_ARGS: dict[str, int] = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 25_000,
}
READ_ONLY = "auditor_read_only"  # execution option: a deferred BEGIN on SQLite
LOCK_WAIT_MS = "auditor_lock_wait_ms"  # execution option: the busy timeout of one transaction
_BUSY_KEY = "auditor_busy_ms"  # the busy timeout a pooled SQLite connection has now


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and enforced foreign keys,
    PostgreSQL a connect timeout and TCP keepalives (``POSTGRES_CONNECT_ARGS``)."""
    if url.startswith("sqlite"):
        # Our own BEGIN instead of pysqlite's implicit transactions (see the module docstring).
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    parsed = make_url(url)
    connect_args: dict[str, int] = {}
    if parsed.get_backend_name() == "postgresql":
        given = set(parsed.query)
        connect_args = {k: v for k, v in POSTGRES_CONNECT_ARGS.items() if k not in given}
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=connect_args
    )


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None  # autocommit at the driver: we issue BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    record.info[_BUSY_KEY] = SQLITE_BUSY_MS


def _sqlite_begin(connection: Connection) -> None:
    """BEGIN for a read-only transaction, else BEGIN IMMEDIATE (with this one's busy timeout)."""
    options = connection.get_execution_options()
    busy_ms = int(options.get(LOCK_WAIT_MS, SQLITE_BUSY_MS))
    if connection.info.get(_BUSY_KEY) != busy_ms:  # set per transaction, restored by the next
        connection.exec_driver_sql(f"PRAGMA busy_timeout={busy_ms}")
        connection.info[_BUSY_KEY] = busy_ms
    connection.exec_driver_sql("BEGIN" if options.get(READ_ONLY) else "BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def read_only(engine: Engine) -> Engine:
    """The same engine (and pool) whose transactions only read: a deferred BEGIN on SQLite."""
    return engine.execution_options(**{READ_ONLY: True})


@contextmanager
def transaction(
    sessions: sessionmaker[Session], *, lock_wait_ms: int | None = None
) -> Iterator[Session]:
    """A session in one write transaction: committed on success, rolled back on any error.

    On SQLite it holds the write lock from its start. ``lock_wait_ms`` gives up waiting for a
    lock after that long (``sqlalchemy.exc.OperationalError``) instead of the busy timeout.
    """
    options = {} if lock_wait_ms is None else {LOCK_WAIT_MS: lock_wait_ms}
    with sessions(execution_options=options) as session, session.begin():
        if lock_wait_ms is not None and session.get_bind().dialect.name == "postgresql":
            session.execute(
                text("SELECT set_config('lock_timeout', :wait, true)"),
                {"wait": f"{lock_wait_ms}ms"},
            )
        yield session


@contextmanager
def read_transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction that only reads; on SQLite it never waits for a writer.

    Use it for every GET: its BEGIN is deferred, so it sees the last committed state while a
    writer holds the lock. Writing in it is a mistake (it could fail as "database is locked").
    """
    with sessions(execution_options={READ_ONLY: True}) as session, session.begin():
        yield session
