"""Test fixtures: the app on a real SQLite file and on a real PostgreSQL database.

Every test that uses `app` runs twice, once per database. PostgreSQL is found at
GRANTFLOW_TEST_POSTGRES (default postgresql+psycopg://postgres@127.0.0.1:5432/test); without
it those runs skip, saying so, unless GRANTFLOW_REQUIRE_POSTGRES=1 (CI), when they fail.

What is built once per session: each database, migrated and holding the territory reference
data; and one app per database (`app`; tests that need their own configuration build their own
with `make_app`). What every test gets fresh: the database contents (SQLite: a copy of the
template file; PostgreSQL: the tables the previous test wrote to emptied and their ids
restarted), an application context (`g`, the database session), and the app's configuration,
extensions and Jinja loader as they were before the test."""

import os
import shutil
import sqlite3
import sys
import tempfile
import uuid
from contextlib import closing
from pathlib import Path
from unittest import mock

import psycopg
import pytest
import sqlalchemy as sa
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from grantflow import create_app
from grantflow.accounts.models import User
from grantflow.accounts.operations import create_user
from grantflow.core.extensions import db
from grantflow.territory.operations import load_territories

PG_ADMIN_URL = os.environ.get("GRANTFLOW_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("GRANTFLOW_REQUIRE_POSTGRES") == "1"

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "WTF_CSRF_ENABLED": False,
    "MAIL_DELIVERY": "off",
    "QUEUE_IMMEDIATE": True,
    "PUBLIC_URL": "http://grantflow.test",
    "SERVER_NAME": None,
}

# Reference data: loaded with the migrations, never emptied between tests.
REFERENCE_TABLES = ("municipalities", "parishes")
# Beside the session's PostgreSQL schema, where database_snapshot keeps its copies.
SNAPSHOTS = "_snapshots"


# Passwords the app hashes (registering, resetting, the demo's users, the unknown-address
# equaliser) use scrypt as in production, with a work factor of 2**10 instead of 2**15: a few
# milliseconds instead of a tenth of a second or more, the same code and format.
TEST_PASSWORD_METHOD = "scrypt:1024:8:1"


def _quick_password_hash(password: str, method: str = TEST_PASSWORD_METHOD, salt_length: int = 16) -> str:
    return generate_password_hash(password, method=method, salt_length=salt_length)


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing():
    # Patched where the app calls it: the modules of User (set_password) and of create_user.
    modules = {sys.modules[User.__module__], sys.modules[create_user.__module__]}
    patches = [mock.patch.object(m, "generate_password_hash", _quick_password_hash) for m in modules]
    for patch in patches:
        patch.start()  # fails if a module no longer calls generate_password_hash: look where it went
    yield
    for patch in patches:
        patch.stop()


def migrate(url: str) -> None:
    """Migrate the database and load the territories, as `flask db upgrade` and
    `flask territories load` would."""
    from flask_migrate import upgrade

    app = create_app({**BASE_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        load_territories()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_dir(tmp_path_factory):
    """Where the SQLite files live: /dev/shm (memory) where the machine has it. A SQLite file
    there is still a real file with its WAL and locks; only closing and checkpointing it no
    longer wait for a disk that other work may keep busy."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        path = Path(tempfile.mkdtemp(prefix="grantflow-tests-", dir=shm))
        yield path
        shutil.rmtree(path, ignore_errors=True)
    else:
        yield tmp_path_factory.mktemp("databases")


@pytest.fixture(scope="session")
def sqlite_template(database_dir) -> Path:
    """A migrated SQLite file with the territories, copied for every test: migrations run once."""
    path = database_dir / "template.sqlite3"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def sqlite_path(database_dir) -> Path:
    """Where each test's copy of the template goes: always the same file, so one app serves
    every test."""
    return database_dir / "grantflow.sqlite3"


def _reset_sqlite(path: Path, template: Path) -> None:
    # Removed rather than overwritten, with the WAL and its index: a connection that somehow
    # survived keeps the old file and can never see (or damage) the new one.
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        (path.parent / name).unlink(missing_ok=True)
    shutil.copy(template, path)


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL schema of its own for this test session, in the database of
    GRANTFLOW_TEST_POSTGRES, migrated once, dropped at the end. Every connection to the
    returned URL works in it alone (search_path). A schema rather than a database: dropping a
    database makes the server write a checkpoint, seconds on a busy machine; a schema goes at
    once. Test data need not survive a server crash either, so commits do not wait for the disk
    (synchronous_commit off; what other sessions see, and locking, are unchanged)."""
    admin_url = make_url(PG_ADMIN_URL)
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        message = f"PostgreSQL not reachable at {admin_url.render_as_string(hide_password=True)}: {error.orig}"
        if REQUIRE_PG:
            pytest.fail(message)
        pytest.skip(message + " (set GRANTFLOW_TEST_POSTGRES to run these tests)")
    name = f"grantflow_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    options = f"{admin_url.query.get('options', '')} -c search_path={name} -c synchronous_commit=off".strip()
    url = admin_url.update_query_dict({"options": options, "application_name": name})
    url = url.render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}{SNAPSHOTS}" CASCADE'))
        admin.dispose()


class PostgresCleaner:
    """Brings the session's PostgreSQL database back to just-migrated-with-territories, as
    `TRUNCATE … RESTART IDENTITY` of every table would, in a few milliseconds instead of
    hundreds, in two round trips: one query finds the tables that have rows or whose id
    sequence was used, one batch deletes those rows with triggers off
    (session_replication_role = replica: foreign keys and the audit log's append-only trigger,
    for this connection only) and sets their sequences back to 1. The territories stay; should
    a test have changed them (a migration downgrade drops their tables), they are put back as
    they were."""

    def __init__(self, url: str):
        url = make_url(url)
        params = {**url.translate_connect_args(username="user", database="dbname"), **url.query}
        self.conn = psycopg.connect(**params, autocommit=True)
        self.conn.execute("SET lock_timeout = '20s'")  # a lock a test left behind fails, not hangs
        self.sequences = {}
        for table in db.metadata.sorted_tables:
            column = table.autoincrement_column
            if column is not None:
                self.sequences[table.name] = self.conn.execute(
                    "SELECT pg_get_serial_sequence(%s, %s)", (f'"{table.name}"', column.name)
                ).fetchone()[0]
        self.tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
        probes = []
        for table in self.tables:
            used = f" OR (SELECT is_called FROM {self.sequences[table]})" if table in self.sequences else ""
            probes.append(f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM \"{table}\"){used}")
        # The reference tables' rows and sequences, as one fingerprint row.
        fingerprints = " || ".join(
            f"(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM \"{table}\" t)"
            f" || (SELECT ':' || last_value || ':' || is_called || ';' FROM {self.sequences[table]})"
            for table in REFERENCE_TABLES
        )
        self.probe = " UNION ALL ".join([f"SELECT 'reference ' || {fingerprints}", *probes])
        self.reference_rows = {}
        for table in REFERENCE_TABLES:
            cursor = self.conn.execute(f'SELECT * FROM "{table}" ORDER BY id')
            columns = [c.name for c in cursor.description]
            sequence = self.conn.execute(f"SELECT last_value, is_called FROM {self.sequences[table]}").fetchone()
            self.reference_rows[table] = (columns, cursor.fetchall(), sequence)
        self.reference, _ = self._probe()

    def _probe(self) -> tuple[str, list[str]]:
        # Prepared: planned once. A dropped and recreated table only makes the server plan again.
        rows = [row[0] for row in self.conn.execute(self.probe, prepare=True)]
        return rows[0], rows[1:]

    def clean(self) -> None:
        reference, dirty = self._probe()
        if reference != self.reference:
            self._restore_reference()
            return self.clean()
        if not dirty:
            return
        sequences = [self.sequences[table] for table in dirty if table in self.sequences]
        self.conn.execute(
            "BEGIN; SET LOCAL session_replication_role = replica; "
            + "".join(f'DELETE FROM "{table}"; ' for table in dirty)
            + ("SELECT " + ", ".join(f"setval('{seq}', 1, false)" for seq in sequences) + "; " if sequences else "")
            + "COMMIT",
            prepare=False,
        )

    def _restore_reference(self) -> None:
        with self.conn.transaction(), self.conn.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            for table in REFERENCE_TABLES:
                columns, rows, (last_value, is_called) = self.reference_rows[table]
                names = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join(["%s"] * len(columns))
                cursor.execute(f'DELETE FROM "{table}"')
                cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
                cursor.execute("SELECT setval(%s, %s, %s)", (self.sequences[table], last_value, is_called))
        assert self._probe()[0] == self.reference, "the territories could not be put back"

    def snapshot(self, key: str) -> "PostgresSnapshot":
        """Copy the tables that have rows, and the sequences, aside (see database_snapshot)."""
        _, dirty = self._probe()
        schema = self.conn.execute("SELECT current_schema()").fetchone()[0] + SNAPSHOTS
        copies = {table: f'"{schema}"."{key}_{table}"' for table in dirty}
        self.conn.execute(
            f'BEGIN; CREATE SCHEMA IF NOT EXISTS "{schema}"; '
            + "".join(f'CREATE TABLE {copy} AS TABLE "{table}"; ' for table, copy in copies.items())
            + "COMMIT",
            prepare=False,
        )
        sequences = {}
        for table in dirty:
            if table in self.sequences:
                sequences[self.sequences[table]] = self.conn.execute(
                    f"SELECT last_value, is_called FROM {self.sequences[table]}"
                ).fetchone()
        return PostgresSnapshot(self, copies, sequences)

    def close(self) -> None:
        self.conn.close()


class PostgresSnapshot:
    def __init__(self, cleaner: PostgresCleaner, copies: dict, sequences: dict):
        self.cleaner, self.copies, self.sequences = cleaner, copies, sequences

    def restore(self) -> None:
        self.cleaner.clean()
        self.cleaner.conn.execute(
            "BEGIN; SET LOCAL session_replication_role = replica; "
            + "".join(f'INSERT INTO "{table}" SELECT * FROM {copy}; ' for table, copy in self.copies.items())
            + "".join(f"SELECT setval('{seq}', {value}, {called}); " for seq, (value, called) in self.sequences.items())
            + "COMMIT",
            prepare=False,
        )

    def drop(self) -> None:
        if self.copies:
            self.cleaner.conn.execute("DROP TABLE " + ", ".join(self.copies.values()))


class SqliteSnapshot:
    def __init__(self, path: Path, copy: Path):
        self.path, self.copy = path, copy
        # SQLite's backup: a consistent copy, whatever is still in the WAL.
        with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(copy)) as target:
            source.backup(target)

    def restore(self) -> None:
        _reset_sqlite(self.path, self.copy)

    def drop(self) -> None:
        self.copy.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def postgres_cleaner(postgres_url):
    cleaner = PostgresCleaner(postgres_url)
    yield cleaner
    cleaner.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    """A clean, migrated database of each kind, with the territories."""
    if request.param == "sqlite":
        path = request.getfixturevalue("sqlite_path")
        _reset_sqlite(path, request.getfixturevalue("sqlite_template"))
        return f"sqlite:///{path}"
    request.getfixturevalue("postgres_cleaner").clean()
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app of its own on the test database with extra configuration."""
    apps = []

    def build(**config):
        app = create_app({**BASE_CONFIG, "DATABASE_URL": database_url, **config})
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def shared_apps():
    """The app of each database, built at its first test and reused by every test after."""
    apps: dict[str, object] = {}
    yield apps
    for app in apps.values():
        with app.app_context():
            db.engine.dispose()


class AppState:
    """What a test may change on the shared app, kept to be put back after it."""

    ATTRIBUTES = ("test_client_class", "test_cli_runner_class")

    def __init__(self, app):
        self.app = app
        self.config = dict(app.config)
        self.extensions = dict(app.extensions)
        self.loader = app.jinja_env.loader
        self.attributes = {name: getattr(app, name) for name in self.ATTRIBUTES}

    def restore(self) -> None:
        app = self.app
        app.config.clear()
        app.config.update(self.config)
        app.extensions.clear()
        app.extensions.update(self.extensions)
        if app.jinja_env.loader is not self.loader:
            app.jinja_env.loader = self.loader
            app.jinja_env.cache.clear()
        for name, value in self.attributes.items():
            setattr(app, name, value)


@pytest.fixture
def app(database_url, shared_apps):
    """The app on a clean database, in an application context of this test's own."""
    app = shared_apps.get(database_url)
    if app is None:
        app = shared_apps[database_url] = create_app({**BASE_CONFIG, "DATABASE_URL": database_url})
    state = AppState(app)
    try:
        with app.app_context():
            yield app
            db.session.remove()
            if db.engine.dialect.name == "sqlite":
                db.engine.dispose()  # its connections must not outlive this test's copy of the file
    finally:
        state.restore()


@pytest.fixture(scope="module")
def _snapshots():
    snapshots: dict = {}
    yield snapshots
    for snapshot, _ in snapshots.values():
        snapshot.drop()


@pytest.fixture
def database_snapshot(request, app, _snapshots):
    """For data that takes seconds to build and that several tests of a module start from
    (the same data, whatever else the test then does): `database_snapshot(build)` calls
    build() at the first such test on each database, commits, keeps a copy of the database
    and returns build()'s value (ids, e-mail addresses: no ORM objects); at the later tests
    it puts the database back to exactly that copy instead, ids and sequences included, and
    returns the same value. The copies go at the end of the module."""

    def use(build):
        key = (app.config["DATABASE_URL"], build.__qualname__)
        db.session.remove()
        if db.engine.dialect.name == "sqlite":
            db.engine.dispose()  # its connections must not outlive the file they were opened on
        if key in _snapshots:
            snapshot, value = _snapshots[key]
            snapshot.restore()
            return value
        value = build()
        db.session.commit()
        db.session.remove()
        if db.engine.dialect.name == "sqlite":
            db.engine.dispose()
            path = request.getfixturevalue("sqlite_path")
            copy = path.with_name(f"snapshot-{uuid.uuid4().hex[:10]}.sqlite3")
            snapshot = SqliteSnapshot(path, copy)
        else:
            snapshot = request.getfixturevalue("postgres_cleaner").snapshot(f"s{len(_snapshots)}")
        _snapshots[key] = (snapshot, value)
        return value

    return use


class IsolatedClient(FlaskClient):
    """Each request gets its own application context, `g` and database session, as in
    production, even though the test itself holds one open: nothing (the logged-in user, the
    locale) leaks between requests. The test's own session is committed before and after each
    request, so the request sees the test's data and the test then sees what the request did
    (a SQLite transaction would otherwise keep reading its old snapshot)."""

    def open(self, *args, **kwargs):
        outer = _cv_app.get(None)
        if outer is not None:
            db.session.commit()
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)
            if outer is not None:
                db.session.commit()


@pytest.fixture
def client(app):
    """A browser-like client whose requests run as separate transactions (see IsolatedClient)."""
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def factory(app):
    from tests.factories import Factory

    return Factory()



@pytest.fixture(scope="session")
def mail_sink():
    """The one real SMTP server (aiosmtpd) of the session, on a free loopback port: point an app
    at it with MAIL_SERVER=mail_sink.host and MAIL_PORT=mail_sink.port. `.messages` holds what
    arrived (email.message.EmailMessage), `.to(address)` those for one address. The browser
    tests' live server sends here; other tests use it through `smtp_server`."""
    from tests.smtp import MailSink

    sink = MailSink().start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def smtp_server(mail_sink):
    """The session's SMTP server (`mail_sink`) with nothing received yet in this test."""
    mail_sink.messages.clear()
    mail_sink.release()
    return mail_sink


def login(client, email, password="parole-123456"):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    return response
