"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from grantflow.core.extensions import db


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "models changed without a migration: flask --app grantflow db migrate"


def test_downgrade_and_upgrade_again(make_app):
    from flask_migrate import downgrade, upgrade

    app = make_app()
    with app.app_context():
        downgrade(revision="base")
        upgrade()
        from sqlalchemy import inspect

        assert "ideas" in inspect(db.engine).get_table_names()
