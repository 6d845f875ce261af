from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from grantflow.accounts import throttle
from grantflow.accounts.access import too_many
from grantflow.accounts.forms import ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from grantflow.accounts.operations import (
    accept_invitation as accept_invitation_with,
)
from grantflow.accounts.operations import (
    authenticate,
    confirm_email,
    end_sessions,
    request_password_reset,
    send_confirmation,
    user_for_invitation,
    user_for_reset,
)
from grantflow.accounts.operations import (
    register as register_user,
)
from grantflow.accounts.operations import (
    reset_password as set_new_password,
)
from grantflow.core.database import writes
from grantflow.core.extensions import db
from grantflow.core.forms import ActionForm
from grantflow.core.i18n import locale_code
from grantflow.core.safety import safe_next

bp = Blueprint("accounts", __name__)


def start_session(user, remember: bool = False) -> None:
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
            return render_template("accounts/login.html", form=form), 429
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            throttle.clear(user.email, ip)
            db.session.commit()
            start_session(user, form.remember.data)
            if not user.email_confirmed:
                flash(_("Please confirm your e-mail address: open the link we mailed you."), "info")
            return redirect(safe_next(request.args.get("next")) or url_for("pages.index"))
        throttle.record_failure(form.email.data, ip)
        flash(_("The e-mail or the password is not right."), "error")
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_sessions(current_user._get_current_object())
    logout_user()
    flash(_("You have logged out."), "success")
    return redirect(url_for("pages.index"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Open to everyone (coming from an invitation, see organisations.views.register_invited)."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        if too_many(form.email.data, throttle.MAIL):
            return render_template("accounts/register.html", form=form, invitation=None), 429
        register_user(form.name.data, form.email.data, form.password.data, locale_code())
        # The same answer for a taken address, so the form does not reveal who has an account.
        flash(_("We have sent a message to %(email)s. Follow it to go on.", email=form.email.data), "success")
        return redirect(url_for("accounts.login"), code=303)
    return render_template("accounts/register.html", form=form, invitation=None)


@bp.route("/confirm/<token>")
@writes
def confirm(token: str):
    user = confirm_email(token)
    if user is None:
        flash(_("This confirmation link is not valid or has expired. Log in and ask for a new one."), "error")
        return redirect(url_for("accounts.login"))
    flash(_("Thank you, your e-mail address is confirmed."), "success")
    return redirect(url_for("pages.index") if current_user.is_authenticated else url_for("accounts.login"))


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
def resend_confirmation():
    form = ActionForm()
    if current_user.email_confirmed:
        flash(_("Your e-mail address is already confirmed."), "success")
        return redirect(url_for("pages.index"))
    if form.validate_on_submit():
        if too_many(current_user.email, throttle.MAIL):
            return render_template("accounts/confirm.html", form=form), 429
        send_confirmation(current_user)
        flash(_("We have sent a new link to %(email)s.", email=current_user.email), "success")
        return redirect(url_for("pages.index"), code=303)
    return render_template("accounts/confirm.html", form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        if too_many(form.email.data, throttle.MAIL):
            return render_template("accounts/forgot.html", form=form), 429
        request_password_reset(form.email.data)
        flash(
            _("If %(email)s has an account, a link to set a new password is on its way. It is valid for an hour.", email=form.email.data),
            "success",
        )
        return redirect(url_for("accounts.login"), code=303)
    return render_template("accounts/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = user_for_reset(token)
    if user is None:
        flash(_("This link is not valid any more: it has expired or has been used. Ask for a new one."), "error")
        return redirect(url_for("accounts.forgot_password"))
    form = ResetPasswordForm()
    form.account_email = user.email  # for the check that the password is not the address
    if form.validate_on_submit():
        set_new_password(user, form.password.data)
        flash(_("Your new password is set. Please log in."), "success")
        return redirect(url_for("accounts.login"), code=303)
    return render_template("accounts/reset.html", form=form)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """An invited member of staff, evaluator or municipality representative chooses a password
    (the link came by mail, so it also confirms the address), and is logged in."""
    user = user_for_invitation(token)
    if user is None:
        flash(_("This invitation link is not valid any more: it has expired or has been used. "
                "Ask the administrator for a new one, or set a password through “Forgot your password?”."), "error")  # fmt: skip
        return redirect(url_for("accounts.login"))
    form = ResetPasswordForm()
    form.account_email = user.email
    if form.validate_on_submit():
        accept_invitation_with(user, form.password.data)
        start_session(user)
        flash(_("Welcome, %(name)s! Your password is set.", name=user.name), "success")
        return redirect(url_for("pages.index"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/invitation.html", form=form, invited=user), status
