"""SQLite's writing requests wait in line on a file lock beside the database
(core.database._queue_for_writing): it is held from a writing request's first statement to its
end, whatever the end, and never by a reading request."""

import fcntl
import os
import threading

import pytest
from flask import Flask
from sqlalchemy import text

from grantflow.core.extensions import db


def _line_is_free(app: Flask) -> bool:
    path = f"{db.engine.url.database}-writers"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


@pytest.fixture
def sqlite_app(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the writers' line is SQLite's")
    return app


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_a_writing_request_holds_the_line_until_it_ends(sqlite_app, end):
    with sqlite_app.test_request_context("/", method="POST"):
        assert _line_is_free(sqlite_app)
        db.session.execute(text("SELECT 1"))
        assert not _line_is_free(sqlite_app)
        getattr(db.session, end)()
        assert _line_is_free(sqlite_app)


def test_a_reading_request_never_queues(sqlite_app):
    with sqlite_app.test_request_context("/", method="GET"):
        db.session.execute(text("SELECT 1"))
        assert _line_is_free(sqlite_app)
        db.session.rollback()


def test_the_next_writer_goes_on_when_the_first_commits(sqlite_app):
    """A second writing request (another thread, its own connection) waits for the first and
    goes on as soon as the first commits."""
    entered = threading.Event()

    def second():
        with sqlite_app.app_context(), sqlite_app.test_request_context("/", method="POST"):
            db.session.execute(text("SELECT 1"))
            entered.set()
            db.session.commit()
            db.session.remove()

    with sqlite_app.test_request_context("/", method="POST"):
        db.session.execute(text("SELECT 1"))
        thread = threading.Thread(target=second)
        thread.start()
        assert not entered.wait(0.3)  # in line behind us
        db.session.commit()
        assert entered.wait(10)
        thread.join(10)


def test_a_reads_first_request_queues_only_at_its_first_write(sqlite_app):
    """Saving or submitting an idea (`reads_first`) reads without the lock; its first write
    takes its place in line, and it leaves the line at its end."""
    with sqlite_app.test_request_context("/apply/1", method="POST"):
        db.session.execute(text("SELECT 1"))
        assert _line_is_free(sqlite_app)
        db.session.execute(text("UPDATE ideas SET version = version WHERE id = 0"))
        assert not _line_is_free(sqlite_app)
        db.session.commit()
        assert _line_is_free(sqlite_app)


def test_a_reads_first_request_waits_for_the_writer_before_it(sqlite_app):
    """While another request holds the line, a reads_first request reads at once, and its
    first write waits until the other commits."""
    wrote = threading.Event()

    def second():
        with sqlite_app.app_context(), sqlite_app.test_request_context("/apply/1", method="POST"):
            db.session.execute(text("SELECT 1"))
            db.session.execute(text("UPDATE ideas SET version = version WHERE id = 0"))
            wrote.set()
            db.session.commit()
            db.session.remove()

    with sqlite_app.test_request_context("/", method="POST"):
        db.session.execute(text("SELECT 1"))
        thread = threading.Thread(target=second)
        thread.start()
        assert not wrote.wait(0.3)  # in line behind us
        db.session.commit()
        assert wrote.wait(10)
        thread.join(10)
