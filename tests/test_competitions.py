"""Administrators set up competitions (times typed in Riga time) and their criteria, which
are fixed once scoring has started."""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from grantflow.competitions.models import Competition, Criterion
from grantflow.competitions.operations import DEFAULT_CRITERIA
from grantflow.core.extensions import db
from tests.conftest import login

FORM = {
    "code": "DK-2027",
    "title_lv": "Darbīgās kopienas 2027",
    "title_en": "Active Communities 2027",
    "opens_at": "2027-03-01T09:00",
    "closes_at": "2027-04-15T23:59",
    "evaluation_closes_at": "2027-05-10T17:00",
    "budget": "20000.00",
    "min_grant": "500",
    "max_grant": "2000",
    "workflow": "community_ideas",
    "evaluators_per_idea": "3",
    "disagreement_threshold": "20",
}


def test_administrator_creates_a_competition_with_the_default_criteria(client, factory):
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    assert client.get("/competitions/new").status_code == 200
    response = client.post("/competitions/new", data=FORM)
    assert response.status_code == 303
    competition = db.session.scalars(select(Competition).where(Competition.code == "DK-2027")).one()
    # 09:00 in Riga in March is 07:00 UTC (EET); 17:00 in May is 14:00 UTC (EEST).
    assert competition.opens_at == datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
    assert competition.evaluation_closes_at == datetime(2027, 5, 10, 14, 0, tzinfo=UTC)
    assert competition.budget == Decimal("20000.00") and competition.evaluators_per_idea == 3
    assert [c.name_en for c in competition.criteria] == [c[1] for c in DEFAULT_CRITERIA]
    page = client.get(f"/competitions/{competition.id}/edit").get_data(as_text=True)
    assert 'value="2027-03-01T09:00"' in page  # shown back in Riga time


def test_competition_form_keeps_values_and_explains_mistakes(client, factory):
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    bad = dict(FORM, closes_at="2027-02-01T09:00", max_grant="100", budget="1000.555", code="dk 2027")
    response = client.post("/competitions/new", data=bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Konkursam jānoslēdzas pēc tā atvēršanas." in page
    assert "Lielākais finansējums nevar būt mazāks par mazāko." in page
    assert "Summa eiro ar ne vairāk kā divām zīmēm aiz komata." in page
    assert "Tikai lielie burti, cipari un defises" in page
    assert 'value="Darbīgās kopienas 2027"' in page
    assert db.session.scalar(select(Competition.id).where(Competition.code.in_(["DK-2027", "dk 2027"]))) is None


def test_workflow_cannot_change_once_ideas_exist(client, factory):
    idea = factory.idea()
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    competition = idea.competition
    data = dict(FORM, code=competition.code, workflow="resource_centre")
    page = client.post(f"/competitions/{competition.id}/edit", data=data).get_data(as_text=True)
    assert "Darba plūsmu nevar mainīt" in page
    db.session.refresh(competition)
    assert competition.workflow == "community_ideas"


def test_only_administrators_set_up_competitions(client, factory):
    competition = factory.competition()
    evaluator = factory.evaluator()
    db.session.commit()
    login(client, evaluator.email)
    for url in ("/competitions/new", f"/competitions/{competition.id}/edit", f"/competitions/{competition.id}/criteria"):
        assert client.get(url).status_code == 403
    criterion = competition.criteria[0]
    assert client.post(f"/competitions/{competition.id}/criteria/{criterion.id}/remove").status_code == 403


def names(competition):
    db.session.expire_all()
    return [c.name_en for c in db.session.get(Competition, competition.id).criteria]


def test_criteria_are_added_edited_reordered_and_removed(client, factory):
    competition = factory.competition()
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    base = f"/competitions/{competition.id}/criteria"
    new = {"name_lv": "Publicitāte", "name_en": "Publicity", "guidance_lv": "Kā par ideju uzzinās?",
           "guidance_en": "How will people hear of it?", "max_points": "5", "weight": "0.5"}  # fmt: skip
    assert client.post(base, data=new).status_code == 303
    assert names(competition)[-1] == "Publicity"
    added = db.session.scalars(select(Criterion).where(Criterion.name_en == "Publicity")).one()
    assert (added.position, added.max_points, added.weight) == (6, 5, Decimal("0.50"))
    client.post(f"{base}/{added.id}/up")
    assert names(competition)[-2:] == ["Publicity", "The budget is justified and realistic"]
    first = competition.criteria[0]
    client.post(f"{base}/{first.id}/down")
    assert names(competition)[:2] == ["Less active groups are involved", "The need is real and local"]
    client.post(f"{base}/{added.id}/edit", data=dict(new, name_en="Visibility", max_points="8"))
    assert "Visibility" in names(competition)
    client.post(f"{base}/{first.id}/remove")
    assert "The need is real and local" not in names(competition)
    positions = [c.position for c in db.session.get(Competition, competition.id).criteria]
    assert positions == [1, 2, 3, 4, 5]


def test_criterion_form_refuses_bad_points(client, factory):
    competition = factory.competition()
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    response = client.post(
        f"/competitions/{competition.id}/criteria",
        data={"name_lv": "X", "name_en": "X", "max_points": "0", "weight": "1"},
    )
    assert response.status_code == 422 and 'aria-invalid="true"' in response.get_data(as_text=True)
    assert len(names(competition)) == 5


def test_criteria_are_fixed_once_scoring_has_started(client, factory):
    evaluator = factory.evaluator()
    idea = factory.in_review(evaluators=[evaluator])
    factory.review(idea, evaluator, submit=False)  # even a draft fixes them
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    competition = idea.competition
    base = f"/competitions/{competition.id}/criteria"
    before = names(competition)
    page = client.get(base).get_data(as_text=True)
    assert "vērtēšana jau ir sākusies" in page and "Pievienot kritēriju" not in page
    criterion = competition.criteria[0]
    for response in (
        client.post(base, data={"name_lv": "Y", "name_en": "Y", "max_points": "5", "weight": "1"}, follow_redirects=True),
        client.post(f"{base}/{criterion.id}/remove", follow_redirects=True),
        client.post(f"{base}/{criterion.id}/down", follow_redirects=True),
        client.post(f"{base}/{criterion.id}/edit", data={"name_lv": "Z", "name_en": "Z", "max_points": "5", "weight": "1"},
                    follow_redirects=True),
    ):  # fmt: skip
        assert "Šajā kārtā vērtēšana jau ir sākusies, tāpēc tās kritērijus vairs nevar mainīt." in response.get_data(as_text=True)
    assert names(competition) == before
    assert db.session.get(Criterion, criterion.id).name_en == before[0]


def test_csrf_is_enforced_on_competition_forms(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from tests.factories import Factory

        admin = Factory().admin()
        db.session.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"email": admin.email, "password": "parole-123456", "csrf_token": token})
        response = client.post("/competitions/new", data=FORM)
        assert response.status_code == 400
        assert db.session.scalar(select(Competition.id).where(Competition.code == "DK-2027")) is None
