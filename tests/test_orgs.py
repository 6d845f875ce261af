"""Organisation profiles: creating and editing them, who may see and change them, inviting
members by a mailed link."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from grantflow.accounts.operations import find_user
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.organisations.models import Invitation, Membership, Organisation
from grantflow.territory.models import Municipality, Parish
from tests.conftest import login
from tests.factories import register_number
from tests.test_accounts import GOOD, HOSTILE, errors_of, link_in, mailbox  # noqa: F401 (a fixture)

REG_NO = register_number(4242)


def place(municipality="Rēzeknes novads", parish="Kaunatas pagasts"):
    m = db.session.scalars(select(Municipality).where(Municipality.name == municipality)).one()
    p = db.session.scalars(select(Parish).where(Parish.municipality_id == m.id, Parish.name == parish)).one() if parish else None
    return m, p


def org_data(**fields):
    m, p = place()
    data = {
        "name": 'Biedrība "Kaunatas kopiena"',
        "legal_form": "association",
        "registration_number": REG_NO,
        "iban": "lv80 bank 0000 4351 9500 1",
        "address": "Skolas iela 3, Kaunata",
        "municipality": str(m.id),
        "parish": str(p.id),
        "contact_person": "Anna Bērziņa",
        "phone": "+371 26 123 456",
        "email": "kopiena@example.lv",
    }
    data.update(fields)
    return data


@pytest.fixture
def member(client, factory):
    """A logged-in, confirmed user with no organisation yet."""
    user = factory.user(email="anna@example.lv")
    db.session.commit()
    login(client, "anna@example.lv")
    return user


def test_create_organisation_stores_clean_values_and_makes_the_creator_a_member(client, member):
    response = client.post("/orgs/new", data=org_data())
    assert response.status_code == 303
    db.session.rollback()
    org = db.session.scalars(select(Organisation)).one()
    assert org.registration_number == REG_NO and org.iban == "LV80BANK0000435195001"
    assert (org.municipality.name, org.parish.name) == ("Rēzeknes novads", "Kaunatas pagasts")
    assert [m.user_id for m in org.memberships] == [member.id]
    assert response.location == f"/orgs/{org.id}"
    page = client.get(response.location).get_data(as_text=True)
    assert "LV80 BANK 0000 4351 9500 1" in page and "Biedrība" in page and "Kaunatas pagasts" in page
    listing = client.get("/orgs/").get_data(as_text=True)
    assert "Kaunatas kopiena" in listing
    assert 'href="/orgs/"' in listing  # "My organisations" in the navigation


def test_form_offers_legal_forms_in_both_languages_and_parishes_grouped_by_municipality(client, member):
    page = client.get("/orgs/new").get_data(as_text=True)
    for label in ("Biedrība", "Nodibinājums", "Iedzīvotāju padome", "Neformāla iniciatīvas grupa", "Skola", "Pašvaldības iestāde"):
        assert label in page
    assert '<optgroup label="Rēzeknes novads">' in page and "Kaunatas pagasts" in page
    assert "parishes.js" in page
    client.post("/language", data={"language": "en", "next": "/"})
    page = client.get("/orgs/new").get_data(as_text=True)
    for label in ("Association", "Foundation", "council", "Informal initiative group", "School", "Municipal institution"):
        assert label in page


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"name": ""}, "name", "Ievadiet organizācijas nosaukumu"),
        ({"name": "x" * 301}, "name", "Ne vairāk kā 300"),
        ({"legal_form": ""}, "legal_form", "Izvēlieties juridisko formu"),
        ({"legal_form": "kolhozs"}, "legal_form", "Izvēlieties vienu no saraksta"),
        ({"registration_number": ""}, "registration_number", "šai juridiskajai formai tāds ir"),
        ({"registration_number": REG_NO[:-1] + str((int(REG_NO[-1]) + 1) % 10)}, "registration_number", "kontrolcipar"),
        ({"registration_number": "4000801234"}, "registration_number", "kontrolcipar"),
        ({"registration_number": "abc'; DROP TABLE organisations;--"}, "registration_number", "Ne vairāk kā 20"),
        ({"registration_number": "32867300679"}, "registration_number", "nevis personas kodu"),
        ({"iban": "LV80BANK0000435195002"}, "iban", "IBAN nav derīgs"),
        ({"address": " "}, "address", "Ievadiet adresi"),
        ({"municipality": ""}, "municipality", "Izvēlieties pašvaldību"),
        ({"municipality": "999999"}, "municipality", "Izvēlieties vienu no saraksta"),
        ({"municipality": "abc"}, "municipality", "Izvēlieties vienu no saraksta"),
        ({"parish": ""}, "parish", "Izvēlieties pagastu vai pilsētu (Rēzeknes novads)"),
        ({"parish": "0"}, "parish", "Izvēlieties vienu no saraksta"),
        ({"contact_person": ""}, "contact_person", "kontaktpersonas"),
        ({"phone": "zvaniet man"}, "phone", "+371 26123456"),
        ({"phone": "123"}, "phone", "+371 26123456"),
        ({"email": "nav adrese"}, "email", "vards@example.lv"),
    ],
)
def test_bad_input_is_explained_beside_its_field_and_everything_typed_is_kept(client, member, fields, field, message):
    data = org_data(**fields)
    response = client.post("/orgs/new", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    errors = errors_of(page)
    assert list(errors) == [field] and message in errors[field], errors
    assert f'aria-describedby="{field}-error' in page
    db.session.rollback()
    kept = {"name": "Kaunatas kopiena", "address": "Skolas iela 3, Kaunata", "contact_person": "Anna Bērziņa"}
    assert all(value in page for name, value in kept.items() if name != field)  # what was typed is kept
    assert db.session.scalar(select(func.count(Organisation.id))) == 0


def test_parish_must_lie_in_the_chosen_municipality(client, member):
    _, elsewhere = place("Augšdaugavas novads", "Ambeļu pagasts")
    response = client.post("/orgs/new", data=org_data(parish=str(elsewhere.id)))
    assert "Ambeļu pagasts neatrodas izvēlētajā pašvaldībā" in errors_of(response.get_data(as_text=True))["parish"]
    assert f'<option selected value="{elsewhere.id}">' in response.get_data(as_text=True)


def test_city_without_parishes_and_informal_group_without_number_or_account(client, member):
    city, _ = place("Daugavpils", None)
    data = org_data(
        legal_form="initiative_group", registration_number="", iban="", municipality=str(city.id), parish="", email=""
    )
    assert client.post("/orgs/new", data=data).status_code == 303
    db.session.rollback()
    org = db.session.scalars(select(Organisation)).one()
    assert org.registration_number is None and org.iban is None and org.parish is None


def test_hostile_and_unicode_text_is_stored_as_typed_and_shown_escaped(client, member):
    rtl = "مجموعة المبادرة"
    data = org_data(name=HOSTILE, address=f"Ezera iela 1 🏡 {rtl}", contact_person="Ļoļa\x00 Ķēniņa\x07 <b>")
    assert client.post("/orgs/new", data=data).status_code == 303
    db.session.rollback()
    org = db.session.scalars(select(Organisation)).one()
    assert org.name == HOSTILE and org.address.endswith(rtl) and org.contact_person == "Ļoļa Ķēniņa <b>"
    for url in (f"/orgs/{org.id}", "/orgs/", f"/orgs/{org.id}/edit"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<b>" not in page


def test_edit_shows_saved_values_and_saves_changes(client, member, factory):
    org = factory.organisation(members=[member])
    db.session.commit()
    page = client.get(f"/orgs/{org.id}/edit").get_data(as_text=True)
    assert f'value="{org.registration_number}"' in page and 'value="Skolas iela 1"' in page
    assert '<option selected value="association">' in page
    response = client.post(f"/orgs/{org.id}/edit", data=org_data(name="Jaunais nosaukums"))
    assert response.status_code == 303
    db.session.rollback()
    assert db.session.get(Organisation, org.id).name == "Jaunais nosaukums"


def test_edit_with_errors_saves_nothing(client, member, factory):
    org = factory.organisation(members=[member], name="Vecais")
    db.session.commit()
    response = client.post(f"/orgs/{org.id}/edit", data=org_data(name="Jaunais", iban="nav IBAN"))
    assert response.status_code == 400 and 'value="Jaunais"' in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Organisation, org.id).name == "Vecais"


# --- who may see and change what ------------------------------------------------------------
def test_nobody_sees_or_changes_another_organisation(client, member, factory):
    mine = factory.organisation(members=[member], name="Mana")
    theirs = factory.organisation(members=[factory.user()], name="Svešā")
    db.session.commit()
    for method, url in [
        ("get", f"/orgs/{theirs.id}"),
        ("get", f"/orgs/{theirs.id}/edit"),
        ("post", f"/orgs/{theirs.id}/edit"),
        ("post", f"/orgs/{theirs.id}/invite"),
        ("get", "/orgs/999999"),
        ("get", "/orgs/99999999999999999999"),  # beyond any integer column: still a plain 404
        ("post", "/orgs/2147483648/edit"),
    ]:
        response = getattr(client, method)(url, data=org_data(name="Uzlauzts") if method == "post" else None)
        assert response.status_code == 404, url
    assert "Svešā" not in client.get("/orgs/").get_data(as_text=True)

    # Extra or forged fields naming another organisation change nothing but one's own.
    data = org_data(name="Mana 2", id=str(theirs.id), organisation_id=str(theirs.id), org_id=str(theirs.id))
    assert client.post(f"/orgs/{mine.id}/edit", data=data).status_code == 303
    db.session.rollback()
    assert db.session.get(Organisation, theirs.id).name == "Svešā"
    assert db.session.get(Organisation, mine.id).name == "Mana 2"
    assert db.session.scalar(select(func.count(Membership.id)).where(Membership.organisation_id == theirs.id)) == 1


def test_anonymous_visitors_are_sent_to_log_in(client, factory):
    org = factory.organisation()
    db.session.commit()
    for url in ("/orgs/", "/orgs/new", f"/orgs/{org.id}", f"/orgs/{org.id}/edit"):
        assert "/login" in client.get(url).location


def test_administrator_may_look_but_not_edit(client, factory):
    org = factory.organisation(members=[factory.user()])
    factory.admin(email="admin@example.lv")
    db.session.commit()
    login(client, "admin@example.lv")
    assert client.get(f"/orgs/{org.id}").status_code == 200
    assert client.get(f"/orgs/{org.id}/edit").status_code == 403
    assert client.post(f"/orgs/{org.id}/invite", data={"email": "x@example.lv"}).status_code == 403


def test_member_with_unconfirmed_email_cannot_act_for_the_organisation(client, factory):
    user = factory.user(email="anna@example.lv")
    user.email_confirmed_at = None
    org = factory.organisation(members=[user])
    db.session.commit()
    login(client, "anna@example.lv")
    assert client.get(f"/orgs/{org.id}").status_code == 200
    assert client.post(f"/orgs/{org.id}/edit", data=org_data()).status_code == 403
    assert client.post(f"/orgs/{org.id}/invite", data={"email": "x@example.lv"}).status_code == 403
    assert "/confirm" in client.post("/orgs/new", data=org_data()).location


# --- invitations ----------------------------------------------------------------------------
def invite(client, org, email):
    return client.post(f"/orgs/{org.id}/invite", data={"email": email})


def test_invited_person_registers_from_the_link_and_becomes_a_confirmed_member(app, client, member, factory, mailbox):
    org = factory.organisation(members=[member], name="Kaunatas kopiena")
    db.session.commit()
    assert invite(client, org, "Janis@Example.lv").status_code == 303
    assert "janis@example.lv" in client.get(f"/orgs/{org.id}").get_data(as_text=True)
    client.post("/logout")
    (message,) = mailbox()
    assert message["To"] == "janis@example.lv" and "Kaunatas kopiena" in message["Subject"]
    path = link_in(message)

    page = client.get(path).get_data(as_text=True)
    register_url = re.search(r'href="(/invitations/[^"/]+/register)"', page).group(1)
    assert "Kaunatas kopiena" in page
    page = client.get(register_url).get_data(as_text=True)
    assert 'value="janis@example.lv"' in page
    response = client.post(
        register_url,
        data={"name": "Jānis", "email": "janis@example.lv", "password": GOOD, "password_again": GOOD},
    )
    assert response.status_code == 303 and response.location == f"/orgs/{org.id}"
    db.session.rollback()
    janis = find_user("janis@example.lv")
    assert janis.email_confirmed and org.id in janis.organisation_ids()
    assert client.get(f"/orgs/{org.id}/edit").status_code == 200  # logged in and may act
    assert client.get(path).status_code == 404  # the link is spent


def test_logged_in_user_accepts_an_invitation_for_their_own_address_only(client, member, factory, mailbox):
    org = factory.organisation(members=[member])
    factory.user(email="janis@example.lv")
    factory.user(email="eve@example.lv")
    db.session.commit()
    invite(client, org, "janis@example.lv")
    client.post("/logout")
    path = link_in(mailbox()[0])

    login(client, "eve@example.lv")
    page = client.post(path, follow_redirects=True).get_data(as_text=True)
    assert "citu e-pasta adresi" in page
    db.session.rollback()
    assert org.id not in find_user("eve@example.lv").organisation_ids()
    client.post("/logout")

    login(client, "janis@example.lv")
    assert client.get(path).status_code == 200
    assert client.post(path).location == f"/orgs/{org.id}"
    db.session.rollback()
    assert org.id in find_user("janis@example.lv").organisation_ids()
    assert client.post(path).status_code == 404


def test_registering_with_another_address_does_not_use_the_invitation(client, member, factory):
    org = factory.organisation(members=[member])
    db.session.commit()
    invite(client, org, "janis@example.lv")
    client.post("/logout")
    db.session.rollback()
    invitation = db.session.scalars(select(Invitation)).one()
    # A forged hidden field: a real invitation's hash is not its token, and no token matches.
    response = client.post(
        "/register",
        data={"name": "Eve", "email": "eve@example.lv", "password": GOOD, "password_again": GOOD, "invitation": invitation.token_hash},
    )
    assert response.location.endswith("/login")
    db.session.rollback()
    eve = find_user("eve@example.lv")
    assert not eve.email_confirmed and not eve.organisation_ids()


def test_expired_invitation_is_refused(client, member, factory, mailbox):
    org = factory.organisation(members=[member])
    db.session.commit()
    invite(client, org, "janis@example.lv")
    path = link_in(mailbox()[0])
    db.session.rollback()
    db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 404 and "beidzies" in response.get_data(as_text=True)


def test_invite_form_bad_input_and_existing_member(client, member, factory):
    org = factory.organisation(members=[member])
    db.session.commit()
    for email, message in [("", "Ievadiet"), ("nav adrese", "vards@example.lv"), ("anna@example.lv", "jau ir biedrs")]:
        response = invite(client, org, email)
        assert response.status_code == 400
        assert message in errors_of(response.get_data(as_text=True))["email"]
    db.session.rollback()
    assert db.session.scalar(select(func.count(Invitation.id))) == 0


def test_my_organisations_lists_only_mine_in_a_fixed_number_of_queries(app, client, member, factory):
    from markupsafe import escape
    from sqlalchemy import event

    orgs = [factory.organisation(members=[member]) for _ in range(5)]
    factory.organisation(members=[factory.user()], name="Svešā")
    db.session.commit()
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = client.get("/orgs/").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert all(str(escape(o.name)) in page for o in orgs) and "Svešā" not in page
    assert len(statements) <= 6, statements
