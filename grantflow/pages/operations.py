"""The programme's impact figures, added up from accepted final reports."""

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from grantflow.core.extensions import db
from grantflow.core.i18n import format_day, format_when, pick
from grantflow.core.types import utcnow
from grantflow.documents.operations import documents_for_ideas
from grantflow.ideas.models import Idea
from grantflow.ideas.operations import current_stage, submission_window
from grantflow.reports.models import Report, ReportStatus
from grantflow.reports.operations import fill_endpoint
from grantflow.workflow.models import AuditEntry


def impact_figures() -> dict:
    """People reached, organisations involved, initiatives reported, volunteers: one query."""
    row = db.session.execute(
        select(
            func.count(Report.id),
            func.coalesce(func.sum(Report.participants), 0),
            func.coalesce(func.sum(Report.organisations_count), 0),
            func.coalesce(func.sum(Report.volunteers), 0),
            func.coalesce(func.max(func.cast(Idea.is_demo, db.Integer)), 0),
        )
        .join(Idea, Idea.id == Report.idea_id)
        .where(Report.status == ReportStatus.ACCEPTED)
    ).one()
    return {
        "initiatives": row[0],
        "people": int(row[1]),
        "organisations": int(row[2]),
        "volunteers": int(row[3]),
        "demo": bool(row[4]),
    }


def applicant_overview(ideas) -> dict[int, dict]:
    """For each idea on the applicant's home page: its history, the latest documents, and what
    is expected next, with three queries in all however many ideas there are."""

    ids = [idea.id for idea in ideas]
    if not ids:
        return {}
    history: dict[int, list] = {}
    for entry in db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.idea_id.in_(ids), AuditEntry.kind == "transition")
        .order_by(AuditEntry.created_at, AuditEntry.id)
    ):
        history.setdefault(entry.idea_id, []).append(entry)
    documents = documents_for_ideas(ids)
    reports = {r.idea_id: r for r in db.session.scalars(select(Report).where(Report.idea_id.in_(ids)))}
    return {
        idea.id: {
            "history": history.get(idea.id, []),
            "documents": documents.get(idea.id, []),
            "next": next_step(idea, reports.get(idea.id)),
        }
        for idea in ideas
    }


def next_step(idea, report) -> tuple[str, str | None] | None:
    """(what is expected, the page to do it on) judged by the state's tags, never its name."""


    competition = idea.competition
    stage = current_stage(idea) if idea.has_tag("editable") else None
    if stage is not None:
        # A staged competition (a concept, then a full proposal): the current stage's window.
        opens, closes = submission_window(idea)
        now, name = utcnow(), pick(stage.label)
        if now < opens:
            return _("%(stage)s: submissions open on %(when)s (Riga time).", stage=name, when=format_when(opens)), None
        if now >= closes:
            return _("%(stage)s: the submission window has closed; this draft can no longer be submitted.", stage=name), None
        text = _("%(stage)s: fill in and submit by %(when)s (Riga time).", stage=name, when=format_when(closes))
        return text, url_for("ideas.edit", idea_id=idea.id)
    if idea.has_tag("editable"):
        if not competition.is_open(utcnow()):
            return _("The competition has closed; this draft can no longer be submitted."), None
        text = (
            _("Make the changes asked for and submit again by %(when)s.", when=format_when(competition.closes_at))
            if idea.reference
            else _("Fill in and submit the idea by %(when)s (Riga time).", when=format_when(competition.closes_at))
        )
        return text, url_for("ideas.sections", idea_id=idea.id)
    if idea.has_tag("reporting"):
        if report is not None and report.status == ReportStatus.SUBMITTED:
            return _("Your final report is being checked."), None
        due = competition.report_due
        text = (
            _("Final report due by %(day)s.", day=format_day(due)) if due else _("Carry out the idea and file the final report.")
        )
        return text, url_for(fill_endpoint(idea, report), idea_id=idea.id)
    if idea.has_tag("filed") and not idea.has_tag("funded") and not idea.state_def.final:
        return _("Nothing to do now: the idea is being checked and evaluated. We will write to you."), None
    return None
