"""Engine set-up that differs between SQLite and PostgreSQL, and the errors both raise on conflicts."""

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


def configure_engine(engine: Engine) -> None:
    """SQLite: WAL, foreign keys, a busy timeout and real BEGINs so reads are part of the
    transaction (the driver otherwise starts it only at the first write, which breaks
    read-check-write sequences such as the budget check)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


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
