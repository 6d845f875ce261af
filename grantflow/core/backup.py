"""Backing the database up while the app runs, and restoring it into an empty database.

Everything GrantFlow keeps is in the database, issued documents and uploaded attachments
included (their bytes are columns), so a backup of the database is a backup of GrantFlow.

- SQLite: the online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot of
  the file, whatever is still in the WAL, while other connections read and write; the backup
  is itself a SQLite file. Restoring copies it back the same way.
- PostgreSQL: `pg_dump -Fc` (one consistent snapshot, readers and writers not blocked), of the
  one schema when the URL selects one with `options=-c search_path=...`; `pg_restore` brings
  it back. The dump holds `alembic_version`, so the migrations are at the backup's revision."""

import os
import re
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL


class BackupError(Exception):
    """The backup or restore could not be done; the message says why."""


@dataclass
class Summary:
    """What a backup or restore did: the rows of each table, and the backup file's size."""

    path: Path
    size: int = 0
    rows: dict = field(default_factory=dict)
    revision: str | None = None

    def lines(self) -> list[str]:
        lines = [f"{self.path}: {self.size:,} bytes; migrations at {self.revision or 'no revision'}"]
        lines.append(f"{len(self.rows)} tables, {sum(self.rows.values()):,} rows")
        lines += [f"  {table:32} {count:>10,}" for table, count in sorted(self.rows.items()) if count]
        return lines


def _schema(url: URL) -> str | None:
    """The schema an `options=-c search_path=NAME` URL works in (the first of the path)."""
    match = re.search(r"search_path\s*=\s*([^\s,]+)", str(url.query.get("options", "")))
    return match.group(1).strip('"') if match else None


def _libpq(url: URL) -> tuple[list[str], dict]:
    """pg_dump/pg_restore arguments and environment for the URL (password and options go
    through the environment, never the command line)."""
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    args += ["--dbname", url.database or "postgres"]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    if url.query.get("options"):
        env["PGOPTIONS"] = str(url.query["options"])
    if url.query.get("sslmode"):
        env["PGSSLMODE"] = str(url.query["sslmode"])
    return args, env


def _run(command: list[str], env: dict) -> str:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise BackupError(f"{command[0]} not found: install the PostgreSQL client programs") from error
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def contents(engine: sa.Engine) -> tuple[dict, str | None]:
    """The tables of the engine's database (its schema) with their row counts, and the
    migrations' revision (alembic_version), if any."""
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        rows = {t: conn.scalar(sa.select(sa.func.count()).select_from(sa.table(t))) for t in tables}
        revision = conn.scalar(sa.text("SELECT version_num FROM alembic_version")) if "alembic_version" in tables else None
    return rows, revision


def backup(engine: sa.Engine, out: str | Path) -> Summary:
    """A consistent backup of the engine's database into `out` (replaced if it exists)."""
    out = Path(out)
    url = engine.url
    rows, revision = contents(engine)
    if url.get_backend_name() == "sqlite":
        tmp = out.with_name(out.name + ".partial")
        tmp.unlink(missing_ok=True)
        with closing(sqlite3.connect(url.database)) as source, closing(sqlite3.connect(tmp)) as target:
            source.backup(target)
        os.replace(tmp, out)
    elif url.get_backend_name() == "postgresql":
        args, env = _libpq(url)
        schema = _schema(url)
        command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(out), *args]
        if schema:
            command += ["--schema", schema]
        _run(command, env)
    else:
        raise BackupError(f"no backup for {url.get_backend_name()} databases")
    return Summary(out, out.stat().st_size, rows, revision)


def restore(engine: sa.Engine, source: str | Path, force: bool = False) -> Summary:
    """Bring the backup `source` back into the engine's database, which must be empty (no
    tables) unless `force`: then GrantFlow's tables there are replaced by the backup's."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    url = engine.url
    rows, _ = contents(engine)
    if rows and not force:
        filled = {t: n for t, n in rows.items() if n}
        raise BackupError(
            f"the database is not empty ({len(rows)} tables, {sum(filled.values()):,} rows"
            + (f", e.g. {next(iter(filled))}" if filled else "")
            + "); restore only into an empty database, or give --force to replace its contents"
        )
    engine.dispose()  # no pooled connection of ours holds on to the old contents
    if url.get_backend_name() == "sqlite":
        with closing(sqlite3.connect(source)) as check:
            try:
                check.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError as error:
                raise BackupError(f"{source} is not a SQLite backup: {error}") from error
            with closing(sqlite3.connect(url.database)) as target:
                check.backup(target)
    elif url.get_backend_name() == "postgresql":
        _restore_postgres(url, source, force)
    else:
        raise BackupError(f"no restore for {url.get_backend_name()} databases")
    rows, revision = contents(engine)
    engine.dispose()
    return Summary(source, source.stat().st_size, rows, revision)


def _restore_postgres(url: URL, source: Path, force: bool) -> None:
    args, env = _libpq(url)
    # The dump names its schema; the URL's schema (or public) must be the same one. The schema
    # itself is created here if missing, and left out of the dump's list of what to restore
    # (it may already exist, empty, as a new database's public schema does).
    listing = _run(["pg_restore", "--list", str(source)], env)
    tables = set(re.findall(r"^\d+; \d+ \d+ TABLE (?!DATA )(\S+) ", listing, re.MULTILINE))
    target = _schema(url) or "public"
    if tables and tables != {target}:
        raise BackupError(f"{source} holds schema {', '.join(sorted(tables))}; the database URL works in {target}")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{target}"'))
    finally:
        engine.dispose()
    kept = [line for line in listing.splitlines() if not re.match(r"^\d+; \d+ \d+ SCHEMA - ", line)]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as handle:
        handle.write("\n".join(kept) + "\n")
    try:
        command = ["pg_restore", "--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges"]
        if force:
            command += ["--clean", "--if-exists"]
        _run([*command, "--use-list", handle.name, *args, str(source)], env)
    finally:
        os.unlink(handle.name)
