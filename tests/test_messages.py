"""Messages on an idea: a question reopening fields and a budget line, the applicant's answer
with a file and corrections (audited before and after), internal and shared staff notes, who
sees what (page, mails, files), and bad input refused beside the field with nothing stored."""

import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from grantflow.accounts.models import MUNICIPALITY
from grantflow.core.extensions import db
from grantflow.ideas.models import Idea
from grantflow.mail.models import OutboxMail
from grantflow.messages.models import Message, MessageFile
from grantflow.workflow.models import AuditEntry
from tests.conftest import IsolatedClient, login
from tests.querycount import count_queries

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(app, factory):
    evaluator, other_evaluator = factory.evaluator(), factory.evaluator()
    idea = factory.in_review(evaluators=[evaluator])
    line = idea.budget_lines[0]
    people = {
        "idea": idea,
        "line": line,
        "admin": factory.admin(),
        "applicant": factory.member_of(idea.organisation),
        "stranger": factory.applicant(),
        "evaluator": evaluator,
        "other_evaluator": other_evaluator,
        "municipality": factory.user(MUNICIPALITY, municipality=idea.municipality),
    }
    db.session.commit()
    return people


def client_of(app, user):
    """A logged-in client whose requests run in their own context (nothing cached between people)."""
    app.test_client_class = IsolatedClient
    client = app.test_client()
    login(client, user.email)
    return client


def mails_to(address):
    return db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == address).order_by(OutboxMail.id)).all()


def ask(app, w, **data):
    body = {"kind": "question", "body": "Lūdzu precizējiet dēļu cenu.", "open_fields": ["title", f"budget_line:{w['line'].id}"]}
    return client_of(app, w["admin"]).post(f"/ideas/{w['idea'].id}/messages/new", data=body | data)


def test_question_answered_with_corrections_and_a_file(app, world):
    w = world
    response = ask(app, w)
    assert response.status_code == 303
    question = db.session.scalars(select(Message)).one()
    assert question.is_open and question.to_applicant and not question.to_evaluators
    mail = mails_to(w["applicant"].email)[-1]
    assert "Lūdzu precizējiet dēļu cenu." in mail.body_text and f"/messages/{question.id}/answer" in mail.body_text
    assert "Nosaukums" in mail.body_text or "Idejas nosaukums" in mail.body_text  # the reopened field, in Latvian
    assert not mails_to(w["evaluator"].email)

    applicant = client_of(app, w["applicant"])
    page = applicant.get(f"/ideas/{w['idea'].id}").get_data(as_text=True)
    assert "Lūdzu precizējiet dēļu cenu." in page and f"/messages/{question.id}/answer" in page
    form = applicant.get(f"/messages/{question.id}/answer").get_data(as_text=True)
    assert 'name="title"' in form and 'name="budget_lines-0-unit_cost"' in form and 'name="summary"' not in form
    old_title, old_total = w["idea"].title, w["idea"].requested_amount
    response = applicant.post(
        f"/messages/{question.id}/answer",
        data={
            "body": "Cena ir mainījusies, pielieku tāmi.",
            "title": "Kopienas dārzs Rēzeknē",
            "budget_lines-0-item": "Dēļi",
            "budget_lines-0-quantity": "2",
            "budget_lines-0-unit_cost": "450,50",
            "summary": "Ielauzies teksts",  # not reopened: ignored
            "files": (io.BytesIO(PDF), "tāme.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    db.session.expire_all()
    idea = db.session.get(Idea, w["idea"].id)
    assert idea.title == "Kopienas dārzs Rēzeknē" and idea.requested_amount == Decimal("901.00")
    assert idea.summary == "Kopīgs dārzs ģimenēm un senioriem."
    question = db.session.get(Message, question.id)
    assert not question.is_open
    reply = question.answers[0]
    assert [f.filename for f in reply.files] == ["tāme.pdf"]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.kind == "message_answered")).one()
    changes = {c["field"]: (c["before"], c["after"]) for c in entry.data["changes"]}
    assert changes["title"] == (old_title, "Kopienas dārzs Rēzeknē")
    assert old_total == Decimal("1000.00")
    assert changes["budget_lines.unit_cost"] == ("1000", "450.50") and changes["budget_lines.quantity"] == ("1", "2")
    assert changes["requested_amount"] == ("1000", "901")
    assert any("Cena ir mainījusies" in m.body_text for m in mails_to(w["admin"].email))

    page = client_of(app, w["admin"]).get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Cena ir mainījusies" in page and "Kopienas dārzs Rēzeknē" in page
    file_id = reply.files[0].id
    assert applicant.get(f"/messages/files/{file_id}").data == PDF
    assert client_of(app, w["admin"]).get(f"/messages/files/{file_id}").status_code == 200
    for outsider in ("evaluator", "municipality", "stranger"):
        assert client_of(app, w[outsider]).get(f"/messages/files/{file_id}").status_code == 404
    # Answered: the form is gone and a second answer stores nothing.
    again = applicant.post(f"/messages/{question.id}/answer", data={"body": "Vēlreiz"})
    assert again.status_code == 303
    assert db.session.scalar(select(db.func.count()).select_from(Message)) == 2


def test_bad_answer_is_refused_beside_the_field_with_nothing_stored(app, world):
    w = world
    ask(app, w)
    question = db.session.scalars(select(Message)).one()
    version = w["idea"].version
    response = client_of(app, w["applicant"]).post(
        f"/messages/{question.id}/answer",
        data={"body": "Atbilde", "title": "Jauns nosaukums", "budget_lines-0-unit_cost": "daudz",
              "files": (io.BytesIO(b"MZ\x90\x00 not a document"), "virus.exe")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="budget_lines-0-unit_cost-error"' in page and 'value="daudz"' in page
    assert 'value="Jauns nosaukums"' in page and "virus.exe" in page
    db.session.expire_all()
    idea = db.session.get(Idea, w["idea"].id)
    assert idea.title == "Kopienas dārzs" and idea.version == version
    assert db.session.get(Message, question.id).is_open
    assert db.session.scalar(select(db.func.count()).select_from(MessageFile)) == 0
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.kind == "message_answered")).all()
    # An empty answer: the message stands beside the answer field.
    page = client_of(app, w["applicant"]).post(f"/messages/{question.id}/answer", data={"body": " "}).get_data(as_text=True)
    assert 'id="body-error"' in page


def test_internal_notes_never_reach_the_applicant_and_shared_ones_reach_evaluators(app, world):
    w = world
    admin = client_of(app, w["admin"])
    assert admin.post(f"/ideas/{w['idea'].id}/messages/new", data={"kind": "note", "body": "Slepena piezīme"}).status_code == 303
    assert admin.post(
        f"/ideas/{w['idea'].id}/messages/new", data={"kind": "note", "body": "Vērtētājiem redzams", "to_evaluators": "y"}
    ).status_code == 303
    url = f"/ideas/{w['idea'].id}"
    applicant_page = client_of(app, w["applicant"]).get(url).get_data(as_text=True)
    assert "Slepena piezīme" not in applicant_page and "Vērtētājiem redzams" not in applicant_page
    assert all("Slepena" not in m.body_text and "Vērtētājiem" not in m.body_text for m in mails_to(w["applicant"].email))
    evaluator_page = client_of(app, w["evaluator"]).get(url).get_data(as_text=True)
    assert "Vērtētājiem redzams" in evaluator_page and "Slepena piezīme" not in evaluator_page
    assert [m for m in mails_to(w["evaluator"].email) if "Vērtētājiem redzams" in m.body_text]
    assert all("Slepena" not in m.body_text for m in db.session.scalars(select(OutboxMail)))
    municipality_page = client_of(app, w["municipality"]).get(url).get_data(as_text=True)
    assert "Vērtētājiem redzams" not in municipality_page
    admin_page = admin.get(url).get_data(as_text=True)
    assert "Slepena piezīme" in admin_page and "Vērtētājiem redzams" in admin_page
    # A note cannot reopen fields; an empty message is refused beside its field.
    page = admin.post(url + "/messages/new", data={"kind": "note", "body": "x", "open_fields": ["title"]}).get_data(as_text=True)
    assert 'id="open_fields-error"' in page
    page = admin.post(url + "/messages/new", data={"kind": "question", "body": ""}).get_data(as_text=True)
    assert 'id="body-error"' in page
    page = admin.post(url + "/messages/new", data={"kind": "question", "body": "x", "open_fields": ["budget_line:999999"]}).get_data(as_text=True)
    assert 'id="open_fields-error"' in page
    assert db.session.scalar(select(db.func.count()).select_from(Message)) == 2


def test_a_message_to_an_idea_one_may_not_see_or_write_is_refused(app, world):
    w = world
    url = f"/ideas/{w['idea'].id}/messages/new"
    for who, status in (("stranger", 404), ("other_evaluator", 404), ("applicant", 404), ("evaluator", 404), ("municipality", 404)):
        client = client_of(app, w[who])
        assert client.get(url).status_code == status, who
        assert client.post(url, data={"kind": "question", "body": "x"}).status_code == status, who
    assert app.test_client().post(url, data={"kind": "question", "body": "x"}).status_code == 302
    assert db.session.scalar(select(db.func.count()).select_from(Message)) == 0
    ask(app, w)
    question = db.session.scalars(select(Message)).one()
    for who in ("stranger", "evaluator", "municipality"):
        assert client_of(app, w[who]).post(f"/messages/{question.id}/answer", data={"body": "x"}).status_code == 404, who
    assert client_of(app, w["admin"]).post(f"/messages/{question.id}/answer", data={"body": "x"}).status_code == 403
    assert db.session.get(Message, question.id).is_open


def test_the_thread_costs_the_same_queries_however_long(app, world):
    w = world
    admin = client_of(app, w["admin"])
    url = f"/ideas/{w['idea'].id}"
    admin.post(url + "/messages/new", data={"kind": "note", "body": "Pirmā", "to_evaluators": "y"})
    admin.get(url)
    with count_queries(db.engine) as few:
        admin.get(url)
    for n in range(5):
        admin.post(url + "/messages/new", data={"kind": "note" if n % 2 else "question", "body": f"Ziņa {n}"})
    with count_queries(db.engine) as many:
        page = admin.get(url).get_data(as_text=True)
    assert "Ziņa 4" in page
    assert len(many) == len(few)
