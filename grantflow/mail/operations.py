"""Queueing mail with the change that causes it, and delivering the outbox over SMTP.

The outbox is the record: a mail is a row written in the transaction of the change it tells of.
After the real commit (never a savepoint's release) the task queue is told to deliver; the
worker claims due rows one by one (several workers never send one mail twice), and a periodic
sweep sends whatever a lost enqueue left behind and takes back rows a dead worker left
"sending" longer than MAIL_LEASE_SECONDS."""

import functools
import logging
import smtplib
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Select, bindparam, event, insert, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from grantflow.core import queue
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.mail.models import MailStatus, OutboxAttachment, OutboxMail

log = logging.getLogger(__name__)
QUEUED_FLAG = "grantflow.mail_queued"
DELIVER_NOW = "grantflow.deliver_now"
DELIVER_TASK = "mail.deliver"


# Named makers of attachments made at sending time: maker(**arguments) -> (filename, type, bytes).
# Registered by the areas whose documents they make (documents: the receipt's copy).
ATTACHMENT_MAKERS: dict[str, Callable[..., tuple[str, str, bytes]]] = {}


def attachment_maker(name: str):
    """Register `func(**arguments) -> (filename, content type, data)`: it must be idempotent
    (a mail retried after a failure calls it again), and commits what it stores itself."""

    def decorate(func):
        ATTACHMENT_MAKERS[name] = func
        return func

    return decorate


# Named composers of mails written when they are sent: composer(locale, **arguments) ->
# (subject, body), in the recipient's locale (render_mail(..., locale) inside). Registered by
# the areas whose mails they write (documents: the receipt), each with what the outbox page
# says of a mail not written yet (COMPOSER_LABELS).
COMPOSERS: dict[str, Callable[..., tuple[str, str]]] = {}
COMPOSER_LABELS: dict[str, object] = {}


def composer(name: str, label):
    """Register `func(locale, **arguments) -> (subject, body)`: reads what it writes about from
    the database when the mail is sent (a mail retried is written again only if writing it
    failed). `label` (lazy text) names the mail on the outbox page until it is written."""

    def decorate(func):
        COMPOSERS[name], COMPOSER_LABELS[name] = func, label
        return func

    return decorate


def queue_mail(
    to: str, template: str, locale: str = "lv", attachments=(), attachment_job: dict | None = None, **context
) -> OutboxMail:
    """Render `templates/mail/<template>.txt` (first line: the subject) and put it in the
    outbox in the current transaction. Sent after commit; dropped with a rollback.
    `attachment_job` ({"maker": name, **arguments}) adds an attachment made when sending, so
    slow work (a PDF) stays out of the transaction that queues the mail."""
    subject, body = render_mail(template, locale, **context)
    _check_job(attachment_job)
    mail = OutboxMail(to_addr=to, locale=locale, subject=subject, body_text=body, attachment_job=attachment_job)
    for filename, content_type, data in attachments:
        mail.attachments.append(OutboxAttachment(filename=filename, content_type=content_type, data=data))
    db.session.add(mail)
    db.session.info[QUEUED_FLAG] = True
    return mail


def _check_job(attachment_job: dict | None) -> None:
    if attachment_job is not None and attachment_job.get("maker") not in ATTACHMENT_MAKERS:
        raise LookupError(f"no attachment maker {attachment_job.get('maker')!r}")


def render_mail(template: str, locale: str = "lv", **context) -> tuple[str, str]:
    """(subject, body) of `templates/mail/<template>.txt` in `locale`: the first line is the
    subject. Also used alone where the same work must be done whether a mail is sent or not."""
    with _url_context(), force_locale(locale):
        text = render_template(f"mail/{template}.txt", **context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n"


def queue_mails(recipients, template: str, attachment_job: dict | None = None, **context) -> None:
    """The same mail to each of `recipients` ((e-mail, locale) pairs), each in their language:
    rendered once per language, one outbox row per address, all written by one INSERT at once
    (not at the next flush: a submission's receipt is the deadline crowd's, and the ORM's
    unit of work for one new row cost as much as the rest of the transition's writes)."""
    _check_job(attachment_job)
    by_locale: dict[str, list[str]] = {}
    for address, locale in recipients:
        by_locale.setdefault(locale, []).append(address)
    rows = []
    for locale, addresses in by_locale.items():
        subject, body = render_mail(template, locale, **context)
        rows += [
            {"to_addr": a, "locale": locale, "subject": subject, "body_text": body, "attachment_job": attachment_job}
            for a in addresses
        ]
    if rows:
        db.session.execute(_outbox_insert(), rows)
        db.session.info[QUEUED_FLAG] = True


@functools.cache
def _outbox_insert():
    return insert(OutboxMail.__table__)


def queue_composed(recipients: Select, parameters: dict, compose_job: dict, attachment_job: dict | None = None) -> None:
    """A mail to each address `recipients` selects (its first two columns: e-mail, locale; its
    bound parameters given in `parameters`), written when it is sent by the composer that
    `compose_job` ({"composer": name, ...its arguments}) names, in each recipient's language.

    One INSERT … SELECT in the current transaction: neither the addresses nor the text travel
    through the request. For the deadline crowd's receipts, where reading the addresses and
    rendering the mail were a tenth of a submission's work and held the reference counter's
    lock (PostgreSQL) while they ran."""
    if compose_job.get("composer") not in COMPOSERS:
        raise LookupError(f"no mail composer {compose_job.get('composer')!r}")
    _check_job(attachment_job)
    db.session.execute(_composed_insert(recipients), {**parameters, "compose_job": compose_job, "attachment_job": attachment_job})
    db.session.info[QUEUED_FLAG] = True


@functools.lru_cache(maxsize=16)
def _composed_insert(recipients: Select):
    """INSERT INTO outbox … SELECT for one (cached) recipients query, built once; the other
    columns take the model's defaults (pending, no text yet, due now), which SQLAlchemy puts
    into the SELECT at each execution."""
    address, locale = list(recipients.subquery().c)[:2]
    rows = select(address, locale, bindparam("compose_job", type_=JSON()), bindparam("attachment_job", type_=JSON(none_as_null=True)))
    return insert(OutboxMail.__table__).from_select(["to_addr", "locale", "compose_job", "attachment_job"], rows)


def unwritten_label(mail: OutboxMail):
    """What the outbox page calls a mail not written yet (None for a written one)."""
    if mail.compose_job and not mail.body_text:
        return COMPOSER_LABELS.get(mail.compose_job.get("composer"), _l("A mail written when it is sent"))
    return None


class ComposeFailed(Exception):
    """Writing a mail failed; it waits and is tried again like a refused send."""


def _write(mail: OutboxMail) -> None:
    """Write a mail queued by queue_composed (subject and text on the row, committed), so the
    outbox shows what was sent, or what waits, even while no mail server answers."""
    subject, body = _run_job(COMPOSERS, "composer", mail.compose_job, ComposeFailed, "mail composer", mail.locale)
    mail.subject, mail.body_text = subject[:300], body
    try:
        db.session.commit()
    except OperationalError as error:  # the database briefly locked: written at the next attempt
        raise ComposeFailed(f"{type(error).__name__}: {error}") from error


def recent(limit: int = 100, status: str | None = None) -> list[OutboxMail]:
    """The newest mails of the outbox (optionally of one status), for administrators to read:
    in development, where no mail server may be at hand, this is where mail is read."""
    query = select(OutboxMail).options(selectinload(OutboxMail.attachments)).order_by(OutboxMail.id.desc()).limit(limit)
    if status in set(MailStatus):
        query = query.where(OutboxMail.status == status)
    return db.session.scalars(query).all()


def _url_context():
    """Mails are also written outside requests (CLI, workers): give url_for a base URL."""
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"])


def _message(mail: OutboxMail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to_addr
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(idstring=f"outbox{mail.id}", domain="grantflow")
    message.set_content(mail.body_text)
    files = [(a.filename, a.content_type, a.data) for a in mail.attachments]
    if mail.attachment_job:
        files.append(_made_attachment(mail.attachment_job))
    for filename, content_type, data in files:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


class AttachmentFailed(Exception):
    """Making a mail's attachment failed; the mail waits and is tried again like a refused send."""


def _made_attachment(job: dict) -> tuple[str, str, bytes]:
    return _run_job(ATTACHMENT_MAKERS, "maker", job, AttachmentFailed, "attachment maker")


def _run_job(makers: dict, key: str, job: dict, failure: type[Exception], what: str, *leading):
    """Call the `what` that `job[key]` names in `makers` with `leading` and the job's other
    entries, where url_for works. Any failure of it, an unknown name too, becomes `failure`:
    recorded on the mail, which is tried again later."""
    arguments = {name: value for name, value in job.items() if name != key}
    try:
        if job.get(key) not in makers:
            raise LookupError(f"no {what} {job.get(key)!r}")
        with _url_context():
            return makers[job[key]](*leading, **arguments)
    except Exception as error:
        log.exception("%s: %s", failure.__name__, job)
        raise failure(f"{type(error).__name__}: {error}") from error


def _connect(config):
    cls = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    smtp = cls(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"])
    if config["MAIL_USE_TLS"]:
        smtp.starttls()
    if config["MAIL_USERNAME"]:
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    return smtp


def _claim(mail_id: int) -> bool:
    """Take one mail for sending; with several workers only one wins it."""
    result = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, OutboxMail.status == MailStatus.PENDING)
        .values(status=MailStatus.SENDING, attempts=OutboxMail.attempts + 1, claimed_at=utcnow())
    )
    db.session.commit()
    return result.rowcount == 1


def reclaim_stale() -> int:
    """Put back to "pending" the mails left "sending" longer than MAIL_LEASE_SECONDS (their
    worker died, or could not record the outcome): they are sent again by the next round. The
    lease is far longer than an SMTP exchange (MAIL_TIMEOUT per step) plus making an attachment,
    so a live worker's mail is never taken from it. Returns how many were taken back."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    result = db.session.execute(
        update(OutboxMail)
        .where(
            OutboxMail.status == MailStatus.SENDING,
            or_(OutboxMail.claimed_at.is_(None), OutboxMail.claimed_at < cutoff),
        )
        .values(status=MailStatus.PENDING, next_attempt_at=utcnow(), claimed_at=None)
    )
    db.session.commit()
    if result.rowcount:
        log.warning("took back %d mail(s) left sending past the lease", result.rowcount)
    return result.rowcount


def _record(mail_id: int, outcome: Callable[[OutboxMail], None]) -> None:
    """Record a send's outcome on the row, retrying when the database is briefly locked (SQLite
    under load): a delivered mail must not stay "sending" because the first write failed."""
    for attempt in range(5):
        mail = db.session.get(OutboxMail, mail_id)
        outcome(mail)
        try:
            db.session.commit()
            return
        except OperationalError:
            db.session.rollback()
            if attempt == 4:
                raise  # left "sending": the sweep takes it back after the lease
            time.sleep(0.2 * 2**attempt)


def send_pending(limit: int = 100) -> tuple[int, int]:
    """Send what is due; return (sent, failed this round). A failed mail waits longer each
    time (1, 2, 4 ... minutes) and is given up after MAIL_MAX_ATTEMPTS."""
    config = current_app.config
    now = utcnow()
    ids = db.session.scalars(
        select(OutboxMail.id)
        .where(OutboxMail.status == MailStatus.PENDING, OutboxMail.next_attempt_at <= now)
        .order_by(OutboxMail.id)
        .limit(limit)
    ).all()
    db.session.commit()
    sent = failed = 0
    smtp = None
    try:
        for mail_id in ids:
            if not _claim(mail_id):
                continue
            mail = db.session.get(OutboxMail, mail_id)
            try:
                if mail.compose_job and not mail.body_text:
                    _write(mail)
                message = _message(mail, config["MAIL_DEFAULT_SENDER"])
                smtp = smtp or _connect(config)
                smtp.send_message(message)
            except (OSError, smtplib.SMTPException, AttachmentFailed, ComposeFailed) as error:
                db.session.rollback()
                if not isinstance(error, (AttachmentFailed, ComposeFailed)):
                    smtp = None  # the connection may be broken: open a new one for the next mail
                failed += 1
                _record(mail_id, functools.partial(_failed, error=error, max_attempts=config["MAIL_MAX_ATTEMPTS"]))
            else:
                sent += 1
                _record(mail_id, _sent)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
    return sent, failed


def _sent(mail: OutboxMail) -> None:
    mail.status = MailStatus.SENT
    mail.sent_at = utcnow()
    mail.last_error = ""
    mail.claimed_at = None


# What a failed attempt's recorded error (last_error, opened by the error's class) means, for
# administrators; the technical text is shown beside it for whoever sets up the mail server.
# send_pending records only these kinds: its own two, the SMTP server's refusals, and OSError
# (no connection: refused, timed out, name not found, TLS).
_FAILURES = (
    ("AttachmentFailed", _l("The mail's attachment could not be made.")),
    ("ComposeFailed", _l("The mail's text could not be written.")),
    ("SMTP", _l("The mail server refused the mail.")),
)


def failure_reason(last_error: str):
    """The recorded error of a mail's last attempt in words (None when it has none)."""
    if not last_error:
        return None
    kind = last_error.partition(":")[0]
    for prefix, reason in _FAILURES:
        if kind.startswith(prefix):
            return reason
    return _l("The mail server could not be reached.")


def _failed(mail: OutboxMail, error: Exception, max_attempts: int) -> None:
    """A failed mail waits longer each time (1, 2, 4 ... minutes); given up after max_attempts."""
    mail.last_error = f"{type(error).__name__}: {error}"[:2000]
    mail.status = MailStatus.FAILED if mail.attempts >= max_attempts else MailStatus.PENDING
    mail.next_attempt_at = utcnow() + timedelta(minutes=2 ** (mail.attempts - 1))
    mail.claimed_at = None


@queue.task(DELIVER_TASK)
def deliver() -> None:
    """On the worker: send what is due (told after a commit that queued mail)."""
    while send_pending(100) != (0, 0):
        pass


@queue.periodic("mail.sweep", minute="*")
def sweep() -> None:
    """Every minute on the worker: take back mails a dead worker left "sending", then send
    what is due (mails whose enqueue was lost, retries whose pause is over)."""
    reclaim_stale()
    deliver()


@event.listens_for(db.session, "after_commit")
def _after_commit(session):
    """After the real commit of a transaction that queued mail, deliver it as MAIL_DELIVERY
    says: `queue` tells the worker, `inline` sends at the end of the request, `off` leaves it
    to `flask mail send`. A savepoint's release (the workflow engine's) also fires after_commit,
    before the rows are visible to anyone else: then the flag waits for the outer commit."""
    if session.in_nested_transaction() or not session.info.get(QUEUED_FLAG):
        return
    del session.info[QUEUED_FLAG]
    mode = current_app.config["MAIL_DELIVERY"]
    if mode == "inline":
        session.info[DELIVER_NOW] = True
    elif mode == "queue":
        queue.enqueue(DELIVER_TASK)


@event.listens_for(db.session, "after_rollback")
def _after_rollback(session):
    """Mail queued in a rolled-back transaction is gone: nothing to deliver."""
    session.info.pop(QUEUED_FLAG, None)


def init_app(app) -> None:
    @app.after_request
    def _deliver_inline(response):
        if db.session.info.pop(DELIVER_NOW, False):
            send_pending()
        return response
