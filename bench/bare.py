"""The yardstick for bench/surge.py: a bare Flask-SQLAlchemy endpoint that does one INSERT per
POST, served by gunicorn the same way as GrantFlow, on the same database. Served as
`bench.bare:create_app()`; DATABASE_URL names the database."""

import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class BareRow(db.Model):
    __tablename__ = "bench_bare_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(default="")


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ["DATABASE_URL"]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        # The fair minimum for SQLite under concurrent writers: WAL, and wait for the lock.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    db.init_app(app)
    with app.app_context():
        if url.startswith("sqlite"):
            event.listen(db.engine, "connect", lambda conn, _: conn.execute("PRAGMA journal_mode=WAL"))

    @app.get("/warm")
    def warm():
        """Before the surge, as GrantFlow's workers are warmed by the logins: a connection made."""
        db.session.execute(text("SELECT 1"))
        return "ok"

    @app.post("/insert")
    def insert():
        db.session.add(BareRow(note="surge"))
        db.session.commit()
        return "ok"

    return app


def prepare() -> None:
    """Create the table once, before the workers start (DATABASE_URL as for the app)."""
    app = create_app()
    with app.app_context():
        db.create_all()
        db.engine.dispose()
