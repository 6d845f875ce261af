"""Moves N ideas (default 10,000) through the whole default lifecycle with the workflow engine
and prints ideas per second, and the ratio to bare UPDATEs of the same state column in the
same run (one transaction per step in both). Goal: the engine costs at most 3x the bare update.

    .venv/bin/python bench/workflow.py [--ideas 10000] [--full-ideas 200] [--database-url postgresql+psycopg://...]

Both loops commit after every step and keep their objects loaded between steps (as a batch
job would). Preparation that is not a transition (eligibility checks, reviews, reports) is done in bulk
beforehand and not timed. Two figures are printed: the engine (the default workflow's states
and transitions with its guards and effects left out, which is what the 3x goal is about), and,
on fewer ideas, the full lifecycle with the domain's guards and effects, dominated by
rendering each idea's PDF receipt."""

import argparse
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import insert, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grantflow import create_app  # noqa: E402
from grantflow.core.config import ROOT  # noqa: E402
from grantflow.core.extensions import db  # noqa: E402
from grantflow.core.types import utcnow  # noqa: E402
from grantflow.ideas.models import BudgetLine, Idea, IdeaActivity  # noqa: E402
from grantflow.reports.models import Report  # noqa: E402
from grantflow.review.models import Assignment, EligibilityCheck, Review  # noqa: E402
from grantflow.workflow import engine  # noqa: E402

STEPS = ["submit", "accept_eligible", "complete_review", "fund", "accept_report", "close"]


def build(database_url: str, workflows_dir: str):
    app = create_app({"DATABASE_URL": database_url, "MAIL_DELIVERY": "off", "WORKFLOWS_DIR": workflows_dir})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


def seed(n: int):
    """N draft ideas in one competition big enough to fund them all, with what each step needs."""
    from grantflow.territory.operations import load_territories
    from tests.factories import Factory  # the test factories build consistent records

    load_territories()
    factory = Factory()
    competition = factory.competition(budget=str(n * 1000), min_grant="100.00", max_grant="2000.00", code="BENCH")
    org = factory.organisation()
    applicant = factory.applicant(org)
    admin = factory.admin()
    evaluator = factory.evaluator()
    db.session.commit()
    now = utcnow()
    ids = []
    for start in range(0, n, 1000):
        rows = [
            dict(competition_id=competition.id, organisation_id=org.id, state="draft", version=1, title=f"Ideja {i}",
                 summary="Kopsavilkums", target_groups=["youth"],
                 answers={"community_need": "Vajadzība", "goals": "Mērķi", "sustainability": "Inventārs paliek kopienai"},
                 expected_participants=30, contact_name="Anna", contact_email="anna@example.lv",
                 municipality_id=org.municipality_id, requested_amount=Decimal("500.00"),
                 own_contribution=Decimal("0.00"), created_at=now, updated_at=now, is_demo=False)
            for i in range(start, min(n, start + 1000))
        ]  # fmt: skip
        ids += db.session.scalars(insert(Idea).returning(Idea.id), rows).all()
    day = now.date()
    db.session.execute(
        insert(IdeaActivity), [dict(idea_id=i, position=1, description="Talka", starts_on=day) for i in ids]
    )
    db.session.execute(
        insert(BudgetLine),
        [dict(idea_id=i, position=1, item="Dēļi", quantity=Decimal("1"), unit_cost=Decimal("500.00"), own=False) for i in ids],
    )
    db.session.execute(
        insert(EligibilityCheck), [dict(idea_id=i, checklist={}, eligible=True, reason="", checked_at=now) for i in ids]
    )
    assignment_ids = db.session.scalars(
        insert(Assignment).returning(Assignment.id),
        [dict(idea_id=i, evaluator_id=evaluator.id, active=True, assigned_at=now, removed_reason="") for i in ids],
    ).all()
    db.session.execute(
        insert(Review),
        [dict(assignment_id=a, idea_id=i, evaluator_id=evaluator.id, status="submitted", recommendation="fund",
              comment="", total=Decimal("80"), updated_at=now, submitted_at=now)
         for a, i in zip(assignment_ids, ids, strict=True)],
    )  # fmt: skip
    db.session.execute(
        insert(Report),
        [dict(idea_id=i, status="submitted", participants=30, organisations_count=2, organisations_names="",
              volunteers=3, answers={"changed": "", "continues": ""}, return_comment="", updated_at=now) for i in ids],
    )  # fmt: skip
    db.session.commit()
    return ids, {"submit": applicant.id}, admin.id


def run_engine(ids, actors, admin_id) -> float:
    """Like a batch job: the loaded idea and users stay in memory across steps (no reload after
    each commit); each step is its own transaction."""
    from grantflow.accounts.models import User

    db.session().expire_on_commit = False

    users = {uid: db.session.get(User, uid) for uid in set(actors.values()) | {admin_id}}
    started = time.perf_counter()
    for idea_id in ids:
        idea = db.session.get(Idea, idea_id)
        for step in STEPS:
            if step == "complete_review":
                engine.settle(idea)  # the automatic step, as submitting the last review does
            else:
                engine.fire(idea, step, users[actors.get(step, admin_id)])
            db.session.commit()
    return time.perf_counter() - started


def run_bare(ids) -> float:
    """The same number of state changes as bare UPDATEs, one transaction each."""
    started = time.perf_counter()
    for idea_id in ids:
        for state in ("submitted", "in_review", "reviewed", "funded", "reported", "closed"):
            db.session.execute(update(Idea.__table__).where(Idea.__table__.c.id == idea_id).values(state=state))
            db.session.commit()
    return time.perf_counter() - started


def measure(database_url: str, n: int, bare_workflow: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        data = yaml.safe_load((ROOT / "workflows" / "community_ideas.yaml").read_text())
        if bare_workflow:
            for t in data["transitions"]:
                t.pop("guards", None)
                t.pop("effects", None)
            # keep the automatic step automatic but let it fire on an empty guard list
        Path(folder, "community_ideas.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
        app = build(database_url, folder)
        with app.app_context():
            ids, actors, admin_id = seed(n)
            engine_time = run_engine(ids, actors, admin_id)
            bare_ids, _, _ = seed_again(n)
            bare_time = run_bare(bare_ids)
            db.session.remove()
            db.engine.dispose()
        return engine_time, bare_time


def seed_again(n):
    ids = db.session.scalars(select(Idea.id).where(Idea.state == "closed").limit(n)).all()
    db.session.execute(update(Idea.__table__).values(state="draft"))
    db.session.commit()
    return ids, None, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=10_000, help="ideas for the engine figure")
    parser.add_argument("--full-ideas", type=int, default=200, help="ideas for the full-lifecycle figure")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (its public schema is reset!)")
    args = parser.parse_args()
    runs = (
        ("engine (the default lifecycle, guards and effects left out)", args.ideas, True),
        ("full lifecycle (with the default guards and effects: numbering, mails, PDF receipts)", args.full_ideas, False),
    )
    for label, ideas, bare_workflow in runs:
        with tempfile.TemporaryDirectory() as folder:
            url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
            if args.database_url:
                reset_postgres(url)
            engine_time, bare_time = measure(url, ideas, bare_workflow)
        transitions = ideas * len(STEPS)
        print(f"{label}: {ideas} ideas, {transitions} transitions on {url.split(':')[0]}")
        print(f"  engine: {engine_time:.2f} s = {ideas / engine_time:.0f} ideas/s, {transitions / engine_time:.0f} transitions/s")
        print(f"  bare UPDATE: {bare_time:.2f} s = {transitions / bare_time:.0f} updates/s")
        print(f"  ratio engine / bare UPDATE: {engine_time / bare_time:.2f}x" + (" (goal <= 3x)" if bare_workflow else ""))


def reset_postgres(url: str):
    from sqlalchemy import create_engine

    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    eng.dispose()


if __name__ == "__main__":
    main()
