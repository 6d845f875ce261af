"""The administrators' page of a competition's reminder schedule."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from grantflow.accounts.access import role_required
from grantflow.accounts.models import ADMINISTRATOR
from grantflow.competitions.models import Competition
from grantflow.core.extensions import db
from grantflow.reminders import operations as ops
from grantflow.reminders import tasks  # noqa: F401  (declares the periodic run)
from grantflow.reminders.forms import ReminderSettingsForm
from grantflow.reminders.models import ReminderSettings

bp = Blueprint("reminders", __name__)


@bp.route("/competitions/<int:competition_id>/reminders", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def settings(competition_id: int):
    competition = db.session.get(Competition, competition_id) or abort(404)
    if request.method == "GET":
        current = ops.settings_for(competition)
        form = ReminderSettingsForm(competition, formdata=None, data={n: getattr(current, n) for n in ReminderSettings.FIELDS})
    else:
        form = ReminderSettingsForm(competition)
        if form.validate_on_submit():
            ops.save_settings(competition, form.values(), current_user._get_current_object())
            flash(_("The reminder schedule is saved."), "success")
            return redirect(url_for("reminders.settings", competition_id=competition.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("reminders/settings.html", form=form, competition=competition), status
