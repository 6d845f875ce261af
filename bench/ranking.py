"""Fills one competition with N ideas (default 10,000), each scored by 3 of 12 evaluators,
then times the ranking page (first page of 100, with the running total over all) and its
CSV export (every idea) through the test client, and prints the median server time.
Goal: the page under 300 ms.

    .venv/bin/python bench/ranking.py [--ideas 10000] [--runs 15] [--database-url postgresql+psycopg://...]

Without --database-url a fresh SQLite file in a temporary directory is used. With it, the
database is migrated and the benchmark's competition added (use an empty database).
Records are bulk-inserted (per-criterion scores are left out: the ranking reads the
reviews' stored weighted totals)."""

import argparse
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grantflow import create_app  # noqa: E402
from grantflow.core.extensions import db  # noqa: E402
from grantflow.core.types import utcnow  # noqa: E402
from grantflow.ideas.models import TARGET_GROUPS, Idea  # noqa: E402
from grantflow.review.models import Assignment, Review  # noqa: E402
from grantflow.territory.models import Municipality  # noqa: E402
from grantflow.workflow.registry import workflow_for  # noqa: E402

EVALUATORS = 12
PER_IDEA = 3


def seed(n: int) -> tuple[int, str]:
    from grantflow.territory.operations import load_territories
    from tests.factories import PASSWORD, Factory

    load_territories()
    factory = Factory()
    competition = factory.competition(budget=str(n * 300), code=f"RANK{n}", evaluators_per_idea=PER_IDEA)
    municipalities = [m.id for m in db.session.query(Municipality).all()]
    orgs = [factory.organisation() for _ in range(50)]
    evaluators = [factory.evaluator() for _ in range(EVALUATORS)]
    admin = factory.admin()
    db.session.commit()
    state = workflow_for(competition.workflow).states_tagged("decidable")[0]
    now = utcnow()
    ids = []
    for start in range(0, n, 2000):
        rows = [
            dict(competition_id=competition.id, organisation_id=orgs[i % len(orgs)].id, state=state, version=1,
                 reference=f"{competition.code}-{i + 1:05d}", title=f"Kopienas ideja Nr. {i + 1}",
                 summary="Kopsavilkums", community_need="Vajadzība", goals="Mērķi",
                 target_groups=[TARGET_GROUPS[i % len(TARGET_GROUPS)], TARGET_GROUPS[(i * 7) % len(TARGET_GROUPS)]],
                 expected_participants=30, contact_name="Anna", contact_email="anna@example.lv",
                 municipality_id=municipalities[i % len(municipalities)],
                 requested_amount=Decimal(500 + (i * 37) % 1500), own_contribution=Decimal("0.00"),
                 created_at=now, updated_at=now, submitted_at=now, is_demo=False)
            for i in range(start, min(n, start + 2000))
        ]  # fmt: skip
        ids += db.session.scalars(insert(Idea).returning(Idea.id), rows).all()
    pairs = [(idea_id, evaluators[(k + j * 5) % EVALUATORS]) for k, idea_id in enumerate(ids) for j in range(PER_IDEA)]
    assignment_ids = db.session.scalars(
        insert(Assignment).returning(Assignment.id),
        [dict(idea_id=i, evaluator_id=e.id, active=True, assigned_at=now, removed_reason="") for i, e in pairs],
    ).all()
    db.session.execute(
        insert(Review),
        [dict(assignment_id=a, idea_id=i, evaluator_id=e.id, status="submitted", recommendation="fund", comment="",
              total=Decimal(30 + (i * 13 + e.id * 7) % 70), updated_at=now, submitted_at=now)
         for a, (i, e) in zip(assignment_ids, pairs, strict=True)],
    )  # fmt: skip
    db.session.commit()
    return competition.id, admin.email, PASSWORD


def timed(client, url: str, runs: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        size = len(response.get_data())
    return statistics.median(times) * 1000, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ideas", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        app = create_app({"DATABASE_URL": url, "MAIL_DELIVERY": "off", "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench"})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            started = time.perf_counter()
            competition_id, email, password = seed(args.ideas)
            print(f"{db.engine.dialect.name}: {args.ideas} ideas, {args.ideas * PER_IDEA} reviews "
                  f"inserted in {time.perf_counter() - started:.1f} s")  # fmt: skip
        client = app.test_client()
        client.post("/login", data={"email": email, "password": password})
        base = f"/review/competitions/{competition_id}"
        client.get(f"{base}/ranking")  # warm up caches and compiled statements
        for label, path in (
            ("ranking page (100 rows)", f"{base}/ranking"),
            ("ranking page, filtered", f"{base}/ranking?target_group=youth&order=normalised"),
            ("CSV export (all rows)", f"{base}/ranking.csv"),
        ):
            median, size = timed(client, path, args.runs)
            print(f"{label:28} median {median:7.1f} ms over {args.runs} runs ({size / 1024:.0f} KiB)")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
