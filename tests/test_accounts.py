"""Accounts: registering, confirming by a mailed link, logging in with a rate limit, resetting a
forgotten password. Mail goes through a real SMTP server on loopback."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from grantflow.accounts.models import LoginAttempt, User
from grantflow.accounts.operations import confirmation_token, find_user
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.mail.models import OutboxMail
from grantflow.mail.operations import send_pending
from grantflow.workflow import engine
from tests.conftest import IsolatedClient, login
from tests.factories import PASSWORD

GOOD = "rudens-lapas-2026"
HOSTILE = "Jānis Bērziņš 🌻 <script>alert(1)</script> ' OR 1=1; DROP TABLE users;-- שלום"


@pytest.fixture
def mailbox(app, smtp_server):
    """Deliver the outbox to the real SMTP server and return what arrived."""
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)

    def deliver():
        db.session.rollback()  # end the test's snapshot: see the mail that requests queued
        sent, failed = send_pending()
        assert failed == 0
        return smtp_server.messages

    return deliver


def link_in(message, public_url="http://grantflow.test") -> str:
    """The path of the first link to this site in a delivered message."""
    body = message.get_body(("plain",)).get_content()
    match = re.search(re.escape(public_url) + r"(/\S+)", body)
    assert match, body
    return match.group(1)


def register(client, **fields):
    data = {"name": "Anna Bērziņa", "email": "anna@example.lv", "password": GOOD, "password_again": GOOD}
    data.update(fields)
    return client.post("/register", data=data)


def errors_of(page: str) -> dict[str, str]:
    """Field id → its error message, as the `field` macro ties them."""
    return dict(re.findall(
        r'<p class="govuk-error-message field-error" id="([\w-]+)-error">'
        r'<span class="govuk-visually-hidden">[^<]+</span> (.*?)</p>',
        page,
        re.S,
    ))


# --- registering and confirming -------------------------------------------------------------
def test_register_confirm_by_mailed_link_and_log_in(client, mailbox):
    response = register(client)
    assert response.status_code == 303 and response.location.endswith("/login")
    user = find_user("anna@example.lv")
    assert user is not None and not user.email_confirmed and user.name == "Anna Bērziņa"

    messages = mailbox()
    assert len(messages) == 1 and messages[0]["To"] == "anna@example.lv"
    # Unconfirmed users may log in, but not act for an organisation yet.
    login(client, "anna@example.lv", GOOD)
    assert client.get("/orgs/new").location.endswith("/confirm")

    page = client.get(link_in(messages[0]), follow_redirects=True).get_data(as_text=True)
    assert "confirmed" in page or "apstiprināta" in page
    db.session.rollback()
    assert find_user("anna@example.lv").email_confirmed
    assert client.get("/orgs/new").status_code == 200


def test_register_mail_is_in_the_chosen_language(client, mailbox):
    register(client)
    client.post("/language", data={"language": "en", "next": "/"})
    register(client, email="eve@example.lv")
    lv, en = mailbox()
    assert lv["Subject"] == "Apstipriniet savu e-pasta adresi GrantFlow sistēmā"
    assert en["Subject"] == "Confirm your e-mail address for GrantFlow"


def test_resend_confirmation_sends_a_fresh_working_link(client, mailbox):
    register(client)
    login(client, "anna@example.lv", GOOD)
    assert client.get("/confirm").status_code == 200
    assert client.post("/confirm").status_code == 303
    first, second = mailbox()
    client.get(link_in(second))
    db.session.rollback()
    assert find_user("anna@example.lv").email_confirmed


def test_confirmation_link_tampered_expired_or_for_another_address_fails(app, client):
    register(client)
    user = find_user("anna@example.lv")
    token = confirmation_token(user)
    assert "/login" in client.get(f"/confirm/{token[:-2]}xx").location
    assert client.get("/confirm/" + "A" * 3000).status_code == 302
    app.config["EMAIL_CONFIRM_MAX_AGE"] = -1
    client.get(f"/confirm/{token}")
    app.config["EMAIL_CONFIRM_MAX_AGE"] = 3600
    user.email = "other@example.lv"  # the link confirms the address it was sent to, only
    db.session.commit()
    page = client.get(f"/confirm/{token}", follow_redirects=True).get_data(as_text=True)
    assert "nav derīga" in page
    db.session.rollback()
    assert not db.session.get(User, user.id).email_confirmed


def test_registering_a_taken_address_reveals_nothing_and_mails_the_owner(client, factory):
    owner = factory.user(email="taken@example.lv")
    db.session.commit()
    response = register(client, email="Taken@Example.lv", name="Mallory")
    assert response.status_code == 303 and response.location.endswith("/login")
    assert db.session.scalar(select(func.count(User.id))) == 1
    mail = db.session.scalars(select(OutboxMail)).one()
    assert mail.to_addr == owner.email and "/password/forgot" in mail.body_text


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"name": ""}, "name", "Ievadiet savu vārdu"),
        ({"name": "x" * 201}, "name", "Ne vairāk kā 200"),
        ({"email": ""}, "email", "Ievadiet savu e-pasta adresi"),
        ({"email": "not-an-address"}, "email", "vards@example.lv"),
        ({"email": "jānis@example.lv"}, "email", "vards@example.lv"),
        ({"email": "a@b.lv'; DROP TABLE users;--"}, "email", "vards@example.lv"),
        ({"password": "short", "password_again": "short"}, "password", "vismaz 10"),
        ({"password": "anna@example.lv", "password_again": "anna@example.lv"}, "password", "e-pasta adrese"),
        ({"password": "aaaaaaaaaaaa", "password_again": "aaaaaaaaaaaa"}, "password", "pārāk viegli"),
        ({"password_again": "something-else"}, "password_again", "atšķiras"),
        ({"password": "x" * 201, "password_again": "x" * 201}, "password", "Ne vairāk kā 200"),
    ],
)
def test_register_bad_input_is_explained_beside_the_field_and_kept(client, fields, field, message):
    response = register(client, **fields)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    errors = errors_of(page)
    assert list(errors) == [field] and message in errors[field], errors
    assert f'aria-describedby="{field}-error' in page
    if field != "name":
        assert 'value="Anna Bērziņa"' in page  # what was typed is kept (passwords excepted)
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_hostile_and_unicode_names_are_stored_as_typed_and_shown_escaped(client):
    register(client, name=HOSTILE)
    assert find_user("anna@example.lv").name == HOSTILE
    login(client, "anna@example.lv", GOOD)
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "🌻" in page and "שלום" in page


def test_control_characters_never_reach_the_database(client, factory):
    """PostgreSQL refuses NUL in text: it must be dropped, not turned into a 500."""
    factory.user(email="anna@example.lv")
    db.session.commit()
    assert client.post("/login", data={"email": "anna\x00@example.lv", "password": "x\x00" * 6}).status_code == 200
    assert client.post("/password/forgot", data={"email": "\x00anna@example.lv"}).status_code == 303
    assert register(client, name="Jānis\x00 Bērziņš\x07", email="janis@example.lv").status_code == 303
    db.session.rollback()
    assert find_user("janis@example.lv").name == "Jānis Bērziņš"


def test_idn_domain_is_stored_in_ascii_so_mail_can_be_sent(client):
    register(client, email="anna@pūce.lv")
    assert find_user("anna@xn--pce-50a.lv") is not None


def test_unconfirmed_user_cannot_submit_an_idea(app, factory):
    org = factory.organisation()
    member = factory.applicant(org)
    member.email_confirmed_at = None
    idea = factory.idea(org=org)
    db.session.commit()
    with pytest.raises(Refused) as refused:
        engine.fire(idea, "submit", member)
    assert any("e-pasta" in str(reason) or "e-mail" in str(reason) for reason in refused.value.messages)
    assert "submit" not in {t.trigger for t in engine.available(idea, member)}


# --- logging in ------------------------------------------------------------------------------
def test_login_wrong_password_and_unknown_address_get_the_same_answer(client, factory):
    factory.user(email="anna@example.lv")
    db.session.commit()
    wrong = client.post("/login", data={"email": "anna@example.lv", "password": "nepareizi-123"})
    unknown = client.post("/login", data={"email": "nobody@example.lv", "password": "nepareizi-123"})
    for response in (wrong, unknown):
        assert response.status_code == 200 and "Nepareizs e-pasts vai parole" in response.get_data(as_text=True)


def test_login_refuses_to_redirect_off_site(client, factory):
    factory.user(email="anna@example.lv")
    db.session.commit()
    response = client.post("/login?next=https://evil.example/x", data={"email": "anna@example.lv", "password": PASSWORD})
    assert response.location == "/"


def test_login_page_links_to_register_and_forgotten_password(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/register"' in page and 'href="/password/forgot"' in page


def fail(client, email, ip="10.0.0.1"):
    return client.post(
        "/login", data={"email": email, "password": "nepareizi-123"}, environ_base={"REMOTE_ADDR": ip}
    )


def age_attempts(minutes):
    """Move the recorded failures back in time, as if the minutes had passed."""
    db.session.rollback()
    for attempt in db.session.scalars(select(LoginAttempt)):
        attempt.attempted_at -= timedelta(minutes=minutes)
    db.session.commit()


def test_login_failures_from_one_address_wait_longer_then_lock_that_address(app, client, factory):
    factory.user(email="anna@example.lv")
    db.session.commit()
    for _ in range(3):
        assert fail(client, "anna@example.lv").status_code == 200
    # Past the second failure each one makes the pair wait longer: one minute, then two.
    blocked = client.post(
        "/login", data={"email": "ANNA@example.lv", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.1"}
    )
    assert blocked.status_code == 429
    assert "Pārāk daudz mēģinājumu. Mēģiniet vēlreiz pēc 1 minūtes." in blocked.get_data(as_text=True)
    age_attempts(minutes=1)
    assert fail(client, "anna@example.lv").status_code == 200
    assert "pēc 2 minūtēm" in fail(client, "anna@example.lv").get_data(as_text=True)
    age_attempts(minutes=2)
    assert fail(client, "anna@example.lv").status_code == 200  # the fifth: this address is locked out
    client.post("/language", data={"language": "en", "next": "/"})
    page = fail(client, "anna@example.lv").get_data(as_text=True)
    assert "Too many attempts. Try again in 12 minutes." in page

    # When the window has passed, login works from that address too and the failures are forgotten.
    age_attempts(minutes=13)
    ok = client.post(
        "/login", data={"email": "anna@example.lv", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.1"}
    )
    assert ok.status_code == 302
    assert db.session.scalar(select(func.count(LoginAttempt.id)).where(LoginAttempt.key.like("pair:%"))) == 0


def test_login_is_rate_limited_per_ip_across_workers(make_app, app, factory):
    """Two application instances on one database stand for two gunicorn workers."""
    factory.user(email="anna@example.lv")
    db.session.commit()
    app.config["LOGIN_LIMIT_PER_IP"] = 4
    app.test_client_class = IsolatedClient  # a worker's own session, not the test's (its lock)
    worker_a = app.test_client()
    worker_b = make_app(LOGIN_LIMIT_PER_IP=4).test_client()
    for i, worker in enumerate([worker_a, worker_b, worker_a, worker_b]):
        assert fail(worker, f"guess{i}@example.lv").status_code == 200
    assert fail(worker_b, "guess9@example.lv").status_code == 429
    assert fail(worker_a, "anna@example.lv").status_code == 429
    ok = worker_b.post(
        "/login", data={"email": "anna@example.lv", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    assert ok.status_code == 302


# --- forgotten password ---------------------------------------------------------------------
def test_password_reset_by_mailed_link_works_once(client, factory, mailbox):
    factory.user(email="anna@example.lv")
    db.session.commit()
    response = client.post("/password/forgot", data={"email": "Anna@example.lv "})
    assert response.status_code == 303
    (message,) = mailbox()
    path = link_in(message)
    assert client.get(path).status_code == 200

    response = client.post(path, data={"password": GOOD, "password_again": GOOD})
    assert response.status_code == 303 and response.location.endswith("/login")
    login(client, "anna@example.lv", GOOD)
    client.post("/logout")
    assert client.post("/login", data={"email": "anna@example.lv", "password": PASSWORD}).status_code == 200

    # The link is spent: the password it was bound to has changed.
    again = client.post(path, data={"password": "cits-labs-vārds", "password_again": "cits-labs-vārds"})
    assert again.status_code == 302 and again.location.endswith("/password/forgot")
    login(client, "anna@example.lv", GOOD)


def test_password_reset_link_expires(app, client, factory, mailbox):
    factory.user(email="anna@example.lv")
    db.session.commit()
    client.post("/password/forgot", data={"email": "anna@example.lv"})
    path = link_in(mailbox()[0])
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    assert "vairs nav derīga" in page


def test_password_reset_for_unknown_address_says_the_same_and_sends_nothing(client):
    response = client.post("/password/forgot", data={"email": "nobody@example.lv"}, follow_redirects=True)
    assert "nobody@example.lv" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 0


def test_password_reset_link_uses_the_public_url_not_the_request_host(client, factory):
    factory.user(email="anna@example.lv")
    db.session.commit()
    client.post("/password/forgot", data={"email": "anna@example.lv"}, headers={"Host": "evil.example"})
    body = db.session.scalars(select(OutboxMail)).one().body_text
    assert "http://grantflow.test/password/reset/" in body and "evil.example" not in body


def test_password_reset_form_explains_bad_passwords(client, factory, mailbox):
    factory.user(email="anna@example.lv")
    db.session.commit()
    client.post("/password/forgot", data={"email": "anna@example.lv"})
    path = link_in(mailbox()[0])
    for password, again, message in [
        ("", "", "Izvēlieties paroli"),
        ("īsa", "īsa", "vismaz 10"),
        ("anna@example.lv", "anna@example.lv", "e-pasta adrese"),
        (GOOD, GOOD + "x", "atšķiras"),
    ]:
        response = client.post(path, data={"password": password, "password_again": again})
        assert response.status_code == 200
        assert message in " ".join(errors_of(response.get_data(as_text=True)).values())
    login(client, "anna@example.lv")  # the old password still works


def test_forms_enforce_csrf(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    assert client.post("/login", data={"email": "a@example.lv", "password": "x" * 12}).status_code == 400
    assert client.post("/register", data={"name": "A", "email": "a@example.lv"}).status_code == 400
    page = client.get("/register").get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_mail_sending_forms_are_limited_per_address(app, client, factory):
    app.config.update(MAIL_LIMIT_PER_EMAIL=2, MAIL_LIMIT_PER_IP=50)
    user = factory.applicant(email="limits@example.lv")
    db.session.commit()

    def outbox_to(address):
        return db.session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.to_addr == address))

    for _ in range(2):
        assert client.post("/password/forgot", data={"email": user.email}).status_code == 303
    refused = client.post("/password/forgot", data={"email": user.email})
    assert refused.status_code == 429
    assert "Pārāk daudz mēģinājumu" in refused.get_data(as_text=True)
    assert outbox_to(user.email) == 2
    # Another address from the same place is still served.
    assert client.post("/password/forgot", data={"email": "cits@example.lv"}).status_code == 303


def test_mail_sending_forms_are_limited_per_ip(app, client, factory):
    app.config.update(MAIL_LIMIT_PER_EMAIL=50, MAIL_LIMIT_PER_IP=3)
    for n in range(3):
        assert client.post("/password/forgot", data={"email": f"a{n}@example.lv"}).status_code == 303
    assert client.post("/password/forgot", data={"email": "a9@example.lv"}).status_code == 429
    page = client.post("/register", data={"name": "Jānis", "email": "jauns@example.lv", "password": "gara-parole-123", "password_again": "gara-parole-123"})
    assert page.status_code == 429  # refused before any account or mail is made
    assert db.session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.to_addr == "jauns@example.lv")) == 0
