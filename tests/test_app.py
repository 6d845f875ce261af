import pytest

from grantflow import ConfigError, create_app


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_unreachable(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_production_refuses_default_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"GRANTFLOW_ENV": "production"})


def test_production_with_a_secret_hardens_cookies():
    app = create_app({"GRANTFLOW_ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_environment_overrides_instance_config(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('SECRET_KEY = "from-instance"\nMAIL_SERVER = "smtp.instance"\n')
    monkeypatch.setenv("GRANTFLOW_INSTANCE", str(tmp_path))
    monkeypatch.setenv("MAIL_SERVER", "smtp.env")
    monkeypatch.setenv("MAIL_PORT", "2525")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-instance"
    assert app.config["MAIL_SERVER"] == "smtp.env"
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/grantflow.sqlite3"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    from sqlalchemy import text

    from grantflow.core.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_postgres_url_is_normalised():
    from grantflow.core.database import database_uri

    assert database_uri("postgres://u@h/d", "/x") == "postgresql+psycopg://u@h/d"
    assert database_uri("", "/inst") == "sqlite:////inst/grantflow.sqlite3"


def test_public_url_follows_the_port_unless_set(monkeypatch):
    from grantflow.core.config import from_environment

    monkeypatch.delenv("PUBLIC_URL", raising=False)
    monkeypatch.setenv("PORT", "8123")
    assert from_environment()["PUBLIC_URL"] == "http://127.0.0.1:8123"
    monkeypatch.setenv("PUBLIC_URL", "https://granti.example.lv")
    assert from_environment()["PUBLIC_URL"] == "https://granti.example.lv"
