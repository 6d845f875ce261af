"""Engine set-up that differs between SQLite and PostgreSQL, and the errors both raise on conflicts."""

import fcntl
import os

from flask import current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm.exc import StaleDataError


class Conflict(Exception):
    """Someone else changed the same record at the same time; nothing of this request was saved."""


def database_uri(url: str, instance_path: str) -> str:
    if not url:
        return f"sqlite:///{instance_path}/grantflow.sqlite3"
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


# Requests that only read: their transactions never take SQLite's write lock up front.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def writes(view):
    """Mark a view that may write although it answers GET (a first visit creating a row, a
    confirmation link): on SQLite its transactions take the write lock up front, like a POST's."""
    view.writes_on_get = True
    return view


def _takes_write_lock() -> bool:
    """Whether a transaction beginning now is a request's that will write: any request method
    but GET/HEAD/OPTIONS, or a GET view marked with `writes`. Work outside requests (CLI, mail
    thread, tests' own sessions) begins as before, deferred."""
    if not has_request_context():
        return False
    if request.method not in READ_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return bool(getattr(view, "writes_on_get", False))


def configure_engine(engine: Engine, busy_timeout_ms: int = 30000) -> None:
    """SQLite: WAL, foreign keys, a busy timeout and real BEGINs so reads are part of the
    transaction (the driver otherwise starts it only at the first write, which breaks
    read-check-write sequences such as the budget check).

    Which BEGIN: a request that will write (any method but GET/HEAD/OPTIONS, or a GET view
    marked `@writes`) begins with `BEGIN IMMEDIATE`, taking the one write lock before its first
    read and waiting for it up to `busy_timeout_ms` (SQLITE_BUSY_TIMEOUT) while another writer
    finishes. A deferred transaction that has read and then writes cannot wait: SQLite refuses
    the upgrade at once ("database is locked") whenever another connection holds the lock or
    committed since the read, so at a deadline rush most submissions failed although nobody
    else touched them. Requests that only read keep a deferred `BEGIN`: with WAL they read a
    snapshot and never queue behind writers. Work outside requests (CLI commands, the mail
    thread, tests' own sessions) keeps the deferred BEGIN too; a transaction whose first
    statement writes waits within the busy timeout all the same.

    On SQLite the writing requests thus run one after another, each reading what the one
    before committed: a second submit of the same idea finds it submitted, a workflow step from
    a stale page is refused by the version it carries. Concurrent sessions that read before
    either writes (PostgreSQL, work outside requests) still meet the idea's `version_id_col`
    and get Conflict. PostgreSQL needs none of this (row locks, READ COMMITTED)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    queue_path = None if engine.url.database in (None, "", ":memory:") else f"{engine.url.database}-writers"

    @event.listens_for(engine, "begin")
    def _begin(connection):
        if not _takes_write_lock():
            connection.exec_driver_sql("BEGIN")
            return
        if queue_path is not None:
            _queue_for_writing(connection.info, queue_path)
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(connection):
        _leave_queue(connection.info)

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record):
        _leave_queue(record.info)

    @event.listens_for(engine, "close")
    def _close(_dbapi_connection, record):
        _leave_queue(record.info)
        fd = record.info.pop("writers_fd", None)
        if fd is not None:
            os.close(fd)


def _queue_for_writing(info: dict, path: str) -> None:
    """Wait in line for SQLite's write lock on an OS file lock beside the database.

    SQLite's busy handler does not queue: a writer that finds the lock taken sleeps and polls
    (1, 2, 5, 10 … 100 ms), so while fifty writers wait the lock is often free and nobody is
    awake to take it, and each writer holds it for a few milliseconds. The kernel wakes the
    next waiter of an exclusive `flock` the moment it is released, so writing requests follow
    one another without gaps. Each pooled connection has its own descriptor (flock excludes
    between descriptors, also between threads of one process); the lock is released at commit
    or rollback (just before SQLite's own COMMIT, which is quick; the next writer's BEGIN
    IMMEDIATE waits that long in the busy handler), and by the kernel if the process dies.
    A holder is always a request between its first statement and its commit, bounded by the
    server's request timeout."""
    fd = info.get("writers_fd")
    if fd is None:
        fd = info["writers_fd"] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    if not info.get("writers_locked"):
        fcntl.flock(fd, fcntl.LOCK_EX)
        info["writers_locked"] = True


def _leave_queue(info: dict) -> None:
    if info.get("writers_locked"):
        info["writers_locked"] = False
        fcntl.flock(info["writers_fd"], fcntl.LOCK_UN)


def is_conflict(error: Exception) -> bool:
    """True for the errors that mean a concurrent writer won: a stale version, SQLite's
    'database is locked', PostgreSQL serialization failures and lock time-outs."""
    if isinstance(error, StaleDataError | Conflict):
        return True
    if isinstance(error, OperationalError) and "locked" in str(error.orig).lower():
        return True
    if isinstance(error, DBAPIError):
        code = getattr(error.orig, "sqlstate", None)
        return code in {"40001", "40P01", "55P03"}
    return False
