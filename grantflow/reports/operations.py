"""Final reports: filling one in (draft, submit) and the guards and effects of accepting or
returning one."""

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grantflow.accounts.models import APPLICANT
from grantflow.accounts.operations import administrators
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.ideas import parsing
from grantflow.ideas.models import TARGET_GROUPS
from grantflow.mail.operations import queue_mail
from grantflow.questionnaires import operations as forms_ops
from grantflow.reports.models import Report, ReportActivity, ReportReach, ReportSpending, ReportStatus
from grantflow.workflow import engine
from grantflow.workflow.registry import audit_kind, effect, guard, part

MAX_ROWS = 100
READERS = {
    "participants": parsing.count,
    "organisations_count": parsing.count,
    "volunteers": parsing.count,
    "organisations_names": lambda text: parsing.text_of(text, 3000),
    "changed": lambda text: parsing.text_of(text, 5000),
    "continues": lambda text: parsing.text_of(text, 5000),
    "activities.held_on": parsing.day,
    "activities.description": lambda text: parsing.text_of(text, 2000),
    "activities.participants": parsing.count,
    "reach.people": parsing.count,
    "spending.actual": parsing.money,
}
ROW_KEY = re.compile(r"^(activities|reach|spending)-(\d+)-(\w+)$")

# Closing a project once its report is accepted (the demo data and the closing step use it).
part("close", _l("The administrator closes the project"), required=False)
audit_kind("report_submitted", _l("Final report submitted"))


def report_of(idea) -> Report | None:
    return db.session.scalars(select(Report).where(Report.idea_id == idea.id)).first()


reader_for = parsing.reader_lookup(READERS, ROW_KEY)


def raw_problems(raw: dict | None) -> dict[str, str]:
    return parsing.reread(raw, reader_for)


def may_report(idea, user) -> bool:

    return idea.has_tag("reporting") and APPLICANT in idea.roles_of(user)


def blank_report(idea) -> Report:
    """The report as it starts, with one spending row per planned grant line, not stored: a
    page shows it before the first save (a GET must not write), start_report stores it."""
    report = Report(idea_id=idea.id, idea=idea, status=ReportStatus.DRAFT, draft_raw={}, return_comment="", answers={})
    report.spending = [
        ReportSpending(budget_line_id=line.id, item=line.item, planned=line.total, actual=Decimal("0.00"))
        for line in idea.budget_lines
        if not line.own and (line.item or line.total)
    ]
    report.reach = [ReportReach(target_group=group, people=0) for group in TARGET_GROUPS]
    report.activities = [ReportActivity()]
    return report


def start_report(idea, actor) -> Report:
    """The idea's report, created on first use with one spending row per planned grant line."""
    report = report_of(idea)
    if report is not None:
        return report
    if not may_report(idea, actor):
        raise Refused([_l("A final report is not expected for this idea now.")])
    report = blank_report(idea)
    report.form_version = forms_ops.version_for(idea.competition, "report")
    sync_answers(report)
    db.session.add(report)
    try:
        db.session.commit()
    except IntegrityError:  # two first visits at once: the unique idea_id keeps one
        db.session.rollback()
    return report_of(idea)


def _money(value) -> str:
    return f"{(value or Decimal('0.00')).quantize(Decimal('0.01')):f}"


# What each meaning of a report form reads from the report's typed columns and rows.
REPORT_MEANINGS = {
    "participants": lambda r: r.participants,
    "volunteers": lambda r: r.volunteers,
    "organisations_count": lambda r: r.organisations_count,
    "organisations_names": lambda r: r.organisations_names or "",
    "activities": lambda r: [
        {"held_on": a.held_on.isoformat() if a.held_on else None, "description": a.description or "",
         "participants": a.participants}
        for a in r.activities
    ],
    "reach": lambda r: [{"target_group": x.target_group, "people": x.people} for x in r.reach],
    "spending": lambda r: [
        {"item": x.item or "", "planned": _money(x.planned), "actual": _money(x.actual), "budget_line_id": x.budget_line_id}
        for x in r.spending
    ],
}


def sync_answers(report: Report) -> None:
    """Write the answers of questions with a meaning into the report's answers document (see
    ideas.operations.sync_answers)."""
    form = report.form_version.form if report.form_version is not None else forms_ops.default_form("report")
    answers = dict(report.answers or {})
    for question in form.questions:
        read = REPORT_MEANINGS.get(question.meaning)
        if read is not None:
            answers[question.key] = read(report)
    if answers != report.answers:
        report.answers = answers


def form_data(report: Report) -> dict:
    def plain(value):
        return "" if value is None else str(value)

    data = {
        "participants": plain(report.participants or ""),
        "organisations_count": plain(report.organisations_count or ""),
        "organisations_names": report.organisations_names,
        "volunteers": plain(report.volunteers or ""),
        "changed": report.changed,
        "continues": report.continues,
        "activities": [
            {"held_on": plain(a.held_on), "description": a.description, "participants": plain(a.participants or "")}
            for a in report.activities
        ],
        "reach": [{"people": plain(r.people or "")} for r in _reach_rows(report)],
        "spending": [{"actual": plain(s.actual if s.actual else "")} for s in report.spending],
    }
    for key, text in (report.draft_raw or {}).items():
        match = ROW_KEY.match(key)
        if match and int(match[2]) < len(data[match[1]]):
            data[match[1]][int(match[2])][match[3]] = text
        elif key in data:
            data[key] = text
    return data


def _reach_rows(report: Report) -> list[ReportReach]:
    """One row per target group, always in the same order (the form's order)."""
    by_group = {r.target_group: r for r in report.reach}
    for group in TARGET_GROUPS:
        if group not in by_group:
            by_group[group] = ReportReach(target_group=group, people=0)
            report.reach.append(by_group[group])
    return [by_group[g] for g in TARGET_GROUPS]


def save_report(report: Report, data: dict, actor) -> dict[str, str]:
    """Save with whatever was typed; unreadable text is kept in draft_raw. Commits."""
    if not report.can_edit(actor):
        raise Refused([_l("This report can no longer be changed.")])
    raw, problems = {}, {}

    def read(key, text, current):
        text = text if isinstance(text, str) else ("" if text is None else str(text))
        try:
            return READERS[_name(key)](text)
        except parsing.Unreadable as error:
            raw[key] = text[:100_000]
            problems[key] = error.message
            return current

    for name in ("participants", "organisations_count", "volunteers"):
        if name in data:
            setattr(report, name, read(name, data[name], getattr(report, name)) or 0)
    for name in ("organisations_names", "changed", "continues"):
        if name in data:
            setattr(report, name, read(name, data[name], getattr(report, name)) or "")
    if "activities" in data:
        rows = [r if isinstance(r, dict) else {} for r in data["activities"] or []][:MAX_ROWS]
        del report.activities[len(rows):]
        while len(report.activities) < len(rows):
            report.activities.append(ReportActivity())
        for i, (row, activity) in enumerate(zip(rows, report.activities, strict=False)):
            activity.held_on = read(f"activities-{i}-held_on", row.get("held_on"), activity.held_on)
            activity.description = read(f"activities-{i}-description", row.get("description"), activity.description) or ""
            activity.participants = read(f"activities-{i}-participants", row.get("participants"), activity.participants) or 0
    if "reach" in data:
        for i, (row, reach) in enumerate(zip(data["reach"] or [], _reach_rows(report), strict=False)):
            row = row if isinstance(row, dict) else {}
            reach.people = read(f"reach-{i}-people", row.get("people"), reach.people) or 0
    if "spending" in data:
        for i, (row, spent) in enumerate(zip(data["spending"] or [], report.spending, strict=False)):
            row = row if isinstance(row, dict) else {}
            value = read(f"spending-{i}-actual", row.get("actual"), spent.actual)
            spent.actual = Decimal("0.00") if value is None else value
    report.draft_raw = raw
    sync_answers(report)
    db.session.commit()
    return problems


def _name(key: str) -> str:
    match = ROW_KEY.match(key)
    return f"{match[1]}.{match[3]}" if match else key


def change_rows(report: Report, action: str, actor) -> str:
    """"add" or "remove:<index>" on the activities held; returns the anchor to go back to."""
    if not report.can_edit(actor):
        raise Refused([_l("This report can no longer be changed.")])
    if action == "add":
        if len(report.activities) < MAX_ROWS:
            report.activities.append(ReportActivity())
        sync_answers(report)
        db.session.commit()
        return f"activities-{len(report.activities) - 1}"
    index = action.removeprefix("remove:")
    if index.isdecimal() and int(index) < len(report.activities):
        removed = int(index)
        del report.activities[removed]
        shifted = {}
        for key, text in (report.draft_raw or {}).items():
            match = ROW_KEY.match(key)
            if match and match[1] == "activities":
                i = int(match[2])
                if i == removed:
                    continue
                key = f"activities-{i - 1 if i > removed else i}-{match[3]}"
            shifted[key] = text
        report.draft_raw = shifted
        sync_answers(report)
        db.session.commit()
    return "activities"


def report_missing(report: Report) -> dict[str, str]:
    """What must be put right before the report can be submitted: field key -> message."""
    problems = dict(raw_problems(report.draft_raw))
    held = [a for a in report.activities if a.description.strip()]
    if not held:
        problems["activities"] = str(_l("Describe at least one activity that took place."))
    for i, a in enumerate(report.activities):
        if a.description.strip() and a.held_on is None:
            problems.setdefault(f"activities-{i}-held_on", str(_l("Give the date of this activity.")))
    if not report.participants:
        problems.setdefault("participants", str(_l("Say how many people took part.")))
    if not (report.changed or "").strip():
        problems.setdefault("changed", str(_l("Describe what changed in the community.")))
    if not (report.continues or "").strip():
        problems.setdefault("continues", str(_l("Say what continues after the project.")))
    if report.organisations_count and not (report.organisations_names or "").strip():
        problems.setdefault("organisations_names", str(_l("Name the organisations involved.")))
    return problems


def submit_report(report: Report, actor) -> None:
    """Hand the report to the administrators; refused with the list of what is missing."""
    if not report.can_edit(actor):
        raise Refused([_l("This report has already been submitted.")])
    missing = report_missing(report)
    if missing:
        raise Refused(
            [_l("The report is not complete: %(count)d field(s) need attention.", count=len(missing))]
        )
    idea = report.idea
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = utcnow()
    engine.record(idea, "report_submitted", actor)
    forms_ops.freeze(report.form_version_id, report.submitted_at)
    for admin in administrators():
        queue_mail(admin.email, "admin_notice", locale=admin.locale, idea=idea, comment=str(_l("The final report has been submitted.")))
    db.session.commit()


@guard("report_submitted", _l("The final report has not been submitted."),
       _l("The applicant has submitted the final report"))
def report_submitted(idea, ctx) -> bool:
    report = report_of(idea)
    return report is not None and report.status == ReportStatus.SUBMITTED


@effect("return_report", _l("Returns the final report to the applicant for changes"))
def return_report(idea, ctx) -> None:
    report = report_of(idea)
    report.status = ReportStatus.RETURNED
    report.return_comment = ctx.public_comment  # the applicant reads it


@effect("accept_report", _l("Accepts the final report"))
def accept_report(idea, ctx) -> None:
    report = report_of(idea)
    report.status = ReportStatus.ACCEPTED
    report.accepted_at = ctx.now
