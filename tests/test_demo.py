"""The demo data: the brochure's 32 funded ideas, closed with reports, and an open competition
with an idea in every state, moved there by the real workflow engine."""

from pathlib import Path

import yaml
from sqlalchemy import func, select

from grantflow.accounts.models import User
from grantflow.accounts.operations import find_user
from grantflow.competitions.models import Competition
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.demo.operations import BROCHURE, PASSWORD, load_demo
from grantflow.documents.operations import documents_for
from grantflow.ideas.models import Idea
from grantflow.mail.models import OutboxMail
from grantflow.reminders.models import ReminderSettings, SentReminder
from grantflow.reminders.operations import send_due
from grantflow.reports.models import Report
from grantflow.workflow.models import AuditEntry
from grantflow.workflow.registry import registry

# The demo's ideas are submitted through the real engine; no test here reads their receipts.


def test_demo_load_builds_the_programme_and_is_idempotent(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "admin@demo.grantflow.lv" in result.output and "demo-parole-2026" in result.output

    brochure = yaml.safe_load(Path(BROCHURE).read_text(encoding="utf-8"))
    past = db.session.scalars(select(Competition).where(Competition.code.in_(["DK-2020", "DK-2022", "DK-2024"]))).all()
    assert len(past) == 3
    closed = db.session.scalars(select(Idea).where(Idea.competition_id.in_([c.id for c in past]))).all()
    assert len(closed) == 32
    assert {i.title for i in closed} == {spec["title"] for spec in brochure["ideas"]}
    assert {i.state for i in closed} == {"closed"}
    assert all(i.is_demo for i in closed)
    reports = db.session.scalars(select(Report).where(Report.idea_id.in_([i.id for i in closed]))).all()
    assert len(reports) == 32 and {r.status for r in reports} == {"accepted"}
    kuopusti = next(i for i in closed if i.title.startswith("Kuopusti"))
    report = next(r for r in reports if r.idea_id == kuopusti.id)
    assert (report.participants, report.organisations_count) == (140, 28)  # the brochure's figures

    open_ideas = db.session.scalars(select(Idea).join(Competition).where(Competition.code == "DK-2026")).all()
    later = db.session.scalars(select(Idea).join(Competition).where(Competition.code == "DK-2025")).all()
    workflow = app.extensions["grantflow.workflows"]["community_ideas"]
    # The open competition holds only ideas at the open stage; last year's (closed) the rest.
    assert {i.state for i in open_ideas} == {"draft", "submitted", "withdrawn"}
    assert {i.state for i in open_ideas} | {i.state for i in later} == set(workflow.states)
    assert not db.session.get(Competition, later[0].competition_id).is_open(utcnow())
    # The demo applicant has an idea in every state, one funded with its documents and a report to file.
    applicant = find_user("pieteicejs@demo.grantflow.lv")
    mine = [i for i in open_ideas + later if i.organisation_id in applicant.organisation_ids()]
    assert {i.state for i in mine} == set(workflow.states)
    funded = next(i for i in mine if i.state == "funded")
    trail = db.session.scalars(select(AuditEntry.trigger).where(AuditEntry.idea_id == funded.id, AuditEntry.kind == "transition").order_by(AuditEntry.id)).all()
    assert trail == ["submit", "accept_eligible", "complete_review", "fund"]
    assert {d.kind for d in documents_for(funded)} == {"decision", "agreement"}
    assert db.session.scalar(select(func.count(Report.id)).where(Report.idea_id == funded.id)) == 0
    # Every demo person logs in with the printed password, the organisations' contacts too.
    contacts = [line.split()[0] for line in result.output.splitlines() if "kontakts" in line]
    assert len(contacts) >= 20
    for email in ("pasvaldiba@demo.grantflow.lv", contacts[0], contacts[-1]):
        user = find_user(email)
        assert user.active and user.check_password(PASSWORD), email

    counts = (db.session.scalar(select(func.count(Idea.id))), db.session.scalar(select(func.count(AuditEntry.id))))
    again = app.test_cli_runner().invoke(args=["demo", "load"])
    assert "nothing changed" in again.output
    assert (db.session.scalar(select(func.count(Idea.id))), db.session.scalar(select(func.count(AuditEntry.id)))) == counts


def test_every_kind_the_code_records_has_a_declared_label(app):
    """engine.record refuses an undeclared kind when it runs; this finds one on a path no test
    runs: every kind named where the code records an act, and what the demo recorded."""
    import re
    from pathlib import Path

    import grantflow

    named = set()
    for path in Path(grantflow.__file__).parent.rglob("*.py"):
        named |= set(re.findall(r'engine\.record\([^,]+,\s*"(\w+)"', path.read_text(encoding="utf-8")))
    assert {"document_issued", "review_submitted", "report_submitted"} <= named  # the search finds them
    load_demo()
    recorded = set(db.session.scalars(select(AuditEntry.kind).distinct())) - {"transition"}
    assert (named | recorded) - set(registry.kinds) == set()


def test_demo_load_if_empty_leaves_a_used_database_alone(app, factory):
    factory.competition()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0 and "not loaded" in result.output
    assert db.session.scalar(select(func.count(Competition.id))) == 1


def test_home_page_adds_up_the_reports_and_says_it_is_demo_data(app, client):
    load_demo()
    people = db.session.scalar(select(func.sum(Report.participants)).where(Report.status == "accepted"))
    page = client.get("/").get_data(as_text=True)
    assert f'<div class="figure">{people}</div>' in page
    assert "Demonstrācijas dati" in page


def test_demo_titles_use_the_languages_quotes(app):
    """Latvian titles quote with „…", English ones with “…”; no straight quote is left."""
    load_demo()
    competitions = db.session.scalars(select(Competition)).all()
    quoted = [c for c in competitions if "Darbīgās kopienas" in c.title_lv]
    assert len(quoted) >= 4
    for competition in quoted:
        assert "„Darbīgās kopienas”" in competition.title_lv and "“Active Communities”" in competition.title_en
    titles = [c.title_lv for c in competitions] + [c.title_en for c in competitions]
    titles += db.session.scalars(select(Idea.title)).all()
    assert not [t for t in titles if '"' in t]


def test_the_demo_sends_reminders_a_newcomer_can_read(app, client):
    """The demo's schedules make reminders due the day it is loaded: of the demo applicant's
    draft, of the evaluators' unscored ideas, of the representative's waiting confirmation;
    they are in the outbox (read on /admin/outbox), and the hourly run sends them no second
    time. The brochure's closed competitions remind nobody."""
    load_demo()
    sent = db.session.execute(select(SentReminder.kind, User.email).join(User, User.id == SentReminder.user_id)).all()
    kinds = {kind for kind, _email in sent}
    assert {"draft", "evaluation", "confirmation"} <= kinds, sent
    assert ("draft", "pieteicejs@demo.grantflow.lv") in sent
    assert ("confirmation", "pasvaldiba@demo.grantflow.lv") in sent
    past = set(db.session.scalars(select(Competition.id).where(Competition.code.in_(["DK-2020", "DK-2022", "DK-2024"]))))
    assert all(db.session.get(ReminderSettings, c).draft_days == "" for c in past)
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == "pieteicejs@demo.grantflow.lv")).all()
    assert len(mails) == 1 and mails[0].subject.startswith("Atgādinājums: jūsu ideja"), mails
    assert "/apply/" in mails[0].body_text and "/profile" in mails[0].body_text  # links to act and to turn it off
    assert send_due(utcnow()) == 0  # once per person and occasion
    client.post("/login", data={"email": "admin@demo.grantflow.lv", "password": PASSWORD})
    outbox = client.get("/admin/outbox").get_data(as_text=True)
    assert mails[0].subject in outbox
