from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from grantflow.auth import throttle
from grantflow.auth.access import too_many
from grantflow.auth.forms import EmptyForm, ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from grantflow.auth.operations import (
    authenticate,
    confirm_email,
    register as register_user,
    request_password_reset,
    reset_password as set_new_password,
    send_confirmation,
    user_for_reset,
)
from grantflow.extensions import db
from grantflow.i18n import locale_code
from grantflow.orgs import operations as orgs
from grantflow.safety import safe_next

bp = Blueprint("auth", __name__)


def _start_session(user, remember: bool = False) -> None:
    locale = session.get("locale")
    session.clear()  # a fresh session on login: no fixation
    if locale:
        session["locale"] = locale
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        ip = request.remote_addr or "unknown"
        if too_many(form.email.data, throttle.LOGIN):
            return render_template("auth/login.html", form=form), 429
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            throttle.clear(user.email)
            db.session.commit()
            _start_session(user, form.remember.data)
            if not user.email_confirmed:
                flash(_("Please confirm your e-mail address: open the link we mailed you."), "info")
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        throttle.record_failure(form.email.data, ip)
        flash(_("The e-mail or the password is not right."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You have logged out."), "success")
    return redirect(url_for("home.index"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Open to everyone. Coming from an invitation link, the invitation's address is filled in
    and registering with it accepts the invitation (the link proved the address)."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = RegisterForm()
    invitation = orgs.open_invitation(form.invitation.data or request.args.get("invitation", ""))
    if request.method == "GET" and invitation is not None:
        form.invitation.data = request.args.get("invitation")
        form.email.data = invitation.email
    if form.validate_on_submit():
        if too_many(form.email.data, throttle.MAIL):
            return render_template("auth/register.html", form=form, invitation=invitation), 429
        invited = invitation is not None and invitation.email == form.email.data.lower()
        user = register_user(form.name.data, form.email.data, form.password.data, locale_code(), confirmed=invited)
        if invited and user is not None:
            orgs.accept(invitation, user)
            _start_session(user)
            flash(_("Welcome! You are now a member of %(name)s.", name=invitation.organisation.name), "success")
            return redirect(url_for("orgs.show", org_id=invitation.organisation_id), code=303)
        # The same answer for a taken address, so the form does not reveal who has an account.
        flash(_("We have sent a message to %(email)s. Follow it to go on.", email=form.email.data), "success")
        return redirect(url_for("auth.login"), code=303)
    return render_template("auth/register.html", form=form, invitation=invitation)


@bp.route("/confirm/<token>")
def confirm(token: str):
    user = confirm_email(token)
    if user is None:
        flash(_("This confirmation link is not valid or has expired. Log in and ask for a new one."), "error")
        return redirect(url_for("auth.login"))
    flash(_("Thank you, your e-mail address is confirmed."), "success")
    return redirect(url_for("home.index") if current_user.is_authenticated else url_for("auth.login"))


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
def resend_confirmation():
    form = EmptyForm()
    if current_user.email_confirmed:
        flash(_("Your e-mail address is already confirmed."), "success")
        return redirect(url_for("home.index"))
    if form.validate_on_submit():
        if too_many(current_user.email, throttle.MAIL):
            return render_template("auth/confirm.html", form=form), 429
        send_confirmation(current_user)
        flash(_("We have sent a new link to %(email)s.", email=current_user.email), "success")
        return redirect(url_for("home.index"), code=303)
    return render_template("auth/confirm.html", form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        if too_many(form.email.data, throttle.MAIL):
            return render_template("auth/forgot.html", form=form), 429
        request_password_reset(form.email.data)
        flash(
            _("If %(email)s has an account, a link to set a new password is on its way. It is valid for an hour.", email=form.email.data),
            "success",
        )
        return redirect(url_for("auth.login"), code=303)
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = user_for_reset(token)
    if user is None:
        flash(_("This link is not valid any more: it has expired or has been used. Ask for a new one."), "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    form.account_email = user.email  # for the check that the password is not the address
    if form.validate_on_submit():
        set_new_password(user, form.password.data)
        flash(_("Your new password is set. Please log in."), "success")
        return redirect(url_for("auth.login"), code=303)
    return render_template("auth/reset.html", form=form)
