"""Benchmark: 100 decision letters and 100 cooperation agreements.

Prints the median time per document through GrantFlow (template, QR code, PDF/A, SHA-256,
stored and committed) against bare WeasyPrint rendering the same HTML in the same run
(goal: at most 1.2x), then the wall time of the batch command's work for the same 200
documents on two worker processes (goal: under 40 s).

    .venv/bin/python bench/documents.py [--count 100] [--workers 2]
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="ideas (one letter and one agreement each)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    import weasyprint
    from flask_migrate import upgrade
    from sqlalchemy import delete

    from grantflow import create_app
    from grantflow.accounts.models import MUNICIPALITY
    from grantflow.core.extensions import db
    from grantflow.documents import operations as ops
    from grantflow.documents.models import Document
    from grantflow.funding import operations as decide_ops
    from grantflow.territory.operations import load_territories
    from tests.factories import Factory

    work = Path(tempfile.mkdtemp(prefix="grantflow-bench-"))
    app = create_app({"DATABASE_URL": f"sqlite:///{work}/bench.sqlite3", "MAIL_DELIVERY": "off",
                      "PUBLIC_URL": "https://grantflow.example.lv", "TESTING": True})
    with app.app_context():
        upgrade()
        load_territories()
        factory = Factory()
        admin = factory.admin(email="bench-admin@example.lv")
        competition = factory.competition(budget=str(Decimal(args.count) * 2000))
        rep = factory.user(MUNICIPALITY, municipality=factory.municipality())
        print(f"preparing {args.count} funded ideas…", flush=True)
        ideas = []
        for n in range(args.count):
            idea = factory.reviewed(competition=competition, amount="1500.00", title=f"Kopienas ideja Nr. {n + 1} Ūdrīšos",
                                    place="Ūdrīši", coop_premises="Tautas nama zāle", coop_upkeep="Pašvaldība uztur")
            decide_ops.decide(idea, admin, "fund")
            decide_ops.answer_cooperation(
                idea, rep, confirmed=True, comment="", authority_name="Rēzeknes novada pašvaldība",
                registration_number="90009112679", address="Atbrīvošanas aleja 95A, Rēzekne",
                signatory_name="Aivars Pašvaldnieks", signatory_position="domes priekšsēdētājs", sustainability_years=5)
            ideas.append(idea)
        db.session.commit()

        ops.issue(ideas[0], ops.DECISION, admin)  # warm up fonts and templates for both
        db.session.execute(delete(Document))
        db.session.commit()

        ours, bare = [], []
        for idea in ideas:
            for kind in ops.KINDS:
                start = time.perf_counter()
                document = ops.issue(idea, kind, admin)
                ours.append(time.perf_counter() - start)
                html = ops.draft(idea, kind).html  # the same template, data and size
                start = time.perf_counter()
                weasyprint.HTML(string=html, base_url=str(ROOT / "templates" / "documents")).write_pdf(pdf_variant="pdf/a-3u")
                bare.append(time.perf_counter() - start)
                assert document.size > 0
        ratio = statistics.median(ours) / statistics.median(bare)
        print(f"documents: {len(ours)} ({args.count} decision letters, {args.count} agreements), "
              f"{sum(d.size for d in db.session.scalars(db.select(Document))) // len(ours) // 1024} kB each on average")
        print(f"median per document, GrantFlow: {statistics.median(ours) * 1000:.1f} ms")
        print(f"median per document, bare WeasyPrint on the same HTML: {statistics.median(bare) * 1000:.1f} ms")
        print(f"ratio: {ratio:.2f}x (goal ≤ 1.2x) {'OK' if ratio <= 1.2 else 'OVER'}")

        db.session.execute(delete(Document))
        db.session.commit()
        todo = ops.due(competition.id)
        load = os.getloadavg()[0]
        before = (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
        start = time.perf_counter()
        result = ops.render_batch(todo, admin, work / "out", workers=args.workers)
        wall = time.perf_counter() - start
        after = (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
        parent, workers = (a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before, strict=False))
        assert len(result.issued) == 2 * args.count and not result.failed, result.failed
        print(f"batch of {len(result.issued)} documents on {args.workers} processes: {wall:.1f} s "
              f"(goal < 40 s) {'OK' if wall < 40 else 'OVER'}; load average before: {load:.1f} on {os.cpu_count()} cores")
        print(f"CPU time: workers {workers:.1f} s, parent {parent:.1f} s; on {args.workers} otherwise idle cores "
              f"that is about {max(workers / args.workers, parent):.1f} s")
        print(f"(work files in {work})")


if __name__ == "__main__":
    main()
