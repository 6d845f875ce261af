"""Issuing decision letters and cooperation agreements as PDF records, finding them again,
and the batch that issues every due document of a competition on all CPU cores."""

import base64
import hashlib
import io
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from multiprocessing import get_context
from pathlib import Path

import jinja2
import qrcode
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from grantflow.accounts.models import User
from grantflow.core.database import Conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.i18n import RIGA, amount_in_words, format_money, format_points, letter_date, typographic_quotes
from grantflow.core.types import utcnow
from grantflow.documents import pdfa
from grantflow.documents.models import OPERATOR, Document, Signature
from grantflow.documents.pdf import html_to_pdf, render_pdf
from grantflow.documents.signing import operator_signer, sign
from grantflow.funding.models import CooperationConfirmation, Decision, DecisionKind
from grantflow.funding.operations import (
    authority_name,
    confirmed_cooperation,
    decision_of,
    earlier_decision,
    score_summary,
)
from grantflow.ideas.forms import TARGET_GROUP_LABELS
from grantflow.ideas.models import PARTNER_KINDS, Idea
from grantflow.ideas.operations import applicant_recipients, asked_fields, other_answers
from grantflow.mail.models import MailStatus, OutboxMail
from grantflow.mail.operations import attachment_maker, composer, queue_composed, render_mail
from grantflow.organisations.models import Membership, Organisation
from grantflow.workflow import engine
from grantflow.workflow.registry import audit_kind, effect

DECISION = "decision"
AGREEMENT = "agreement"
# Issued by the amendments area (each numbered amendment its own document, "-V/G<n>"); named
# here so the parties' signatures can treat it like an agreement.
AMENDMENT = "amendment"
KINDS = (DECISION, AGREEMENT)
FILE_STEMS = {"lv": {DECISION: "lemums", AGREEMENT: "vienosanas"}, "en": {DECISION: "decision", AGREEMENT: "agreement"}}

# Every issued version is audited (its file name as the comment); the applicant receives them.
audit_kind("document_issued", _l("Document issued"))




# --- finding documents ----------------------------------------------------------------------


def documents_for_ideas(idea_ids) -> dict[int, list[Document]]:
    """The current (latest) version of each kind of document of these ideas, in one query."""
    ids = list(idea_ids)
    if not ids:
        return {}
    latest = (
        select(Document.idea_id, Document.kind, func.max(Document.version).label("version"))
        .where(Document.idea_id.in_(ids))
        .group_by(Document.idea_id, Document.kind)
        .subquery()
    )
    rows = db.session.scalars(
        select(Document)
        .join(latest, and_(Document.idea_id == latest.c.idea_id, Document.kind == latest.c.kind,
                           Document.version == latest.c.version))
        .order_by(Document.idea_id, Document.kind)
    ).all()
    out: dict[int, list[Document]] = {i: [] for i in ids}
    for document in rows:
        out[document.idea_id].append(document)
    return out


def documents_for(idea) -> list[Document]:
    """The latest version of each kind of the idea's documents (for the idea and home pages)."""
    return documents_for_ideas([idea.id])[idea.id]


def all_versions(idea) -> list[Document]:
    return db.session.scalars(
        select(Document).options(selectinload(Document.issued_by))
        .where(Document.idea_id == idea.id).order_by(Document.kind, Document.version.desc())
    ).all()


def latest_version(idea_id: int, kind: str) -> int:
    return db.session.scalar(
        select(func.coalesce(func.max(Document.version), 0)).where(Document.idea_id == idea_id, Document.kind == kind)
    )


def current_version(document: Document) -> int:
    """The current version of what `document` is a version of: of its kind, and for an
    amendment of that numbered amendment (amendment No. 2 does not replace No. 1)."""
    where = [Document.idea_id == document.idea_id, Document.kind == document.kind]
    if document.kind == AMENDMENT:
        where.append(Document.number == document.number)
    return db.session.scalar(select(func.coalesce(func.max(Document.version), 0)).where(*where))


def by_token(token: str) -> Document | None:
    return db.session.scalars(select(Document).where(Document.token == token)).first()


def by_sha256(sha256: str) -> Document | None:
    return db.session.scalars(select(Document).where(Document.sha256 == sha256.strip().lower())).first()


# --- what goes into a document --------------------------------------------------------------


def language_of(idea) -> str:
    """The applicant's language: the one most of the organisation's active members chose;
    Latvian unless English wins outright."""
    locales = Counter(
        db.session.scalars(
            select(User.locale).join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == idea.organisation_id, User.active.is_(True))
        )
    )
    return "en" if locales.get("en", 0) > locales.get("lv", 0) else "lv"


def operator() -> dict:
    """The programme operator as the letterhead shows it: the configured name, with the
    registration number and address of the organisation of that name where it is recorded."""
    config = current_app.config
    org = db.session.scalars(select(Organisation).where(Organisation.name == config["OPERATOR_NAME"]).limit(1)).first()
    address = org.address if org else ""
    city = config["OPERATOR_CITY"]
    legal = {"association": ("biedrība", "Association"), "foundation": ("nodibinājums", "Foundation")}.get(org.legal_form if org else "")
    return {
        "name": config["OPERATOR_NAME"],
        "title": f'{legal[0]} "{config["OPERATOR_NAME"]}"' if legal else config["OPERATOR_NAME"],
        "title_en": f'{legal[1]} "{config["OPERATOR_NAME"]}"' if legal else config["OPERATOR_NAME"],
        "registration_number": org.registration_number if org else "",
        "address": address,
        "email": org.email if org else "",
        "city": city,
        "city_locative": config["OPERATOR_CITY_LOCATIVE"],
        "signatory": config["OPERATOR_SIGNATORY"],
        "signatory_position": config["OPERATOR_SIGNATORY_POSITION"],
    }


def verify_url(token: str) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/verify/{token}"


def qr_data_uri(text: str) -> str:
    """A QR code as an inline PNG, so the PDF needs no file or network. A fixed mask pattern
    (valid, just not searched for the "best" one) makes it five times quicker."""
    code = qrcode.QRCode(box_size=4, border=2, mask_pattern=2)
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def written_date(day: date, language: str, case: str = "locative") -> str:
    """A date in a document's sentence, in the case the sentence needs (Latvian): "Jēkabpilī,
    2027. gada 1. aprīlī" (locative), "no 2027. gada 1. aprīļa" and "2027. gada 1. aprīļa
    lēmums" (genitive), "līdz 2027. gada 30. jūnijam" (dative). English: "1 April 2027"."""
    return letter_date(day, language, case)


def missing_party_details(idea) -> list[str]:
    """What the agreement needs of the community and its organisation does not give yet:
    the bank account the grant is paid to and who signs for it (names, for the message)."""
    org = idea.organisation
    missing = []
    if not org.iban:
        missing.append(_("the bank account (IBAN)"))
    if not org.signatory_name:
        missing.append(_("the name of the person who signs"))
    if not org.signatory_position:
        missing.append(_("the position of the person who signs"))
    return missing


def issuable(idea) -> set[str]:
    """The kinds of document the idea's state allows now (the issue buttons shown): a decision
    letter once decided, an agreement once funded and the municipality has confirmed; the
    same rules `_context` refuses by."""
    decision = decision_of(idea)
    if decision is None:
        return set()
    if decision.funds and confirmed_cooperation(idea) is not None:
        return {DECISION, AGREEMENT}
    return {DECISION}


def _context(idea, kind: str, language: str) -> dict:
    """Everything the document templates print; refuses a document that is not due."""
    decision = decision_of(idea)
    if decision is None:
        raise Refused(_("There is no funding decision for this idea yet."))
    coop = None
    previous = earlier_decision(decision) if kind == DECISION and decision.funds else None
    if kind == AGREEMENT:
        if not decision.funds:
            raise Refused(_("An agreement is made only for a funded idea."))
        coop = confirmed_cooperation(idea)
        if coop is None:
            raise Refused(_("The municipality has not confirmed its commitments yet, so the agreement cannot be issued."))
        missing = missing_party_details(idea)
        if missing:
            raise Refused(_("The agreement cannot be issued until the organisation's profile gives: %(missing)s. Nothing was issued.",
                            missing=", ".join(missing)))
    competition = idea.competition
    today = utcnow().astimezone(RIGA).date()
    day = decision.decided_at.astimezone(RIGA).date() if kind == DECISION else today
    money = lambda amount: format_money(amount, language)  # noqa: E731
    parts = [idea.place, idea.parish.name if idea.parish else "", idea.municipality.name if idea.municipality else ""]
    activities = [a for a in idea.activities if a.starts_on or a.ends_on]
    return {
        "idea": idea,
        "organisation": idea.organisation,
        "competition": competition,
        "competition_title": competition.title(language),
        "decision": decision,
        "funded": decision.funds,
        "operator": operator(),
        "day": day,
        "date_written": written_date(day, language),
        # "pamatojoties uz ... 2027. gada 1. aprīļa lēmumu": the date qualifies the decision
        "written_decision_date": written_date(decision.decided_at.astimezone(RIGA).date(), language, "genitive"),
        "amount": money(decision.amount),
        "amount_words": amount_in_words(decision.amount, language),
        "amount_words_lv": amount_in_words(decision.amount, "lv"),
        "requested": money(decision.requested),
        # A decision raising the grant by an amendment names the decision it replaces.
        "previous": previous,
        "previous_amount": money(previous.amount) if previous else "",
        "previous_date": written_date(previous.decided_at.astimezone(RIGA).date(), language, "genitive") if previous else "",
        "adjusted_lines": [
            {"item": line["item"], "requested": money(Decimal(line["requested"])), "granted": money(Decimal(line["granted"]))}
            for line in decision.adjusted_budget or []
        ],
        "score": score_summary(idea),
        # after "līdz" (by, until) the dative, after "no" (from) the genitive
        "report_due": written_date(competition.report_due, language, "dative") if competition.report_due else "",
        "starts": written_date(min(a.starts_on for a in activities if a.starts_on), language, "genitive") if any(a.starts_on for a in activities) else "",
        "ends": written_date(max(a.ends_on for a in activities if a.ends_on), language, "dative") if any(a.ends_on for a in activities) else "",
        "coop": coop,
        "municipality_authority": coop.authority_name if coop else (authority_name(idea.municipality) if idea.municipality else ""),
        "place": ", ".join(dict.fromkeys(p for p in parts if p)),  # Viļāni in Viļāni once
        "points": lambda value: format_points(value, language, empty="—"),
        "q": lambda text: typographic_quotes(text, language),  # stored names in the letter's quotes
        "language": language,
    }


def _environment() -> jinja2.Environment:
    """The app's templates with StrictUndefined: a missing value in a legal document is an
    error the administrator sees, never a silent blank."""
    env = current_app.extensions.get("grantflow.documents_env")
    if env is None:
        env = current_app.jinja_env.overlay(undefined=jinja2.StrictUndefined)
        current_app.extensions["grantflow.documents_env"] = env
    return env


@dataclass
class Draft:
    """A document rendered to HTML and numbered, waiting to become a PDF and be stored."""

    idea_id: int
    kind: str
    version: int
    number: str
    language: str
    token: str
    filename: str
    html: str = field(repr=False)


def draft(idea, kind: str) -> Draft:
    """Render the document's HTML; raises Refused saying why when it cannot be made."""
    if kind not in KINDS:
        raise Refused(kind)
    language = language_of(idea)
    context = _context(idea, kind, language)
    decision = context["decision"]
    number = decision.number if kind == DECISION else f"{decision.number}-V"
    version = latest_version(idea.id, kind) + 1
    token = str(uuid.uuid4())
    url = verify_url(token)
    try:
        html = _environment().get_template(f"documents/{kind}_{language}.html").render(
            **context, number=number, version=version, verify_url=url, qr=qr_data_uri(url)
        )
    except jinja2.TemplateError as error:
        raise Refused(_("The document template failed: %(error)s. Nothing was issued.", error=f"{type(error).__name__}: {error}")) from error
    filename = f"{FILE_STEMS[language][kind]}-{idea.reference or idea.id}-v{version}.pdf"
    return Draft(idea.id, kind, version, number, language, token, filename, html)


def to_pdf(html: str) -> bytes:
    """HTML to PDF/A; any failure of WeasyPrint becomes a Refused with its message."""
    try:
        return html_to_pdf(html)
    except Exception as error:  # WeasyPrint raises many kinds; the administrator must see why
        raise Refused(_("The PDF could not be made: %(error)s. Nothing was issued.", error=f"{type(error).__name__}: {error}")) from error


def store(d: Draft, pdf: bytes, actor) -> Document:
    """Keep the PDF as a new version (never overwriting) and audit it; does not commit. With
    the operator's signature configured, the PDF is signed first (by incremental update) and
    the operator recorded as having signed; a signed file that fails the PDF/A checks of
    documents.pdfa is refused."""
    signer = operator_signer(current_app.config)
    if signer is not None:
        signed = sign(pdf, signer)
        broken = pdfa.problems(signed, issued=pdf)
        if broken:  # an archive document must stay PDF/A: better unissued than issued broken
            raise Refused(_("Signing would make the document no longer PDF/A (%(problems)s). Nothing was issued.",
                            problems="; ".join(broken)))
        pdf = signed
    document = _keep(d, pdf, actor)
    if signer is not None:
        cert = signer.signing_cert
        db.session.add(Signature(document=document, party=OPERATOR, signer=cert.subject.native.get("common_name") or cert.subject.human_friendly,
                                 subject=cert.subject.human_friendly, issuer=cert.issuer.human_friendly, signed_at=utcnow()))
    idea = db.session.get(Idea, d.idea_id)
    engine.record(idea, "document_issued", actor, d.filename, document=d.kind, version=d.version, sha256=document.sha256)
    return document


def _keep(d: Draft, pdf: bytes, actor) -> Document:
    document = Document(
        idea_id=d.idea_id, kind=d.kind, version=d.version, number=d.number, language=d.language,
        filename=d.filename, pdf=pdf, size=len(pdf), sha256=hashlib.sha256(pdf).hexdigest(),
        token=d.token, issued_by_id=getattr(actor, "id", None), issued_at=utcnow(),
    )
    db.session.add(document)
    return document


def _commit():
    try:
        db.session.commit()
    except IntegrityError as error:  # the same version issued at the same moment
        db.session.rollback()
        raise Conflict(str(error)) from error


def issue(idea, kind: str, actor) -> Document:
    """Make, store and commit the next version of the idea's document."""
    d = draft(idea, kind)
    document = store(d, to_pdf(d.html), actor)
    _commit()
    return document


# --- the receipt: a copy of the idea as submitted ------------------------------------------------
RECEIPT = "receipt"
KIND_LABELS = {
    DECISION: _l("Decision letter"),
    AGREEMENT: _l("Cooperation agreement"),
    RECEIPT: _l("Copy of the submitted idea"),
}
RECEIPT_COPY = "receipt_copy"  # the attachment maker
RECEIPT_MAIL = "receipt"  # the mail's composer


@effect("send_receipt", _l("Mails the applicant a receipt with a PDF copy of the idea"))
def send_receipt(idea, ctx) -> None:
    """A receipt to the applicants, carrying a PDF copy of the idea as submitted. Both the
    mail and the copy are written when the mail is sent, after the submission has committed
    (receipt_mail and receipt_copy below): the submission's transaction writes one outbox row
    per applicant with one INSERT … SELECT of their addresses, and never waits for a PDF or
    renders a mail. The outbox row is the durable record that the receipt is owed."""
    submitted = (ctx.params.get("received_at") or ctx.now).isoformat()
    job = {"maker": RECEIPT_COPY, "idea_id": idea.id, "submitted": ctx.now.isoformat(), "actor_id": getattr(ctx.actor, "id", None)}
    # In a staged competition each stage's submission has its own receipt: it names the stage
    # and the moment of this submission (submitted_at is the first stage's).
    stage = idea.workflow.stage_of(ctx.source) if ctx.source else None
    compose = {"composer": RECEIPT_MAIL, "idea_id": idea.id, "received": submitted, "stage": stage.key if stage is not None else None}
    queue_composed(*applicant_recipients(idea), compose, attachment_job=job)


@composer(RECEIPT_MAIL, _l("Receipt of a submitted idea (written when it is sent)"))
def receipt_mail(locale: str, idea_id: int, received: str, stage: str | None = None) -> tuple[str, str]:
    """The receipt's subject and text, in the recipient's language, for the submission made at
    `received` (of `stage`, in a staged competition)."""
    idea = db.session.get(Idea, idea_id)
    if idea is None:
        raise LookupError(f"idea {idea_id} no longer exists")
    stages = idea.workflow.stages
    label = stages[stage].label if stage in stages else None
    return render_mail("receipt", locale, idea=idea, stage=label, received=datetime.fromisoformat(received))


@attachment_maker(RECEIPT_COPY)
def receipt_copy(idea_id: int, submitted: str, actor_id: int | None = None) -> tuple[str, str, bytes]:
    """The receipt's PDF copy for the submission made at `submitted`: rendered and kept as the
    idea's next receipt version once, however many mails carry it and however often sending is
    retried (a copy issued since that submission is reused; two senders racing for the same
    version meet the unique version and the loser reuses the winner's). Raises when the PDF
    cannot be made: the mail then waits and is retried, and administrators see it waiting."""
    since = datetime.fromisoformat(submitted)
    document = _receipt_since(idea_id, since)
    if document is None:
        idea = db.session.get(Idea, idea_id)
        language = language_of(idea)
        with force_locale(language):
            pdf = render_pdf(
                "documents/idea_copy.html",
                idea=idea,
                locale=language,
                target_group_labels=TARGET_GROUP_LABELS,
                partner_kinds=PARTNER_KINDS,
                asked=asked_fields(idea),  # a concept's copy without the full proposal's parts
                other_answers=other_answers(idea),  # questions added to a copied form
            )
        actor = db.session.get(User, actor_id) if actor_id else None
        keep_copy(idea, pdf, actor, language)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
        document = _receipt_since(idea_id, since)
    return document.filename, "application/pdf", document.pdf


def _receipt_since(idea_id: int, since: datetime) -> Document | None:
    return db.session.scalars(
        select(Document)
        .where(Document.idea_id == idea_id, Document.kind == RECEIPT, Document.issued_at >= since)
        .order_by(Document.version.desc())
        .limit(1)
    ).first()


def receipts_owed(idea_id: int) -> list[OutboxMail]:
    """Receipt mails of the idea not sent yet, with why (for administrators: a copy that could
    not be made is retried, and shows here until it is)."""
    return db.session.scalars(
        select(OutboxMail)
        .where(
            OutboxMail.attachment_job["maker"].as_string() == RECEIPT_COPY,
            OutboxMail.attachment_job["idea_id"].as_integer() == idea_id,
            OutboxMail.status != MailStatus.SENT,
        )
        .order_by(OutboxMail.id)
    ).all()


def keep_copy(idea, pdf: bytes, actor, language: str = "lv") -> Document:
    """Store the receipt's PDF copy as the next version of the idea's receipt; does not commit.
    Not audited: the submission it copies is."""
    version = latest_version(idea.id, RECEIPT) + 1
    filename = f"{idea.reference}-iesniegums{'-' + str(version) if version > 1 else ''}.pdf"
    d = Draft(idea.id, RECEIPT, version, idea.reference or "", language, str(uuid.uuid4()), filename, "")
    return _keep(d, pdf, actor)


# --- the batch ------------------------------------------------------------------------------


@dataclass
class Due:
    items: list[tuple[Idea, str]]  # (idea, kind) to issue now
    waiting: list[Idea]  # funded ideas whose municipality has not confirmed yet


def due(competition_id: int) -> Due:
    """Documents of the competition not issued yet: a letter for every decision, an
    agreement for every funded idea whose municipality confirmed."""
    ideas = db.session.scalars(
        select(Idea).options(selectinload(Idea.organisation))
        .where(Idea.competition_id == competition_id, Idea.id.in_(select(Decision.idea_id)))
        .order_by(Idea.reference)
    ).all()
    ids = [i.id for i in ideas]
    issued = set(db.session.execute(select(Document.idea_id, Document.kind).where(Document.idea_id.in_(ids))).all()) if ids else set()
    funded = set(db.session.scalars(select(Decision.idea_id).where(Decision.idea_id.in_(ids), Decision.kind == DecisionKind.FUND))) if ids else set()
    confirmed = _confirmed(ids)
    items, waiting = [], []
    for idea in ideas:
        if (idea.id, DECISION) not in issued:
            items.append((idea, DECISION))
        if idea.id in funded and (idea.id, AGREEMENT) not in issued:
            (items.append((idea, AGREEMENT)) if idea.id in confirmed else waiting.append(idea))
    return Due(items, waiting)


def _confirmed(ids) -> set[int]:
    """Ideas whose latest municipality answer is a confirmation."""
    if not ids:
        return set()
    latest = {}
    for row in db.session.execute(
        select(CooperationConfirmation.idea_id, CooperationConfirmation.confirmed)
        .where(CooperationConfirmation.idea_id.in_(ids))
        .order_by(CooperationConfirmation.at, CooperationConfirmation.id)
    ):
        latest[row.idea_id] = row.confirmed
    return {i for i, ok in latest.items() if ok}


@dataclass
class BatchResult:
    issued: list[Document] = field(default_factory=list)
    failed: list[tuple[Idea, str, str]] = field(default_factory=list)  # idea, kind, why
    waiting: list[Idea] = field(default_factory=list)


def render_batch(todo: Due, actor=None, out_dir: Path | None = None, workers: int = 2, on_step=None) -> BatchResult:
    """Issue the due documents (see `due`). HTML is rendered here, PDFs in `workers`
    processes (WeasyPrint is CPU-bound), and each PDF is stored and committed here as it
    comes back, so an interruption keeps what was done and a re-run skips it.
    `on_step(count)` is called as documents finish (for a progress bar)."""
    result = BatchResult(waiting=todo.waiting)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = {}
        for idea, kind in todo.items:  # workers start on the first while the rest are drafted
            try:
                d = draft(idea, kind)
            except Refused as error:
                result.failed.append((idea, kind, str(error)))
                on_step and on_step(1)
            else:
                futures[pool.submit(html_to_pdf, d.html)] = d
        for future in as_completed(futures):
            d = futures[future]
            try:
                pdf = future.result()
            except Exception as error:  # one bad document must not stop the batch
                result.failed.append((db.session.get(Idea, d.idea_id), d.kind, f"{type(error).__name__}: {error}"))
            else:
                try:
                    document = store(d, pdf, actor)
                except Refused as error:  # signing would break PDF/A: this one is not issued
                    db.session.rollback()
                    result.failed.append((db.session.get(Idea, d.idea_id), d.kind, str(error)))
                    on_step and on_step(1)
                    continue
                _commit()
                result.issued.append(document)
                if out_dir is not None:
                    (out_dir / d.filename).write_bytes(document.pdf)
            on_step and on_step(1)
    return result
