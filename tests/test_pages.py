"""The home page per role, the idea page's permissions, and the administrators' lists."""


from grantflow.core.extensions import db
from grantflow.workflow import engine
from tests.conftest import login
from tests.querycount import count_queries


def test_public_home_page_lists_open_competitions_only(client, factory):
    factory.competition(title_lv="Atvērtais konkurss")
    factory.competition(title_lv="Slēgtais konkurss", open_=False)
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Atvērtie konkursi" in page and "Atvērtais konkurss" in page
    assert "Slēgtais konkurss" not in page
    assert "Ienākt" in page


def test_each_role_sees_its_section(client, factory):
    idea = factory.submitted()
    applicant = factory.member_of(idea.organisation)
    municipal = factory.user("municipality", municipality=idea.municipality)
    db.session.commit()
    login(client, applicant.email)
    page = client.get("/").get_data(as_text=True)
    assert 'id="applicant-home"' in page and idea.title in page and "Iesniegts — notiek atbilstības pārbaude" in page
    client.post("/logout")
    login(client, municipal.email)
    page = client.get("/").get_data(as_text=True)
    assert 'id="municipality-home"' in page and idea.title in page


def test_idea_page_is_404_for_those_who_may_not_see_it(client, factory):
    idea = factory.submitted()
    stranger = factory.applicant()
    evaluator = factory.evaluator()  # not assigned
    other_municipality = factory.user("municipality", municipality=factory.municipality("Balvu novads"))
    db.session.commit()
    for user in (stranger, evaluator, other_municipality):
        login(client, user.email)
        assert client.get(f"/ideas/{idea.id}").status_code == 404
        assert client.post(f"/ideas/{idea.id}/steps/withdraw").status_code == 404
        client.post("/logout")


def test_idea_page_shows_history_and_steps(client, factory):
    idea = factory.submitted()
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Melnraksts" in page and "Iesniegts" in page  # history draft → submitted
    assert "Atgriezt labošanai" in page  # a step the administrator may take


def test_step_from_the_web_is_checked_and_explained(client, factory):
    idea = factory.submitted()
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    response = client.post(f"/ideas/{idea.id}/steps/return_for_changes", data={"comment": ""}, follow_redirects=True)
    assert "Lūdzu, norādiet šī soļa iemeslu" in response.get_data(as_text=True)
    response = client.post(
        f"/ideas/{idea.id}/steps/return_for_changes", data={"comment": "Precizējiet budžetu"}, follow_redirects=True
    )
    assert "Izdarīts: idejas statuss tagad ir „Melnraksts”" in response.get_data(as_text=True)
    response = client.post(f"/ideas/{idea.id}/steps/no_such_step", follow_redirects=True)
    assert response.status_code == 200 and "Šis solis nav iespējams" in response.get_data(as_text=True)


def test_unknown_pages_are_404_not_500(client, factory):
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    assert client.get("/ideas/999999").status_code == 404
    assert client.get("/admin/competitions/999999").status_code == 404
    assert client.get("/admin/workflows/nope").status_code == 404


def test_competition_list_pages_do_not_grow_queries_with_ideas(app, client, factory):
    competition = factory.competition()
    admin = factory.admin()
    factory.submitted(competition=competition)
    db.session.commit()
    login(client, admin.email)

    def queries():
        with count_queries(db.engine) as statements:
            assert client.get(f"/admin/competitions/{competition.id}").status_code == 200
            assert client.get("/admin/").status_code == 200
        return len(statements)

    few = queries()
    for _ in range(6):
        factory.submitted(competition=competition)
    db.session.commit()
    assert queries() == few


def test_a_step_chosen_on_a_stale_page_is_refused(client, factory):
    idea = factory.reviewed()
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    import re

    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    engine.bump_version(idea)  # someone else changed it meanwhile (every save and step does this)
    db.session.commit()
    response = client.post(f"/ideas/{idea.id}/steps/fund", data={"version": version}, follow_redirects=True)
    assert "Ideja mainījās pēc tam, kad atvērāt šo lapu" in response.get_data(as_text=True)
    assert db.session.get(type(idea), idea.id).state == "reviewed"
    response = client.post(f"/ideas/{idea.id}/steps/fund", data={"version": str(idea.version)}, follow_redirects=True)
    assert db.session.get(type(idea), idea.id).state == "funded"


def test_administrators_read_every_mail_with_its_links(client, factory):
    from grantflow.accounts.operations import register

    admin = factory.admin()
    applicant = factory.applicant()
    register("Jauna", "jauna@example.lv", "rudens-lapas-2026", "lv")  # queues a confirmation mail
    db.session.commit()
    login(client, applicant.email)
    assert client.get("/admin/outbox").status_code == 403
    client.post("/logout")
    login(client, admin.email)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "jauna@example.lv" in page and 'href="http://grantflow.test/confirm/' in page
    assert "Gaida" in page  # its status, in the page's language
    assert "jauna@example.lv" not in client.get("/admin/outbox?status=sent").get_data(as_text=True)
    assert client.get("/admin/outbox?status=%00").status_code == 200
