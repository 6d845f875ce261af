"""Autosave's server convention (grantflow/core/drafts.py): a form posted in the background
with `X-Autosave: 1` is kept as a draft without being complete, answered 204 with the Riga
time, and never does the form's real action; forms without a draft of their own keep what
was typed per person and page, give it back when the page is opened again and drop it when
the form is sent. The browser side is tests/browser/test_autosave.py."""

import re

import pytest
from sqlalchemy import func, select

from grantflow.core.drafts import FormDraft
from grantflow.core.extensions import db
from grantflow.ideas.models import Idea
from grantflow.messages.models import Message
from tests.conftest import IsolatedClient, login

AUTOSAVE = {"X-Autosave": "1"}


def client_of(app, user):
    app.test_client_class = IsolatedClient
    client = app.test_client()
    login(client, user.email)
    return client


def drafts_count() -> int:
    return db.session.scalar(select(func.count()).select_from(FormDraft))


def test_idea_autosave_keeps_an_incomplete_draft_and_does_nothing_else(app, factory):
    idea = factory.idea(title="Sākums")
    applicant = factory.member_of(idea.organisation)
    db.session.commit()
    version, state = idea.version, idea.state
    response = client_of(app, applicant).post(
        f"/apply/{idea.id}",
        data={"title": "Kopienas dārzs", "summary": "", "expected_participants": "daudz", "action": "submit"},
        headers=AUTOSAVE,
    )
    assert response.status_code == 204, response.get_data(as_text=True)[:300]
    assert re.fullmatch(r"\d\d:\d\d", response.headers["X-Saved-At"])
    assert response.get_data() == b""
    db.session.expire_all()
    saved = db.session.get(Idea, idea.id)
    # Saved as typed, the unreadable number kept as typed, not submitted although "submit" was sent.
    assert saved.title == "Kopienas dārzs" and saved.draft_raw.get("expected_participants") == "daudz"
    assert saved.state == state and saved.reference is None and saved.version == version + 1


def test_idea_autosave_is_refused_once_the_idea_is_filed(app, factory):
    idea = factory.submitted()
    applicant = factory.member_of(idea.organisation)
    db.session.commit()
    title = idea.title
    response = client_of(app, applicant).post(f"/apply/{idea.id}", data={"title": "Vēlāk"}, headers=AUTOSAVE)
    assert response.status_code == 409 and response.get_data() == b""
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).title == title


def test_autosave_needs_the_forms_token(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        idea = factory.idea(title="Sākums")
        applicant = factory.member_of(idea.organisation)
        db.session.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        client.post("/login", data={"email": applicant.email, "password": "parole-123456", "csrf_token": token})
        response = client.post(f"/apply/{idea.id}", data={"title": "Bez žetona"}, headers=AUTOSAVE)
        assert response.status_code == 400
        db.session.expire_all()
        assert db.session.get(Idea, idea.id).title == "Sākums"


@pytest.fixture
def question(app, factory):
    idea = factory.in_review(evaluators=[factory.evaluator()])
    admin, applicant = factory.admin(), factory.member_of(idea.organisation)
    db.session.commit()
    client_of(app, admin).post(f"/ideas/{idea.id}/messages/new", data={"kind": "question", "body": "Kāda ir cena?", "open_fields": ["title"]})
    message = db.session.scalars(select(Message)).one()
    return message, applicant


def test_an_answer_typed_and_left_is_kept_given_back_and_dropped_when_sent(app, factory, question):
    message, applicant = question
    client = client_of(app, applicant)
    url = f"/messages/{message.id}/answer"
    response = client.post(url, data={"body": "Cena ir 450 eiro", "title": "Jauns nosaukums"}, headers=AUTOSAVE)
    assert response.status_code == 204 and response.headers["X-Saved-At"]
    assert db.session.get(Message, message.id).is_open  # not sent
    assert drafts_count() == 1
    # Another person's page is not theirs: the draft is per person and page.
    page = client_of(app, factory.admin()).get(f"/ideas/{message.idea_id}/messages/new").get_data(as_text=True)
    assert "Cena ir 450 eiro" not in page
    # Opened again: what was typed is filled in, and the page says so.
    page = client.get(url).get_data(as_text=True)
    assert "Cena ir 450 eiro" in page and 'value="Jauns nosaukums"' in page
    assert "ir saglabāts un ievietots zemāk" in page
    # Sent: the answer goes, the kept draft is dropped.
    response = client.post(url, data={"body": "Cena ir 450 eiro", "title": "Jauns nosaukums"})
    assert response.status_code == 303
    db.session.expire_all()
    assert not db.session.get(Message, message.id).is_open
    assert drafts_count() == 0


def test_profile_autosave_changes_nothing_until_sent(app, factory):
    person = factory.applicant(name="Anna Bērziņa")
    db.session.commit()
    client = client_of(app, person)
    response = client.post("/profile", data={"name": "", "locale": "lv"}, headers=AUTOSAVE)
    assert response.status_code == 204  # an empty name is kept as typed, not refused
    db.session.expire_all()
    assert db.session.get(type(person), person.id).name == "Anna Bērziņa"
    page = client.get("/profile").get_data(as_text=True)
    assert 'value="Anna Bērziņa"' not in page and "ir saglabāts un ievietots zemāk" in page


def test_organisation_form_typed_is_kept_and_dropped_when_saved(app, factory):
    org = factory.organisation(name="Biedrība Sākums")
    member = factory.member_of(org)
    db.session.commit()
    client = client_of(app, member)
    url = f"/orgs/{org.id}/edit"
    assert client.post(url, data={"name": "Biedrība Jaunais nosaukums", "iban": "nav IBAN"}, headers=AUTOSAVE).status_code == 204
    db.session.expire_all()
    assert db.session.get(type(org), org.id).name == "Biedrība Sākums"  # kept, not saved into the organisation
    page = client.get(url).get_data(as_text=True)
    assert 'value="Biedrība Jaunais nosaukums"' in page and 'value="nav IBAN"' in page
    assert drafts_count() == 1


def test_a_section_page_autosaves_its_answers_as_save_and_continue_does(app, factory):
    """The form-as-data section pages (/apply/<id>/sections/<key>) carry data-autosave: a
    background post keeps the half-typed section as a draft and goes nowhere."""
    idea = factory.idea(title="Sākums")
    applicant = factory.member_of(idea.organisation)
    db.session.commit()
    client = client_of(app, applicant)
    assert "data-autosave" in client.get(f"/apply/{idea.id}/sections/idea").get_data(as_text=True)
    response = client.post(f"/apply/{idea.id}/sections/idea", data={"title": "Dārzs pie skolas", "goals": "Satikties"},
                           headers=AUTOSAVE)  # fmt: skip
    assert response.status_code == 204 and re.fullmatch(r"\d\d:\d\d", response.headers["X-Saved-At"])
    db.session.expire_all()
    saved = db.session.get(Idea, idea.id)
    assert saved.title == "Dārzs pie skolas" and saved.goals == "Satikties" and saved.reference is None


def test_a_section_autosave_is_refused_once_the_idea_is_filed(app, factory):
    idea = factory.submitted()
    applicant = factory.member_of(idea.organisation)
    db.session.commit()
    title = idea.title
    response = client_of(app, applicant).post(f"/apply/{idea.id}/sections/idea", data={"title": "Vēlāk"}, headers=AUTOSAVE)
    assert response.status_code == 409 and response.get_data() == b""
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).title == title
