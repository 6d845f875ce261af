"""Aggregation and the ranking: weighted totals, means, spreads, disagreement flags,
normalised scores, the running total against the budget, filters, exports, and a fixed
number of SQL queries whatever the number of ideas."""

import csv
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from grantflow.core.extensions import db
from grantflow.exports.models import Export, ExportStatus
from grantflow.review.operations import weighted_total
from grantflow.review.ranking import Filters, ranking
from tests.conftest import login
from tests.querycount import count_queries


def scored(factory, competition, points: list, **kw):
    """An idea reviewed by fresh evaluators giving these points on every criterion."""
    evaluators = [factory.evaluator() for _ in points]
    idea = factory.in_review(evaluators=evaluators, competition=competition, **kw)
    for evaluator, p in zip(evaluators, points, strict=True):
        factory.review(idea, evaluator, points=p)
    return idea


def test_weighted_total_uses_each_criterions_share_and_weight(app, factory):
    competition = factory.competition()
    evaluator = factory.evaluator()
    idea = factory.in_review(evaluators=[evaluator], competition=competition)
    review = factory.review(idea, evaluator, points=10, submit=False)
    weights = [c.weight for c in competition.criteria]  # 1.5, 1.5, 1, 1, 1
    review.scores[0].points = Decimal("5")  # half of the heaviest criterion
    expected = (Decimal("0.5") * weights[0] + sum(weights[1:])) / sum(weights) * 100
    assert weighted_total(review.scores) == expected.quantize(Decimal("0.01")) == Decimal("87.50")


def test_mean_spread_and_disagreement_flag(app, factory):
    competition = factory.competition(disagreement_threshold=Decimal("15"), budget="2500.00")
    calm = scored(factory, competition, [8, 7], amount="1000.00")  # 80, 70: spread 10
    split = scored(factory, competition, [9, 5, 7], amount="1000.00")  # 90, 50, 70: spread 40
    top = scored(factory, competition, [9, 9], amount="1000.00")
    waiting = factory.in_review(competition=competition, amount="500.00")  # no review yet
    rows = {r.idea_id: r for r in ranking(competition, Filters()).rows}
    assert [r.idea_id for r in ranking(competition, Filters()).rows] == [top.id, calm.id, split.id, waiting.id]
    assert (rows[calm.id].mean, rows[calm.id].spread, rows[calm.id].disagreement) == (Decimal("75.00"), Decimal("10.00"), False)
    assert (rows[split.id].mean, rows[split.id].spread, rows[split.id].disagreement) == (Decimal("70.00"), Decimal("40.00"), True)
    assert (rows[split.id].submitted, rows[split.id].assigned) == (3, 3)
    # Running total against the budget of 2,500 €: the third idea passes it; unscored ideas do not count.
    assert [rows[i.id].running_total for i in (top, calm, split)] == [Decimal("1000.00"), Decimal("2000.00"), Decimal("3000.00")]
    assert [rows[i.id].within_budget for i in (top, calm, split)] == [True, True, False]
    assert rows[waiting.id].rank is None and rows[waiting.id].running_total is None
    assert [rows[i.id].rank for i in (top, calm, split)] == [1, 2, 3]


def test_normalised_scores_even_out_a_harsh_and_a_lenient_evaluator(app, factory):
    competition = factory.competition(evaluators_per_idea=1)
    harsh, lenient = factory.evaluator(), factory.evaluator()
    ideas = {}
    for name, evaluator, points in (("h_low", harsh, 4), ("h_high", harsh, 6), ("l_low", lenient, 7), ("l_high", lenient, 9)):
        ideas[name] = factory.in_review(evaluators=[evaluator], competition=competition)
        factory.review(ideas[name], evaluator, points=points)
    result = ranking(competition, Filters())
    rows = {r.idea_id: r for r in result.rows}
    # Harsh: 40, 60 (mean 50, sd 10); lenient: 70, 90 (mean 80, sd 10); all: mean 65, sd √325.
    assert result.scaling["mean"] == pytest.approx(65.0)
    assert result.scaling["sd"] == pytest.approx(325**0.5)
    assert rows[ideas["h_high"].id].normalised == rows[ideas["l_high"].id].normalised == Decimal("83.03")
    assert rows[ideas["h_low"].id].normalised == rows[ideas["l_low"].id].normalised == Decimal("46.97")
    assert rows[ideas["h_high"].id].mean == Decimal("60.00")  # the raw mean is kept beside it
    by_normalised = [r.idea_id for r in ranking(competition, Filters(order="normalised")).rows]
    assert set(by_normalised[:2]) == {ideas["h_high"].id, ideas["l_high"].id}


def test_an_evaluator_with_one_review_keeps_raw_totals(app, factory):
    competition = factory.competition(evaluators_per_idea=1)
    idea = scored(factory, competition, [7])
    row = ranking(competition, Filters()).rows[0]
    assert row.idea_id == idea.id and row.normalised == row.mean == Decimal("70.00")


def test_ranking_page_filters_and_explains_the_method(client, factory):
    competition = factory.competition()
    rezekne = scored(factory, competition, [8, 8], title="Rēzeknes ideja")
    balvi_org = factory.organisation(municipality=factory.municipality("Balvu novads"))
    balvi = scored(factory, competition, [6, 6], org=balvi_org, title="Balvu ideja")
    balvi.target_groups = ["youth", "men_over_35"]
    rezekne.target_groups = ["less_active_youth"]
    factory.submitted(competition=competition, title="Vēl pārbaudāmā ideja")
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    url = f"/review/competitions/{competition.id}/ranking"
    page = client.get(url).get_data(as_text=True)
    assert page.index("Rēzeknes ideja") < page.index("Balvu ideja") < page.index("Vēl pārbaudāmā ideja")
    assert "z vērtībā" in page and "standartnovirzi" in page  # the method, in Latvian
    page = client.get(url, query_string={"municipality": balvi.municipality_id}).get_data(as_text=True)
    assert "Balvu ideja" in page and "Rēzeknes ideja" not in page
    page = client.get(url, query_string={"target_group": "men_over_35"}).get_data(as_text=True)
    assert "Balvu ideja" in page and "Rēzeknes ideja" not in page
    page = client.get(url, query_string={"target_group": "youth"}).get_data(as_text=True)
    assert "Balvu ideja" in page and "Rēzeknes ideja" not in page  # "youth" is not "less_active_youth"
    page = client.get(url, query_string={"state": rezekne.state}).get_data(as_text=True)
    assert "Rēzeknes ideja" in page and "Vēl pārbaudāmā ideja" not in page
    page = client.get(url, query_string={"state": "no-such-state", "municipality": "x", "page": "abc"}).get_data(as_text=True)
    assert "Vēl pārbaudāmā ideja" in page  # nonsense filters are ignored, not a 500


def ranking_export(client, competition_id: int, fmt: str, **args):
    """Press the ranking page's CSV or XLSX button: the export is recorded and built on the
    queue (at once in the tests' apps), the exports page shows it; download the file."""
    page = client.get(f"/review/competitions/{competition_id}/ranking", query_string=args).get_data(as_text=True)
    assert f'action="/admin/exports/ranking/{competition_id}"' in page and f'value="{fmt}"' in page
    response = client.post(f"/admin/exports/ranking/{competition_id}", data={"format": fmt, **args})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/exports")
    export = db.session.scalars(select(Export).order_by(Export.id.desc())).first()
    db.session.refresh(export)
    assert export.kind == "ranking" and export.status == ExportStatus.DONE, export.error
    listing = client.get("/admin/exports").get_data(as_text=True)
    assert "Rangu saraksts" in listing and f"/admin/exports/{export.id}" in listing
    return client.get(f"/admin/exports/{export.id}")


def test_exports_cover_every_idea_in_ranking_order(client, factory):
    competition = factory.competition(budget="1500.00")
    first = scored(factory, competition, [9, 9], title="Pirmā ideja", amount="1000.00")
    second = scored(factory, competition, [5, 6], title="Otrā “ideja”, ar komatu", amount="1000.00")
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    response = ranking_export(client, competition.id, "csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["Vieta", "Numurs", "Ideja"]
    assert [r[1] for r in rows[1:]] == [first.reference, second.reference]
    assert rows[2][2] == "Otrā “ideja”, ar komatu"
    assert rows[1][10] == "90.00" and rows[2][10] == "55.00" and rows[2][14] == "2000.00" and rows[2][15] == "nē"
    response = ranking_export(client, competition.id, "xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.values)
    assert values[0][0] == "Vieta" and values[1][1] == first.reference and values[2][2] == "Otrā “ideja”, ar komatu"
    assert Decimal(str(values[1][7])) == Decimal("1000")


def test_paging_keeps_the_running_total_and_the_export_has_all(client, factory, monkeypatch):
    import grantflow.review.ranking as agg

    monkeypatch.setattr(agg, "PAGE_SIZE", 2)
    competition = factory.competition(budget="100000.00")
    for points in (9, 8, 7, 6, 5):
        scored(factory, competition, [points], amount="1000.00")
    admin = factory.admin()
    db.session.commit()
    result = ranking(competition, Filters(), page=3, page_size=2)
    assert [r.rank for r in result.rows] == [5] and result.rows[0].running_total == Decimal("5000.00")
    assert result.count == 5 and result.pages == 3
    login(client, admin.email)
    page = client.get(f"/review/competitions/{competition.id}/ranking", query_string={"page": 2}).get_data(as_text=True)
    assert "3\xa0000,00 €" in page and "4\xa0000,00 €" in page and "5\xa0000,00 €" not in page
    export = ranking_export(client, competition.id, "csv").get_data().decode("utf-8-sig")
    assert len(export.strip().splitlines()) == 6


def build(factory, competition, n):
    evaluators = [factory.evaluator() for _ in range(3)]
    for i in range(n):
        idea = factory.in_review(evaluators=evaluators[:2], competition=competition)
        factory.review(idea, evaluators[0], points=5 + i % 5)
        if i % 2:
            factory.review(idea, evaluators[1], points=4 + i % 6)


@pytest.fixture
def small_and_large(factory, database_snapshot):
    """An administrator and two competitions in evaluation, of 5 and of 50 ideas: (e-mail, id,
    id). Built once per database for the tests below, which each start from it."""

    def competitions_of_5_and_50():
        admin = factory.admin()
        small, large = factory.competition(), factory.competition()
        build(factory, small, 5)
        build(factory, large, 50)
        return admin.email, small.id, large.id

    return database_snapshot(competitions_of_5_and_50)


@pytest.mark.parametrize("url", ["ranking", "progress"])
def test_ranking_issues_a_fixed_number_of_queries(client, small_and_large, url):
    admin_email, *competition_ids = small_and_large
    login(client, admin_email)
    measured = []
    for competition_id in competition_ids:
        with count_queries(db.engine) as statements:
            response = client.get(f"/review/competitions/{competition_id}/{url}", query_string={"municipality": ""})
        assert response.status_code == 200
        measured.append(len(statements))
    assert measured[0] == measured[1], measured
    assert measured[0] <= 12


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_ranking_export_issues_a_fixed_number_of_queries(client, small_and_large, fmt):
    """Recording the export and building it on the queue (at once here) read the same number
    of statements for 5 ideas as for 50."""
    admin_email, *competition_ids = small_and_large
    login(client, admin_email)
    measured = []
    for competition_id in competition_ids:
        with count_queries(db.engine) as statements:
            response = client.post(f"/admin/exports/ranking/{competition_id}", data={"format": fmt, "order": "normalised"})
        assert response.status_code == 303
        measured.append(len(statements))
    assert measured[0] == measured[1], measured
    assert measured[0] <= 24


def test_ranking_export_with_filters_and_bad_input(client, factory):
    competition = factory.competition(budget="5000.00")
    balvi_org = factory.organisation(municipality=factory.municipality("Balvu novads"))
    balvi = scored(factory, competition, [9], org=balvi_org, title="Balvu ideja")
    scored(factory, competition, [5], title="Rēzeknes ideja")
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    body = ranking_export(client, competition.id, "csv", municipality=str(balvi.municipality_id)).get_data().decode("utf-8-sig")
    assert "Balvu ideja" in body and "Rēzeknes ideja" not in body
    listing = client.get("/admin/exports").get_data(as_text=True)
    assert balvi.municipality.name in listing  # the filter is shown beside the export
    exports = db.session.scalar(select(func.count()).select_from(Export))
    response = client.post(f"/admin/exports/ranking/{competition.id}", data={"format": "pdf"}, follow_redirects=True)
    assert response.status_code == 200 and "Izvēlieties datnes formātu." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Export)) == exports  # nothing half-done
    assert client.post("/admin/exports/ranking/999999", data={"format": "csv"}).status_code == 404


def test_evaluator_desk_query_count_does_not_grow(client, factory):
    me = factory.evaluator()
    competition = factory.competition()
    ideas = [factory.in_review(evaluators=[me], competition=competition) for _ in range(2)]
    db.session.commit()
    login(client, me.email)
    with count_queries(db.engine) as few:
        client.get("/review/")
    for _ in range(8):
        ideas.append(factory.in_review(evaluators=[me], competition=competition))
    db.session.commit()
    with count_queries(db.engine) as many:
        page = client.get("/review/").get_data(as_text=True)
    assert "Iesniegti 0 no 10; atlikuši 10." in page
    assert len(few) == len(many)


def test_running_total_on_page_two_continues_page_one_and_equals_the_database_sum(client, factory, monkeypatch):
    from sqlalchemy import func, select

    import grantflow.review.ranking as agg
    from grantflow.ideas.models import Idea

    monkeypatch.setattr(agg, "PAGE_SIZE", 3)
    competition = factory.competition(budget="100000.00")
    for points, amount in zip((9, 8, 8, 7, 6, 5, 4), ("1000.00", "1500.00", "700.00", "1200.00", "900.00", "1100.00", "800.00"), strict=True):
        scored(factory, competition, [points], amount=amount)
    factory.in_review(competition=competition, amount="1800.00")  # no review: last, outside the total
    admin = factory.admin()
    db.session.commit()
    first, second, third = (ranking(competition, Filters(), page=n) for n in (1, 2, 3))
    assert (first.count, first.pages) == (8, 3) and [len(p.rows) for p in (first, second, third)] == [3, 3, 2]
    rows = first.rows + second.rows + third.rows
    assert [r.rank for r in rows] == [1, 2, 3, 4, 5, 6, 7, None]
    assert second.rows[0].running_total == first.rows[-1].running_total + second.rows[0].requested
    for index, row in enumerate(rows[:7]):  # each running total is the database's sum of the ideas up to it
        above = [r.idea_id for r in rows[: index + 1]]
        assert row.running_total == db.session.scalar(select(func.sum(Idea.requested_amount)).where(Idea.id.in_(above)))
    assert rows[-1].running_total is None
    assert [r.idea_id for r in rows] == [r.idea_id for r in ranking(competition, Filters(), page=None).rows]
    login(client, admin.email)
    page = client.get(f"/review/competitions/{competition.id}/ranking", query_string={"page": 2}).get_data(as_text=True)
    for row in second.rows:
        assert f'href="/ideas/{row.idea_id}"' in page
    assert f"{second.rows[-1].running_total:.2f}".replace(".", ",") in page.replace("\xa0", "")


def test_pager_links_keep_the_filters_and_the_order(client, factory, monkeypatch):
    import grantflow.review.ranking as agg

    monkeypatch.setattr(agg, "PAGE_SIZE", 1)
    competition = factory.competition()
    ideas = [scored(factory, competition, [p]) for p in (9, 8, 7)]
    for idea in ideas:
        idea.target_groups = ["youth"]
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    args = {"municipality": ideas[0].municipality_id, "target_group": "youth", "order": "normalised"}
    page = client.get(f"/review/competitions/{competition.id}/ranking", query_string={**args, "page": 2}).get_data(as_text=True)
    nav = re.search(r'<nav class="card pager".*?</nav>', page, re.S).group(0)
    links = re.findall(r'href="(/review/competitions/\d+/ranking\?[^"]*)"', nav)
    assert links and all(
        f"municipality={ideas[0].municipality_id}" in link and "target_group=youth" in link and "order=normalised" in link
        for link in links
    ), links
    assert {re.search(r"page=(\d+)", link).group(1) for link in links} == {"1", "3"}
    assert '<strong aria-current="page">2</strong>' in page
    # "Show all columns" keeps the filters, the order and the page; the pager then keeps it too.
    toggle = re.search(r'<p class="gf-columns"><a href="([^"]*)"', page).group(1).replace("&amp;", "&")
    assert "columns=all" in toggle and "page=2" in toggle and "target_group=youth" in toggle and "order=normalised" in toggle
    wide = client.get(toggle).get_data(as_text=True)
    assert 'class="gf-table gf-table--all"' in wide and 'class="gf-table gf-table--all"' not in page
    nav = re.search(r'<nav class="card pager".*?</nav>', wide, re.S).group(0)
    assert all("columns=all" in link for link in re.findall(r'href="([^"]*)"', nav))


def test_the_evaluator_scaling_is_kept_until_a_score_of_the_competition_changes(app, factory):
    """The scaling groups every review of the competition: it is computed once per version of
    the competition's scores, and again as soon as a review is submitted."""
    competition = factory.competition()
    a, b = factory.evaluator(), factory.evaluator()
    first = factory.in_review(evaluators=[a, b], competition=competition)
    factory.review(first, a, points=6)
    factory.review(first, b, points=8)
    second = factory.in_review(evaluators=[a], competition=competition)
    db.session.commit()
    assert ranking(competition, Filters()).scaling["mean"] == pytest.approx(70.0)
    with count_queries(db.engine) as again:
        assert ranking(competition, Filters()).scaling["mean"] == pytest.approx(70.0)
    assert len(again) == 1  # the page; the scaling was kept
    factory.review(second, a, points=10)
    db.session.commit()
    assert competition.scores_version and competition.rounds  # loaded again after the commit, before counting
    with count_queries(db.engine) as changed:
        result = ranking(competition, Filters())
    assert len(changed) == 2 and result.scaling["mean"] == pytest.approx(80.0)  # the scaling, the page; 60, 80, 100
    assert result.scaling["evaluators"][a.id][:2] == (2, pytest.approx(80.0))
