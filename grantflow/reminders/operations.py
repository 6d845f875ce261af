"""Finding the reminders due at a moment, and sending each once.

`due(now)` says who is owed which reminder at `now` (a parameter, so tests set the clock);
`send_due(now)` records each one not yet recorded and queues its mail in the person's
language, in one transaction. The record's unique key (kind, person, object, occasion) makes
a second run, or a second worker at the same time, send nothing twice: a key already taken
is skipped, and one taken by a concurrent worker fails its insert and is skipped too.

Which ideas are concerned is asked of their workflow's tags (editable, scoring, reporting,
filed) and stages, never of state names. Each kind is found with a few queries for all competitions."""

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload

from grantflow.accounts.models import MUNICIPALITY, User, UserRole, user_municipalities
from grantflow.adminlog.operations import log_kind, record, snapshot
from grantflow.competitions.models import Competition, ReviewRound
from grantflow.core.extensions import db
from grantflow.core.i18n import RIGA
from grantflow.funding.models import CooperationConfirmation
from grantflow.ideas.models import Idea
from grantflow.ideas.operations import current_stage
from grantflow.mail.operations import queue_mail
from grantflow.organisations.models import Membership
from grantflow.reminders.models import (
    CONFIRMATION,
    DRAFT,
    EVALUATION,
    OPTIONAL,
    REPORT_DUE,
    REPORT_OVERDUE,
    ReminderSettings,
    SentReminder,
)
from grantflow.reports.models import Report, ReportStatus
from grantflow.reports.operations import fill_endpoint
from grantflow.review.models import Assignment, Review, ReviewStatus
from grantflow.workflow.registry import WorkflowUnavailable, workflow_for

log_kind("reminders_changed", _l("Reminder schedule changed"))

TEMPLATES = {
    DRAFT: "reminder_draft",
    EVALUATION: "reminder_evaluation",
    REPORT_DUE: "reminder_report_due",
    REPORT_OVERDUE: "reminder_report_overdue",
    CONFIRMATION: "reminder_confirmation",
}
# Labels of the optional kinds, for the profile's choices.
OPTIONAL_LABELS = {
    DRAFT: _l("Unfinished drafts, before the competition closes"),
    REPORT_DUE: _l("A final report due soon"),
}


@dataclass
class Due:
    kind: str
    user_id: int
    object_id: int
    occasion: str
    context: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        return (self.kind, self.user_id, self.object_id, self.occasion)


# --- settings ---------------------------------------------------------------------------------
def settings_for(competition: Competition) -> ReminderSettings:
    """The competition's schedule: its row, or the defaults (not stored) while it has none."""
    row = db.session.get(ReminderSettings, competition.id)
    return row if row is not None else ReminderSettings.default(competition.id)


def save_settings(competition: Competition, values: dict, actor) -> ReminderSettings:
    """Store a schedule the form validated, with its administration log entry. Commits."""
    row = db.session.get(ReminderSettings, competition.id)
    before = snapshot(row or ReminderSettings.default(competition.id), ReminderSettings.FIELDS)
    if row is None:
        row = ReminderSettings.default(competition.id)
        db.session.add(row)
    for name in ReminderSettings.FIELDS:
        setattr(row, name, values[name])
    record("reminders_changed", "competition", competition.id, competition.code,
           before, snapshot(row, ReminderSettings.FIELDS), actor)
    db.session.commit()
    return row


def _all_settings(competitions) -> dict[int, ReminderSettings]:
    ids = [c.id for c in competitions]
    rows = {r.competition_id: r for r in db.session.scalars(select(ReminderSettings).where(ReminderSettings.competition_id.in_(ids)))}
    return {c.id: rows.get(c.id) or ReminderSettings.default(c.id) for c in competitions}


def _latest_started(days: list[int], deadline: datetime, now: datetime) -> int | None:
    """Of the reminders `days` before `deadline`, the latest whose moment has come (None before
    the first or once the deadline passed): a run that missed the 7-day moment and comes at
    the 1-day one sends only the 1-day reminder, not both."""
    if now >= deadline:
        return None
    started = [d for d in days if now >= deadline - timedelta(days=d)]
    return min(started) if started else None


def _riga_day(moment: datetime):
    return moment.astimezone(RIGA).date()


# --- what is due ----------------------------------------------------------------------------------
def _members(organisation_ids) -> dict[int, list[int]]:
    rows = db.session.execute(
        select(Membership.organisation_id, Membership.user_id).where(Membership.organisation_id.in_(organisation_ids))
    )
    members: dict[int, list[int]] = {}
    for organisation_id, user_id in rows:
        members.setdefault(organisation_id, []).append(user_id)
    return members


def _draft_stages(competition) -> list:
    """The application stages (workflow.definition.StageDef) whose drafts are reminded of by
    their own deadline; [None] where the workflow declares none (the competition's deadline)."""
    try:
        stages = list(workflow_for(competition.workflow).stages.values())
    except WorkflowUnavailable:
        return [None]
    return stages or [None]


def _drafts(now, competitions, settings) -> list[Due]:
    """Ideas in an editable state (never submitted, or returned for changes), reminded of by the
    deadline of the stage they are at: in a two-stage competition a concept by the concept's
    window, an invited full proposal by the proposal's (the workflow's `stages:`, each with its
    window in the competition); where the workflow declares no stages, by the competition's
    closing time. A stage's occasion names it (by its position), so that the proposal's 7-day
    reminder is not taken for the concept's."""
    occasion_of = {}  # (competition id, stage key or None) -> (occasion, closes, stage window)
    for competition in competitions:
        days_of = ReminderSettings.days(settings[competition.id].draft_days)
        for stage in _draft_stages(competition):
            key = stage.key if stage is not None else None
            opens, closes = competition.window(key)
            days = _latest_started(days_of, closes, now)
            if days is not None and opens <= now:
                occasion = f"stage{stage.position}-{days}d" if stage is not None else f"{days}d"
                occasion_of[(competition.id, key)] = (occasion, closes, competition.stage(key) if key else None)
    if not occasion_of:
        return []
    ideas = db.session.scalars(
        select(Idea).where(Idea.competition_id.in_({c for c, _ in occasion_of}), Idea.tagged("editable"))
    ).all()
    members = _members({i.organisation_id for i in ideas})
    found = []
    for idea in ideas:
        stage = current_stage(idea)
        due_now = occasion_of.get((idea.competition_id, stage.key if stage is not None else None))
        if due_now is None:
            continue
        occasion, closes, window = due_now
        found += [
            Due(DRAFT, user_id, idea.id, occasion, {"idea": idea, "closes": closes, "stage": window})
            for user_id in members.get(idea.organisation_id, [])
        ]
    return found


def _evaluations(now, competitions, settings) -> list[Due]:
    """Unscored assignments of ideas being scored, per evaluator and competition, reminded of
    by their review round's evaluation deadline."""
    occasion_of = {}
    every_round = db.session.scalars(
        select(ReviewRound).where(
            ReviewRound.competition_id.in_([c.id for c in competitions]), ReviewRound.evaluation_closes_at.is_not(None)
        )
    ).all()  # one query for every competition's rounds
    for review_round in every_round:
        competition_id = review_round.competition_id
        days = _latest_started(ReminderSettings.days(settings[competition_id].evaluation_days),
                               review_round.evaluation_closes_at, now)  # fmt: skip
        if days is not None:
            occasion_of[review_round.id] = (competition_id, days)
    if not occasion_of:
        return []
    found = db.session.execute(
        select(Assignment.round_id, Assignment.evaluator_id, Assignment.id)
        .join(Idea, Idea.id == Assignment.idea_id)
        .where(
            Assignment.active.is_(True),
            Assignment.round_id.in_(occasion_of),
            Idea.tagged("scoring"),
            ~exists().where(Review.assignment_id == Assignment.id, Review.status == ReviewStatus.SUBMITTED),
        )
    ).all()
    counts: dict[tuple[int, int], int] = {}
    days_of: dict[int, int] = {}
    for round_id, evaluator_id, _assignment in found:
        competition_id, days = occasion_of[round_id]
        counts[(competition_id, evaluator_id)] = counts.get((competition_id, evaluator_id), 0) + 1
        days_of[competition_id] = min(days, days_of.get(competition_id, days))
    by_id = {c.id: c for c in competitions}
    return [
        Due(EVALUATION, evaluator_id, competition_id, f"{days_of[competition_id]}d",
            {"competition": by_id[competition_id], "count": count})
        for (competition_id, evaluator_id), count in sorted(counts.items())
    ]


def _reports(now, competitions, settings) -> list[Due]:
    """Before the date (once, `report_due_days` ahead) and after it: the day after, then every
    `report_overdue_every` days, at most `report_overdue_max` times."""
    today = _riga_day(now)
    occasion_of = {}
    for competition in competitions:
        if competition.report_due is None:
            continue
        s = settings[competition.id]
        late = (today - competition.report_due).days
        if late <= 0 and s.report_due_days and late >= -s.report_due_days:
            occasion_of[competition.id] = (REPORT_DUE, "due")
        elif late > 0 and s.report_overdue_max:
            number = (late - 1) // max(s.report_overdue_every, 1) + 1
            if number <= s.report_overdue_max:
                occasion_of[competition.id] = (REPORT_OVERDUE, f"overdue{number}")
    if not occasion_of:
        return []
    handed_in = exists().where(
        Report.idea_id == Idea.id, Report.status.in_((ReportStatus.SUBMITTED, ReportStatus.ACCEPTED))
    )
    ideas = db.session.scalars(
        select(Idea).where(Idea.competition_id.in_(occasion_of), Idea.tagged("reporting"), ~handed_in)
    ).all()
    members = _members({i.organisation_id for i in ideas})
    by_id = {c.id: c for c in competitions}
    # The page the mail links to: the report's task list when its form has sections (per
    # competition: the form its reports are asked under).
    fill: dict[int, str] = {}
    for idea in ideas:
        if idea.competition_id not in fill:
            fill[idea.competition_id] = fill_endpoint(idea)
    return [
        Due(kind, user_id, idea.id, occasion,
            {"idea": idea, "due": by_id[idea.competition_id].report_due, "fill": fill[idea.competition_id]})
        for idea in ideas
        for kind, occasion in [occasion_of[idea.competition_id]]
        for user_id in members.get(idea.organisation_id, [])
    ]


def _confirmations(now, competitions, settings) -> list[Due]:
    """Filed ideas still open, with a municipality, submitted at least `confirmation_wait_days`
    ago, whose latest answer from the municipality is not a confirmation: once per
    representative of that municipality."""
    waits = {c.id: settings[c.id].confirmation_wait_days for c in competitions if settings[c.id].confirmation_wait_days}
    if not waits:
        return []
    confirmed = exists().where(
        CooperationConfirmation.idea_id == Idea.id,
        CooperationConfirmation.confirmed.is_(True),
        ~exists().where(
            CooperationConfirmation.idea_id == Idea.id,
            CooperationConfirmation.confirmed.is_(False),
            CooperationConfirmation.at > select(CooperationConfirmation.at)
            .where(CooperationConfirmation.idea_id == Idea.id, CooperationConfirmation.confirmed.is_(True))
            .order_by(CooperationConfirmation.at.desc()).limit(1).scalar_subquery(),
        ),
    )
    old_enough = or_(*[
        and_(Idea.competition_id == competition_id, Idea.submitted_at <= now - timedelta(days=days))
        for competition_id, days in waits.items()
    ])
    ideas = [
        idea for idea in db.session.scalars(
            select(Idea)
            .where(Idea.municipality_id.is_not(None), Idea.tagged("filed"), old_enough, ~confirmed)
            .options(selectinload(Idea.organisation), selectinload(Idea.municipality))
        )
        if not idea.state_def.final
    ]
    if not ideas:
        return []
    representatives: dict[int, list[int]] = {}
    rows = db.session.execute(
        select(user_municipalities.c.municipality_id, user_municipalities.c.user_id)
        .join(UserRole, and_(UserRole.user_id == user_municipalities.c.user_id, UserRole.role == MUNICIPALITY))
        .where(user_municipalities.c.municipality_id.in_({i.municipality_id for i in ideas}))
    )
    for municipality_id, user_id in rows:
        representatives.setdefault(municipality_id, []).append(user_id)
    return [
        Due(CONFIRMATION, user_id, idea.id, "waiting", {"idea": idea})
        for idea in ideas
        for user_id in representatives.get(idea.municipality_id, [])
    ]


def due(now: datetime) -> list[Due]:
    """Every reminder owed at `now`, sent or not (send_due leaves out what was sent), to
    active people who have not turned its kind off."""
    # their stages' windows with them (drafts are reminded of by their stage's deadline)
    competitions = db.session.scalars(select(Competition).options(selectinload(Competition.stages))).all()
    settings = _all_settings(competitions)
    found = [
        *_drafts(now, competitions, settings),
        *_evaluations(now, competitions, settings),
        *_reports(now, competitions, settings),
        *_confirmations(now, competitions, settings),
    ]
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({d.user_id for d in found})))}
    result = []
    for item in found:
        user = users.get(item.user_id)
        if user is None or not user.active:
            continue
        if item.kind in OPTIONAL and item.kind in (user.reminders_off or []):
            continue
        item.context["user"] = user
        result.append(item)
    return result


def _already_sent(items: list[Due]) -> set[tuple]:
    if not items:
        return set()
    rows = db.session.execute(
        select(SentReminder.kind, SentReminder.user_id, SentReminder.object_id, SentReminder.occasion).where(
            SentReminder.user_id.in_({i.user_id for i in items})
        )
    )
    return {tuple(row) for row in rows}


def send_due(now: datetime, attempts: int = 5) -> int:
    """Record and mail every reminder due at `now` not sent before; the number sent. Commits.

    On SQLite a run outside a request reads before it writes, and SQLite refuses the write at
    once ("database is locked") when another run committed meanwhile: the whole run is rolled
    back and done again, reading what the other recorded, so nothing is sent twice."""
    for attempt in range(attempts):
        try:
            return _send_due(now)
        except OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    return 0


def _send_due(now: datetime) -> int:
    items = due(now)
    sent_before = _already_sent(items)
    sent = 0
    try:
        for item in items:
            if item.key in sent_before:
                continue
            try:
                with db.session.begin_nested():
                    db.session.add(SentReminder(kind=item.kind, user_id=item.user_id, object_id=item.object_id,
                                                occasion=item.occasion, sent_at=now))
            except IntegrityError:  # a concurrent run recorded it first: it sends the mail
                continue
            user = item.context["user"]
            queue_mail(user.email, TEMPLATES[item.kind], locale=user.locale, **item.context)
            sent_before.add(item.key)
            sent += 1
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return sent


def turn_off(user: User, kinds) -> None:
    """The optional reminders `user` does not want (the others cannot be turned off). Commits."""
    user.reminders_off = sorted(set(kinds) & set(OPTIONAL))
    db.session.commit()
