"""A submission is one short transaction: the last save and the submission together, with
only the statements they need; the receipt's PDF copy is made after the commit, exactly once
however many mails carry it, and a copy that cannot be made is retried and shown to
administrators, never lost."""

from sqlalchemy import select, update

from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.documents import operations as documents
from grantflow.documents.models import Document
from grantflow.mail.models import MailStatus, OutboxMail
from grantflow.mail.operations import send_pending
from grantflow.workflow import engine
from tests.conftest import login
from tests.querycount import count_queries
from tests.test_apply import applicant, complete, draft, new_draft  # noqa: F401 (fixtures)


def receipts(idea) -> list[Document]:
    return db.session.scalars(select(Document).where(Document.idea_id == idea.id, Document.kind == "receipt")).all()


def test_the_copy_is_made_once_for_all_recipients_and_each_submission(app, factory, smtp_server):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    idea = factory.idea()
    first, second = factory.applicant(org=idea.organisation), factory.applicant(org=idea.organisation)
    engine.fire(idea, "submit", first)
    db.session.commit()
    assert receipts(idea) == []  # nothing rendered inside the submission
    assert send_pending() == (2, 0)  # two members; the contact e-mail typed on the idea gets none
    assert smtp_server.to("anna@example.lv") == []
    (copy,) = receipts(idea)
    for address in (first.email, second.email):
        (mail,) = smtp_server.to(address)
        (pdf,) = mail.iter_attachments()
        assert pdf.get_content() == copy.pdf and pdf.get_filename() == copy.filename
    # Returned for changes and submitted again: a second copy, version 2, once.
    engine.fire(idea, "return_for_changes", factory.admin(), "Precizējiet budžetu.")
    engine.fire(idea, "submit", first)
    db.session.commit()
    send_pending()
    assert [d.version for d in receipts(idea)] == [1, 2]


def test_a_copy_that_cannot_be_made_is_retried_and_shown_to_administrators(app, client, factory, smtp_server, monkeypatch):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    idea = factory.idea()
    member = factory.applicant(org=idea.organisation)
    admin = factory.admin()
    engine.fire(idea, "submit", member)
    db.session.commit()

    def broken(*args, **kwargs):
        raise RuntimeError("Pango fell over")

    monkeypatch.setattr(documents, "render_pdf", broken)
    assert send_pending() == (0, 1)
    assert smtp_server.messages == [] and receipts(idea) == []
    waiting = db.session.scalars(select(OutboxMail).where(OutboxMail.attachment_job.is_not(None))).all()
    assert {m.status for m in waiting} == {MailStatus.PENDING} and "Pango fell over" in waiting[0].last_error
    login(client, admin.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert 'id="receipt-owed"' in page and "Pango fell over" in page
    client.post("/logout")
    login(client, member.email)
    assert 'id="receipt-owed"' not in client.get(f"/ideas/{idea.id}").get_data(as_text=True)

    monkeypatch.undo()
    db.session.execute(update(OutboxMail).values(next_attempt_at=utcnow()))  # the retry is due
    db.session.commit()
    assert send_pending() == (1, 0)
    assert len(receipts(idea)) == 1 and len(smtp_server.messages) == 1
    client.post("/logout")
    login(client, admin.email)
    assert 'id="receipt-owed"' not in client.get(f"/ideas/{idea.id}").get_data(as_text=True)


def test_saving_and_submitting_is_one_transaction_of_few_statements(client, draft):
    user, competition = draft
    idea = new_draft(client, user, competition)
    data = complete(idea)
    client.post(f"/apply/{idea.id}", data={**data, "action": "save"})
    with count_queries(db.engine) as statements:
        response = client.post(f"/apply/{idea.id}", data={**data, "title": "Pēdējais labojums", "action": "submit"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/ideas/{idea.id}")
    begins = [s for s in statements if s.startswith("BEGIN")]
    # The test's own session and the request: no second transaction inside the request, no
    # savepoint, no place lists (municipalities with their parishes) loaded for a form that is
    # not shown, and the idea's row written twice: its version with the new state, then the
    # answers with the reference (PostgreSQL writes the reference with the counter).
    assert len(begins) <= 3, begins
    assert not any(s.startswith(("SAVEPOINT", "RELEASE")) for s in statements)
    assert not any("FROM parishes" in s for s in statements)
    assert len([s for s in statements if s.startswith("UPDATE ideas")]) == 2
    # 16 on SQLite (with the BEGINs and the form version frozen by the first submission under it).
    assert len(statements) <= 16, "\n".join(statements)
    idea = db.session.get(type(idea), idea.id)
    db.session.refresh(idea)
    assert idea.title == "Pēdējais labojums" and idea.reference


def test_what_was_typed_is_saved_when_it_cannot_be_submitted(client, draft):
    """Submitting with a required field emptied, or after the closing time: not submitted,
    and the last change typed is saved all the same."""
    user, competition = draft
    idea = new_draft(client, user, competition)
    data = complete(idea)
    client.post(f"/apply/{idea.id}", data={**data, "action": "save"})

    response = client.post(f"/apply/{idea.id}", data={**data, "title": "Jauns nosaukums", "goals": "", "action": "submit"})
    assert response.status_code == 303 and response.headers["Location"].endswith("check=1#problems")
    idea = db.session.get(type(idea), idea.id)
    db.session.refresh(idea)
    assert (idea.title, idea.goals, idea.reference) == ("Jauns nosaukums", "", None)

    competition.closes_at = utcnow()  # closed after the form was loaded
    db.session.commit()
    response = client.post(f"/apply/{idea.id}", data={**data, "title": "Par vēlu", "action": "submit"})
    assert response.status_code == 303 and f"/apply/{idea.id}" in response.headers["Location"]
    db.session.refresh(idea)
    assert (idea.title, idea.goals, idea.reference) == ("Par vēlu", data["goals"], None)
    assert idea.has_tag("editable")
