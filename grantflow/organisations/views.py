"""Organisation pages: my organisations, the profile, editing it, inviting and joining."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from grantflow.accounts import throttle
from grantflow.accounts.access import too_many
from grantflow.accounts.forms import RegisterForm
from grantflow.accounts.models import User
from grantflow.accounts.operations import register as register_user
from grantflow.accounts.views import start_session
from grantflow.core import drafts
from grantflow.core.extensions import db
from grantflow.core.forms import ActionForm
from grantflow.core.i18n import locale_code
from grantflow.core.types import utcnow
from grantflow.organisations import operations
from grantflow.organisations.forms import InviteForm, OrganisationForm
from grantflow.organisations.models import Invitation, Membership, Organisation

bp = Blueprint("organisations", __name__)


def org_for(org_id: int, user, edit: bool = False) -> Organisation:
    """The organisation if `user` may see it (404 otherwise: others' organisations are not even
    confirmed to exist); 403 if they may see but not act for it."""
    org = db.session.get(Organisation, org_id)
    if org is None or not org.can_view(user):
        abort(404)
    if edit and not org.can_edit(user):
        abort(403)
    return org


def _needs_confirmed_email():
    flash(_("Confirm your e-mail address first: open the link we mailed you."), "error")
    return redirect(url_for("accounts.resend_confirmation"))


@bp.route("/orgs/")
@login_required
def index():
    orgs = db.session.scalars(
        select(Organisation)
        .join(Membership)
        .where(Membership.user_id == current_user.id)
        .options(selectinload(Organisation.municipality), selectinload(Organisation.parish))
        .order_by(Organisation.name)
    ).all()
    return render_template("organisations/index.html", orgs=orgs)


@bp.route("/orgs/new", methods=["GET", "POST"])
@login_required
def create():
    if not current_user.email_confirmed:
        return _needs_confirmed_email()
    form = drafts.restore(OrganisationForm())
    if drafts.is_autosave():
        return drafts.keep(form)
    if form.validate_on_submit():
        drafts.forget()
        org = operations.create_organisation(form.values(), current_user)
        flash(_("The organisation is saved."), "success")
        return redirect(url_for("organisations.show", org_id=org.id), code=303)
    return render_template("organisations/edit.html", form=form, org=None), 400 if form.errors else 200


def _show(org: Organisation, form: InviteForm, status: int = 200):
    members = db.session.scalars(
        select(Membership)
        .where(Membership.organisation_id == org.id)
        .options(selectinload(Membership.user))
        .order_by(Membership.joined_at)
    ).all()
    pending = db.session.scalars(
        select(Invitation)
        .where(Invitation.organisation_id == org.id, Invitation.accepted_at.is_(None), Invitation.expires_at > utcnow())
        .order_by(Invitation.created_at)
    ).all()
    return render_template("organisations/show.html", org=org, members=members, pending=pending, form=form), status


@bp.route("/orgs/<int(max=2147483647):org_id>")
@login_required
def show(org_id: int):
    return _show(org_for(org_id, current_user), InviteForm())


@bp.route("/orgs/<int(max=2147483647):org_id>/edit", methods=["GET", "POST"])
@login_required
def edit(org_id: int):
    org = org_for(org_id, current_user, edit=True)
    fields = ("name", "legal_form", "registration_number", "iban", "address", "contact_person", "phone", "email")
    data = {name: getattr(org, name) or "" for name in fields}
    data.update(municipality=str(org.municipality_id or ""), parish=str(org.parish_id or ""))
    form = drafts.restore(OrganisationForm(data=data))
    if drafts.is_autosave():
        return drafts.keep(form)
    if form.validate_on_submit():
        drafts.forget()
        operations.update_organisation(org, form.values())
        flash(_("The changes are saved."), "success")
        return redirect(url_for("organisations.show", org_id=org.id), code=303)
    return render_template("organisations/edit.html", form=form, org=org), 400 if form.errors else 200


@bp.route("/orgs/<int(max=2147483647):org_id>/invite", methods=["POST"])
@login_required
def invite(org_id: int):
    org = org_for(org_id, current_user, edit=True)
    form = InviteForm()
    if form.validate_on_submit():
        email = form.email.data.lower()
        member = select(Membership.id).join(Membership.user).where(Membership.organisation_id == org.id, User.email == email)
        if db.session.scalar(member) is not None:
            form.email.errors.append(_("%(email)s is already a member.", email=email))
        elif too_many(email, throttle.MAIL):
            return _show(org, form, 429)
        else:
            operations.invite(org, email, current_user, locale_code())
            flash(_("An invitation has been sent to %(email)s.", email=email), "success")
            return redirect(url_for("organisations.show", org_id=org.id), code=303)
    return _show(org, form, 400)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """Anyone with the link sees whom it invites where; only the invited address can accept."""
    found = operations.open_invitation(token)
    if found is None:
        return render_template("organisations/invitation.html", invitation=None, token=token), 404
    form = ActionForm()
    if request.method == "POST" and current_user.is_authenticated and form.validate_on_submit():
        if operations.accept(found, current_user):
            flash(_("Welcome! You are now a member of %(name)s.", name=found.organisation.name), "success")
            return redirect(url_for("organisations.show", org_id=found.organisation_id), code=303)
        flash(_("This invitation was sent to another e-mail address. Log in with that address to accept it."), "error")
    return render_template("organisations/invitation.html", invitation=found, token=token, form=form)


@bp.route("/invitations/<token>/register", methods=["GET", "POST"])
def register_invited(token: str):
    """Registering from an invitation link: the invitation's address is filled in, and
    registering with it accepts the invitation (the link proved the address)."""
    if current_user.is_authenticated:
        return redirect(url_for("organisations.invitation", token=token))
    invitation = operations.open_invitation(token)
    if invitation is None:
        return render_template("organisations/invitation.html", invitation=None, token=token), 404
    form = RegisterForm()
    if request.method == "GET":
        form.email.data = invitation.email
    if form.validate_on_submit():
        if too_many(form.email.data, throttle.MAIL):
            return render_template("accounts/register.html", form=form, invitation=invitation), 429
        invited = invitation.email == form.email.data.lower()
        user = register_user(form.name.data, form.email.data, form.password.data, locale_code(), confirmed=invited)
        if invited and user is not None:
            operations.accept(invitation, user)
            start_session(user)
            flash(_("Welcome! You are now a member of %(name)s.", name=invitation.organisation.name), "success")
            return redirect(url_for("organisations.show", org_id=invitation.organisation_id), code=303)
        # The same answer for a taken address, so the form does not reveal who has an account.
        flash(_("We have sent a message to %(email)s. Follow it to go on.", email=form.email.data), "success")
        return redirect(url_for("accounts.login"), code=303)
    return render_template("accounts/register.html", form=form, invitation=invitation)
