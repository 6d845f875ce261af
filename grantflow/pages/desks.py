"""The desks: what waits for each person, at the top of their home page. Each desk asks the
database a fixed number of questions however many competitions and ideas there are, and
judges states by their workflow tags, never by their names."""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload

from grantflow.competitions.models import Competition, ReviewRound
from grantflow.core.extensions import db
from grantflow.core.i18n import RIGA
from grantflow.documents.models import Document
from grantflow.documents.operations import AGREEMENT, DECISION
from grantflow.funding.models import CooperationConfirmation, Decision, DecisionKind, current_ids
from grantflow.ideas.models import Idea
from grantflow.reports.models import Report, ReportStatus
from grantflow.review.models import Assignment, Review, ReviewStatus

# What an administrator may find waiting, in the order of an idea's life.
TASK_LABELS = {
    "screening": _l("Ideas to check for eligibility"),
    "assignment": _l("Ideas waiting for evaluators"),
    "decision": _l("Ideas waiting for a funding decision"),
    "decision_letter": _l("Decision letters to issue"),
    "agreement": _l("Agreements to issue"),
    "report": _l("Final reports to accept"),
    "late_review": _l("Reviews past the evaluation deadline"),
    "late_report": _l("Final reports overdue"),
}


@dataclass
class Task:
    kind: str  # a key of TASK_LABELS
    competition: Competition
    count: int
    url: str
    overdue: bool = False

    @property
    def label(self):
        return TASK_LABELS[self.kind]


def _workflows() -> dict:
    """The loaded workflows by name; a competition whose file is broken is left off the desk
    (the administration page says why)."""
    return current_app.extensions["grantflow.workflows"]


def _tagged(counts, competitions, tag: str) -> dict[int, tuple[int, list[str]]]:
    """From {(competition id, state): n}, per competition the ideas in states with `tag`
    and those states."""
    found: dict[int, tuple[int, list[str]]] = {}
    workflows = _workflows()
    for (competition_id, state), n in counts.items():
        workflow = workflows.get(competitions[competition_id].workflow)
        if workflow is None or state not in workflow.states or tag not in workflow.states[state].tags:
            continue
        total, states = found.get(competition_id, (0, []))
        found[competition_id] = (total + n, [*states, state])
    return found


def _by_competition_and_state(*where) -> dict[tuple[int, str], int]:
    return {
        (c, s): n
        for c, s, n in db.session.execute(
            select(Idea.competition_id, Idea.state, func.count(Idea.id))
            .where(*where)
            .group_by(Idea.competition_id, Idea.state)
        )
    }


def administrator_desk(now: datetime) -> list[Task]:
    """Screening, assignment, decisions, documents, reports to accept and overdue work, per
    competition. Nine queries."""
    competitions = {c.id: c for c in db.session.scalars(select(Competition))}
    tasks: list[Task] = []

    def add(kind, competition_id, count, url, overdue=False):
        if count:
            tasks.append(Task(kind, competitions[competition_id], count, url, overdue))

    def in_state(competition_id, states, anchor=""):
        state = states[0] if len(states) == 1 else None
        return url_for("pages.competition", competition_id=competition_id, state=state) + anchor

    states = _by_competition_and_state()
    for cid, (n, names) in _tagged(states, competitions, "screening").items():
        add("screening", cid, n, in_state(cid, names))

    # Ideas being scored with fewer active evaluators than their competition asks for.
    active = (
        select(func.count(Assignment.id))
        .where(Assignment.idea_id == Idea.id, Assignment.active.is_(True))
        .correlate(Idea)
        .scalar_subquery()
    )
    short = _by_competition_and_state(Idea.competition_id == Competition.id, active < Competition.evaluators_per_idea)
    for cid, (n, _names) in _tagged(short, competitions, "scoring").items():
        add("assignment", cid, n, url_for("review.assignments", competition_id=cid))

    for cid, (n, _names) in _tagged(states, competitions, "decidable").items():
        add("decision", cid, n, url_for("funding.board", competition_id=cid))

    def undocumented(kind):
        return ~exists().where(Document.idea_id == Decision.idea_id, Document.kind == kind)

    def documents_due(*where) -> dict:
        """Per competition, ideas with a decision and no document of a kind, leaving out projects
        that are over (final and funded: no one waits for their papers any more)."""
        rows = {
            (c, s): n
            for c, s, n in db.session.execute(
                select(Idea.competition_id, Idea.state, func.count(Decision.id))
                .join(Idea, Idea.id == Decision.idea_id)
                .where(Decision.id.in_(current_ids()), *where)
                .group_by(Idea.competition_id, Idea.state)
            )
        }
        due: dict[int, int] = {}
        for (cid, state), n in rows.items():
            workflow = workflows.get(competitions[cid].workflow)
            state_def = workflow.states.get(state) if workflow else None
            if state_def is None or (state_def.final and "funded" in state_def.tags):
                continue
            due[cid] = due.get(cid, 0) + n
        return due

    workflows = _workflows()
    for cid, n in documents_due(undocumented(DECISION)).items():
        add("decision_letter", cid, n, url_for("pages.competition", competition_id=cid) + "#documents")

    # Agreements: funded, no agreement yet, and the municipality's latest answer confirms.
    latest = (
        select(CooperationConfirmation.confirmed)
        .where(CooperationConfirmation.idea_id == Decision.idea_id)
        .order_by(CooperationConfirmation.at.desc(), CooperationConfirmation.id.desc())
        .limit(1)
        .correlate(Decision)
        .scalar_subquery()
    )
    for cid, n in documents_due(Decision.kind == DecisionKind.FUND, undocumented(AGREEMENT), latest.is_(True)).items():
        add("agreement", cid, n, url_for("pages.competition", competition_id=cid) + "#documents")

    for cid, n in db.session.execute(
        select(Idea.competition_id, func.count(Report.id))
        .join(Idea, Idea.id == Report.idea_id)
        .where(Report.status == ReportStatus.SUBMITTED)
        .group_by(Idea.competition_id)
    ):
        add("report", cid, n, url_for("pages.competition", competition_id=cid))

    # Reviews not submitted after the evaluation closed, of ideas still being scored.
    late_reviews = {
        (c, s): n
        for c, s, n in db.session.execute(
            select(Idea.competition_id, Idea.state, func.count(Assignment.id))
            .select_from(Assignment)
            .join(Idea, Idea.id == Assignment.idea_id)
            .join(ReviewRound, ReviewRound.id == Assignment.round_id)
            .outerjoin(Review, Review.assignment_id == Assignment.id)
            .where(
                Assignment.active.is_(True),
                ReviewRound.evaluation_closes_at < now,
                func.coalesce(Review.status, ReviewStatus.DRAFT) != ReviewStatus.SUBMITTED,
            )
            .group_by(Idea.competition_id, Idea.state)
        )
    }
    for cid, (n, _names) in _tagged(late_reviews, competitions, "scoring").items():
        add("late_review", cid, n, url_for("review.progress", competition_id=cid), overdue=True)

    today = now.astimezone(RIGA).date()
    filed_report = exists().where(
        Report.idea_id == Idea.id, Report.status.in_([ReportStatus.SUBMITTED, ReportStatus.ACCEPTED])
    )
    late = _by_competition_and_state(
        Idea.competition_id == Competition.id, Competition.report_due < today, ~filed_report
    )
    for cid, (n, names) in _tagged(late, competitions, "reporting").items():
        add("late_report", cid, n, in_state(cid, names), overdue=True)

    order = list(TASK_LABELS)
    tasks.sort(key=lambda t: (order.index(t.kind), t.competition.opens_at))
    return tasks


def municipality_desk(ideas) -> list:
    """Of the representative's ideas (already loaded), those whose municipality's commitments
    wait for an answer: filed, not over, and not confirmed by the latest answer. One query."""
    open_ = [i for i in ideas if i.has_tag("filed") and not i.state_def.final]
    if not open_:
        return []
    latest: dict[int, bool] = {}
    for idea_id, confirmed in db.session.execute(
        select(CooperationConfirmation.idea_id, CooperationConfirmation.confirmed)
        .where(CooperationConfirmation.idea_id.in_([i.id for i in open_]))
        .order_by(CooperationConfirmation.at, CooperationConfirmation.id)
    ):
        latest[idea_id] = confirmed
    return [i for i in open_ if not latest.get(i.id, False)]


def ideas_with_context(*where) -> list[Idea]:
    """Ideas with what their rows show, newest change first (one query)."""
    return db.session.scalars(
        select(Idea)
        .options(joinedload(Idea.competition), joinedload(Idea.organisation), joinedload(Idea.municipality))
        .where(*where)
        .order_by(Idea.updated_at.desc())
    ).all()
