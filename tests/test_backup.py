"""`flask backup` and `flask restore`: a database with an idea, an issued document and an
attachment is backed up, lost, and restored into an empty database of the same kind, with the
same rows, the same document bytes and the migrations at the same revision. A database that is
not empty is refused unless --force."""

import hashlib
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.serving import database
from grantflow import create_app
from grantflow.core.backup import contents
from grantflow.core.extensions import db
from grantflow.documents.models import Document
from grantflow.ideas.models import Attachment
from tests.conftest import BASE_CONFIG, migrate
from tests.factories import Factory

PDF = b"%PDF-1.7\n" + os.urandom(4096) + b"\n%%EOF\n"
QUOTE = os.urandom(10_000)


def _app(url):
    return create_app({**BASE_CONFIG, "DATABASE_URL": url})


def _fill(url) -> int:
    app = _app(url)
    with app.app_context():
        factory = Factory()
        idea = factory.submitted()
        db.session.add(Document(idea_id=idea.id, kind="decision", filename="lemums.pdf", pdf=PDF, size=len(PDF),
                                sha256=hashlib.sha256(PDF).hexdigest()))
        db.session.add(Attachment(idea_id=idea.id, filename="tame.bin", content_type="application/octet-stream",
                                  size=len(QUOTE), sha256=hashlib.sha256(QUOTE).hexdigest(), data=QUOTE))
        db.session.commit()
        idea_id = idea.id
        db.session.remove()
        db.engine.dispose()
    return idea_id


def _lose(url) -> None:
    """The database is gone: an empty one of the same name takes its place."""
    engine = sa.create_engine(url)
    if engine.url.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(engine.url.database + suffix).unlink(missing_ok=True)
    else:
        with engine.begin() as conn:
            schema = conn.scalar(sa.text("SELECT current_schema()"))
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def _state(url, idea_id):
    app = _app(url)
    with app.app_context():
        rows, revision = contents(db.engine)
        document = db.session.scalar(sa.select(Document).where(Document.idea_id == idea_id))
        attachment = db.session.scalar(sa.select(Attachment).where(Attachment.idea_id == idea_id))
        found = rows, revision, document.pdf, attachment.data
        db.session.remove()
        db.engine.dispose()
    return found


def _flask(url, *args):
    app = _app(url)
    try:
        return app.test_cli_runner().invoke(args=list(args))
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_backup_restores_into_an_empty_database_with_its_documents(kind, request, tmp_path):
    if kind == "postgresql":
        request.getfixturevalue("postgres_url")  # skips (or fails under CI) without a server
    out = tmp_path / "grantflow.backup"
    with database(kind) as url:
        migrate(url)
        idea_id = _fill(url)
        before = _state(url, idea_id)
        result = _flask(url, "backup", str(out))
        assert result.exit_code == 0, result.output
        assert "backed up into" in result.output and f"{out.stat().st_size:,} bytes" in result.output
        assert before[1] in result.output  # the revision

        _lose(url)
        result = _flask(url, "restore", str(out))
        assert result.exit_code == 0, result.output
        assert "restored from" in result.output and "rows" in result.output
        after = _state(url, idea_id)
        assert after[0] == before[0]  # every table, the same rows
        assert after[1] == before[1] and after[1]  # the migrations at the backup's revision
        assert after[2] == PDF and after[3] == QUOTE

        # Not empty now: refused, and nothing changed; --force replaces the contents.
        result = _flask(url, "restore", str(out))
        assert result.exit_code != 0
        assert "not empty" in result.output and "--force" in result.output
        assert _state(url, idea_id) == after
        result = _flask(url, "restore", "--force", str(out))
        assert result.exit_code == 0, result.output
        assert _state(url, idea_id) == after


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_restore_refuses_a_database_with_grantflow_tables(kind, request, tmp_path):
    if kind == "postgresql":
        request.getfixturevalue("postgres_url")
    out = tmp_path / "grantflow.backup"
    with database(kind) as source, database(kind) as target:
        migrate(source)
        _fill(source)
        assert _flask(source, "backup", str(out)).exit_code == 0
        migrate(target)  # only the migrations and the territories: still refused
        result = _flask(target, "restore", str(out))
        assert result.exit_code != 0 and "not empty" in result.output
