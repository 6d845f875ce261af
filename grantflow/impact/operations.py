"""The impact figures, for the whole programme or one competition, per municipality and per
year, added up by the database from the funding decisions and the accepted final reports.

What counts:
- a funded idea is one whose latest funding decision funds it; money granted is that
  decision's amount; money paid is what its payment schedule records as paid;
- everything else comes from accepted final reports only: money spent (the actual spending
  lines), people reached (in all and per target group), organisations involved, volunteers,
  activities held; a resource centre is an accepted report of an idea whose municipality
  confirmed its cooperation (the premises, inventory and upkeep it commits to);
- the year is the year (Riga time) the competition closed for submissions.

Every figure can be followed to the reports that make it up (`contributing`), and the two
always agree: both are read by the same `Scope` filter."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload

from grantflow.competitions.models import Competition
from grantflow.core.extensions import db
from grantflow.core.i18n import riga
from grantflow.funding.models import CooperationConfirmation, Decision, DecisionKind
from grantflow.ideas.models import TARGET_GROUPS, Idea
from grantflow.payments.models import Instalment
from grantflow.reports.models import Report, ReportActivity, ReportReach, ReportSpending, ReportStatus
from grantflow.territory.models import Municipality

# The groups the programme most wants to reach, shown on their own (the brochure's "less
# active" groups: young people not in activities, men over 35, minorities).
LESS_ACTIVE_GROUPS = ("less_active_youth", "men_over_35", "ethnic_minorities")
MEASURES = ("funded", "granted", "paid", "reports", "spent", "people", "organisations", "volunteers", "activities", "resource_centres")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Scope:
    """Which ideas a figure counts: all, or of one competition, municipality or year."""

    competition_id: int | None = None
    municipality_id: int | None = None
    year: int | None = None

    def where(self, competition_years: dict[int, int]) -> list:
        conditions = []
        if self.competition_id is not None:
            conditions.append(Idea.competition_id == self.competition_id)
        if self.municipality_id is not None:
            conditions.append(Idea.municipality_id == self.municipality_id)
        if self.year is not None:
            ids = [cid for cid, year in competition_years.items() if year == self.year]
            conditions.append(Idea.competition_id.in_(ids or [-1]))
        return conditions


@dataclass
class Figures:
    funded: int = 0
    granted: Decimal = ZERO
    paid: Decimal = ZERO
    reports: int = 0
    spent: Decimal = ZERO
    people: int = 0
    organisations: int = 0
    volunteers: int = 0
    activities: int = 0
    resource_centres: int = 0
    reach: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TARGET_GROUPS, 0))

    def add(self, other: "Figures") -> None:
        for name in MEASURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for group, people in other.reach.items():
            self.reach[group] = self.reach.get(group, 0) + people

    @property
    def less_active(self) -> int:
        return sum(self.reach.get(g, 0) for g in LESS_ACTIVE_GROUPS)


@dataclass
class Impact:
    scope: Scope
    total: Figures
    by_municipality: list[tuple[Municipality | None, Figures]]
    by_year: list[tuple[int, Figures]]
    by_competition: list[tuple[Competition, Figures]]
    years: list[int]
    competitions: list[Competition]
    municipalities: list[Municipality]
    demo: bool


def competition_years() -> dict[int, int]:
    return {cid: riga(closes).year for cid, closes in db.session.execute(select(Competition.id, Competition.closes_at))}


def _latest_decisions():
    return select(func.max(Decision.id)).group_by(Decision.idea_id)


def _cells(scope: Scope, years: dict[int, int]) -> dict[tuple[int, int | None], Figures]:
    """Figures per (competition, municipality) cell: eight grouped queries in all."""
    cells: dict[tuple[int, int | None], Figures] = defaultdict(Figures)
    where = scope.where(years)
    key = (Idea.competition_id, Idea.municipality_id)
    accepted = and_(Report.idea_id == Idea.id, Report.status == ReportStatus.ACCEPTED)

    for cid, mid, count, amount in db.session.execute(
        select(*key, func.count(Decision.id), func.sum(Decision.amount))
        .join(Decision, Decision.idea_id == Idea.id)
        .where(Decision.id.in_(_latest_decisions()), Decision.kind == DecisionKind.FUND, *where)
        .group_by(*key)
    ):
        cells[cid, mid].funded += count
        cells[cid, mid].granted += Decimal(amount or 0)

    for cid, mid, paid in db.session.execute(
        select(*key, func.sum(Instalment.paid))
        .join(Instalment, Instalment.idea_id == Idea.id)
        .where(*where)
        .group_by(*key)
    ):
        cells[cid, mid].paid += Decimal(paid or 0)

    for cid, mid, reports, people, orgs, volunteers in db.session.execute(
        select(
            *key,
            func.count(Report.id),
            func.coalesce(func.sum(Report.participants), 0),
            func.coalesce(func.sum(Report.organisations_count), 0),
            func.coalesce(func.sum(Report.volunteers), 0),
        )
        .join(Report, accepted)
        .where(*where)
        .group_by(*key)
    ):
        cell = cells[cid, mid]
        cell.reports += reports
        cell.people += int(people)
        cell.organisations += int(orgs)
        cell.volunteers += int(volunteers)

    for cid, mid, spent in db.session.execute(
        select(*key, func.sum(ReportSpending.actual))
        .join(Report, accepted)
        .join(ReportSpending, ReportSpending.report_id == Report.id)
        .where(*where)
        .group_by(*key)
    ):
        cells[cid, mid].spent += Decimal(spent or 0)

    for cid, mid, count in db.session.execute(
        select(*key, func.count(ReportActivity.id))
        .join(Report, accepted)
        .join(ReportActivity, ReportActivity.report_id == Report.id)
        .where(*where)
        .group_by(*key)
    ):
        cells[cid, mid].activities += count

    for cid, mid, group, people in db.session.execute(
        select(*key, ReportReach.target_group, func.sum(ReportReach.people))
        .join(Report, accepted)
        .join(ReportReach, ReportReach.report_id == Report.id)
        .where(*where)
        .group_by(*key, ReportReach.target_group)
    ):
        reach = cells[cid, mid].reach
        reach[group] = reach.get(group, 0) + int(people or 0)

    for cid, mid, count in db.session.execute(
        select(*key, func.count(func.distinct(Idea.id)))
        .join(Report, accepted)
        .join(
            CooperationConfirmation,
            and_(CooperationConfirmation.idea_id == Idea.id, CooperationConfirmation.confirmed.is_(True)),
        )
        .where(*where)
        .group_by(*key)
    ):
        cells[cid, mid].resource_centres += count
    return cells


def impact(scope: Scope | None = None) -> Impact:
    """The figures of `scope` (everything by default), in all and per municipality, year and
    competition."""
    scope = scope or Scope()
    years = competition_years()
    cells = _cells(scope, years)
    competitions = {c.id: c for c in db.session.scalars(select(Competition).order_by(Competition.closes_at.desc()))}
    municipalities = {m.id: m for m in db.session.scalars(select(Municipality).order_by(Municipality.name))}
    total = Figures()
    per_municipality: dict[int | None, Figures] = defaultdict(Figures)
    per_year: dict[int, Figures] = defaultdict(Figures)
    per_competition: dict[int, Figures] = defaultdict(Figures)
    for (cid, mid), figures in cells.items():
        total.add(figures)
        per_municipality[mid].add(figures)
        per_year[years[cid]].add(figures)
        per_competition[cid].add(figures)
    demo = bool(
        db.session.scalar(select(func.count()).select_from(Competition).where(Competition.is_demo.is_(True)))
    )
    return Impact(
        scope=scope,
        total=total,
        by_municipality=sorted(
            ((municipalities.get(mid) if mid is not None else None, f) for mid, f in per_municipality.items()),
            key=lambda row: (row[0] is None, -row[1].granted, row[0].name if row[0] else ""),
        ),
        by_year=sorted(per_year.items(), reverse=True),
        by_competition=[(competitions[cid], per_competition[cid]) for cid in competitions if cid in per_competition],
        years=sorted(set(years.values()), reverse=True),
        competitions=list(competitions.values()),
        municipalities=list(municipalities.values()),
        demo=demo,
    )


@dataclass
class Contribution:
    idea: Idea
    report: Report | None
    granted: Decimal
    spent: Decimal
    reach: dict[str, int]
    activities: int
    resource_centre: bool


def contributing(scope: Scope) -> list[Contribution]:
    """The funded ideas of `scope` with their accepted reports: what every figure adds up.
    A fixed number of queries however many there are."""
    years = competition_years()
    where = scope.where(years)
    shown = (joinedload(Idea.organisation), joinedload(Idea.municipality))
    rows = db.session.execute(
        select(Idea, Decision.amount)
        .join(Decision, Decision.idea_id == Idea.id)
        .options(*shown)
        .where(Decision.id.in_(_latest_decisions()), Decision.kind == DecisionKind.FUND, *where)
        .order_by(Idea.competition_id.desc(), Idea.reference)
    ).all()
    ideas = {idea.id: (idea, Decimal(amount)) for idea, amount in rows}
    # Ideas with an accepted report but no funding decision (data loaded around the operations)
    # still count in the reports' figures: list them too.
    for idea in db.session.scalars(
        select(Idea)
        .join(Report, and_(Report.idea_id == Idea.id, Report.status == ReportStatus.ACCEPTED))
        .options(*shown)
        .where(*where, Idea.id.not_in(list(ideas) or [-1]))
    ):
        ideas[idea.id] = (idea, ZERO)
    ids = list(ideas) or [-1]
    reports = {
        r.idea_id: r
        for r in db.session.scalars(select(Report).where(Report.idea_id.in_(ids), Report.status == ReportStatus.ACCEPTED))
    }
    report_ids = [r.id for r in reports.values()] or [-1]
    spent = dict(
        db.session.execute(
            select(ReportSpending.report_id, func.sum(ReportSpending.actual))
            .where(ReportSpending.report_id.in_(report_ids))
            .group_by(ReportSpending.report_id)
        ).all()
    )
    activities = dict(
        db.session.execute(
            select(ReportActivity.report_id, func.count(ReportActivity.id))
            .where(ReportActivity.report_id.in_(report_ids))
            .group_by(ReportActivity.report_id)
        ).all()
    )
    reach: dict[int, dict[str, int]] = defaultdict(dict)
    for report_id, group, people in db.session.execute(
        select(ReportReach.report_id, ReportReach.target_group, ReportReach.people).where(ReportReach.report_id.in_(report_ids))
    ):
        reach[report_id][group] = people
    centres = set(
        db.session.scalars(
            select(CooperationConfirmation.idea_id).where(
                CooperationConfirmation.idea_id.in_(ids), CooperationConfirmation.confirmed.is_(True)
            )
        )
    )
    result = []
    for idea_id, (idea, granted) in ideas.items():
        report = reports.get(idea_id)
        result.append(
            Contribution(
                idea=idea,
                report=report,
                granted=granted,
                spent=Decimal(spent.get(report.id, 0) or 0) if report else ZERO,
                reach=reach.get(report.id, {}) if report else {},
                activities=activities.get(report.id, 0) if report else 0,
                resource_centre=report is not None and idea_id in centres,
            )
        )
    return result
