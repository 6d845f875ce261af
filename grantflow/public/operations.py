"""What a visitor may see: which competitions are public, the funded ideas (filtered, grouped
by municipality) and what of each idea is published."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload, undefer

from grantflow.competitions.models import Competition, CompetitionDocument
from grantflow.core.extensions import db
from grantflow.funding.models import Decision, DecisionKind
from grantflow.ideas.models import Idea
from grantflow.impact.operations import competition_years
from grantflow.reports.models import Report, ReportStatus
from grantflow.territory.models import Municipality


def _latest_decisions():
    return select(func.max(Decision.id)).group_by(Decision.idea_id)


def public_competitions(now: datetime) -> tuple[list[Competition], list[Competition]]:
    """(open, past) competitions: a competition becomes public when it opens; one still being
    prepared (not yet open) is not shown."""
    competitions = db.session.scalars(
        select(Competition)
        .where(Competition.opens_at <= now)
        .order_by(Competition.closes_at.desc())
    ).all()
    return [c for c in competitions if c.is_open(now)], [c for c in competitions if not c.is_open(now)]


def public_competition(competition_id: int, now: datetime) -> Competition | None:
    competition = db.session.scalars(
        select(Competition)
        .options(selectinload(Competition.criteria), selectinload(Competition.documents))
        .where(Competition.id == competition_id, Competition.opens_at <= now)
    ).first()
    return competition


def public_document(competition_id: int, document_id: int, now: datetime, preview: bool = False) -> CompetitionDocument | None:
    """A document of a public competition (any competition when `preview`: administrators see
    a competition's documents before it opens), with its bytes."""
    query = (
        select(CompetitionDocument)
        .join(Competition, Competition.id == CompetitionDocument.competition_id)
        .options(undefer(CompetitionDocument.data))
        .where(CompetitionDocument.id == document_id, CompetitionDocument.competition_id == competition_id)
    )
    if not preview:
        query = query.where(Competition.opens_at <= now)
    return db.session.scalars(query).first()


@dataclass
class Grant:
    """A funded idea as the public sees it: `summary` and `report` are None without consent."""

    idea: Idea
    amount: Decimal
    decided_at: datetime
    year: int
    report: Report | None

    @property
    def published(self) -> bool:
        return bool(self.idea.publish_consent)

    @property
    def summary(self) -> str | None:
        return self.idea.summary if self.published and self.idea.summary else None

    @property
    def results(self) -> Report | None:
        return self.report if self.published else None


@dataclass(frozen=True)
class Filters:
    competition_id: int | None = None
    year: int | None = None
    municipality_id: int | None = None


def grants(filters: Filters = Filters(), idea_id: int | None = None) -> list[Grant]:
    """Every idea whose latest decision funds it (within the filters), with its accepted final
    report: three queries whatever their number."""
    years = competition_years()
    query = (
        select(Idea, Decision)
        .join(Decision, Decision.idea_id == Idea.id)
        .where(Decision.id.in_(_latest_decisions()), Decision.kind == DecisionKind.FUND)
        .options(joinedload(Idea.organisation), joinedload(Idea.competition), joinedload(Idea.municipality),
                 joinedload(Idea.parish))
        .order_by(Idea.title, Idea.id)
    )
    if idea_id is not None:
        query = query.where(Idea.id == idea_id)
    if filters.competition_id is not None:
        query = query.where(Idea.competition_id == filters.competition_id)
    if filters.municipality_id is not None:
        query = query.where(Idea.municipality_id == filters.municipality_id)
    if filters.year is not None:
        query = query.where(Idea.competition_id.in_([cid for cid, y in years.items() if y == filters.year] or [-1]))
    rows = db.session.execute(query).unique().all()
    ids = [idea.id for idea, _d in rows]
    reports = {
        r.idea_id: r
        for r in db.session.scalars(
            select(Report)
            .options(selectinload(Report.activities))
            .where(Report.idea_id.in_(ids or [-1]), Report.status == ReportStatus.ACCEPTED)
        )
    }
    return [
        Grant(idea=idea, amount=decision.amount, decided_at=decision.decided_at,
              year=years.get(idea.competition_id, 0), report=reports.get(idea.id))
        for idea, decision in rows
    ]


def grant(idea_id: int) -> Grant | None:
    found = grants(idea_id=idea_id)
    return found[0] if found else None


def by_municipality(rows: list[Grant]) -> list[tuple[Municipality | None, list[Grant], Decimal]]:
    """The grants grouped as the brochure lists them: per municipality (by name, those without
    one last), with each group's total."""
    groups: dict[int | None, list[Grant]] = defaultdict(list)
    for row in rows:
        groups[row.idea.municipality_id].append(row)
    ordered = sorted(groups.values(), key=lambda g: (g[0].idea.municipality is None, g[0].idea.municipality.name if g[0].idea.municipality else ""))
    return [(g[0].idea.municipality, g, sum((r.amount for r in g), Decimal("0.00"))) for g in ordered]


def filter_choices() -> dict:
    """The competitions, years and municipalities that have a funded idea, for the filters."""
    years = competition_years()
    rows = db.session.execute(
        select(Idea.competition_id, Idea.municipality_id)
        .join(Decision, Decision.idea_id == Idea.id)
        .where(Decision.id.in_(_latest_decisions()), Decision.kind == DecisionKind.FUND)
        .distinct()
    ).all()
    competition_ids = {cid for cid, _m in rows}
    municipality_ids = {mid for _c, mid in rows if mid is not None}
    return {
        "competitions": db.session.scalars(
            select(Competition).where(Competition.id.in_(competition_ids or [-1])).order_by(Competition.closes_at.desc())
        ).all(),
        "years": sorted({years[cid] for cid in competition_ids if cid in years}, reverse=True),
        "municipalities": db.session.scalars(
            select(Municipality).where(Municipality.id.in_(municipality_ids or [-1])).order_by(Municipality.name)
        ).all(),
    }


def municipalities() -> list[Municipality]:
    """The programme's territory: the municipalities ideas may benefit."""
    return db.session.scalars(select(Municipality).order_by(Municipality.name)).all()
