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
    downgrade(revision="0009_idea_score-1")  # down through 0009_idea_score, whatever follows it
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


def test_the_programme_migration_pseudonymises_the_log_of_people_erased_before_it(app, factory):
    """0025_programme: rows of a person erased before the log could be rewritten lose their
    address and names; the trail stays and the rows count one redaction; other rows stay."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select, text

    from grantflow.accounts import operations as accounts
    from grantflow.adminlog.models import AdminLogEntry

    admin = factory.admin(name="Vecā Admine")
    db.session.commit()
    person = accounts.invite("janis.vecais@example.lv", "Jānis Vecais", ["evaluator"], [], "lv", admin)
    person_id, admin_id = person.id, admin.id
    accounts.update_profile(admin, "Vecā Admine-Jaunā", "lv")
    db.session.commit()
    db.session.remove()
    downgrade(revision="0025_programme-1")
    # As erasure did before 0025: the account pseudonymised, the log left as it was.
    db.session.execute(text("UPDATE users SET name = :n, email = :e, erased_at = CURRENT_TIMESTAMP WHERE id = :id"),
                       {"n": f"P-{person_id:06d}", "e": f"p-{person_id:06d}@erased.invalid", "id": person_id})  # fmt: skip
    db.session.commit()
    db.session.remove()
    upgrade()
    rows = db.session.scalars(select(AdminLogEntry).order_by(AdminLogEntry.id)).all()
    invited = next(r for r in rows if r.object_id == person_id)
    assert invited.object_label == f"P-{person_id:06d}" and invited.redactions == 1
    assert invited.after["email"] == invited.after["name"] == f"P-{person_id:06d}"
    assert invited.kind == "account_invited" and invited.object_kind == "account"
    untouched = next(r for r in rows if r.object_id == admin_id)
    assert untouched.after["name"] == "Vecā Admine-Jaunā" and untouched.redactions == 0


def test_the_outbox_compose_migration_keeps_written_mail_and_marks_unwritten_mail(app, factory):
    """0030_outbox_compose: written mails keep their text both ways; a receipt not written yet
    cannot outlive its job on the way down, so it is marked given up, with a subject that says
    why, rather than sent empty."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from grantflow.mail.operations import queue_mail
    from grantflow.workflow import engine

    idea = factory.idea()
    written = queue_mail("a@example.lv", "admin_notice", idea=idea, comment="")
    engine.fire(idea, "submit", factory.applicant(org=idea.organisation))
    db.session.commit()
    before = db.session.execute(text("SELECT id, subject, body_text FROM outbox ORDER BY id")).all()
    assert before[0][0] == written.id and before[0][2] and before[1][2] == ""
    db.session.remove()
    downgrade(revision="0029_stages")
    rows = db.session.execute(text("SELECT subject, body_text, status FROM outbox ORDER BY id")).all()
    db.session.remove()
    assert rows[0] == (before[0][1], before[0][2], "pending")
    assert rows[1] == ("Vēstule netika uzrakstīta (versija atgriezta)", "", "failed")
    upgrade()
    after = db.session.execute(text("SELECT subject, body_text, locale, compose_job FROM outbox ORDER BY id")).all()
    assert after[0][:3] == (before[0][1], before[0][2], "lv") and after[0][3] is None
