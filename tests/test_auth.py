"""Logging in and out, CSRF, and the session hardening around them."""

from grantflow.core.extensions import db
from tests.conftest import login
from tests.factories import PASSWORD


def test_login_and_logout(client, factory):
    user = factory.applicant()
    db.session.commit()
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert user.name in client.get("/").get_data(as_text=True)
    client.post("/logout")
    assert "Ienākt" in client.get("/").get_data(as_text=True)


def test_wrong_password_keeps_the_email_and_says_so(client, factory):
    user = factory.applicant()
    db.session.commit()
    page = client.post("/login", data={"email": user.email, "password": "nepareiza"}).get_data(as_text=True)
    assert "Nepareizs e-pasts vai parole." in page
    assert f'value="{user.email}"' in page


def test_inactive_user_cannot_log_in(client, factory):
    user = factory.applicant()
    user.active = False
    db.session.commit()
    page = client.post("/login", data={"email": user.email, "password": PASSWORD}).get_data(as_text=True)
    assert "Nepareizs e-pasts vai parole." in page


def test_empty_and_malformed_login_input_gets_messages_not_errors(client):
    page = client.post("/login", data={"email": "<script>x</script>", "password": ""})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<script>x</script>" not in text and "&lt;script&gt;" in text


def test_login_redirects_only_inside_the_site(client, factory):
    user = factory.applicant()
    db.session.commit()
    response = client.post("/login?next=https://evil.example/", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/admin/", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/admin/"


def test_pages_that_need_login_send_you_to_it(client):
    response = client.get("/ideas/1")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_csrf_is_enforced_on_forms(make_app):
    from tests.conftest import IsolatedClient

    app = make_app(WTF_CSRF_ENABLED=True)
    app.test_client_class = IsolatedClient
    client = app.test_client()
    assert client.post("/login", data={"email": "a@example.lv", "password": "x"}).status_code == 400
    assert client.post("/language", data={"language": "en"}).status_code == 400


def test_password_is_stored_hashed(factory):
    from grantflow.accounts.operations import create_user

    user = create_user("jauns@example.lv", "Jauns", "slepena-parole-1")
    assert "slepena" not in user.password_hash and user.check_password("slepena-parole-1")


def test_session_cookie_is_hardened(client, factory):
    user = factory.applicant()
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_security_headers(client):
    headers = client.get("/").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_changing_the_password_ends_other_sessions(client, app, factory):
    user = factory.applicant()
    db.session.commit()
    login(client, user.email)
    assert user.name in client.get("/").get_data(as_text=True)
    user.set_password("cita-gara-parole-42")
    db.session.commit()
    assert user.name not in client.get("/").get_data(as_text=True)


def test_huge_ids_in_urls_are_404(client, factory):
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    assert client.get("/ideas/99999999999999999999").status_code == 404
    assert client.get("/admin/competitions/2147483648").status_code == 404


def test_behind_a_proxy_the_client_address_is_taken_from_the_proxy_headers(make_app):
    from flask import request

    app = make_app(PROXY_FIX=1)

    @app.get("/whoami")
    def whoami():
        return request.remote_addr

    response = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.get_data(as_text=True) == "203.0.113.9"
