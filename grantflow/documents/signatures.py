"""Who has signed a document: the parties each kind needs, the signed copies they upload
(verified by documents.signing), and whether an agreement is in force."""

import hashlib

import filetype
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grantflow.accounts.models import ADMINISTRATOR, APPLICANT, MUNICIPALITY
from grantflow.core.database import Conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.documents.models import MUNICIPALITY_PARTY, OPERATOR, ORGANISATION, PARTY_LABELS, Document, Signature
from grantflow.documents.operations import AGREEMENT, AMENDMENT, current_version
from grantflow.documents.signing import trust_roots, verify_copy
from grantflow.workflow import engine
from grantflow.workflow.registry import audit_kind

# The kinds the parties sign: the agreement and each amendment to it (a decision letter is the
# operator's alone: it carries only the operator's signature, made when it is issued).
SIGNED_BY_PARTIES = (AGREEMENT, AMENDMENT)

audit_kind("document_signed", _l("Signed copy accepted"))


def parties_of(document: Document) -> list[str]:
    """Who must sign the document for it to be in force: the operator; for an agreement (and
    an amendment to it) also the organisation and, where the idea has one, the municipality
    (it commits to premises and upkeep in the agreement)."""
    if document.kind not in SIGNED_BY_PARTIES:
        return [OPERATOR]
    return [OPERATOR, ORGANISATION] + ([MUNICIPALITY_PARTY] if document.idea.municipality_id else [])


def parties_for(idea, user) -> list[str]:
    """The parties `user` may upload a signed copy for: an applicant for the organisation, a
    representative for the municipality, an administrator for any (also the operator's own,
    when its director signs outside GrantFlow)."""
    roles = idea.roles_of(user)
    if ADMINISTRATOR in roles:
        return [OPERATOR, ORGANISATION] + ([MUNICIPALITY_PARTY] if idea.municipality_id else [])
    return ([ORGANISATION] if APPLICANT in roles else []) + ([MUNICIPALITY_PARTY] if MUNICIPALITY in roles and idea.municipality_id else [])


def signatures_of(document_ids) -> dict[int, dict[str, Signature]]:
    """The recorded signatures of these documents, by document and party, in one query."""
    ids = list(document_ids)
    out: dict[int, dict[str, Signature]] = {i: {} for i in ids}
    if ids:
        for signature in db.session.scalars(select(Signature).where(Signature.document_id.in_(ids))):
            out[signature.document_id][signature.party] = signature
    return out


def copy_by_sha256(sha256: str) -> Document | None:
    """The document a signed copy with this fingerprint was accepted for (the public check)."""
    return db.session.scalars(
        select(Document).join(Signature, Signature.document_id == Document.id).where(Signature.sha256 == sha256.strip().lower())
    ).first()


def status(document: Document, signed: dict[str, Signature]) -> dict:
    """For the idea and verification pages: each party with its signature (or None), and
    whether every party has signed."""
    rows = [(party, PARTY_LABELS[party], signed.get(party)) for party in parties_of(document)]
    return {"rows": rows, "in_force": all(s is not None for _, _, s in rows)}


def accept_signed_copy(idea, kind: str, party: str, data: bytes, user, number: str | None = None) -> Signature:
    """Verify a signed copy of the idea's current `kind` document (of an amendment: the
    amendment numbered `number`, the latest when not given) and record `party`'s signature
    (the copy's last signature made over the issued document). Raises Refused saying why;
    nothing is stored then. Commits."""
    if kind not in SIGNED_BY_PARTIES or party not in parties_for(idea, user):
        raise Refused(_l("You cannot upload a signed copy for this party."))
    if not data:
        raise Refused(_l("Choose the signed PDF file."))
    limit = current_app.config["MAX_SIGNED_COPY_BYTES"]
    if len(data) > limit:
        raise Refused(_l("The file is too large (%(size)s MB); at most %(limit)d MB.", size=f"{len(data) / 1048576:.1f}", limit=limit // 1048576))
    guessed = filetype.guess(data)
    if guessed is None or guessed.extension != "pdf":
        raise Refused(_l("This file is not a PDF. Upload the signed PDF (an .edoc or .asice container is not accepted: sign the PDF itself, as PAdES)."))
    versions = db.session.scalars(
        select(Document).where(Document.idea_id == idea.id, Document.kind == kind).order_by(Document.version)
    ).all()
    if kind == AMENDMENT and versions:  # each numbered amendment is a document of its own
        number = number or versions[-1].number
        versions = [d for d in versions if d.number == number]
    if not versions:
        raise Refused(_l("The document has not been issued yet."))
    issued = {d.sha256: d.pdf for d in versions}
    verified = verify_copy(data, issued, trust_roots(current_app.config))
    document = next(d for d in versions if d.sha256 == verified.base_sha256)
    current = current_version(document)
    if document.version != current:
        raise Refused(_l("The copy was signed over version %(version)d, which version %(current)d has replaced: sign the current version.",
                         version=document.version, current=current))
    if db.session.scalar(select(Signature.id).where(Signature.document_id == document.id, Signature.party == party)):
        raise Refused(_l("This party's signature is already recorded for this document: %(party)s.", party=PARTY_LABELS[party]))
    found = verified.signatures[-1]
    signature = Signature(
        document=document, party=party, signer=found.signer[:300], subject=found.subject, issuer=found.issuer,
        signed_at=found.signed_at, pdf=data, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=user.id, uploaded_at=utcnow(),
    )
    db.session.add(signature)
    engine.record(idea, "document_signed", user, f"{document.filename}: {found.signer}",
                  document=kind, version=document.version, party=party, sha256=signature.sha256)
    try:
        db.session.commit()
    except IntegrityError as error:  # the same party's signature recorded at the same moment
        db.session.rollback()
        raise Conflict(str(error)) from error
    return signature
