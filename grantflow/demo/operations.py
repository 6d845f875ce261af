"""Demo data: the brochure's three past competitions with their 32 funded ideas, closed with
final reports, and an open competition with ideas in every state, all moved through the real
workflow engine so their histories are genuine. Loading twice changes nothing."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from markupsafe import escape
from sqlalchemy import delete, func, select
from stdnum import iban
from werkzeug.security import generate_password_hash

from grantflow.accounts.models import ADMINISTRATOR, APPLICANT, EVALUATOR, MUNICIPALITY, User
from grantflow.accounts.operations import create_user, find_user
from grantflow.competitions.models import Competition, CompetitionDocument
from grantflow.competitions.operations import add_default_criteria
from grantflow.core.extensions import db
from grantflow.core.i18n import RIGA
from grantflow.core.types import utcnow
from grantflow.documents import operations as documents
from grantflow.documents.pdf import html_to_pdf
from grantflow.funding.models import CooperationConfirmation
from grantflow.funding.operations import authority_name
from grantflow.ideas import operations as ideas_ops
from grantflow.ideas.models import BudgetLine, Idea, IdeaActivity, Partner
from grantflow.ideas.operations import recompute_budget
from grantflow.mail.models import OutboxMail
from grantflow.organisations.models import Membership, Organisation
from grantflow.payments import operations as payments
from grantflow.payments.models import PaymentPlan
from grantflow.questionnaires import operations as forms_ops
from grantflow.reminders.models import ReminderSettings
from grantflow.reminders.operations import send_due
from grantflow.reports import operations as reports_ops
from grantflow.reports.models import Report, ReportActivity, ReportReach, ReportSpending, ReportStatus
from grantflow.review.models import Assignment, EligibilityCheck, Recommendation, Review, ReviewStatus, Score
from grantflow.review.operations import refresh_score, weighted_total
from grantflow.review.rounds import current_round, current_round_id
from grantflow.territory.models import Municipality, Parish
from grantflow.territory.operations import load_territories
from grantflow.workflow import engine
from grantflow.workflow.registry import workflow_for

BROCHURE = Path(__file__).with_name("brochure.yaml")
OPEN_FILE = Path(__file__).with_name("open_competition.yaml")
PASSWORD = "demo-parole-2026"

DEMO_USERS = (
    # e-mail, name, roles, municipality
    ("admin@demo.grantflow.lv", "Daiga Administratore", (ADMINISTRATOR,), None),
    ("vertetajs@demo.grantflow.lv", "Jānis Vērtētājs", (EVALUATOR,), None),
    ("vertetaja@demo.grantflow.lv", "Ilze Vērtētāja", (EVALUATOR,), None),
    ("eksperts@demo.grantflow.lv", "Pēteris Eksperts", (EVALUATOR,), None),
    ("pieteicejs@demo.grantflow.lv", "Līga Pieteicēja", (APPLICANT,), None),
    ("pasvaldiba@demo.grantflow.lv", "Aivars Pašvaldnieks", (MUNICIPALITY,), "Rēzeknes novads"),
)


@dataclass
class Loaded:
    created: bool
    logins: list[tuple[str, str, str]]


def at_riga(day, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=RIGA).astimezone(UTC)


def load_demo() -> Loaded:
    """Build the demo, then drop the mails its invented history queued (they would go to
    demo addresses and crowd out real mail), then send the reminders the demo's schedules
    make due today, as the hourly task would: a newcomer finds them on the outbox page."""
    before = db.session.scalar(select(func.coalesce(func.max(OutboxMail.id), 0)))
    loaded = _load()
    db.session.execute(delete(OutboxMail).where(OutboxMail.id > before))
    db.session.commit()
    if loaded.created:
        send_due(utcnow())
    return loaded


# The demo's reminder schedules (reminders area), so reminders go out in the demo as they would
# in a real round. The open competition (closing in 45 days) reminds of unfinished drafts two
# months, one month, a week and a day before it closes, so the first is due the day the demo is
# loaded; last year's and the resource centre's evaluations close in 10 days and remind
# evaluators two weeks, three days and a day before; a municipality's confirmation is asked for
# again after a week. The brochure's competitions closed years ago, every report accepted:
# nothing of theirs is reminded.
DEMO_REMINDERS = {
    "DK-2026": {"draft_days": "60,30,7,1"},
    "DK-2025": {"evaluation_days": "14,3,1"},
    "KRC-2026": {"evaluation_days": "14,3,1", "confirmation_wait_days": 7},
}
PAST_REMINDERS = {"draft_days": "", "evaluation_days": "", "report_due_days": 0, "report_overdue_max": 0,
                  "confirmation_wait_days": 0}  # fmt: skip


def _reminder_schedules() -> None:
    for competition in db.session.scalars(select(Competition).where(Competition.is_demo.is_(True))):
        if db.session.get(ReminderSettings, competition.id) is not None:
            continue
        values = {**ReminderSettings.DEFAULTS, **DEMO_REMINDERS.get(competition.code, PAST_REMINDERS)}
        db.session.add(ReminderSettings(competition_id=competition.id, **values))


def _load() -> Loaded:
    load_territories()
    created = False
    users = {}
    for email, name, roles, municipality in DEMO_USERS:
        user = find_user(email)
        if user is None:
            user = create_user(email, name, PASSWORD, roles, confirmed=True)
            if municipality:
                user.municipalities = [_municipality(municipality)]
            created = True
        users[email] = user
    db.session.flush()
    data = yaml.safe_load(BROCHURE.read_text(encoding="utf-8"))
    operator = _organisation(data["operator"]["name"], data["operator"]["legal_form"], None, None)
    operator.registration_number = data["operator"]["registration_number"]
    operator.address = data["operator"]["address"]
    admin = users["admin@demo.grantflow.lv"]
    evaluators = [u for u in users.values() if u.has_role(EVALUATOR)]
    if db.session.scalar(select(Competition.id).where(Competition.code == "DK-2020")) is None:
        _past_competitions(data, admin, evaluators)
        created = True
    if db.session.scalar(select(Competition.id).where(Competition.code == "DK-2026")) is None:
        _open_competition(users, admin, evaluators)
        created = True
    if db.session.scalar(select(Competition.id).where(Competition.code == "KP-2026")) is None:
        _two_stage_competition(users, admin, evaluators)
        created = True
    _rules_documents(admin)
    db.session.flush()
    _reminder_schedules()
    db.session.flush()
    logins = [(email, PASSWORD, ", ".join(roles)) for email, _, roles, _ in DEMO_USERS]
    contacts = db.session.scalars(
        select(User.email).where(User.email.like("kontakts%@demo.grantflow.lv")).order_by(User.id)
    )
    logins += [(email, PASSWORD, f"{APPLICANT} (contact person)") for email in contacts]
    return Loaded(created, logins)


def _rules_documents(admin) -> None:
    """Each demo competition without documents gets its rules as a PDF (made here from the
    competition's own settings), for visitors to download from its public page."""
    bare = db.session.scalars(
        select(Competition).where(Competition.is_demo.is_(True), ~Competition.documents.any()).order_by(Competition.id)
    ).all()
    for competition in bare:
        criteria = "".join(f"<li>{escape(c.name_lv)} ({c.max_points} p., × {c.weight})</li>" for c in competition.criteria)
        html = (f"<html lang='lv'><body style='font-family: DejaVu Sans'><h1>{escape(competition.title_lv)}</h1>"
                f"<h2>Nolikums (demonstrācijas dati)</h2><p>{escape(competition.description_lv)}</p>"
                f"<p>Finansējums vienai idejai: {competition.min_grant}–{competition.max_grant} €; "
                f"konkursa budžets {competition.budget} €.</p><h2>Vērtēšanas kritēriji</h2><ol>{criteria}</ol></body></html>")  # fmt: skip
        data = html_to_pdf(html)
        competition.documents.append(CompetitionDocument(
            kind="rules", title_lv=f"{competition.code} nolikums", title_en=f"{competition.code} rules",
            filename=f"{competition.code.lower()}-nolikums.pdf", content_type="application/pdf", size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), data=data, uploaded_by_id=admin.id,
        ))  # fmt: skip


def _municipality(name: str) -> Municipality:
    return db.session.scalars(select(Municipality).where(Municipality.name == name)).one()


def _parish(municipality: Municipality, name: str | None) -> Parish | None:
    if not name:
        return None
    return db.session.scalars(
        select(Parish).where(Parish.municipality_id == municipality.id, Parish.name == name)
    ).one()


def _organisation(name, legal_form, municipality, parish) -> Organisation:
    org = db.session.scalars(select(Organisation).where(Organisation.name == name)).first()
    if org is None:
        org = Organisation(name=name, legal_form=legal_form, municipality=municipality, parish=parish)
        db.session.add(org)
        db.session.flush()
        org.iban = _invented_iban(org.id)
    return org


def _invented_iban(n: int) -> str:
    """An invented account (valid check digits, no real account): the brochure gives none."""
    body = f"LV00DEMO{n:013d}"
    return "LV" + iban.calc_check_digits(body) + body[4:]


_HASH: dict[str, str] = {}


def _password_hash() -> str:
    """The demo password's hash, made once: some forty contact people share it, and hashing
    is slow on purpose."""
    if "hash" not in _HASH:
        _HASH["hash"] = generate_password_hash(PASSWORD)
    return _HASH["hash"]


def _contact(org: Organisation) -> User:
    """The organisation's contact person: a member who logs in with the demo password."""
    for membership in org.memberships:
        return membership.user
    user = User(
        email=f"kontakts{org.id}@demo.grantflow.lv",
        name=f"{org.name} — kontaktpersona",
        password_hash=_password_hash(),
        email_confirmed_at=utcnow(),  # the workflow lets only confirmed addresses submit
    )
    user.grant(APPLICANT)
    db.session.add(Membership(user=user, organisation=org))
    db.session.flush()
    return user


def _budget(idea: Idea, amount: Decimal, lines=None) -> None:
    lines = lines or [("Materiāli un inventārs", Decimal("0.7")), ("Pasākumu organizēšana un transports", None)]
    first = (amount * lines[0][1]).quantize(Decimal("1"))
    idea.budget_lines = [
        BudgetLine(position=1, item=lines[0][0], quantity=Decimal("1"), unit_cost=first),
        BudgetLine(position=2, item=lines[1][0], quantity=Decimal("1"), unit_cost=amount - first),
        BudgetLine(position=3, item="Brīvprātīgo darbs (līdzfinansējums natūrā)", quantity=Decimal("40"),
                   unit_cost=Decimal("5.00"), own=True),
    ]
    recompute_budget(idea)


def _competition(code, title_lv, title_en, opens, closes, budget, min_grant, max_grant, workflow="community_ideas"):
    competition = Competition(
        code=code, title_lv=title_lv, title_en=title_en, opens_at=opens, closes_at=closes,
        budget=Decimal(budget), min_grant=Decimal(min_grant), max_grant=Decimal(max_grant),
        workflow=workflow, evaluators_per_idea=2, is_demo=True,
        report_due=(closes + timedelta(days=240)).date(),
    )  # fmt: skip
    add_default_criteria(competition)
    db.session.add(competition)
    db.session.flush()
    return competition


def _new_idea(competition, org, spec, contact) -> Idea:
    municipality = org.municipality
    idea = Idea(
        competition=competition, organisation=org, state=competition_workflow(competition).initial,
        title=spec["title"], summary=spec["summary"], community_need=spec["summary"],
        goals=spec.get("goals", "Stiprināt kopienu un iesaistīt mazāk aktīvos iedzīvotājus."),
        target_groups=spec["target_groups"], expected_participants=spec.get("participants", 60),
        less_active_reach="Personīgi uzrunājot un aicinot caur vietējiem līderiem.",
        sustainability="Iegādātais inventārs paliek kopienas lietošanā; aktivitātes turpinās brīvprātīgie.",
        coop_premises="Pašvaldība nodrošina telpas pasākumiem.",
        municipality=municipality, parish=org.parish, place=spec.get("place") or "",
        contact_name=contact.name, contact_email=contact.email, is_demo=True, created_by_id=contact.id,
    )  # fmt: skip
    if not org.signatory_name:  # the demo's contact signs for the organisation
        org.signatory_name, org.signatory_position = contact.name, "pilnvarotā persona"
    idea.activities = [IdeaActivity(position=1, description="Kopienas tikšanās un plānošana",
                                    starts_on=(competition.closes_at + timedelta(days=60)).date())]  # fmt: skip
    idea.partners = [Partner(position=1, name=authority_name(municipality), kind="municipality",
                             contribution="Telpas un inventāra uzglabāšana")]  # fmt: skip
    _budget(idea, Decimal(spec["amount"]))
    # Given under the competition's application form (its first stage's, in a staged
    # competition), the whole answers document written.
    idea.form_version = ideas_ops.initial_form_version(competition)
    ideas_ops.sync_answers(idea)
    db.session.add(idea)
    db.session.flush()
    return idea


def competition_workflow(competition):

    return workflow_for(competition.workflow)


def _screen(idea, admin, eligible: bool, when: datetime, reason: str = "") -> None:
    checklist = {"complete": True, "legal_form": True, "territory": True, "grant_limits": eligible, "deadline": True}
    db.session.add(EligibilityCheck(idea_id=idea.id, checklist=checklist, eligible=eligible,
                                    reason=reason, checked_by_id=admin.id, checked_at=when))  # fmt: skip


def _review(idea, evaluator, admin, points: list[int], when: datetime, submit: bool = True) -> None:
    assignment = Assignment(idea_id=idea.id, evaluator_id=evaluator.id, assigned_by_id=admin.id, assigned_at=when,
                            round_id=current_round_id(idea))
    db.session.add(assignment)
    db.session.flush()
    review = Review(assignment=assignment, idea_id=idea.id, evaluator_id=evaluator.id, round_id=assignment.round_id,
                    recommendation=Recommendation.FUND if sum(points) >= 30 else Recommendation.REJECT,
                    comment="Pārdomāta ideja ar skaidru kopienas vajadzību.")  # fmt: skip
    for criterion, value in zip(assignment.round.criteria, points, strict=True):
        review.scores.append(Score(criterion=criterion, points=Decimal(value)))
    db.session.add(review)
    if submit:
        review.status = ReviewStatus.SUBMITTED
        review.submitted_at = when
        review.total = weighted_total(review.scores)
    refresh_score(idea)


def _report(idea, spec: dict, when: datetime) -> None:
    report = Report(
        idea_id=idea.id, status=ReportStatus.SUBMITTED, participants=spec["participants"],
        organisations_count=spec["organisations"], volunteers=spec.get("volunteers", 0),
        organisations_names=spec.get("organisation_names", ""),
        changed=spec.get("changed", ""), continues=spec.get("continues", ""), submitted_at=when,
    )  # fmt: skip
    start = when - timedelta(days=150)
    for number, text in enumerate(spec.get("activities", []), 1):
        report.activities.append(
            ReportActivity(held_on=(start + timedelta(days=25 * number)).date(), description=text,
                           participants=max(1, spec["participants"] // max(1, len(spec["activities"]))))
        )  # fmt: skip
    groups = idea.target_groups or ["other"]
    share = spec["participants"] // len(groups)
    for index, group in enumerate(groups):
        people = share if index < len(groups) - 1 else spec["participants"] - share * (len(groups) - 1)
        report.reach.append(ReportReach(target_group=group, people=people))
    for number, line in enumerate(idea.budget_lines):
        if not line.own:
            report.spending.append(
                ReportSpending(budget_line_id=line.id, item=line.item, planned=line.total, actual=_spent(idea, number, line.total))
            )
    report.form_version = forms_ops.version_for(idea.competition, "report")
    reports_ops.sync_answers(report)
    forms_ops.freeze(report.form_version.id, when)
    db.session.add(report)
    db.session.flush()


def _spent(idea, number: int, planned: Decimal) -> Decimal:
    """Invented: most ideas spent what they planned; some spent less on their first line (so
    they return part of the advance) or on their second (so the last payment is smaller)."""
    if idea.id % 5 == 0 and number == 0:
        return (planned * Decimal("0.6")).quantize(Decimal("0.01"))
    if idea.id % 7 == 0 and number == 1:
        return (planned * Decimal("0.9")).quantize(Decimal("0.01"))
    return planned


def _payments(idea, admin, when: datetime, trigger: str) -> None:
    """Invented payments: each instalment paid ten days after it fell due; money to be
    returned returned fifteen days after the report was accepted."""
    for row in payments.schedule_of(idea):
        if row.outstanding > 0 and payments.is_due(row):
            payments.pay_instalment(row, row.outstanding, min((when + timedelta(days=10)).date(), payments.today()), "demo", admin)
    refund = payments.refund_of(idea) if trigger == "accept_report" else None
    if refund is not None:
        payments.return_money(refund, refund.to_return, min((when + timedelta(days=15)).date(), payments.today()), "demo", admin)


def _lifecycle(idea, path: list[str], users: dict, start: datetime, report: dict | None = None, gaps=None) -> None:
    """Move `idea` along `path` through the engine, doing what each step needs first
    (screening, reviews, a report), one day apart. A step names a part the workflow declares
    (`screen_accept`) or one of its triggers; "reviews" has the evaluators score the idea.
    Who acts is read from the transition's roles, what it needs from its guards."""
    admin, contact, evaluators = users["admin"], users["contact"], users["evaluators"]
    workflow = idea.workflow
    screening = {workflow.part("screen_accept"): True, workflow.part("screen_reject"): False}
    when = start
    for step in path:
        when += timedelta(days=(GAPS if gaps is None else gaps).get(step, 3))
        if step == "reviews":
            rejected = workflow.part("reject") in path or "reject" in path
            base = 3 if rejected else 6 + idea.id % 4  # rejected ideas scored low
            for number, evaluator in enumerate(evaluators[:2]):
                points = [min(10, base + (number + k) % 3) for k in range(len(current_round(idea).criteria))]
                _review(idea, evaluator, admin, points, when, submit=not users.get("partial"))
                users["partial"] = False
            engine.settle(idea, at=when)
            continue
        trigger = workflow.part(step) or step
        t = workflow.transition(trigger, idea.state)
        roles = t.roles if t is not None else frozenset()
        actor, params = admin, {}
        if APPLICANT in roles:
            actor = contact
            params["received_at"] = when
        elif MUNICIPALITY in roles:
            actor = users["municipality"]
        if trigger in screening:
            eligible = screening[trigger]
            _screen(idea, admin, eligible, when, "" if eligible else COMMENTS["screen_reject"])
        if t is not None and "report_submitted" in t.guards:
            _report(idea, report, when)
        part = next((name for name, value in workflow.parts.items() if value == trigger), None)
        comment = COMMENTS.get(part or trigger, "") if t is not None and t.comment != "none" else ""
        engine.fire(idea, trigger, actor, comment, at=when, **params)
        if users.get("pay") and trigger in ("fund", "accept_report"):
            _payments(idea, admin, when, trigger)


# The demo's comments, by part (or trigger where no part plays the step).
COMMENTS = {
    "reject": "Idejas vērtējums ir zemāks par atbalstīto ideju vērtējumu.",
    "screen_reject": "Pieteicējs nav no programmas teritorijas.",
    "return_for_changes": "Lūdzu, precizējiet budžetu.",
    "decline_concept": "Koncepcija ir laba, taču citas vairāk atbilst konkursa mērķiem.",
}
GAPS = {"fund": 14, "accept_report": 150, "close": 20}
FUNDED_PATH = ["submit", "screen_accept", "reviews", "fund", "accept_report", "close"]


def _past_competitions(data: dict, admin: User, evaluators: list[User]) -> None:
    competitions = {}
    for spec in data["competitions"]:
        competitions[spec["key"]] = _competition(
            spec["key"].upper(), spec["title_lv"], spec["title_en"], at_riga(spec["opens"], 9),
            at_riga(spec["closes"], 23), spec["budget"], spec["min_grant"], spec["max_grant"],
        )  # fmt: skip
        # Then the advance was paid on the decision, the rest on the accepted report.
        db.session.add(PaymentPlan(competition_id=competitions[spec["key"]].id,
                                   instalments=[{"percent": "80", "due": "decision"}, {"percent": "20", "due": "report"}]))
    for spec in data["ideas"]:
        competition = competitions[spec["competition"]]
        municipality = _municipality(spec["municipality"])
        org = _organisation(spec["organisation"], spec["legal_form"], municipality, _parish(municipality, spec.get("parish")))
        contact = _contact(org)
        idea = _new_idea(competition, org, spec, contact)
        report = dict(spec["report"])
        users = {"admin": admin, "contact": contact, "evaluators": evaluators, "pay": True}
        _lifecycle(idea, FUNDED_PATH, users, competition.closes_at - timedelta(days=10), report)


OPEN_STAGE = {"submit", "withdraw"}  # the steps an idea takes while its competition is open


def _open_competition(users_by_email: dict, admin: User, evaluators: list[User]) -> None:
    """DK-2026, open now, with ideas at the open stage (draft, submitted, withdrawn); DK-2025,
    closed three weeks ago and still being evaluated, with the ideas further on (in review,
    decided, funded with documents issued and a report to file, reported, closed); and a
    resource centre competition whose idea waits for the municipality's confirmation. The
    demo applicant has ideas in every state."""
    now = utcnow()
    spec = yaml.safe_load(OPEN_FILE.read_text(encoding="utf-8"))
    opens = at_riga((now - timedelta(days=40)).astimezone(RIGA).date(), 9)
    closes = datetime.combine((now + timedelta(days=45)).astimezone(RIGA).date(), time(23, 59), tzinfo=RIGA).astimezone(UTC)
    competition = _competition(
        "DK-2026", spec["title_lv"], spec["title_en"], opens, closes, "20000.00", "500.00", "2000.00",
    )  # fmt: skip
    past_opens = at_riga((now - timedelta(days=120)).astimezone(RIGA).date(), 9)
    past_closes = datetime.combine((now - timedelta(days=21)).astimezone(RIGA).date(), time(23, 59), tzinfo=RIGA).astimezone(UTC)
    last_year = _competition(
        "DK-2025", spec["past"]["title_lv"], spec["past"]["title_en"], past_opens, past_closes, "20000.00", "500.00", "2000.00",
    )  # fmt: skip
    for target in (competition, last_year):
        db.session.add(PaymentPlan(competition_id=target.id,
                                   instalments=[{"percent": "80", "due": "decision"}, {"percent": "20", "due": "report"}]))  # fmt: skip
    last_year.evaluation_closes_at = now + timedelta(days=10)
    last_year.report_due = (now + timedelta(days=200)).astimezone(RIGA).date()
    krc = _competition(
        "KRC-2026", spec["krc"]["title_lv"], spec["krc"]["title_en"], past_opens, past_closes,
        "15000.00", "1000.00", "5000.00", workflow="resource_centre",
    )  # fmt: skip
    krc.evaluation_closes_at = now + timedelta(days=10)
    applicant = users_by_email["pieteicejs@demo.grantflow.lv"]
    municipality_rep = users_by_email["pasvaldiba@demo.grantflow.lv"]
    for entry in spec["ideas"] + [dict(spec["krc"]["idea"], krc=True)]:
        municipality = _municipality(entry["municipality"])
        org = _organisation(entry["organisation"], entry["legal_form"], municipality, _parish(municipality, entry.get("parish")))
        if entry.get("demo_applicant"):
            if not any(m.user_id == applicant.id for m in org.memberships):
                db.session.add(Membership(user=applicant, organisation=org))
                db.session.flush()
            contact = applicant
        else:
            contact = _contact(org)
        open_stage = set(entry["path"]) <= OPEN_STAGE
        target = krc if entry.get("krc") else competition if open_stage else last_year
        idea = _new_idea(target, org, entry, contact)
        users = {"admin": admin, "contact": contact, "evaluators": evaluators,
                 "municipality": municipality_rep, "partial": entry.get("partial_reviews", False),
                 "pay": "close" in entry["path"]}  # fmt: skip
        if open_stage:  # four days between steps, the last one yesterday
            _lifecycle(idea, entry["path"], users, now - timedelta(days=4 * len(entry["path"]) + 1), entry.get("report"), gaps={})
        else:  # submitted in the competition's last days, then a step every three days
            _lifecycle(idea, entry["path"], users, target.closes_at - timedelta(days=6), entry.get("report"), gaps={})
        if entry.get("documents"):
            _documents(idea, admin, municipality_rep)


def _two_stage_competition(users_by_email: dict, admin: User, evaluators: list[User]) -> None:
    """KP-2026 on the two-stage workflow (concept_proposal): the concepts' window closed 40 days
    ago and they were reviewed in the first round; the full proposals' window is open now (it
    closes in 25 days) and some are in the second round. The demo applicant's concept was
    invited: its full proposal is theirs to write."""
    now = utcnow()
    spec = yaml.safe_load(OPEN_FILE.read_text(encoding="utf-8"))["two_stage"]
    opens = at_riga((now - timedelta(days=100)).astimezone(RIGA).date(), 9)
    closes = datetime.combine((now - timedelta(days=40)).astimezone(RIGA).date(), time(23, 59), tzinfo=RIGA).astimezone(UTC)
    competition = _competition(
        "KP-2026", spec["title_lv"], spec["title_en"], opens, closes, "40000.00", "2000.00", "6000.00",
        workflow="concept_proposal",
    )  # fmt: skip
    proposal = competition.stage("proposal")
    proposal.opens_at = closes + timedelta(days=10)
    proposal.closes_at = datetime.combine((now + timedelta(days=25)).astimezone(RIGA).date(), time(23, 59),
                                          tzinfo=RIGA).astimezone(UTC)  # fmt: skip
    competition.round("concept").evaluation_closes_at = closes + timedelta(days=9)
    competition.round("proposal").evaluation_closes_at = now + timedelta(days=35)
    competition.report_due = (now + timedelta(days=300)).astimezone(RIGA).date()
    applicant = users_by_email["pieteicejs@demo.grantflow.lv"]
    for entry in spec["ideas"]:
        municipality = _municipality(entry["municipality"])
        org = _organisation(entry["organisation"], entry["legal_form"], municipality, _parish(municipality, entry.get("parish")))
        if entry.get("demo_applicant"):
            if not any(m.user_id == applicant.id for m in org.memberships):
                db.session.add(Membership(user=applicant, organisation=org))
                db.session.flush()
            contact = applicant
        else:
            contact = _contact(org)
        idea = _new_idea(competition, org, entry, contact)
        users = {"admin": admin, "contact": contact, "evaluators": evaluators}
        path = entry["path"]
        partial = entry.get("partial_reviews", False) and path[-1] == "reviews"
        # The concept submitted in its window's last days; the proposal once its window opened.
        _lifecycle(idea, path[:-1] if partial else path, users, closes - timedelta(days=6), gaps={"submit_proposal": 14})
        if partial:  # the second round half done: one review in, one still being written
            points = [7] * len(current_round(idea).criteria)
            _review(idea, evaluators[0], admin, points, now - timedelta(days=2))
            _review(idea, evaluators[1], admin, points, now - timedelta(days=2), submit=False)
    db.session.flush()


def _documents(idea: Idea, admin: User, representative: User) -> None:
    """The municipality's confirmation, then the decision letter and the agreement, issued
    as an administrator would (stored, not committed: the demo commits once)."""
    municipality = idea.municipality
    db.session.add(CooperationConfirmation(
        idea_id=idea.id, municipality_id=municipality.id, confirmed=True, by_id=representative.id,
        premises=idea.coop_premises, inventory="Inventārs glabāsies pašvaldības telpās.",
        upkeep="Pašvaldība uztur telpas un inventāru.", sustainability_years=3,
        authority_name=authority_name(municipality), registration_number="90000000000",
        address=f"Brīvības iela 1, {municipality.name}", signatory_name="Inese Paraksta",
        signatory_position="domes priekšsēdētāja",
    ))  # fmt: skip
    db.session.flush()
    for kind in (documents.DECISION, documents.AGREEMENT):
        d = documents.draft(idea, kind)
        documents.store(d, documents.to_pdf(d.html), admin)
