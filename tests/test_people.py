"""People and roles (issue #11, part 1): invitations, roles and municipalities, deactivation
and the last administrator, standing conflicts honoured by assignment, the profile."""

import re

import pytest
from sqlalchemy import func, select

from grantflow.accounts.models import ADMINISTRATOR, EVALUATOR, MUNICIPALITY, User
from grantflow.adminlog.models import AdminLogEntry
from grantflow.core.extensions import db
from grantflow.mail.models import OutboxMail
from grantflow.review.models import Assignment, ConflictOfInterest
from tests.conftest import login


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (User, OutboxMail, AdminLogEntry))


def invitation_link(address: str) -> str:
    body = db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == address)).all()[-1].body_text
    return re.search(r"http://grantflow\.test(/invitation/\S+)", body).group(1)


def test_an_invited_representative_sets_a_password_and_sees_the_ideas_of_their_municipalities(client, factory):
    admin = factory.admin()
    rezekne, ludza = factory.municipality("Rēzeknes novads"), factory.municipality("Ludzas novads")
    here = factory.submitted(org=factory.organisation(municipality=ludza), title="Ludzas ideja")
    elsewhere = factory.submitted(org=factory.organisation(municipality=factory.municipality("Balvu novads")), title="Balvu ideja")
    db.session.commit()
    login(client, admin.email)
    response = client.post("/admin/people/invite", data={
        "name": "Rita Pašvaldniece", "email": " Rita@Example.LV ", "roles": [MUNICIPALITY],
        "municipalities": [str(rezekne.id), str(ludza.id)], "locale": "lv"})  # fmt: skip
    assert response.status_code == 303
    rita = db.session.scalars(select(User).where(User.email == "rita@example.lv")).one()
    assert rita.invited and rita.roles == {MUNICIPALITY} and rita.municipality_ids() == {rezekne.id, ludza.id}
    entry = db.session.scalars(select(AdminLogEntry).where(AdminLogEntry.kind == "account_invited")).one()
    assert entry.actor_id == admin.id and entry.object_id == rita.id
    assert entry.after["municipalities"] == ["Ludzas novads", "Rēzeknes novads"]
    link = invitation_link("rita@example.lv")

    invitee = client.application.test_client()
    assert invitee.post("/login", data={"email": "rita@example.lv", "password": "!invited:"}).status_code == 200
    page = invitee.get(link)
    assert page.status_code == 200 and "rita@example.lv" in page.get_data(as_text=True)
    assert invitee.post(link, data={"password": "īss", "password_again": "īss"}).status_code == 422
    response = invitee.post(link, data={"password": "rudens-lapas-2026", "password_again": "rudens-lapas-2026"})
    assert response.status_code == 303
    home = invitee.get("/").get_data(as_text=True)
    assert "Ludzas ideja" in home and "Balvu ideja" not in home
    db.session.expire_all()
    assert not db.session.get(User, rita.id).invited and db.session.get(User, rita.id).email_confirmed
    assert here.can_view(db.session.get(User, rita.id)) and not elsewhere.can_view(db.session.get(User, rita.id))
    # The link is spent.
    again = client.application.test_client().get(link)
    assert again.status_code == 302 and "/login" in again.headers["Location"]


@pytest.mark.parametrize("data, field, message", [
    ({"email": "nav-adrese"}, "email", "Ievadiet e-pasta adresi"),
    ({"email": "admin-esosais@example.lv"}, "email", "jau ir konts"),
    ({"roles": [MUNICIPALITY], "municipalities": []}, "municipalities", "vismaz viena pašvaldība"),
    ({"roles": []}, "roles", "Izvēlieties vismaz vienu lomu"),
    ({"roles": ["applicant"]}, "roles", "Izvēlieties no saraksta"),
    ({"municipalities": ["999999"], "roles": [MUNICIPALITY]}, "municipalities", "Izvēlieties no saraksta"),
])  # fmt: skip
def test_a_bad_invitation_is_refused_beside_the_field_and_stores_nothing(client, factory, data, field, message):
    admin = factory.admin(email="admin-esosais@example.lv")
    db.session.commit()
    login(client, admin.email)
    before = counts()
    form = {"name": "Jānis Jaunais", "email": "janis@example.lv", "roles": [EVALUATOR], "locale": "lv", **data}
    response = client.post("/admin/people/invite", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(rf'<p class="govuk-error-message field-error" id="{field}-error"[^>]*>(.*?)</p>', page, re.S)
    assert error and message in error.group(1), page[page.find("field-error") - 200:][:600]
    assert 'value="Jānis Jaunais"' in page  # what was typed is kept
    assert counts() == before


def test_roles_and_municipalities_change_and_are_logged(client, factory):
    admin, person = factory.admin(), factory.evaluator(name="Ēriks")
    balvi = factory.municipality("Balvu novads")
    db.session.commit()
    login(client, admin.email)
    url = f"/admin/people/{person.id}/roles"
    response = client.post(url, data={"roles": [MUNICIPALITY]})
    assert response.status_code == 422 and "vismaz viena pašvaldība" in response.get_data(as_text=True)
    assert client.post(url, data={"roles": [MUNICIPALITY, EVALUATOR], "municipalities": [str(balvi.id)]}).status_code == 303
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert person.roles == {MUNICIPALITY, EVALUATOR} and person.municipality_ids() == {balvi.id}
    entry = db.session.scalars(select(AdminLogEntry).where(AdminLogEntry.kind == "roles_changed")).one()
    assert entry.before == {"roles": ["evaluator"], "municipalities": []}
    assert entry.after == {"roles": ["evaluator", "municipality"], "municipalities": ["Balvu novads"]}
    page = client.get(f"/admin/people/{person.id}").get_data(as_text=True)
    assert "Balvu novads" in page and "Lomas vai pašvaldības mainītas" in page


def test_the_last_administrator_cannot_be_removed_or_deactivated(client, factory):
    admin = factory.admin(name="Vienīgā")
    db.session.commit()
    login(client, admin.email)
    before = counts()
    response = client.post(f"/admin/people/{admin.id}/roles", data={"roles": [EVALUATOR]})
    assert response.status_code == 422 and "pēdējais aktīvais administrators" in response.get_data(as_text=True)
    response = client.post(f"/admin/people/{admin.id}/active", data={"active": "0"})
    assert response.status_code == 422 and "pēdējais aktīvais administrators" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).active and db.session.get(User, admin.id).is_admin
    assert counts() == before
    # With a second administrator, the first may step down.
    factory.admin()
    db.session.commit()
    assert client.post(f"/admin/people/{admin.id}/roles", data={"roles": [EVALUATOR]}).status_code == 303


def test_deactivating_ends_the_persons_sessions_at_once_and_reactivating_lets_them_in(client, factory):
    admin, evaluator = factory.admin(), factory.evaluator()
    db.session.commit()
    theirs = client.application.test_client()
    login(theirs, evaluator.email)
    assert theirs.get("/review/").status_code == 200
    login(client, admin.email)
    assert client.post(f"/admin/people/{evaluator.id}/active", data={"active": "0"}).status_code == 303
    response = theirs.get("/review/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    failed = client.application.test_client().post("/login", data={"email": evaluator.email, "password": "parole-123456"})
    assert failed.status_code == 200  # refused: the form again
    assert client.post(f"/admin/people/{evaluator.id}/active", data={"active": "1"}).status_code == 303
    login(client.application.test_client(), evaluator.email)
    kinds = db.session.scalars(select(AdminLogEntry.kind).order_by(AdminLogEntry.id)).all()
    assert kinds == ["account_deactivated", "account_reactivated"]


def test_people_list_searches_filters_and_pages(client, factory):
    admin = factory.admin(name="Administrators")
    for n in range(30):
        factory.evaluator(name=f"Vērtētājs {n:02d}", email=f"v{n:02d}@example.lv")
    factory.user(MUNICIPALITY, name="Pašvaldniece", municipality=factory.municipality())
    db.session.commit()
    login(client, admin.email)
    page = client.get("/admin/people?role=evaluator").get_data(as_text=True)
    assert "30 cilvēki" in page and "Vērtētājs 00" in page and "Vērtētājs 29" not in page and "Pašvaldniece" not in page
    page = client.get("/admin/people?role=evaluator&page=2").get_data(as_text=True)
    assert "Vērtētājs 29" in page and "Vērtētājs 00" not in page
    page = client.get("/admin/people?q=V07%40EXAMPLE").get_data(as_text=True)
    assert "Vērtētājs 07" in page and "Vērtētājs 08" not in page
    page = client.get("/admin/people?q=Pa%C5%A1vald").get_data(as_text=True)
    assert "Rēzeknes novads" in page
    for nasty in ("?page=²", "?page=99999999999999999999", "?role=%00", "?q=%25%25_"):
        assert client.get("/admin/people" + nasty).status_code == 200


def test_standing_conflicts_are_honoured_by_manual_and_automatic_assignment(client, factory):
    competition = factory.competition(evaluators_per_idea=1)
    org = factory.organisation()
    member = factory.applicant(org, email="biedrs@example.lv")
    idea = factory.in_review(evaluators=[], competition=competition, org=org)
    admin = factory.admin()
    declared, recorded, free = factory.evaluator(name="Deklarē"), factory.evaluator(name="Ieraksta"), factory.evaluator(name="Brīvs")
    db.session.commit()
    # An evaluator declares a conflict with a person on their profile.
    theirs = client.application.test_client()
    login(theirs, declared.email)
    response = theirs.post("/profile/conflicts", data={"scope": "person", "person_email": "nav@example.lv", "reason": "Māsa"})
    assert response.status_code == 422 and "Nevienam kontam nav šīs e-pasta adreses" in response.get_data(as_text=True)
    response = theirs.post("/profile/conflicts", data={"scope": "person", "person_email": "BIEDRS@example.lv", "reason": "Māsa"})
    assert response.status_code == 303
    # An administrator records one with the organisation for another evaluator.
    login(client, admin.email)
    response = client.post(f"/admin/people/{recorded.id}/conflicts", data={"scope": "organisation", "reason": "Valdē"})
    assert response.status_code == 422 and "Izvēlieties organizāciju" in response.get_data(as_text=True)
    response = client.post(f"/admin/people/{recorded.id}/conflicts",
                           data={"scope": "organisation", "organisation": str(org.id), "reason": "Valdē"})  # fmt: skip
    assert response.status_code == 303
    conflict = db.session.scalars(select(ConflictOfInterest).where(ConflictOfInterest.evaluator_id == recorded.id)).one()
    assert conflict.recorded_by_id == admin.id and conflict.idea_id is None
    assert member.id == db.session.scalars(select(ConflictOfInterest.person_id).where(ConflictOfInterest.evaluator_id == declared.id)).one()
    url = f"/review/ideas/{idea.id}/assignments"
    for evaluator in (declared, recorded):
        page = client.post(url, data={"evaluator_id": evaluator.id}, follow_redirects=True).get_data(as_text=True)
        assert "ir deklarējis interešu konfliktu ar šo ideju" in page
    client.post(f"/review/competitions/{competition.id}/assignments/auto")
    assigned = db.session.scalars(select(Assignment.evaluator_id).where(Assignment.active.is_(True))).all()
    assert assigned == [free.id]
    kinds = db.session.scalars(select(AdminLogEntry.kind).where(AdminLogEntry.object_kind == "account")).all()
    assert kinds.count("conflict_recorded") == 2


def test_recording_a_standing_conflict_steps_the_evaluator_back_from_covered_assignments(client, factory):
    evaluator = factory.evaluator()
    idea = factory.in_review(evaluators=[evaluator])
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    response = client.post(f"/admin/people/{evaluator.id}/conflicts",
                           data={"scope": "municipality", "municipality": str(idea.municipality_id), "reason": "Dzīvo tur"})  # fmt: skip
    assert response.status_code == 303
    assignment = db.session.scalars(select(Assignment).where(Assignment.evaluator_id == evaluator.id)).one()
    assert not assignment.active
    # Withdrawn by the administrator, it is logged and no longer refuses assignment.
    conflict = db.session.scalars(select(ConflictOfInterest)).one()
    assert client.post(f"/admin/people/{evaluator.id}/conflicts", data={"conflict_id": str(conflict.id)}).status_code == 303
    assert db.session.scalar(select(func.count(ConflictOfInterest.id))) == 0
    assert client.post(f"/review/ideas/{idea.id}/assignments", data={"evaluator_id": evaluator.id}).status_code == 303


def test_profile_changes_name_and_language(client, factory):
    user = factory.evaluator(name="Vecais")
    db.session.commit()
    login(client, user.email)
    response = client.post("/profile", data={"name": "", "locale": "en"})
    assert response.status_code == 422 and "Ievadiet savu vārdu" in response.get_data(as_text=True)
    assert client.post("/profile", data={"name": "Jaunais", "locale": "en"}).status_code == 303
    assert 'lang="en"' in client.get("/profile").get_data(as_text=True)
    db.session.expire_all()
    assert (db.session.get(User, user.id).name, db.session.get(User, user.id).locale) == ("Jaunais", "en")


def test_people_pages_are_for_administrators(client, factory):
    evaluator = factory.evaluator()
    db.session.commit()
    login(client, evaluator.email)
    for url in ("/admin/people", "/admin/people/invite", f"/admin/people/{evaluator.id}", "/admin/log"):
        assert client.get(url).status_code == 403
    assert client.post(f"/admin/people/{evaluator.id}/roles", data={"roles": [ADMINISTRATOR]}).status_code == 403
    assert not db.session.get(User, evaluator.id).is_admin
