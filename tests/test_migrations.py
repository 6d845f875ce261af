"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from decimal import Decimal

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


def test_the_idea_score_migration_fills_the_scores_of_existing_ideas(app, factory):
    """0009_idea_score computes every idea's stored score in SQL, as refresh_score keeps it."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select

    from grantflow.ideas.models import Idea

    scored = factory.reviewed(points=7)  # two reviews of 70.00
    evaluators = [factory.evaluator() for _ in range(3)]
    mixed = factory.in_review(evaluators=evaluators)
    for evaluator, points in zip(evaluators, (6, 7, 8.5), strict=True):
        factory.review(mixed, evaluator, points)  # 60, 70, 85: 71.666… shown as 71.67
    unscored = factory.in_review()
    db.session.commit()
    ids = (scored.id, mixed.id, unscored.id)
    expected = dict(db.session.execute(select(Idea.id, Idea.score).where(Idea.id.in_(ids))).all())
    assert expected == {scored.id: Decimal("70.00"), mixed.id: Decimal("71.67"), unscored.id: None}
    db.session.remove()
    downgrade(revision="-1")  # 0009_idea_score only, whatever it follows
    upgrade()
    assert dict(db.session.execute(select(Idea.id, Idea.score).where(Idea.id.in_(ids))).all()) == expected


def test_every_migration_since_0007_keeps_a_filled_database(app, factory):
    """Migrations that rebuild a SQLite table (batch mode) work with rows that other rows refer
    to: the demo-like data of 0007 goes up to the head with nothing lost (0008 rebuilds users)."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import func, select

    from grantflow.accounts.models import User
    from grantflow.ideas.models import Idea

    idea_id = factory.reviewed(points=8).id
    db.session.commit()
    counts = {model: db.session.scalar(select(func.count()).select_from(model)) for model in (User, Idea)}
    db.session.remove()
    downgrade(revision="0007_outbox_attachment_job")
    upgrade()
    assert {model: db.session.scalar(select(func.count()).select_from(model)) for model in (User, Idea)} == counts
    assert all(db.session.scalars(select(User.session_token)))
    assert db.session.get(Idea, idea_id).score == Decimal("80.00")
