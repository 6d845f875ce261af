"""Aggregation and the ranking: per review its weighted total (stored when submitted), per
idea the mean over its evaluators, the spread and a disagreement flag, and a score
normalised per evaluator. Everything is computed in SQL with a fixed number of queries,
whatever the number of ideas.

Normalisation: for each evaluator, the mean m and standard deviation s of the totals of
their submitted reviews in the competition; a review's z = (total − m) / s is mapped back
onto the 0–100 scale with the mean M and standard deviation S of all submitted totals in
the competition: M + z·S. An evaluator with fewer than two reviews, or who gave every idea
the same total, keeps their raw totals. The idea's normalised score is the mean of its
reviews' normalised values."""

import math
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, Numeric, and_, case, cast, func, select
from sqlalchemy.orm import joinedload

from grantflow.accounts.models import User
from grantflow.competitions.models import Competition, ReviewRound
from grantflow.core.extensions import db
from grantflow.core.i18n import pick
from grantflow.core.safety import small_int
from grantflow.core.types import CENT, utcnow
from grantflow.ideas.forms import TARGET_GROUP_LABELS
from grantflow.ideas.models import TARGET_GROUPS, Idea
from grantflow.organisations.models import Organisation
from grantflow.review import rounds
from grantflow.review.models import Assignment, Review, ReviewStatus
from grantflow.territory.models import Municipality
from grantflow.workflow.registry import workflow_for

PAGE_SIZE = 100
ORDERS = ("mean", "normalised")


@dataclass
class Filters:
    municipality_id: int | None = None
    target_group: str | None = None
    state: str | None = None
    order: str = "mean"
    round_id: int | None = None  # the review round counted; None: the competition's current one

    @classmethod
    def from_args(cls, args, competition) -> "Filters":
        chosen = rounds.chosen_round(competition, args.get("round"))
        municipality = args.get("municipality", "")
        group = args.get("target_group") or None
        state = args.get("state") or None
        order = args.get("order", "mean")
        return cls(
            municipality_id=small_int(municipality),
            target_group=group if group in TARGET_GROUPS else None,
            state=state if state in workflow_for(competition.workflow).states else None,
            order=order if order in ORDERS else "mean",
            round_id=chosen.id if chosen is not None and str(chosen.id) == args.get("round") else None,
        )

    def as_args(self) -> dict:
        return {
            k: v
            for k, v in (
                ("municipality", self.municipality_id),
                ("target_group", self.target_group),
                ("state", self.state),
                ("order", self.order if self.order != "mean" else None),
                ("round", self.round_id),
            )
            if v
        }


@dataclass
class Row:
    rank: int | None
    idea_id: int
    reference: str | None
    title: str
    organisation: str
    municipality: str
    target_groups: list
    state: str
    requested: Decimal
    assigned: int
    submitted: int
    mean: Decimal | None
    normalised: Decimal | None
    spread: Decimal | None
    disagreement: bool
    running_total: Decimal | None
    within_budget: bool


@dataclass
class Ranking:
    rows: list[Row]
    count: int  # ideas matching the filters (all pages)
    page: int
    pages: int
    budget: Decimal
    scaling: dict
    round_id: int | None = None  # the review round counted


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(round(float(value), 2))).quantize(CENT)


def evaluator_scaling(competition_id: int, round_id: int | None = None) -> dict:
    """Per evaluator (count, mean, sd) of their submitted totals in the competition's review
    round, and the round's overall mean and sd, from one GROUP BY query."""
    total = cast(Review.total, Float)
    rows = db.session.execute(
        select(Review.evaluator_id, func.count(Review.id), func.sum(total), func.sum(total * total))
        .select_from(Idea)  # ideas → assignments → reviews, along the indexes
        .join(Assignment, _assignments_of(round_id))
        .join(Review, and_(Review.assignment_id == Assignment.id, Review.status == ReviewStatus.SUBMITTED))
        .where(Idea.competition_id == competition_id)
        .group_by(Review.evaluator_id)
    ).all()

    def stats(n, s, ss):
        mean = s / n
        return mean, math.sqrt(max(ss / n - mean * mean, 0.0))

    evaluators = {eid: (n, *stats(n, float(s), float(ss))) for eid, n, s, ss in rows}
    n_all = sum(r[1] for r in rows)
    overall = stats(n_all, sum(float(r[2]) for r in rows), sum(float(r[3]) for r in rows)) if n_all else (0.0, 0.0)
    return {"evaluators": evaluators, "mean": overall[0], "sd": overall[1]}


# The evaluator scaling of recent competitions in this process, by the competition and the
# version of its scores (Competition.scores_version, moved on by every change of a score).
_SCALING: dict[tuple, dict] = {}
_SCALING_KEPT = 64


def _assignments_of(round_id: int | None):
    """The join of an idea's active assignments in the round."""
    return and_(Assignment.idea_id == Idea.id, Assignment.active.is_(True), Assignment.round_id == round_id)


def round_of(competition, filters: "Filters") -> int | None:
    """The id of the round `filters` count: theirs, or the competition's current one."""
    if filters.round_id is not None:
        return filters.round_id
    chosen = rounds.default_round(competition)
    return chosen.id if chosen is not None else None


def scaling_of(competition, round_id: int | None = None) -> dict:
    """`evaluator_scaling` of the competition, computed once per version of its scores in
    each process: it depends on every submitted review of the competition, and a page of
    the ranking would otherwise group them all for every request. The key also holds the
    database and the competition's creation time, so a test database or a restored one
    reusing ids and versions never reads another's."""
    key = (str(db.engine.url), competition.id, competition.created_at, competition.scores_version, round_id)
    found = _SCALING.get(key)
    if found is None:
        found = evaluator_scaling(competition.id, round_id)
        if len(_SCALING) >= _SCALING_KEPT:
            _SCALING.clear()
        _SCALING[key] = found
    return found


def _normalised_expression(scaling: dict):
    """A review's normalised total as a linear expression per evaluator: a + b·total."""
    total = cast(Review.total, Float)
    big_m, big_s = scaling["mean"], scaling["sd"]
    whens = [
        (Review.evaluator_id == eid, (big_m - big_s * mean / sd) + (big_s / sd) * total)
        for eid, (n, mean, sd) in sorted(scaling["evaluators"].items())
        if n >= 2 and sd > 1e-9
    ]
    return case(*whens, else_=total) if whens else total


def _states(competition, tag: str) -> list[str]:
    return workflow_for(competition.workflow).states_tagged(tag)


def _where(competition, filters: Filters) -> list:
    where = [Idea.competition_id == competition.id, Idea.state.in_(_states(competition, "filed"))]
    if filters.municipality_id:
        where.append(Idea.municipality_id == filters.municipality_id)
    if filters.target_group:
        # target_groups is a JSON list of known identifiers: match the quoted identifier.
        where.append(cast(Idea.target_groups, db.Text).like(f'%"{filters.target_group}"%'))
    if filters.state:
        where.append(Idea.state == filters.state)
    return where


def _stored_score_counts(competition) -> bool:
    """Whether Idea.score (the mean of the current round's reviews) is the round's mean for
    every idea: so in a competition of one review round."""
    return len(competition.rounds) <= 1


def ranked(competition, filters: Filters, scaling: dict | None = None, upto: int | None = None,
           round_id: int | None = None):  # fmt: skip
    """The ranking as a subquery of narrow rows, one per filed idea matching `filters`:
    id, state, municipality_id, requested_amount, score (None without a submitted review),
    position (1, 2, … in the ranking's order) and running (the requested amounts of the
    scored ideas added up in that order, by the database's window function). Titles, names
    and the other figures are joined for the rows shown only (`ranking`).

    The order is the score (the mean weighted total, or the normalised one) rounded to
    hundredths as it is shown, best first; ideas showing the same score are then ordered by
    their reference, and last by id. Rounding first means two ideas that read as tied are
    tied, whatever the last bits of a floating-point mean; the reference then decides,
    because it is what people see and quote, is unique within a competition and is given in
    order of submission (so of equals the earlier filed comes first, the same on every page
    and every database); the id only keeps the order total (so the running total has no
    peers) should a reference ever be missing.

    The mean order reads the score stored on the idea (Idea.score, kept by
    review.operations.refresh_score, already rounded) along ix_ideas_ranking, which is that
    order: no review is read and nothing is sorted. The normalised order depends on every
    evaluator's totals in the competition, so it is computed from the reviews (`scaling` is
    needed for it). Both count the review round `round_id` only: in a competition of several
    rounds the mean is computed from that round's reviews too, as the normalised one is."""
    if filters.order == "normalised":
        return _ranked_normalised(competition, filters, _normalised_expression(scaling), upto, round_id)
    if not _stored_score_counts(competition):
        return _ranked_normalised(competition, filters, cast(Review.total, Float), upto, round_id)
    score = Idea.score
    ordering = (score.desc().nulls_last(), Idea.reference, Idea.id)
    # One window, framed by rows (cheaper than the default range frame, and the same here:
    # the order is total, so no row has peers).
    window = {"order_by": ordering, "rows": (None, 0)}
    rows = select(
        Idea.id, Idea.state, Idea.municipality_id, Idea.requested_amount, score.label("score"),
        func.row_number().over(**window).label("position"),
        func.sum(case((score.is_not(None), Idea.requested_amount), else_=0)).over(**window).label("running"),
    ).where(*_where(competition, filters))  # fmt: skip
    return _first(rows, ordering, upto).subquery("ranked")


def _first(rows, ordering, upto: int | None):
    return rows if upto is None else rows.order_by(*ordering).limit(upto)


def _ranked_normalised(competition, filters: Filters, value, upto: int | None, round_id: int | None):
    """`ranked` in the order of the mean of `value` (a review's normalised total, or its
    total) per idea, grouped from the round's reviews."""
    # One join and GROUP BY over the ideas, not an aggregate subquery joined to them: with
    # stale statistics (right after a bulk of submissions) a planner can take such a
    # subquery for one row and re-run it per idea; window functions then run over the
    # grouped rows.
    stats = (
        select(Idea.id, Idea.reference, Idea.state, Idea.municipality_id, Idea.requested_amount,
               func.avg(value).label("score"))  # fmt: skip
        .outerjoin(Assignment, _assignments_of(round_id))
        .outerjoin(Review, and_(Review.assignment_id == Assignment.id, Review.status == ReviewStatus.SUBMITTED))
        .where(*_where(competition, filters))
        .group_by(Idea.id)
        .subquery("stats")
    )
    score = stats.c.score
    shown = func.round(cast(score, Numeric), 2)  # the score as shown: ties are ties to the hundredth
    ordering = (score.is_(None), shown.desc(), stats.c.reference, stats.c.id)
    window = {"order_by": ordering, "rows": (None, 0)}
    rows = select(
        stats.c.id, stats.c.state, stats.c.municipality_id, stats.c.requested_amount, score,
        func.row_number().over(**window).label("position"),
        func.sum(case((score.is_not(None), stats.c.requested_amount), else_=0)).over(**window).label("running"),
    )  # fmt: skip
    return _first(rows, ordering, upto).subquery("ranked")


def count(competition, filters: Filters):
    """The number of ideas matching `filters`, as a scalar subquery."""
    return select(func.count(Idea.id)).where(*_where(competition, filters)).scalar_subquery()


def ranking(competition, filters: Filters, page: int | None = 1, page_size: int | None = None) -> Ranking:
    """The competition's filed ideas, best first (ideas without a submitted review last and
    outside the running total), a page of `page_size` rows at a time; `page=None` returns
    all rows (exports). Two queries whatever the number of ideas: the evaluators' scaling
    (once per version of the competition's scores in each process: `scaling_of`),
    and the page: the order, positions and running total over all matching ideas
    (`ranked`), cut to the page by the database, then the page's rows joined with their
    titles, names and review figures.

    This is the one ranking: the ranking page, its exports and the funding board all take
    their order, rank numbers and scores from here (see `ranked` for the order)."""
    page_size = page_size or PAGE_SIZE
    page = max(1, page) if page is not None else None
    round_id = round_of(competition, filters)
    scaling = scaling_of(competition, round_id)
    order = ranked(competition, filters, scaling, upto=page * page_size if page is not None else None, round_id=round_id)
    rows_of_page = select(order)
    if page is not None:  # the rows up to the page's last, cut by the database, less those before it
        rows_of_page = rows_of_page.where(order.c.position > (page - 1) * page_size)
    shown = rows_of_page.cte("shown")
    total = cast(Review.total, Float)
    # The page's figures by one join and GROUP BY (no aggregate subquery joined to the page:
    # see `ranked`), the page's rows being the grouped ones.
    columns = (shown.c.id, shown.c.state, shown.c.requested_amount, shown.c.running, shown.c.position)
    mean = Idea.score if _stored_score_counts(competition) else func.round(cast(func.avg(total), Numeric), 2)
    result = db.session.execute(
        select(
            shown.c.id, Idea.reference, Idea.title, shown.c.state, shown.c.requested_amount, Idea.target_groups,
            Organisation.name, Municipality.name, func.count(Assignment.id), func.count(Review.id), mean,
            func.avg(_normalised_expression(scaling)), func.max(total) - func.min(total), shown.c.running,
            count(competition, filters).label("total"), shown.c.position,
        )  # fmt: skip
        .select_from(shown)
        .join(Idea, Idea.id == shown.c.id)
        .join(Organisation, Organisation.id == Idea.organisation_id)
        .outerjoin(Municipality, Municipality.id == Idea.municipality_id)
        .outerjoin(Assignment, _assignments_of(round_id))
        .outerjoin(Review, and_(Review.assignment_id == Assignment.id, Review.status == ReviewStatus.SUBMITTED))
        .group_by(*columns, Idea.id, Organisation.name, Municipality.name)
        .order_by(shown.c.position)
    ).all()
    total_count = result[0].total if result else 0
    threshold = Decimal(competition.disagreement_threshold)
    rows = []
    for r in result:
        mean, spread = _decimal(r[10]), _decimal(r[12])  # r[10]: the stored score the order reads
        scored = r[10] is not None and r[9]
        running = Decimal(r[13]).quantize(CENT) if scored else None
        rows.append(
            Row(
                rank=r.position if scored else None,
                idea_id=r[0], reference=r[1], title=r[2], state=r[3], requested=r[4], target_groups=r[5] or [],
                organisation=r[6], municipality=r[7] or "", assigned=r[8] or 0, submitted=r[9] or 0,
                mean=mean if scored else None, normalised=_decimal(r[11]) if scored else None,
                spread=spread if scored else None,
                disagreement=bool(scored and r[9] > 1 and spread is not None and spread > threshold),
                running_total=running, within_budget=running is not None and running <= competition.budget,
            )  # fmt: skip
        )
    pages = max(1, math.ceil(total_count / page_size)) if page is not None else 1
    return Ranking(rows, total_count, page or 1, pages, competition.budget, scaling, round_id)


def municipalities_in(competition_id: int) -> list[Municipality]:
    return list(
        db.session.scalars(
            select(Municipality)
            .where(Municipality.id.in_(select(Idea.municipality_id).where(Idea.competition_id == competition_id)))
            .order_by(Municipality.name)
        )
    )


# --- exports --------------------------------------------------------------------------------
def _header():
    return [
        str(h)
        for h in (
            _l("Rank"), _l("Reference"), _l("Idea"), _l("Organisation"), _l("Municipality"), _l("Target groups"),
            _l("State"), _l("Requested (EUR)"), _l("Reviews submitted"), _l("Evaluators assigned"),
            _l("Mean score"), _l("Normalised score"), _l("Spread"), _l("Evaluators disagree"),
            _l("Running total (EUR)"), _l("Within budget"),
        )  # fmt: skip
    ]


def _cells(row: Row, workflow) -> list:
    yes, no = str(_l("yes")), str(_l("no"))
    return [
        row.rank or "", row.reference or "", row.title, row.organisation, row.municipality,
        ", ".join(str(TARGET_GROUP_LABELS.get(g, g)) for g in row.target_groups),
        pick(workflow.states[row.state].label), row.requested, row.submitted, row.assigned,
        row.mean if row.mean is not None else "", row.normalised if row.normalised is not None else "",
        row.spread if row.spread is not None else "", yes if row.disagreement else no,
        row.running_total if row.running_total is not None else "", yes if row.within_budget else no,
    ]  # fmt: skip


def export_table(competition, result: Ranking) -> tuple[list[str], list[list]]:
    """The ranking as a spreadsheet's header and rows (all of them, in ranking order). The
    file is built by the exports area on the task queue, never in the request."""
    workflow = workflow_for(competition.workflow)
    return _header(), [_cells(row, workflow) for row in result.rows]


def progress_by_evaluator(competition_id: int, round_id: int | None = None) -> list[dict]:
    """Per evaluator in the competition (in the round `round_id`, when given): assigned,
    drafts, submitted, removed (one query)."""
    in_round = [Assignment.round_id == round_id] if round_id is not None else []

    rows = db.session.execute(
        select(
            User.id, User.name, User.email,
            func.count(case((Assignment.active.is_(True), Assignment.id))),
            func.count(case((and_(Assignment.active.is_(True), Review.status == ReviewStatus.SUBMITTED), Assignment.id))),
            func.count(case((and_(Assignment.active.is_(True), Review.status != ReviewStatus.SUBMITTED), Assignment.id))),
            func.count(case((Assignment.active.is_(False), Assignment.id))),
        )  # fmt: skip
        .select_from(Assignment)
        .join(Idea, Idea.id == Assignment.idea_id)
        .join(User, User.id == Assignment.evaluator_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Idea.competition_id == competition_id, *in_round)
        .group_by(User.id, User.name, User.email)
        .order_by(User.name, User.id)
    ).all()
    return [
        {"id": r[0], "name": r[1], "email": r[2], "assigned": r[3], "submitted": r[4], "drafts": r[5],
         "removed": r[6], "left": r[3] - r[4]}  # fmt: skip
        for r in rows
    ]


def idea_summary(idea, round_id: int | None = None) -> dict:
    """The idea's aggregate from its submitted reviews in the round (its current one unless
    given; for the reviews page)."""
    if round_id is None:
        round_id = rounds.current_round_id(idea)
    total = cast(Review.total, Float)
    n, mean, spread = db.session.execute(
        select(func.count(Review.id), func.avg(total), func.max(total) - func.min(total))
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(Review.idea_id == idea.id, Review.round_id == round_id, Review.status == ReviewStatus.SUBMITTED,
               Assignment.active.is_(True))  # fmt: skip
    ).one()
    spread = _decimal(spread)
    return {
        "count": n,
        "mean": _decimal(mean),
        "spread": spread,
        "disagreement": bool(n > 1 and spread is not None and spread > Decimal(idea.competition.disagreement_threshold)),
    }



def desk(user) -> dict:
    """An evaluator's assigned ideas with what is left on each (to do, draft, submitted),
    their progress and deadlines: those waiting for a score first. Two queries."""
    found: dict[int, dict] = {}
    for idea_id, round_id, review_status, closes in db.session.execute(
        select(Assignment.idea_id, Assignment.round_id, Review.status, ReviewRound.evaluation_closes_at)
        .join(ReviewRound, ReviewRound.id == Assignment.round_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.evaluator_id == user.id, Assignment.active.is_(True))
        .order_by(ReviewRound.position)
    ):
        found.setdefault(idea_id, {})[round_id] = (review_status, closes)
    status = {}
    ideas = db.session.scalars(
        select(Idea)
        .options(joinedload(Idea.competition).selectinload(Competition.rounds), joinedload(Idea.organisation),
                 joinedload(Idea.municipality))
        .where(Idea.id.in_(list(found)))
        .order_by(Idea.competition_id, Idea.reference, Idea.id)
    ).all()
    now = utcnow()
    rows = []
    for idea in ideas:
        # The assignment of the idea's current round; of an earlier one, its latest.
        per_round = found[idea.id]
        current = per_round.get(rounds.current_round_id(idea)) or next(reversed(per_round.values()))
        status[idea.id], closes = current
        rows.append(
            {
                "idea": idea,
                "status": status[idea.id],  # a ReviewStatus, or None while not begun
                "closes_at": closes,
                "closed": closes is not None and now >= closes,
                "scoring": idea.has_tag("scoring"),
            }
        )
    done = sum(1 for r in rows if r["status"] == ReviewStatus.SUBMITTED)
    # What waits comes first, the nearest deadline first; submitted and closed ones after.
    waiting = [r for r in rows if r["status"] != ReviewStatus.SUBMITTED and r["scoring"] and not r["closed"]]
    waiting.sort(key=lambda r: (r["closes_at"] is None, r["closes_at"] or now))
    past = [r for r in rows if r not in waiting]
    return {"rows": waiting + past, "waiting": waiting, "past": past, "done": done, "total": len(rows), "left": len(rows) - done}
