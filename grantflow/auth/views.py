from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from grantflow.auth.forms import LoginForm
from grantflow.auth.operations import authenticate
from grantflow.safety import safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            locale = session.get("locale")
            session.clear()  # a fresh session on login: no fixation
            if locale:
                session["locale"] = locale
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        flash(_("The e-mail or the password is not right."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You have logged out."), "success")
    return redirect(url_for("home.index"))
