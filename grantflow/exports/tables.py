"""What each export holds: a header and rows of plain values (text, numbers, Decimal euros,
Riga times as text), read in a fixed number of queries however many rows (one for the rows
with their idea, organisation, municipality and competition joined; one per collection loaded
with them). Filters select ideas: a competition, a state tag (asked of each workflow, never a
state name) and a municipality."""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from grantflow.core.extensions import db
from grantflow.core.i18n import locale_code, pick, riga
from grantflow.documents.models import Document
from grantflow.documents.operations import KIND_LABELS
from grantflow.funding.models import Decision, DecisionKind
from grantflow.ideas.forms import TARGET_GROUP_LABELS
from grantflow.ideas.models import Idea
from grantflow.reports.models import Report, ReportStatus
from grantflow.review.forms import RECOMMENDATION_LABELS
from grantflow.review.models import Assignment, Review, ReviewStatus, Score
from grantflow.workflow.registry import WorkflowUnavailable, workflow_for

# The state tags one may filter by, with what an administrator reads.
TAG_LABELS = {
    "editable": _l("Drafts and ideas returned for changes"),
    "filed": _l("Submitted (all filed ideas)"),
    "screening": _l("Being screened"),
    "scoring": _l("Being evaluated"),
    "decidable": _l("Awaiting a funding decision"),
    "funded": _l("Funded"),
    "reporting": _l("Final report due"),
    "withdrawn": _l("Withdrawn"),
}
REVIEW_STATUS_LABELS = {ReviewStatus.DRAFT: _l("Draft"), ReviewStatus.SUBMITTED: _l("Submitted")}
DECISION_LABELS = {DecisionKind.FUND: _l("Funded"), DecisionKind.REJECT: _l("Rejected")}
REPORT_STATUS_LABELS = {
    ReportStatus.DRAFT: _l("Draft"), ReportStatus.SUBMITTED: _l("Submitted"),
    ReportStatus.RETURNED: _l("Returned"), ReportStatus.ACCEPTED: _l("Accepted"),
}  # fmt: skip


@dataclass(frozen=True)
class Filters:
    competition: int | None = None
    tag: str | None = None
    municipality: int | None = None

    @classmethod
    def of(cls, data: dict | None) -> "Filters":
        data = data or {}
        return cls(data.get("competition"), data.get("tag") if data.get("tag") in TAG_LABELS else None,
                   data.get("municipality"))  # fmt: skip

    def where(self) -> list:
        conditions = []
        if self.competition:
            conditions.append(Idea.competition_id == self.competition)
        if self.tag:
            conditions.append(Idea.tagged(self.tag))
        if self.municipality:
            conditions.append(Idea.municipality_id == self.municipality)
        return conditions


def _when(moment) -> str:
    return riga(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _label(labels: dict, value) -> str:
    return str(labels.get(value, value)) if value else ""


def _state(idea: Idea) -> str:
    try:
        return pick(workflow_for(idea.competition.workflow).states[idea.state].label)
    except (WorkflowUnavailable, KeyError):
        return idea.state


def _idea_cells(idea: Idea) -> list:
    return [idea.competition.code, idea.reference or "", idea.title, _state(idea), idea.organisation.name]


def _idea_header() -> list:
    return [_l("Competition"), _l("Reference"), _l("Idea"), _l("State"), _l("Organisation")]


def _ideas_joined():
    return (joinedload(Idea.competition), joinedload(Idea.organisation), joinedload(Idea.municipality))


# --- applications -------------------------------------------------------------------------------
def applications(filters: Filters):
    header = _idea_header() + [
        _l("Registration number"), _l("Municipality"), _l("Place"), _l("Target groups"), _l("Summary"),
        _l("Community need"), _l("Goals"), _l("Reaching the less active"), _l("Expected participants"),
        _l("Sustainability"), _l("Requested (EUR)"), _l("Own contribution (EUR)"), _l("Contact person"),
        _l("Contact e-mail"), _l("Contact phone"), _l("Organisation's e-mail"), _l("Organisation's phone"),
        _l("Submitted"),
    ]  # fmt: skip
    ideas = db.session.scalars(
        select(Idea).options(*_ideas_joined()).where(*filters.where()).order_by(Idea.competition_id, Idea.reference, Idea.id)
    ).unique()
    rows = (
        _idea_cells(i) + [
            i.organisation.registration_number or "", i.municipality.name if i.municipality else "", i.place,
            ", ".join(str(TARGET_GROUP_LABELS.get(g, g)) for g in i.target_groups or []), i.summary,
            i.community_need, i.goals, i.less_active_reach,
            i.expected_participants if i.expected_participants is not None else "", i.sustainability,
            i.requested_amount, i.own_contribution, i.contact_name, i.contact_email, i.contact_phone,
            i.organisation.email, i.organisation.phone, _when(i.submitted_at),
        ]  # fmt: skip
        for i in ideas
    )
    return header, rows


# --- reviews -------------------------------------------------------------------------------------
def reviews(filters: Filters):
    header = _idea_header() + [
        _l("Evaluator"), _l("Review"), _l("Recommendation"), _l("Total score"), _l("Scores by criterion"),
        _l("Comment"), _l("Submitted"),
    ]  # fmt: skip
    found = db.session.scalars(
        select(Review).join(Idea, Idea.id == Review.idea_id)
        .options(joinedload(Review.assignment).options(joinedload(Assignment.idea).options(*_ideas_joined()),
                                                       joinedload(Assignment.evaluator)),
                 selectinload(Review.scores).joinedload(Score.criterion))
        .where(*filters.where()).order_by(Idea.competition_id, Idea.reference, Idea.id, Review.id)
    ).unique()  # fmt: skip
    rows = (
        _idea_cells(r.assignment.idea) + [
            r.assignment.evaluator.name, _label(REVIEW_STATUS_LABELS, r.status), _label(RECOMMENDATION_LABELS, r.recommendation),
            r.total if r.total is not None else "",
            "; ".join(f"{s.criterion.name(locale_code())}: {s.points}" for s in sorted(r.scores, key=lambda s: s.criterion_id)),
            r.comment, _when(r.submitted_at),
        ]  # fmt: skip
        for r in found
    )
    return header, rows


# --- decisions -----------------------------------------------------------------------------------
def decisions(filters: Filters):
    header = _idea_header() + [
        _l("Decision number"), _l("Decision"), _l("Requested (EUR)"), _l("Granted (EUR)"), _l("Reason"),
        _l("Decided by"), _l("Decided"),
    ]  # fmt: skip
    found = db.session.scalars(
        select(Decision).join(Idea, Idea.id == Decision.idea_id)
        .options(joinedload(Decision.idea).options(*_ideas_joined()), joinedload(Decision.decided_by))
        .where(*filters.where()).order_by(Idea.competition_id, Decision.decided_at, Decision.id)
    ).unique()  # fmt: skip
    rows = (
        _idea_cells(d.idea) + [
            d.number, _label(DECISION_LABELS, d.kind), d.requested, d.amount, d.reason,
            d.decided_by.name if d.decided_by else "", _when(d.decided_at),
        ]  # fmt: skip
        for d in found
    )
    return header, rows


# --- documents issued ----------------------------------------------------------------------------
def documents(filters: Filters):
    header = _idea_header() + [
        _l("Document number"), _l("Document"), _l("Version"), _l("Language"), _l("File"), _l("Size (bytes)"),
        "SHA-256", _l("Issued by"), _l("Issued"),
    ]  # fmt: skip
    found = db.session.scalars(
        select(Document).join(Idea, Idea.id == Document.idea_id)
        .options(joinedload(Document.idea).options(*_ideas_joined()), joinedload(Document.issued_by))
        .where(*filters.where()).order_by(Idea.competition_id, Document.issued_at, Document.id)
    ).unique()  # fmt: skip
    rows = (
        _idea_cells(d.idea) + [
            d.number, _label(KIND_LABELS, d.kind), d.version, d.language, d.filename, d.size, d.sha256,
            d.issued_by.name if d.issued_by else "", _when(d.issued_at),
        ]  # fmt: skip
        for d in found
    )
    return header, rows


# --- final reports -------------------------------------------------------------------------------
def reports(filters: Filters):
    header = _idea_header() + [
        _l("Report"), _l("Participants"), _l("Volunteers"), _l("Partner organisations"), _l("Planned (EUR)"),
        _l("Spent (EUR)"), _l("What changed"), _l("What continues"), _l("Submitted"), _l("Accepted"),
    ]  # fmt: skip
    found = db.session.scalars(
        select(Report).join(Idea, Idea.id == Report.idea_id)
        .options(joinedload(Report.idea).options(*_ideas_joined()), selectinload(Report.spending))
        .where(*filters.where()).order_by(Idea.competition_id, Idea.reference, Report.id)
    ).unique()  # fmt: skip
    rows = (
        _idea_cells(r.idea) + [
            _label(REPORT_STATUS_LABELS, r.status), r.participants, r.volunteers, r.organisations_count,
            r.planned_total, r.actual_total,
            r.changed, r.continues, _when(r.submitted_at), _when(r.accepted_at),
        ]  # fmt: skip
        for r in found
    )
    return header, rows


KINDS: dict[str, tuple[object, Callable]] = {
    "applications": (_l("Applications (answers, organisation, contact)"), applications),
    "reviews": (_l("Reviews"), reviews),
    "decisions": (_l("Funding decisions"), decisions),
    "documents": (_l("Documents issued"), documents),
    "reports": (_l("Final reports"), reports),
}
FORMATS = {"csv": "CSV", "xlsx": "XLSX (Excel, LibreOffice)"}
