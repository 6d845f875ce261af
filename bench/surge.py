"""The deadline surge: applicants, each logged in with a complete draft, press "submit" at the
same moment, against GrantFlow served by gunicorn (production mode), beside a bare
Flask-SQLAlchemy endpoint doing one INSERT, served the same way on the same database.

    .venv/bin/python bench/surge.py                      # 50 then 200 clients, SQLite and PostgreSQL
    .venv/bin/python bench/surge.py --clients 20 --databases sqlite

A tenth of the applicants press twice (two requests at once from the same session), a third
type a last change that goes with the submission. Afterwards the database is checked: every
acknowledged idea submitted exactly once, with one reference number (none given twice or
skipped) and one receipt copy; none lost, none refused. Prints throughput, p50/p95/p99,
errors, the CPU the machine spent per request during the burst (all processes: a steadier
figure than the wall time for comparing versions of the code; split into the app's
workers, the database's backends and the benchmark's own clients), and the ratio to the bare
endpoint's throughput (the median of five bursts of as many inserts as there are applicants). Before the surge each applicant's draft is saved once through
the form, as the form's saves and autosave leave it before a deadline."""

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench import bare  # noqa: E402
from bench.serving import (  # noqa: E402
    Browser,
    busy_seconds,
    cpu_by_process,
    database,
    form_fields,
    gunicorn,
    load_average,
    production_env,
    summary,
)
from grantflow import create_app  # noqa: E402
from grantflow.core.extensions import db  # noqa: E402
from grantflow.documents.models import Document  # noqa: E402
from grantflow.ideas import operations as ideas_ops  # noqa: E402
from grantflow.ideas.models import Idea  # noqa: E402
from grantflow.mail.operations import send_pending  # noqa: E402
from grantflow.questionnaires import operations as questionnaires_ops  # noqa: E402
from grantflow.territory.operations import load_territories  # noqa: E402
from grantflow.workflow.models import AuditEntry  # noqa: E402
from tests.factories import PASSWORD, Factory  # noqa: E402
from tests.smtp import MailSink  # noqa: E402

TWICE, EDIT = 10, 3  # every 10th applicant presses twice, every 3rd types a last change
BARE_BURSTS = 5


@dataclass
class Outcome:
    ideas: int
    wall: float = 0.0
    cpu: float | None = None  # the machine's busy CPU seconds during the burst (busy_seconds)
    split: dict = field(default_factory=dict)  # of which: app, database, clients (cpu_by_process)
    latencies: list = field(default_factory=list)
    acknowledged: set = field(default_factory=set)  # idea ids answered "submitted"
    refused: list = field(default_factory=list)  # (idea id, status, where it sent the person)
    errors: list = field(default_factory=list)  # (idea id, status or exception)
    problems: list = field(default_factory=list)  # what the database check found wrong

    @property
    def throughput(self) -> float:
        return self.ideas / self.wall if self.wall else 0.0

    @property
    def cpu_per_request(self) -> str:
        requests = len(self.latencies) + len(self.errors)
        if self.cpu is None or not requests:
            return "unknown"
        parts = ", ".join(f"{name} {seconds / requests * 1000:.1f}" for name, seconds in sorted(self.split.items()))
        return f"{self.cpu / requests * 1000:.1f} ms" + (f" ({parts})" if parts else "")


def prepare(url: str, clients: int) -> list[tuple[str, int]]:
    """Migrate, load the territories, and make one open competition with `clients`
    applicants, each with a complete draft: (e-mail, idea id) each."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "MAIL_DELIVERY": "off"})
    with app.app_context():
        upgrade()
        load_territories()
        factory = Factory()
        competition = factory.competition(code="SURGE-2026")
        # Each idea under the form version the app gives a new idea (ideas.operations.create_idea),
        # frozen as the competition's first submission, days before the deadline, left it.
        version = ideas_ops.initial_form_version(competition)
        db.session.flush()
        questionnaires_ops.freeze(version.id)
        people = []
        for _ in range(clients):
            user = factory.applicant()
            idea = factory.idea(competition=competition, org=user.memberships[0].organisation, form_version=version)
            idea.contact_email = user.email
            people.append((user.email, idea.id))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return people


def _submit(browser: Browser, idea_id: int, fields: list, outcome: Outcome, lock: threading.Lock) -> None:
    start = time.perf_counter()
    try:
        status, location, _ = browser.request("POST", f"/apply/{idea_id}", fields)
    except Exception as error:  # a dropped connection is an error the person sees
        with lock:
            outcome.errors.append((idea_id, f"{type(error).__name__}: {error}"))
        return
    elapsed = time.perf_counter() - start
    with lock:
        outcome.latencies.append(elapsed)
        if status >= 500:
            outcome.errors.append((idea_id, status))
        elif status == 303 and location.endswith(f"/ideas/{idea_id}"):
            outcome.acknowledged.add(idea_id)
        else:
            outcome.refused.append((idea_id, status, location))


def run_surge(base_url: str, people: list[tuple[str, int]]) -> Outcome:
    """Log everyone in and open their forms, then release every submission at once."""
    outcome, lock = Outcome(len(people)), threading.Lock()
    browsers, second = {}, {}

    def get_ready(index_person):
        index, (email, idea_id) = index_person
        browser = Browser(base_url)
        browser.login(email, PASSWORD)
        fields = [(k, v) for k, v in form_fields(browser.get(f"/apply/{idea_id}"), f"/apply/{idea_id}") if k != "action"]
        # The draft as the form's saves (and autosave) leave it before the deadline; then the
        # page as the applicant has it open when pressing "Submit".
        status, _, _ = browser.request("POST", f"/apply/{idea_id}", [*fields, ("action", "save")])
        if status != 303:
            raise RuntimeError(f"saving the draft of idea {idea_id}: {status}")
        fields = [(k, v) for k, v in form_fields(browser.get(f"/apply/{idea_id}"), f"/apply/{idea_id}") if k != "action"]
        if index % EDIT == 0:
            fields = [(k, "Pēdējā brīža labojums" if k == "title" else v) for k, v in fields]
        fields.append(("action", "submit"))
        twin = None
        if index % TWICE == 0:  # the same session, a second connection: a double click
            twin = Browser(base_url)
            twin.cookies = browser.cookies
        return idea_id, browser, twin, fields

    with ThreadPoolExecutor(max_workers=16) as pool:
        ready = list(pool.map(get_ready, enumerate(people)))
    jobs = []
    for idea_id, browser, twin, fields in ready:
        browsers[idea_id] = browser
        jobs.append((browser, idea_id, fields))
        if twin is not None:
            second[idea_id] = twin
            jobs.append((twin, idea_id, fields))
    barrier = threading.Barrier(len(jobs) + 1)

    def go(job):
        barrier.wait(timeout=120)
        _submit(*job, outcome, lock)

    threads = [threading.Thread(target=go, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    busy, before = busy_seconds(), cpu_by_process()
    barrier.wait(timeout=120)
    start = time.perf_counter()
    for thread in threads:
        thread.join(timeout=300)
    outcome.wall = time.perf_counter() - start
    outcome.cpu = busy_seconds() - busy if busy is not None else None
    outcome.split = _spent(before, cpu_by_process())
    for browser in [*browsers.values(), *second.values()]:
        browser.close()
    # A double click answered "not now" while the first was still running is no refusal of the
    # idea when the first went through.
    outcome.refused = [r for r in outcome.refused if r[0] not in outcome.acknowledged]
    return outcome


def _spent(before: dict, after: dict) -> dict:
    return {name: after[name] - before.get(name, 0.0) for name in after if after[name] > before.get(name, 0.0)}


def check(url: str, people: list[tuple[str, int]], outcome: Outcome) -> None:
    """Every acknowledged idea submitted exactly once with one reference and, once the outbox
    is sent, one receipt copy; no reference given twice or skipped."""
    sink = MailSink().start()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "MAIL_SERVER": sink.host, "MAIL_PORT": sink.port})
    try:
        with app.app_context():
            ids = [idea_id for _, idea_id in people]
            ideas = db.session.scalars(select(Idea).where(Idea.id.in_(ids))).all()
            submits = dict(
                db.session.execute(
                    select(AuditEntry.idea_id, func.count())
                    .where(AuditEntry.idea_id.in_(ids), AuditEntry.trigger == "submit")
                    .group_by(AuditEntry.idea_id)
                ).all()
            )
            references = sorted(i.reference for i in ideas if i.reference)
            expected = [f"SURGE-2026-{n:04d}" for n in range(1, len(references) + 1)]
            if references != expected:
                outcome.problems.append(f"reference numbers given twice or skipped: {references[:5]}…")
            for idea in ideas:
                if idea.id in outcome.acknowledged and (not idea.has_tag("filed") or submits.get(idea.id) != 1):
                    outcome.problems.append(f"idea {idea.id} acknowledged but {idea.state}, {submits.get(idea.id)} submits")
                if idea.id not in outcome.acknowledged and idea.reference:
                    outcome.problems.append(f"idea {idea.id} submitted but its applicant was not told")
            lost = len(people) - len(outcome.acknowledged)
            if lost:
                outcome.problems.append(f"{lost} of {len(people)} ideas not submitted")
            while send_pending(limit=500)[0]:
                pass
            copies = dict(
                db.session.execute(
                    select(Document.idea_id, func.count()).where(Document.kind == "receipt").group_by(Document.idea_id)
                ).all()
            )
            wrong = [i for i in outcome.acknowledged if copies.get(i) != 1]
            if wrong:
                outcome.problems.append(f"{len(wrong)} ideas without exactly one receipt copy, e.g. {wrong[:3]}")
            db.session.remove()
            db.engine.dispose()
    finally:
        sink.stop()


def run_bare(base_url: str, clients: int) -> Outcome:
    outcome, lock = Outcome(clients), threading.Lock()
    browsers = [Browser(base_url) for _ in range(clients)]
    with ThreadPoolExecutor(max_workers=16) as pool:  # every worker booted and connected
        list(pool.map(lambda b: b.get("/warm"), browsers))
    barrier = threading.Barrier(clients + 1)

    def go(browser):
        barrier.wait(timeout=60)
        start = time.perf_counter()
        try:
            status, _, _ = browser.request("POST", "/insert", [("n", "1")])
        except Exception as error:
            with lock:
                outcome.errors.append((None, repr(error)))
            return
        with lock:
            outcome.latencies.append(time.perf_counter() - start)
            if status != 200:
                outcome.errors.append((None, status))

    threads = [threading.Thread(target=go, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    busy, before = busy_seconds(), cpu_by_process()
    barrier.wait(timeout=60)
    start = time.perf_counter()
    for thread in threads:
        thread.join(timeout=120)
    outcome.wall = time.perf_counter() - start
    outcome.cpu = busy_seconds() - busy if busy is not None else None
    outcome.split = _spent(before, cpu_by_process())
    for browser in browsers:
        browser.close()
    return outcome


def measure(kind: str, clients: int, workers: int = 4) -> tuple[Outcome, Outcome]:
    """One surge of `clients` on a new database of `kind`, and the bare endpoint beside it."""
    with database(kind) as url:
        people = prepare(url, clients)
        env = production_env(url)
        os.environ["DATABASE_URL"] = url
        bare.prepare()
        with gunicorn("grantflow:create_app()", env, workers=workers) as base_url:
            outcome = run_surge(base_url, people)
        check(url, people, outcome)
        with gunicorn("bench.bare:create_app()", env, workers=workers) as base_url:
            # A burst of cheap inserts is over in a tenth of a second, so one burst's figure
            # swings with whatever else the machine does (from 150 to 1,000 inserts/s here):
            # the yardstick is the median of BARE_BURSTS bursts.
            bursts = sorted((run_bare(base_url, clients) for _ in range(BARE_BURSTS)), key=lambda o: o.throughput)
            yardstick = bursts[len(bursts) // 2]
    return outcome, yardstick


def report(kind: str, outcome: Outcome, yardstick: Outcome) -> None:
    ratio = outcome.throughput / yardstick.throughput if yardstick.throughput else float("nan")
    print(f"{kind:10} {outcome.ideas:4d} clients: {len(outcome.acknowledged)}/{outcome.ideas} submitted, "
          f"{len(outcome.refused)} refused, {len(outcome.errors)} errors (5xx or dropped), "
          f"{outcome.throughput:6.1f} submissions/s in {outcome.wall:.2f} s")
    print(f"{'':10} submit  {summary(outcome.latencies)}  CPU per request {outcome.cpu_per_request} (the machine's, all processes)")
    print(f"{'':10} bare    {summary(yardstick.latencies)}  {yardstick.throughput:6.1f} inserts/s (median of "
          f"{BARE_BURSTS} bursts), {len(yardstick.errors)} errors, CPU per request {yardstick.cpu_per_request}; "
          f"GrantFlow/bare throughput {ratio:.2f}")
    for problem in outcome.problems + [f"refused: {r}" for r in outcome.refused[:5]] + [f"error: {e}" for e in outcome.errors[:5]]:
        print(f"{'':10} ! {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    print(f"surge: gunicorn {args.workers} workers, production mode; {load_average()}")
    failed = False
    for kind in args.databases:
        for clients in args.clients:
            outcome, yardstick = measure(kind, clients, args.workers)
            report(kind, outcome, yardstick)
            failed |= bool(outcome.problems or outcome.refused or outcome.errors)
    print(f"after: {load_average()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
