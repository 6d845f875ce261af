"""The benchmarks' data, built once here: a competition of N submitted ideas, each with 3
submitted reviews by 12 evaluators, bulk-inserted (per-criterion scores are left out: the
ranking reads the reviews' stored weighted totals and the ideas' stored scores), and an administrator to log in as.

`seed(n)` adds it to the current app's database (migrated, and without a competition of
that code); `find(n)` returns the one already there, or None, so a benchmark can reuse a
database it built before."""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert, select

from grantflow.accounts.models import User
from grantflow.competitions.models import Competition
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.ideas.models import TARGET_GROUPS, Idea
from grantflow.review.models import Assignment, Review
from grantflow.review.operations import refresh_score
from grantflow.territory.models import Municipality
from grantflow.workflow.registry import workflow_for

EVALUATORS = 12
PER_IDEA = 3
ADMIN_EMAIL = "bench-admin@example.lv"


@dataclass
class Bench:
    competition_id: int
    email: str
    password: str


def code(n: int) -> str:
    return f"RANK{n}"


def find(n: int) -> Bench | None:
    from tests.factories import PASSWORD

    competition_id = db.session.scalar(select(Competition.id).where(Competition.code == code(n)))
    admin = db.session.scalar(select(User.id).where(User.email == ADMIN_EMAIL))
    return Bench(competition_id, ADMIN_EMAIL, PASSWORD) if competition_id and admin else None


def seed(n: int) -> Bench:
    """Ideas ready for a decision (the workflow's first `decidable` state), with references,
    requested amounts of 500–1,999 € and two target groups each, spread over every
    municipality; the budget covers about a fifth of them. Commits."""
    from grantflow.territory.operations import load_territories
    from tests.factories import PASSWORD, Factory

    if not db.session.scalar(select(Municipality.id).limit(1)):
        load_territories()
    factory = Factory()
    competition = factory.competition(budget=str(n * 300), code=code(n), evaluators_per_idea=PER_IDEA)
    municipalities = [m.id for m in db.session.query(Municipality).order_by(Municipality.id)]
    orgs = [factory.organisation() for _ in range(50)]
    evaluators = [factory.evaluator() for _ in range(EVALUATORS)]
    if not db.session.scalar(select(User.id).where(User.email == ADMIN_EMAIL)):
        factory.admin(email=ADMIN_EMAIL)
    db.session.commit()
    state = workflow_for(competition.workflow).states_tagged("decidable")[0]
    now = utcnow()
    ids = []
    for start in range(0, n, 2000):
        rows = [
            dict(competition_id=competition.id, organisation_id=orgs[i % len(orgs)].id, state=state, version=1,
                 reference=f"{competition.code}-{i + 1:05d}", title=f"Kopienas ideja Nr. {i + 1}",
                 summary="Kopsavilkums", answers={"community_need": "Vajadzība", "goals": "Mērķi"},
                 target_groups=[TARGET_GROUPS[i % len(TARGET_GROUPS)], TARGET_GROUPS[(i * 7) % len(TARGET_GROUPS)]],
                 expected_participants=30, contact_name="Anna", contact_email="anna@example.lv",
                 municipality_id=municipalities[i % len(municipalities)],
                 requested_amount=Decimal(500 + (i * 37) % 1500), own_contribution=Decimal("0.00"),
                 created_at=now, updated_at=now, submitted_at=now, is_demo=False)
            for i in range(start, min(n, start + 2000))
        ]  # fmt: skip
        ids += db.session.scalars(insert(Idea).returning(Idea.id), rows).all()
    pairs = [(idea_id, evaluators[(k + j * 5) % EVALUATORS]) for k, idea_id in enumerate(ids) for j in range(PER_IDEA)]
    round_id = competition.rounds[0].id  # the one review round of the default workflow
    assignment_ids = db.session.scalars(
        insert(Assignment).returning(Assignment.id),
        [dict(idea_id=i, evaluator_id=e.id, round_id=round_id, active=True, assigned_at=now, removed_reason="")
         for i, e in pairs],
    ).all()
    db.session.execute(
        insert(Review),
        [dict(assignment_id=a, idea_id=i, evaluator_id=e.id, round_id=round_id, status="submitted", recommendation="fund", comment="",
              total=Decimal(30 + (i * 13 + e.id * 7) % 70), updated_at=now, submitted_at=now)
         for a, (i, e) in zip(assignment_ids, pairs, strict=True)],
    )  # fmt: skip
    refresh_score(competition_id=competition.id)  # what the review operations keep: the ideas' scores
    db.session.commit()
    return Bench(competition.id, ADMIN_EMAIL, PASSWORD)
