"""A submission is one short transaction: the last save and the submission together, with
only the statements they need; the receipt's PDF copy is made after the commit, exactly once
however many mails carry it, and a copy that cannot be made is retried and shown to
administrators, never lost."""

from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, update

from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.documents import operations as documents
from grantflow.documents.models import Document
from grantflow.ideas import operations as ideas_ops
from grantflow.mail.models import MailStatus, OutboxMail
from grantflow.mail.operations import send_pending
from grantflow.workflow import engine
from tests.conftest import login
from tests.factories import Factory
from tests.querycount import count_queries
from tests.smtp import free_port
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
    assert 'id="receipt-owed"' in page and "Pēdējais mēģinājums: Vēstules pielikumu neizdevās sagatavot." in page
    assert "RuntimeError: Pango fell over" in page  # the technical detail, folded beside it
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
    # (PostgreSQL: the first in one statement with the audit row; the reference with the counter's.)
    assert len([s for s in statements if "UPDATE ideas" in s and "WITH taken" not in s]) == 2
    audits = [s for s in statements if "INSERT INTO audit_log" in s]
    assert len(audits) == 1 and ("WITH moved AS" in audits[0]) == (db.engine.dialect.name == "postgresql")
    # The rows (activities, partners, budget lines) were typed as saved: not even loaded; the
    # rules read them from the answers document.
    assert not any(f"FROM {rows}" in s for s in statements for rows in ("idea_activities", "partners", "budget_lines"))
    # The receipt: one INSERT … SELECT of the applicants' addresses; its text is written when
    # it is sent, so nothing reads the addresses or renders the mail here.
    (queued,) = [s for s in statements if s.startswith("INSERT INTO outbox")]
    assert "memberships" in queued and not any(s.startswith("SELECT users.email") for s in statements)
    # 12 on SQLite (with the BEGINs and the form version frozen by the first submission under it).
    assert len(statements) <= 12, "\n".join(statements)
    idea = db.session.get(type(idea), idea.id)
    db.session.refresh(idea)
    assert idea.title == "Pēdējais labojums" and idea.reference


def test_a_submission_judges_the_form_once(client, draft, monkeypatch):
    """The form's rules run once per submission: the idea_complete guard takes what the
    submission found a moment before; fired alone, the guard judges the idea itself."""
    user, competition = draft
    idea = new_draft(client, user, competition)
    data = complete(idea)
    client.post(f"/apply/{idea.id}", data={**data, "action": "save"})
    judged = []
    rules = ideas_ops.missing_fields
    monkeypatch.setattr(ideas_ops, "missing_fields", lambda i: judged.append(i.id) or rules(i))
    response = client.post(f"/apply/{idea.id}", data={**data, "action": "submit"})
    assert response.headers["Location"].endswith(f"/ideas/{idea.id}") and judged == [idea.id]


def test_the_guard_alone_still_refuses_an_incomplete_idea(factory):
    idea = factory.idea(title="")
    member = factory.applicant(org=idea.organisation)
    with pytest.raises(Refused) as refused:
        engine.fire(idea, "submit", member)
    assert "Ideja nav pilnīga: jāpapildina lauku skaits — 1." in [str(m) for m in refused.value.messages]
    db.session.rollback()


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


def test_the_rules_read_the_rows_alike_from_the_records_and_from_the_answers_document(client, draft):
    """A submission whose rows were typed as saved leaves them unloaded and reads them from
    the answers document: what it finds missing, and the sums, are what the records give."""
    user, competition = draft
    idea = new_draft(client, user, competition)
    rows = {
        "activities-0-description": "Talka", "activities-0-starts_on": "",  # no date
        "activities-1-description": "Svētki", "activities-1-starts_on": "2026-06-02", "activities-1-ends_on": "2026-06-01",
        "partners-0-name": "Skola", "partners-0-kind": "organisation", "partners-0-contribution": "",
        "budget_lines-0-item": "Dēļi", "budget_lines-0-quantity": "10", "budget_lines-0-unit_cost": "0",  # no cost
        "budget_lines-1-item": "", "budget_lines-1-quantity": "2", "budget_lines-1-unit_cost": "12.5",  # no name
        "budget_lines-2-item": "Darbs", "budget_lines-2-quantity": "3", "budget_lines-2-unit_cost": "7", "budget_lines-2-own": "y",
    }  # fmt: skip
    data = {**complete(idea), **rows}
    client.post(f"/apply/{idea.id}", data={**data, "action": "save"})

    db.session.expire_all()
    stored = db.session.get(type(idea), idea.id)
    from_document = ideas_ops.missing_fields(stored)
    assert {"activities", "partners", "budget_lines"} <= inspect(stored).unloaded  # read from the document
    for rows in (stored.activities, stored.partners, stored.budget_lines):
        assert rows  # loaded now: the rules read the records
    from_records = ideas_ops.missing_fields(stored)
    assert from_document == from_records
    assert {"activities-0-starts_on", "activities-1-ends_on", "partners-0-contribution", "budget_lines-0-unit_cost",
            "budget_lines-1-item"} <= set(from_document)  # fmt: skip
    assert (stored.requested_amount, stored.own_contribution) == (Decimal("25.00"), Decimal("21.00"))

    # Submitted with the same rows: not submitted, each row's problem marked beside its field.
    response = client.post(f"/apply/{idea.id}", data={**data, "action": "submit"})
    assert response.headers["Location"].endswith("check=1#problems")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="activities-0-starts_on-error"' in page and 'id="budget_lines-1-item-error"' in page


def test_rows_changed_with_the_submission_are_written_and_checked(client, draft):
    user, competition = draft
    idea = new_draft(client, user, competition)
    data = complete(idea)
    client.post(f"/apply/{idea.id}", data={**data, "action": "save"})
    changed = {**data, "budget_lines-0-quantity": "4", "activities-0-description": "Lielā talka"}
    response = client.post(f"/apply/{idea.id}", data={**changed, "action": "submit"})
    assert response.headers["Location"].endswith(f"/ideas/{idea.id}")
    db.session.expire_all()
    stored = db.session.get(type(idea), idea.id)
    assert stored.reference and stored.requested_amount == Decimal("200.00")
    assert [a.description for a in stored.activities] == ["Lielā talka"]
    assert stored.answers["budget_lines"][0]["quantity"] == "4.00"


def test_a_contact_address_that_is_not_one_is_marked_and_keeps_the_idea_from_being_submitted(client, draft):
    user, competition = draft
    idea = new_draft(client, user, competition)
    response = client.post(f"/apply/{idea.id}", data={**complete(idea, contact_email="anna.example.lv"), "action": "submit"})
    assert response.headers["Location"].endswith("check=1#problems")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="contact_email-error"' in page and "Tas neizskatās pēc e-pasta adreses." in page
    db.session.expire_all()
    assert db.session.get(type(idea), idea.id).reference is None


def test_the_receipt_is_written_when_it_is_sent_in_each_recipients_language(make_app, smtp_server):
    """Queued unwritten with the submission; the first attempt writes it, even when the mail
    server does not answer, so the outbox shows what waits; each member reads it in their
    language."""
    down = free_port()  # nothing listens here
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=down)
    with app.app_context():
        factory = Factory()
        idea = factory.idea(title="Kopienas dārzs Rušonā")
        latvian, english = factory.applicant(org=idea.organisation), factory.applicant(org=idea.organisation)
        english.locale = "en"
        admin = factory.admin()
        engine.fire(idea, "submit", latvian)
        db.session.commit()
        mails = {m.to_addr: m for m in db.session.scalars(select(OutboxMail))}
        assert set(mails) == {latvian.email, english.email}
        assert {(m.locale, m.body_text) for m in mails.values()} == {("lv", ""), ("en", "")}
        client = app.test_client()
        login(client, admin.email)
        page = client.get("/admin/outbox").get_data(as_text=True)
        assert page.count("Iesniegtas idejas kvīts (tiks uzrakstīta, kad to sūtīs)") == 2 and "receipt" not in page

        assert send_pending() == (0, 2)  # the server is down: written all the same, and waiting
        db.session.expire_all()
        mails = {m.to_addr: m for m in db.session.scalars(select(OutboxMail))}
        assert mails[latvian.email].subject == f"Jūsu ideja {idea.reference} ir saņemta"
        assert mails[english.email].subject == f"Your idea {idea.reference} has been received"
        assert all(m.status == MailStatus.PENDING and "Kopienas dārzs Rušonā" in m.body_text for m in mails.values())
        page = client.get("/admin/outbox").get_data(as_text=True)
        assert f"Jūsu ideja {idea.reference} ir saņemta" in page and "tiks uzrakstīta" not in page
        assert page.count("Pēdējais mēģinājums: Ar pasta serveri neizdevās sazināties.") == 2

        app.config["MAIL_PORT"] = smtp_server.port
        db.session.execute(update(OutboxMail).values(next_attempt_at=utcnow()))  # the retry is due
        db.session.commit()
        assert send_pending() == (2, 0)
        (english_mail,) = smtp_server.to(english.email)
        assert english_mail["Subject"] == f"Your idea {idea.reference} has been received"
        assert "Reference number: " + idea.reference in english_mail.get_body(preferencelist=("plain",)).get_content()


def test_a_receipt_that_cannot_be_written_waits_and_is_retried(app, factory, smtp_server, monkeypatch):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    idea = factory.idea()
    engine.fire(idea, "submit", factory.applicant(org=idea.organisation))
    db.session.commit()

    def broken(*args, **kwargs):
        raise RuntimeError("the template is missing")

    monkeypatch.setattr(documents, "render_mail", broken)
    assert send_pending() == (0, 1)
    (mail,) = db.session.scalars(select(OutboxMail)).all()
    assert mail.status == MailStatus.PENDING and mail.body_text == "" and "the template is missing" in mail.last_error
    assert smtp_server.messages == []
    monkeypatch.undo()
    db.session.execute(update(OutboxMail).values(next_attempt_at=utcnow()))
    db.session.commit()
    assert send_pending() == (1, 0)
    assert smtp_server.messages[0]["Subject"] == f"Jūsu ideja {idea.reference} ir saņemta"
