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


def reads_first(view):
    """Mark a writing view whose every write is checked against a version it read (the idea's
    optimistic lock, `workflow.engine.bump_version`, is its first write): on SQLite it reads
    without the write lock and takes the lock only at its first write, with a fresh view of
    the database (see `configure_engine`). A deadline crowd's submissions then load, parse and
    check their ideas side by side, and hold the one write lock only for their writes."""
    view.reads_first = True
    return view


# How a transaction beginning now takes SQLite's write lock.
DEFERRED, IMMEDIATE, AT_FIRST_WRITE = "deferred", "immediate", "at first write"


def _write_lock_mode() -> str:
    """How a transaction beginning now takes the write lock: IMMEDIATE for a request that
    will write (any method but GET/HEAD/OPTIONS, or a GET view marked with `writes`),
    AT_FIRST_WRITE for a writing view marked `reads_first`, DEFERRED for reading requests and
    for work outside requests (CLI, mail thread, tests' own sessions)."""
    if not has_request_context():
        return DEFERRED
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if request.method not in READ_METHODS:
        return AT_FIRST_WRITE if getattr(view, "reads_first", False) else IMMEDIATE
    return IMMEDIATE if getattr(view, "writes_on_get", False) else DEFERRED


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

    A writing view marked `reads_first` (saving and submitting an idea) begins deferred and
    reads without the lock; its first write (or savepoint) ends that read transaction and
    begins again IMMEDIATE, in line for the lock, so only its writes are serialised. It may
    do so because its first write is the idea's version-checked UPDATE: if another request
    changed the idea after it was read, nothing is written and the request gets Conflict
    (the same tab twice: "already submitted").

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
        mode = _write_lock_mode()
        if mode != IMMEDIATE:
            connection.exec_driver_sql("BEGIN")
            connection.info[LOCK_AT_FIRST_WRITE] = mode == AT_FIRST_WRITE
            return
        if queue_path is not None:
            _queue_for_writing(connection.info, queue_path)
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _first_write(connection, cursor, statement, _parameters, _context, _executemany):
        """A `reads_first` request's first write (or savepoint) ends its read snapshot and
        begins again IMMEDIATE, in line for the write lock: what it reads from here on, and
        what it writes, is the database as the writer before it left it. Its writes are
        checked against the versions it read, so a change made meanwhile is a Conflict."""
        if not connection.info.get(LOCK_AT_FIRST_WRITE) or statement.lstrip()[:6].upper() == "SELECT":
            return
        connection.info[LOCK_AT_FIRST_WRITE] = False
        cursor.execute("COMMIT")  # a transaction that has only read: nothing to write
        if queue_path is not None:
            _queue_for_writing(connection.info, queue_path)
        cursor.execute("BEGIN IMMEDIATE")

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(connection):
        connection.info.pop(LOCK_AT_FIRST_WRITE, None)

    # The line is left once SQLite's COMMIT (or ROLLBACK) is done, not before it: the next
    # writer's BEGIN IMMEDIATE then finds the write lock free. Left before, it found SQLite's
    # lock still held and slept in the busy handler (1 ms, then 2, 5 …) while nobody wrote.
    dialect = engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def _commit_and_leave(dbapi_connection):
        try:
            do_commit(dbapi_connection)
        finally:
            _leave_queue(_pooled_info(dbapi_connection))

    def _rollback_and_leave(dbapi_connection):
        try:
            do_rollback(dbapi_connection)
        finally:
            _leave_queue(_pooled_info(dbapi_connection))

    dialect.do_commit, dialect.do_rollback = _commit_and_leave, _rollback_and_leave

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record):
        _leave_queue(record.info)

    @event.listens_for(engine, "close")
    def _close(_dbapi_connection, record):
        _leave_queue(record.info)
        fd = record.info.pop("writers_fd", None)
        if fd is not None:
            os.close(fd)


LOCK_AT_FIRST_WRITE = "grantflow.lock_at_first_write"


def _queue_for_writing(info: dict, path: str) -> None:
    """Wait in line for SQLite's write lock on an OS file lock beside the database.

    SQLite's busy handler does not queue: a writer that finds the lock taken sleeps and polls
    (1, 2, 5, 10 … 100 ms), so while fifty writers wait the lock is often free and nobody is
    awake to take it, and each writer holds it for a few milliseconds. The kernel wakes the
    next waiter of an exclusive `flock` the moment it is released, so writing requests follow
    one another without gaps. Each pooled connection has its own descriptor (flock excludes
    between descriptors, also between threads of one process); the lock is released once
    SQLite's COMMIT or ROLLBACK is done, and by the kernel if the process dies.
    A holder is always a request between its first statement and its commit, bounded by the
    server's request timeout. The line is left right after SQLite's COMMIT or ROLLBACK, when
    the connection goes back to the pool, or when it is closed, whichever comes first."""
    fd = info.get("writers_fd")
    if fd is None:
        fd = info["writers_fd"] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    if not info.get("writers_locked"):
        fcntl.flock(fd, fcntl.LOCK_EX)
        info["writers_locked"] = True


def _pooled_info(dbapi_connection) -> dict:
    """The pool record's info of a connection; the pool's own ad-hoc wrappers (first connect)
    have none and never stand in line."""
    try:
        return dbapi_connection.info
    except NotImplementedError:
        return {}


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
