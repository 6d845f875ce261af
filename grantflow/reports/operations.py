"""Final reports: filling one in (draft, submit) and the guards and effects of accepting or
returning one."""

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grantflow.accounts.models import APPLICANT
from grantflow.accounts.operations import administrators
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.ideas.models import TARGET_GROUPS
from grantflow.mail.operations import queue_mail
from grantflow.questionnaires import answers as form_answers
from grantflow.questionnaires import operations as forms_ops
from grantflow.questionnaires.definition import FormDef
from grantflow.questionnaires.models import FormVersion
from grantflow.reports.models import Report, ReportActivity, ReportReach, ReportSpending, ReportStatus
from grantflow.workflow import engine
from grantflow.workflow.registry import audit_kind, effect, guard, part

MAX_ROWS = 100
# Row columns GrantFlow fills itself, per meaning: the target group of each reach row and the
# planned line of each spending row come from the idea; the applicant types only the others.
GIVEN_COLUMNS = {"reach": ("target_group",), "spending": ("item", "planned")}
ROW_KEY = re.compile(r"^(\w+?)-(\d+)-(\w+)$")

# Closing a project once its report is accepted (the demo data and the closing step use it).
part("close", _l("The administrator closes the project"), required=False)
audit_kind("report_submitted", _l("Final report submitted"))


def report_of(idea) -> Report | None:
    return db.session.scalars(select(Report).where(Report.idea_id == idea.id)).first()


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
    if idea.competition.report_form_id is not None:  # the page asks the competition's own form
        report.form_version = db.session.get(FormVersion, idea.competition.report_form_id)
    return report


def fill_endpoint(idea, report: Report | None = None) -> str:
    """The page the applicant fills the report in: its task list when the report form has more
    than one section (as the application's), the one page when it has one."""
    if report is not None:
        form = form_of(report)
    elif idea.competition.report_form_id is not None:  # the form a new report will be asked under
        form = db.session.get(FormVersion, idea.competition.report_form_id).form
    else:
        form = forms_ops.default_form("report")
    return "reports.sections" if len(form.sections) > 1 else "reports.edit"


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


def form_of(report: Report) -> FormDef:
    """The report form the report is answered under."""
    return report.form_version.form if report.form_version is not None else forms_ops.default_form("report")


def current_answers(report: Report) -> dict:
    """The whole answers document as it stands: the answers kept only there, and the typed
    columns' and rows' values for questions with a meaning."""
    answers = dict(report.answers or {})
    for question in form_of(report).questions:
        read = REPORT_MEANINGS.get(question.meaning)
        if read is not None:
            answers[question.key] = read(report)
    return answers


def sync_answers(report: Report) -> None:
    """Write the answers of questions with a meaning into the report's answers document (see
    ideas.operations.sync_answers)."""
    answers = current_answers(report)
    if answers != report.answers:
        report.answers = answers


def typed_form(report: Report) -> FormDef:
    """The report form as the applicant fills it in: without the row columns GrantFlow gives
    (GIVEN_COLUMNS), which the page shows as text beside each row."""
    form = form_of(report)

    def typed(question):
        given = GIVEN_COLUMNS.get(question.meaning)
        if question.type != "rows" or not given:
            return question
        return replace(question, columns=tuple(c for c in question.columns if c.key not in given))

    return replace(form, sections=tuple(replace(s, questions=tuple(typed(q) for q in s.questions)) for s in form.sections))


def _shown_answers(report: Report, form: FormDef) -> dict:
    """The answers as the page shows them: a count or an amount still at its starting zero is
    shown empty, as the hand-written page did (zero participants is not an answer)."""
    answers = current_answers(report)
    for question in form.questions:
        value = answers.get(question.key)
        if question.meaning in ("participants", "volunteers", "organisations_count") and not value:
            answers[question.key] = None
        elif question.meaning == "reach":
            by_group = {r.target_group: r for r in _reach_rows(report)}
            answers[question.key] = [{"people": by_group[g].people or None} for g in TARGET_GROUPS]
        elif question.meaning == "spending":
            answers[question.key] = [{"actual": _money(s.actual) if s.actual else None} for s in report.spending]
        elif question.meaning == "activities":
            answers[question.key] = [{**row, "participants": row["participants"] or None} for row in value or []]
    return answers


def form_data(report: Report) -> dict:
    """The report as its form shows it (`data=` of the form class), text kept as typed in
    place of the stored value."""
    form = typed_form(report)
    return form_answers.form_data(form, _shown_answers(report, form), report.draft_raw)


def _reach_rows(report: Report) -> list[ReportReach]:
    """One row per target group, always in the same order (the form's order)."""
    by_group = {r.target_group: r for r in report.reach}
    for group in TARGET_GROUPS:
        if group not in by_group:
            by_group[group] = ReportReach(target_group=group, people=0)
            report.reach.append(by_group[group])
    return [by_group[g] for g in TARGET_GROUPS]


def _count(value, kept: bool, current) -> int:
    if value is not None:
        return int(value)
    return current if kept else 0


def save_answers(report: Report, answers: dict, kept: dict[str, str], actor) -> None:
    """Save the page's answers as a draft (nothing needs to be complete): answers with a
    meaning into the report's columns and rows (what impact, payments and exports read), the
    others into the answers document. An answer that could not be read (None, its typed text
    in `kept`) leaves what was saved before; the typed text is kept in draft_raw. Commits."""
    if not report.can_edit(actor):
        raise Refused([_l("This report can no longer be changed.")])
    form = form_of(report)
    document = dict(report.answers or {})
    for question in form.questions:
        if question.type == "file" or question.key not in answers:
            continue
        value, key, meaning = answers[question.key], question.key, question.meaning
        if meaning in ("participants", "volunteers", "organisations_count"):
            setattr(report, meaning, _count(value, key in kept, getattr(report, meaning)))
        elif meaning == "organisations_names":
            if value is not None or key not in kept:
                report.organisations_names = value or ""
        elif meaning == "activities":
            rows = [r or {} for r in (value or [])][:MAX_ROWS]
            del report.activities[len(rows):]
            while len(report.activities) < len(rows):
                report.activities.append(ReportActivity())
            for i, (row, activity) in enumerate(zip(rows, report.activities, strict=False)):
                day = row.get("held_on")
                if day is not None or f"{key}-{i}-held_on" not in kept:
                    activity.held_on = date.fromisoformat(day) if day else None
                if row.get("description") is not None or f"{key}-{i}-description" not in kept:
                    activity.description = row.get("description") or ""
                activity.participants = _count(row.get("participants"), f"{key}-{i}-participants" in kept, activity.participants)
        elif meaning == "reach":
            for i, (row, reach) in enumerate(zip(value or [], _reach_rows(report), strict=False)):
                reach.people = _count((row or {}).get("people"), f"{key}-{i}-people" in kept, reach.people)
        elif meaning == "spending":
            for i, (row, spent) in enumerate(zip(value or [], report.spending, strict=False)):
                actual = (row or {}).get("actual")
                if actual is not None:
                    spent.actual = Decimal(str(actual))
                elif f"{key}-{i}-actual" not in kept:
                    spent.actual = Decimal("0.00")
        elif value is not None or key not in kept:
            document[key] = value
    report.answers = document
    report.draft_raw = {k: v[:100_000] for k, v in kept.items()}
    sync_answers(report)
    db.session.commit()


def change_rows(report: Report, key: str, action: str, actor) -> str:
    """"add" or "remove:<index>" on a repeating question the applicant adds rows to (not the
    reach and spending rows, which follow the idea); returns the anchor to go back to."""
    if not report.can_edit(actor):
        raise Refused([_l("This report can no longer be changed.")])
    question = form_of(report).question(key)
    if question is None or question.type != "rows" or question.meaning in GIVEN_COLUMNS:
        raise Refused([_l("Unknown list.")])
    limit = question.limits.get("max_rows", MAX_ROWS)
    if question.meaning == "activities":
        rows = report.activities
        make = ReportActivity
    else:
        rows = list((report.answers or {}).get(key) or [])

        def make():
            return {c.key: None for c in question.columns}

    if action == "add":
        if len(rows) < limit:
            rows.append(make())
        if question.meaning != "activities":
            report.answers = {**(report.answers or {}), key: rows}
        sync_answers(report)
        db.session.commit()
        return f"{key}-{len(rows) - 1}"
    index = action.removeprefix("remove:")
    if index.isdecimal() and int(index) < len(rows):
        removed = int(index)
        del rows[removed]
        if question.meaning != "activities":
            report.answers = {**(report.answers or {}), key: rows}
        shifted = {}
        for name, text in (report.draft_raw or {}).items():
            match = ROW_KEY.match(name)
            if match and match[1] == key:
                i = int(match[2])
                if i == removed:
                    continue
                name = f"{key}-{i - 1 if i > removed else i}-{match[3]}"
            shifted[name] = text
        report.draft_raw = shifted
        sync_answers(report)
        db.session.commit()
    return key


def form_class(report: Report, locale: str | None = None):
    """The WTForms form of the report's form version (typed_form)."""
    return form_answers.build_form(typed_form(report), locale=locale)


def kept_messages(report: Report) -> dict[str, str]:
    """The message of each text kept as typed, as the form gives it when the text is typed again."""
    if not report.draft_raw:
        return {}
    form = form_class(report)(formdata=None, data=form_data(report))
    form_answers.restore_kept(form, report.draft_raw)
    messages = {}
    for name in report.draft_raw:
        match = ROW_KEY.match(name)
        field = None
        if match and match[1] in form._fields and form[match[1]].type == "RowList":
            entries = form[match[1]].entries
            field = entries[int(match[2])].form._fields.get(match[3]) if int(match[2]) < len(entries) else None
        else:
            field = form._fields.get(name)
        if field is not None and field.errors:
            messages[name] = str(field.errors[0])
    return messages


def _given_answers(report: Report, form: FormDef) -> dict:
    """The answers as given: a count still at zero is not an answer, an activity counts once it
    says what took place, a target group once people were reached in it, a spending line once
    something was spent, the files once there is one."""
    answers = current_answers(report)
    for question in form.questions:
        rows = answers.get(question.key) or []
        if question.meaning in ("participants", "volunteers", "organisations_count") and not answers.get(question.key):
            answers[question.key] = None
        elif question.meaning == "activities":
            answers[question.key] = [r for r in rows if (r.get("description") or "").strip()]
        elif question.meaning == "reach":
            answers[question.key] = [r for r in rows if r.get("people")]
        elif question.meaning == "spending":
            answers[question.key] = [r for r in rows if Decimal(r.get("actual") or 0)]
        elif question.type == "file":
            answers[question.key] = [a.id for a in report.attachments] or None
    return answers


def _question_of(name: str) -> str:
    """The question a field name is about (`activities-0-held_on` is about `activities`)."""
    match = ROW_KEY.match(name)
    return match[1] if match else name


def save_section(report: Report, section: str, answers: dict, kept: dict[str, str], actor) -> None:
    """One section of the report form saved as a draft, as a section of the application is
    (ideas.operations.save_section): its answers as save_answers saves them, the text kept
    as typed in the other sections left as it was, the section marked saved ("_saved") for
    its task list. Commits."""
    if not report.can_edit(actor):
        raise Refused([_l("This report can no longer be changed.")])
    keys = {q.key for q in form_of(report).section(section).questions}
    others = {k: v for k, v in (report.draft_raw or {}).items() if _question_of(k) not in keys}
    document = report.answers or {}
    report.answers = {**document, "_saved": sorted({*document.get("_saved", []), section})}
    save_answers(report, answers, {**others, **kept}, actor)


def section_states(report: Report) -> list[tuple]:
    """(section, state) for the report's task list, as the application's (not_started,
    in_progress, complete): complete once nothing in it still needs attention
    (report_missing, which also says what the meanings ask of each other)."""
    form = form_of(report)
    answers = _given_answers(report, form)
    saved = set((report.answers or {}).get("_saved") or [])
    needing = {_question_of(key) for key in report_missing(report)}
    return form_answers.section_states(form, answers, saved, needing)


def report_missing(report: Report) -> dict[str, str]:
    """What must be put right before the report can be submitted: field key -> message. The
    form's own required questions, then what the meanings ask of each other (a date for each
    activity held, the names of the organisations counted)."""
    form = form_of(report)
    answers = _given_answers(report, form)
    problems = dict(kept_messages(report))
    for key, message in form_answers.missing(form, answers).items():
        problems.setdefault(key, message)
    activities = form.meaning("activities")
    if activities is not None:
        for i, a in enumerate(report.activities):
            if (a.description or "").strip() and a.held_on is None:
                problems.setdefault(f"{activities.key}-{i}-held_on", str(_l("Give the date of this activity.")))
    names = form.meaning("organisations_names")
    if report.organisations_count and names is not None and not (report.organisations_names or "").strip():
        problems.setdefault(names.key, str(_l("Name the organisations involved.")))
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
