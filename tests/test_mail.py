"""Mail goes through the outbox, in the transaction that causes it, and reaches a real SMTP
server after commit; nothing is lost while the server is down."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.mail.models import MailStatus, OutboxMail
from grantflow.mail.operations import queue_mail, render_mail, send_pending
from grantflow.workflow import engine
from tests.smtp import free_port


@pytest.fixture
def mail_app(make_app, smtp_server):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    with app.app_context():
        yield app


def outbox():
    db.session.rollback()
    return db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()


def test_a_transition_queues_mail_that_is_sent_after_commit(mail_app, smtp_server):
    from tests.factories import Factory

    idea = Factory().idea(title="Kopienas dārzs Rušonā")
    applicant = Factory().member_of(idea.organisation)
    engine.fire(idea, "submit", applicant)
    db.session.commit()
    assert [m.status for m in outbox()] == [MailStatus.PENDING]  # the member (the typed contact gets none)
    assert send_pending() == (1, 0)
    received = smtp_server.to(applicant.email)
    assert len(received) == 1
    assert received[0]["Subject"] == f"Jūsu ideja {idea.reference} ir saņemta"
    body = received[0].get_body(preferencelist=("plain",)).get_content()  # the receipt also carries a PDF copy
    assert "Kopienas dārzs Rušonā" in body and idea.reference in body
    assert all(m.status == MailStatus.SENT and m.sent_at for m in outbox())


def test_rolled_back_change_sends_nothing(mail_app, smtp_server):
    from tests.factories import Factory

    idea = Factory().idea()
    engine.fire(idea, "submit", Factory().member_of(idea.organisation))
    db.session.rollback()
    assert outbox() == []
    assert send_pending() == (0, 0) and smtp_server.messages == []


def test_nothing_is_lost_while_the_smtp_server_is_down(make_app, smtp_server):
    down_port = free_port()  # nothing listens here
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=down_port, MAIL_MAX_ATTEMPTS=3)
    with app.app_context():
        from tests.factories import Factory

        idea = Factory().submitted()
        db.session.commit()
        assert send_pending() == (0, 1)
        mails = outbox()
        assert all(m.status == MailStatus.PENDING and m.attempts == 1 and "Connection" in m.last_error for m in mails)
        assert all(m.next_attempt_at > utcnow() for m in mails)
        assert send_pending() == (0, 0)  # not due yet: backs off

        # The server comes back; the retry goes through.
        for mail in mails:
            mail.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        app.config["MAIL_PORT"] = smtp_server.port
        assert send_pending() == (1, 0)
        assert len(smtp_server.messages) == 1 and idea.reference in smtp_server.messages[0]["Subject"]


def test_gives_up_after_the_maximum_attempts(make_app):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=2)
    with app.app_context():
        mail = OutboxMail(to_addr="a@example.lv", subject="Sveiki", body_text="Teksts")
        db.session.add(mail)
        db.session.commit()
        for _ in range(2):
            send_pending()
            db.session.get(OutboxMail, mail.id).next_attempt_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
        assert outbox()[0].status == MailStatus.FAILED


def test_attachments_travel_with_the_mail(mail_app, smtp_server):
    from tests.factories import Factory

    idea = Factory().submitted()
    queue_mail("anna@example.lv", "state_changed", idea=idea, comment="", attachments=[("kopija.pdf", "application/pdf", b"%PDF-1.7 test")])
    db.session.commit()
    send_pending()
    message = smtp_server.to("anna@example.lv")[-1]
    parts = [p for p in message.walk() if p.get_filename()]
    assert [(p.get_filename(), p.get_payload(decode=True)) for p in parts] == [("kopija.pdf", b"%PDF-1.7 test")]


def test_mail_in_english_for_english_speakers(mail_app, smtp_server):
    from tests.factories import Factory

    factory = Factory()
    idea = factory.idea()
    english = factory.applicant(org=idea.organisation, locale="en")
    engine.fire(idea, "submit", english)
    db.session.commit()
    send_pending()
    assert smtp_server.to(english.email)[0]["Subject"] == f"Your idea {idea.reference} has been received"


def test_cli_sends_pending_mail(mail_app, smtp_server):
    db.session.add(OutboxMail(to_addr="b@example.lv", subject="Sveiki", body_text="Labdien"))
    db.session.commit()
    result = mail_app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0 and "sent 1, failed 0" in result.output
    assert smtp_server.to("b@example.lv")


def test_inline_delivery_after_a_request(make_app, smtp_server):
    from tests.conftest import IsolatedClient, login
    from tests.factories import Factory

    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_DELIVERY="inline")
    app.test_client_class = IsolatedClient
    with app.app_context():
        idea = Factory().idea()
        applicant = Factory().member_of(idea.organisation)
        db.session.commit()
        client = app.test_client()
        login(client, applicant.email)
        response = client.post(f"/ideas/{idea.id}/steps/submit")
        assert response.status_code == 303
        assert smtp_server.to(applicant.email), "the receipt is delivered by the end of the request"


def test_the_sign_off_declines_the_operators_name(app, factory):
    """Latvian: "Izglītības iniciatīvu centra vārdā" (genitive), never "centrs vārdā"."""
    user = factory.user()
    _subject, latvian = render_mail("confirm_email", "lv", user=user, token="x")
    _subject, english = render_mail("confirm_email", "en", user=user, token="x")
    assert latvian.rstrip().endswith("GrantFlow, Izglītības iniciatīvu centra vārdā")
    assert english.rstrip().endswith("GrantFlow, on behalf of Izglītības iniciatīvu centrs")


def test_a_mail_whose_composer_is_gone_waits_with_its_reason(mail_app, smtp_server):
    """A mail queued to be written by a composer this version no longer has (a rollback to an
    older release): not sent empty, kept waiting with the reason, and named in words."""
    from flask_babel import force_locale

    from grantflow.mail.operations import failure_reason, unwritten_label

    db.session.add(OutboxMail(to_addr="a@example.lv", compose_job={"composer": "gone", "idea_id": 1}))
    db.session.commit()
    assert send_pending() == (0, 1) and smtp_server.messages == []
    (mail,) = outbox()
    assert mail.status == MailStatus.PENDING and "no mail composer 'gone'" in mail.last_error and mail.body_text == ""
    with force_locale("lv"):
        assert str(unwritten_label(mail)) == "Vēstule, ko uzrakstīs, kad to sūtīs"
        assert str(failure_reason(mail.last_error)) == "Vēstules tekstu neizdevās uzrakstīt."
        assert str(failure_reason("SMTPRecipientsRefused: {}")) == "Pasta serveris vēstuli nepieņēma."
        assert failure_reason("") is None
