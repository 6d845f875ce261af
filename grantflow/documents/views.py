"""Issuing and downloading documents, the public verification page, and the batch command."""

import hashlib
from pathlib import Path

import click
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from grantflow.accounts.access import role_required
from grantflow.accounts.models import ADMINISTRATOR, User
from grantflow.competitions.models import Competition
from grantflow.core.database import Conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.web import flash_refused
from grantflow.documents import operations as ops
from grantflow.documents import signatures, tasks
from grantflow.documents.forms import SignedCopyForm, VerifyForm
from grantflow.documents.models import PARTY_LABELS, Document
from grantflow.ideas import panels
from grantflow.ideas.models import Idea
from grantflow.ideas.views import idea_for, send_file_download
from grantflow.mail.operations import failure_reason

bp = Blueprint("documents", __name__, cli_group="documents")


@panels.panel("documents", order=500)
def documents_panel(idea, user, roles) -> panels.Panel:
    """The current version of each document for all who may see the idea (listed here only,
    not again among the idea's files); every version and the issue buttons for administrators."""
    admin = ADMINISTRATOR in roles
    docs = ops.documents_for(idea)
    signed = signatures.signatures_of(d.id for d in docs)
    may_sign = signatures.parties_for(idea, user)
    owed = ops.receipts_owed(idea.id) if admin else []
    failed = next((mail for mail in reversed(owed) if mail.last_error), None)  # the latest attempt that failed
    return panels.Panel(
        "documents/_idea.html",
        {
            "idea": idea,
            "docs": docs,
            # Amendments are signed on the amendments panel, each beside its own amendment.
            "signing": {d.id: signatures.status(d, signed[d.id]) for d in docs if d.kind == ops.AGREEMENT},
            "sign_form": sign_form(may_sign) if may_sign else None,
            "kind_labels": ops.KIND_LABELS,
            "admin": admin,
            "versions": ops.all_versions(idea) if admin else [],
            "receipts_owed": owed,
            "receipt_failure": failed.last_error if failed else "",
            "receipt_reason": failure_reason(failed.last_error) if failed else None,
            "issuable": ops.issuable(idea) if admin else set(),
        },
    )


@bp.route("/apply/<int:idea_id>/documents/<kind>.pdf")
@login_required
def latest(idea_id: int, kind: str):
    """The latest version of a kind of document (decision, agreement, receipt)."""
    idea = idea_for(idea_id, current_user)
    if not idea.can_see_documents(current_user):
        abort(404)
    found = {d.kind: d for d in ops.documents_for(idea)}.get(kind) or abort(404)
    return send_file_download(found.pdf, "application/pdf", found.filename)


@bp.route("/documents/<int:document_id>")
@login_required
def download(document_id: int):
    document = db.session.get(Document, document_id)
    if document is None or not document.idea.can_see_documents(current_user):
        abort(404)
    return Response(
        document.pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{document.filename}"', "Cache-Control": "private, no-store"},
    )


def sign_form(parties) -> SignedCopyForm:
    """The signed-copy upload form for the parties the person may sign for (also used by the
    amendments panel)."""
    form = SignedCopyForm()
    form.party.choices = [(p, str(PARTY_LABELS[p])) for p in parties]
    return form


@bp.route("/apply/<int:idea_id>/documents/signed", methods=["POST"])
@login_required
def upload_signed(idea_id: int):
    """A party's signed copy of the idea's current document of the form's kind (an agreement
    unless it says otherwise; an amendment's form names its number), verified before anything
    is kept. Back to the panel the form was on."""
    idea = idea_for(idea_id, current_user)
    kind = request.form.get("kind", ops.AGREEMENT)
    if kind not in signatures.SIGNED_BY_PARTIES:
        abort(404)
    parties = signatures.parties_for(idea, current_user)
    if not parties:
        abort(403)
    anchor = "#amendments" if kind == ops.AMENDMENT else "#documents"
    back = redirect(url_for("ideas.show", idea_id=idea.id) + anchor, code=303)
    form = sign_form(parties)
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
        return back
    try:
        signature = signatures.accept_signed_copy(idea, kind, form.party.data, form.pdf.data.read() if form.pdf.data else b"", current_user,
                                                 number=request.form.get("number") or None)
    except Refused as error:
        db.session.rollback()
        flash_refused(error)
        return back
    except Conflict:
        flash(_("This party's signature was recorded at the same moment by someone else; look at the list."), "error")
        return back
    flash(_("The signed copy is genuine: %(signer)s's signature is recorded.", signer=signature.signer), "success")
    return back


@bp.route("/documents/ideas/<int:idea_id>/<kind>", methods=["POST"])
@role_required(ADMINISTRATOR)
def issue(idea_id: int, kind: str):
    idea = db.session.get(Idea, idea_id)
    if idea is None or kind not in ops.KINDS:
        abort(404)
    back = redirect(url_for("ideas.show", idea_id=idea.id) + "#documents", code=303)
    try:
        document = ops.issue(idea, kind, current_user)
    except Refused as error:
        db.session.rollback()
        flash_refused(error)
        return back
    except Conflict:
        flash(_("The same document was issued at the same moment by someone else. Nothing was stored twice; look at the list."), "error")
        return back
    flash(_("Issued: %(file)s (version %(version)d).", file=document.filename, version=document.version), "success")
    return back


@bp.route("/documents/competitions/<int:competition_id>/batch", methods=["POST"])
@role_required(ADMINISTRATOR)
def start_batch(competition_id: int):
    """Issue every due decision letter and agreement of the competition on the task queue;
    the competition's page shows the progress."""
    competition = db.session.get(Competition, competition_id) or abort(404)
    back = redirect(url_for("pages.competition", competition_id=competition_id) + "#documents", code=303)
    try:
        batch_id, total = tasks.start_batch(competition, current_user)
    except Refused as error:
        db.session.rollback()
        flash_refused(error)
        return back
    tasks.enqueue_batch(batch_id)
    flash(_("Issuing %(count)d documents in the background; this page shows the progress.", count=total), "success")
    return back


def _verdict(document: Document | None, held: str | None):
    """The verification page: the record, whether it is current, and whether the copy matches."""
    current = ops.current_version(document) if document else None
    signing = signatures.status(document, signatures.signatures_of([document.id])[document.id]) if document else None
    return {"document": document, "current_version": current, "held": held, "signing": signing, "kind_labels": ops.KIND_LABELS,
            "matches": held is not None and document is not None and held == document.sha256}


@bp.route("/verify", methods=["GET", "POST"])
def verify_index():
    form = VerifyForm()
    held = document = None
    if form.validate_on_submit():
        held = _fingerprint(form)
        document = ops.by_sha256(held) or signatures.copy_by_sha256(held)
    status = 422 if form.errors else 200
    return render_template("documents/verify.html", form=form, token=None, checked=held is not None, **_verdict(document, held)), status


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify(token: str):
    document = ops.by_token(token)
    form = VerifyForm()
    held = _fingerprint(form) if document is not None and form.validate_on_submit() else None
    status = 404 if document is None else (422 if form.errors else 200)
    return render_template("documents/verify.html", form=form, token=token, checked=held is not None, **_verdict(document, held)), status


def _fingerprint(form: VerifyForm) -> str:
    if form.pdf.data:
        return hashlib.sha256(form.pdf.data.read()).hexdigest()
    return form.sha256.data.strip().lower()


@bp.cli.command("render")
@click.option("--competition", "competition_id", type=int, required=True, help="The competition's id.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Directory for the PDFs.")
@click.option("--workers", type=int, default=2, show_default=True, help="Processes rendering PDFs.")
@click.option("--issuer", help="E-mail of the administrator recorded as the issuer.")
def render_command(competition_id, out_dir, workers, issuer):
    """Issue every due decision letter and agreement of a competition, skipping those issued."""
    if db.session.get(Competition, competition_id) is None:
        raise click.ClickException(f"no competition {competition_id}")
    actor = None
    if issuer:
        actor = db.session.scalars(select(User).where(User.email == issuer)).first()
        if actor is None or not actor.is_admin:
            raise click.ClickException(f"{issuer} is not an administrator")
    todo = ops.due(competition_id)
    with click.progressbar(length=len(todo.items), label="Rendering documents") as bar:
        result = ops.render_batch(todo, actor, out_dir, workers=workers, on_step=bar.update)
    click.echo(f"issued {len(result.issued)}, failed {len(result.failed)}, "
               f"agreements waiting for the municipality {len(result.waiting)}; PDFs in {out_dir}")
    for idea, kind, why in result.failed:
        click.echo(f"  failed {kind} {idea.reference}: {why}", err=True)
    for idea in result.waiting:
        click.echo(f"  waiting: agreement {idea.reference} (the municipality has not confirmed)")
    if result.failed:
        raise SystemExit(1)
