"""The impact dashboard: its figures are the sums of the accepted final reports (and of the
funding decisions for money granted), in all and per municipality, year and competition, and
the page of the reports behind a figure adds up to exactly that figure."""

from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select

from grantflow.core.extensions import db
from grantflow.demo.operations import load_demo
from grantflow.funding.models import Decision, DecisionKind
from grantflow.ideas.models import Idea
from grantflow.impact.operations import LESS_ACTIVE_GROUPS, MEASURES, Scope, contributing, impact
from grantflow.payments.models import Instalment
from grantflow.reports.models import Report, ReportStatus
from tests.conftest import login
from tests.querycount import count_queries


@pytest.fixture
def demo(app, database_snapshot):
    database_snapshot(load_demo)


@pytest.fixture
def admin_client(client, factory):
    admin = factory.admin(email="impact-admin@example.lv")
    db.session.commit()
    login(client, admin.email)
    return client


def _by_hand(scope: Scope | None = None) -> dict:
    """The figures added up in Python from the rows themselves, for comparison."""
    scope = scope or Scope()
    reports = [
        r
        for r in db.session.scalars(select(Report).where(Report.status == ReportStatus.ACCEPTED))
        if (scope.municipality_id is None or r.idea.municipality_id == scope.municipality_id)
        and (scope.competition_id is None or r.idea.competition_id == scope.competition_id)
    ]
    latest = {}
    for decision in db.session.scalars(select(Decision).order_by(Decision.id)):
        latest[decision.idea_id] = decision
    funded = [
        d
        for d in latest.values()
        if d.kind == DecisionKind.FUND
        and (scope.municipality_id is None or d.idea.municipality_id == scope.municipality_id)
        and (scope.competition_id is None or d.idea.competition_id == scope.competition_id)
    ]
    reach = Counter()
    for report in reports:
        for row in report.reach:
            reach[row.target_group] += row.people
    return {
        "funded": len(funded),
        "granted": sum((d.amount for d in funded), Decimal("0.00")),
        "paid": sum(
            (i.paid for i in db.session.scalars(select(Instalment)) if (scope.competition_id is None or i.competition_id == scope.competition_id)
             and (scope.municipality_id is None or db.session.get(Idea, i.idea_id).municipality_id == scope.municipality_id)),
            Decimal("0.00"),
        ),
        "reports": len(reports),
        "spent": sum((r.actual_total for r in reports), Decimal("0.00")),
        "people": sum(r.participants for r in reports),
        "organisations": sum(r.organisations_count for r in reports),
        "volunteers": sum(r.volunteers for r in reports),
        "activities": sum(len(r.activities) for r in reports),
        "reach": reach,
    }


def test_the_figures_are_the_sums_of_the_accepted_reports(demo):
    data = impact()
    expected = _by_hand()
    assert expected["reports"] >= 32 and expected["people"] > 0 and expected["paid"] > 0
    for name in ("funded", "granted", "paid", "reports", "spent", "people", "organisations", "volunteers", "activities"):
        assert getattr(data.total, name) == expected[name], name
    assert {g: n for g, n in data.total.reach.items() if n} == {g: n for g, n in expected["reach"].items() if n}
    assert data.total.less_active == sum(expected["reach"][g] for g in LESS_ACTIVE_GROUPS)


def test_the_parts_add_up_to_the_whole_and_filters_agree(demo):
    data = impact()
    for parts in (data.by_municipality, data.by_year, data.by_competition):
        for name in MEASURES:
            assert sum(getattr(f, name) for _key, f in parts) == getattr(data.total, name), name
    municipality, figures = data.by_municipality[0]
    only = impact(Scope(municipality_id=municipality.id))
    assert only.total.people == figures.people == _by_hand(Scope(municipality_id=municipality.id))["people"]
    year, figures = data.by_year[-1]
    assert impact(Scope(year=year)).total.granted == figures.granted
    competition, figures = data.by_competition[0]
    assert impact(Scope(competition_id=competition.id)).total.spent == figures.spent


def test_every_figure_leads_to_the_reports_that_make_it_up(demo):
    for scope in (Scope(), Scope(year=impact().by_year[-1][0])):
        rows = contributing(scope)
        total = impact(scope).total
        assert sum(r.granted for r in rows) == total.granted
        assert sum(r.spent for r in rows) == total.spent
        assert sum(r.report.participants for r in rows if r.report) == total.people
        assert sum(r.reach.get("men_over_35", 0) for r in rows) == total.reach["men_over_35"]
        assert sum(r.activities for r in rows) == total.activities


def test_the_dashboard_and_its_drill_down_pages(demo, admin_client):
    page = admin_client.get("/admin/impact/").get_data(as_text=True)
    assert page.count('role="img"') == 3 and "<svg" in page
    data = impact()
    assert str(data.total.people) in page
    group_page = admin_client.get("/admin/impact/reports?group=men_over_35").get_data(as_text=True)
    assert f'<td class="num">{data.total.reach["men_over_35"]}</td>' in group_page
    # Filters that are not numbers are no filters, never an error.
    assert admin_client.get("/admin/impact/?competition=x&year=%C2%B2&municipality=-1").status_code == 200


def test_queries_do_not_grow_with_the_programme(app, factory, admin_client):
    factory.funded()
    db.session.commit()
    admin_client.get("/admin/impact/")  # the first draw loads Matplotlib
    with count_queries(db.engine) as few:
        assert admin_client.get("/admin/impact/reports").status_code == 200
        assert admin_client.get("/admin/impact/").status_code == 200
    for _ in range(3):
        factory.funded()
    db.session.commit()
    with count_queries(db.engine) as many:
        admin_client.get("/admin/impact/reports")
        admin_client.get("/admin/impact/")
    assert len(many) == len(few)
