"""People and roles (administrators), everyone's profile with an evaluator's standing
conflicts, and the administration log's page."""

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from grantflow.accounts import operations as accounts_ops
from grantflow.accounts import throttle
from grantflow.accounts.access import over_limit, role_required
from grantflow.accounts.models import ADMINISTRATOR, EVALUATOR, ROLE_LABELS, ROLES, User
from grantflow.adminlog import operations as adminlog
from grantflow.core import drafts
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.forms import ActionForm
from grantflow.core.i18n import locale_code
from grantflow.core.web import flash_refused
from grantflow.organisations.models import Organisation
from grantflow.people import operations as ops
from grantflow.people.forms import ConflictForm, InviteForm, ProfileForm, RolesForm, WithdrawConflictForm, ids
from grantflow.reminders import operations as reminders
from grantflow.review import conflicts
from grantflow.review.models import ConflictOfInterest
from grantflow.territory.models import Municipality

bp = Blueprint("people", __name__)


def _municipality_choices():
    return [SelectChoice(str(m.id), m.name) for m in db.session.scalars(select(Municipality).order_by(Municipality.name))]


def _roles_choices(roles=ROLES):
    return [SelectChoice(role, str(ROLE_LABELS[role])) for role in roles]


def _refused_beside(form, refused: Refused) -> None:
    """The operation's refusal: beside the fields it names, the rest as a message."""
    flash_refused(Refused(refused.messages))
    for name, message in refused.fields.items():
        if name in form:
            form[name].errors = [message]
        else:
            flash(message, "error")


def _count_mail() -> None:
    """An invitation mail was written: it counts against the administrator's mail limit
    (only then, so a refused request stores nothing)."""
    throttle.record(current_user.email, request.remote_addr or "unknown", throttle.MAIL)


def _person(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


# --- people (administrators) ------------------------------------------------------------------
@bp.route("/admin/people")
@role_required(ADMINISTRATOR)
def index():
    q = (request.args.get("q") or "").strip()[:200]
    role = request.args.get("role") or ""
    status = request.args.get("status") or ""
    people, pages, total = ops.search(q, role if role in ROLES else "", status if status in ops.STATUSES else "",
                                      ops.number(request.args.get("page")))  # fmt: skip
    page = min(ops.number(request.args.get("page")), pages)
    return render_template(
        "people/index.html", people=people, pages=pages, page=page, total=total, q=q, role=role, status=status,
        roles=[(r, ROLE_LABELS[r]) for r in ROLES], role_labels=ROLE_LABELS, statuses=ops.STATUSES,
        args={k: v for k, v in {"q": q, "role": role, "status": status}.items() if v},
    )  # fmt: skip


@bp.route("/admin/people/invite", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def invite():
    form = InviteForm()
    form.roles.choices = _roles_choices(accounts_ops.STAFF_ROLES)
    form.municipalities.choices = _municipality_choices()
    if request.method == "GET":
        form.locale.data = locale_code()
    if form.validate_on_submit():
        if over_limit(current_user.email, throttle.MAIL):
            return render_template("people/invite.html", form=form), 429
        try:
            user = accounts_ops.invite(form.email.data, form.name.data, form.roles.data, ids(form.municipalities.data),
                                       form.locale.data, current_user)  # fmt: skip
        except Refused as refused:
            _refused_beside(form, refused)
        else:
            _count_mail()
            flash(_("%(name)s is invited: the mail with the link to set a password is on its way to %(email)s.",
                    name=user.name, email=user.email), "success")  # fmt: skip
            return redirect(url_for("people.show", user_id=user.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("people/invite.html", form=form), status


def _person_page(person: User, roles_form=None, conflict_form=None, status: int = 200):
    if roles_form is None:
        roles_form = RolesForm(formdata=None, roles=sorted(person.roles), municipalities=[str(i) for i in person.municipality_ids()])
    roles_form.roles.choices = _roles_choices()
    roles_form.municipalities.choices = _municipality_choices()
    context = {"person": person, "roles_form": roles_form, "role_labels": ROLE_LABELS, "action_form": ActionForm(),
               "log": ops.about(person), "kind_label": adminlog.kind_label}  # fmt: skip
    if EVALUATOR in person.roles:
        context.update(_conflicts_context(person, conflict_form))
    return render_template("people/show.html", **context), status


def _conflicts_context(evaluator: User, form=None) -> dict:
    if form is None:
        form = ConflictForm(formdata=None)
    form.organisation.choices = [SelectChoice("", _("— choose —"))] + [
        SelectChoice(str(o.id), o.name) for o in db.session.scalars(select(Organisation).order_by(Organisation.name))
    ]
    form.municipality.choices = [SelectChoice("", _("— choose —"))] + _municipality_choices()
    return {"conflicts": conflicts.standing(evaluator), "conflict_form": form, "withdraw_form": WithdrawConflictForm()}


@bp.route("/admin/people/<int:user_id>")
@role_required(ADMINISTRATOR)
def show(user_id: int):
    return _person_page(_person(user_id))


@bp.route("/admin/people/<int:user_id>/roles", methods=["POST"])
@role_required(ADMINISTRATOR)
def roles(user_id: int):
    person = _person(user_id)
    form = RolesForm()
    form.roles.choices = _roles_choices()
    form.municipalities.choices = _municipality_choices()
    if form.validate_on_submit():
        try:
            accounts_ops.change_roles(person, form.roles.data, ids(form.municipalities.data), current_user)
        except Refused as refused:
            db.session.rollback()
            _refused_beside(form, refused)
        else:
            flash(_("The roles of %(name)s are saved.", name=person.name), "success")
            return redirect(url_for("people.show", user_id=person.id), code=303)
    return _person_page(person, roles_form=form, status=422)


@bp.route("/admin/people/<int:user_id>/active", methods=["POST"])
@role_required(ADMINISTRATOR)
def active(user_id: int):
    person = _person(user_id)
    form = ActionForm()
    wanted = request.form.get("active")
    if not form.validate_on_submit() or wanted not in ("0", "1"):
        abort(400)
    try:
        accounts_ops.set_active(person, wanted == "1", current_user)
    except Refused as refused:
        db.session.rollback()
        for message in [*refused.messages, *refused.fields.values()]:
            flash(message, "error")
        return _person_page(person, status=422)
    if wanted == "1":
        flash(_("%(name)s can log in again.", name=person.name), "success")
    else:
        flash(_("%(name)s is deactivated: their sessions have ended and they cannot log in.", name=person.name), "success")
    return redirect(url_for("people.show", user_id=person.id), code=303)


@bp.route("/admin/people/<int:user_id>/invite-again", methods=["POST"])
@role_required(ADMINISTRATOR)
def invite_again(user_id: int):
    person = _person(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if over_limit(current_user.email, throttle.MAIL):
        return _person_page(person, status=429)
    try:
        accounts_ops.reinvite(person, current_user)
    except Refused as refused:
        db.session.rollback()
        flash_refused(refused)
        return _person_page(person, status=422)
    _count_mail()
    flash(_("A new invitation is on its way to %(email)s; the earlier link no longer works.", email=person.email), "success")
    return redirect(url_for("people.show", user_id=person.id), code=303)


def _record_conflict(evaluator: User, recorded_by: User | None):
    """Record a standing conflict from the posted form; (ok, form)."""
    form = ConflictForm()
    if form.validate_on_submit():
        try:
            conflicts.declare(evaluator, form.scope.data, ops.number(form.organisation.data, None),
                              ops.number(form.municipality.data, None), form.person_email.data, form.reason.data,
                              recorded_by=recorded_by)  # fmt: skip
        except Refused as refused:
            db.session.rollback()
            _refused_beside(form, refused)
        else:
            return True, form
    return False, form


def _withdraw_conflict(evaluator: User) -> bool:
    form = WithdrawConflictForm()
    conflict = db.session.get(ConflictOfInterest, ops.number(form.conflict_id.data, 0)) if form.validate_on_submit() else None
    if conflict is None or conflict.evaluator_id != evaluator.id:
        abort(404)
    try:
        conflicts.withdraw(conflict, current_user)
    except Refused as refused:
        db.session.rollback()
        flash_refused(refused)
        return False
    return True


@bp.route("/admin/people/<int:user_id>/conflicts", methods=["POST"])
@role_required(ADMINISTRATOR)
def record_conflict(user_id: int):
    """An administrator records a standing conflict for an evaluator, or withdraws one."""
    person = _person(user_id)
    if EVALUATOR not in person.roles:
        abort(404)
    if "conflict_id" in request.form:
        if not _withdraw_conflict(person):
            return _person_page(person, status=422)
        flash(_("The conflict of interest is withdrawn."), "success")
        return redirect(url_for("people.show", user_id=person.id, _anchor="conflicts"), code=303)
    ok, form = _record_conflict(person, current_user)
    if not ok:
        return _person_page(person, conflict_form=form, status=422)
    flash(_("The conflict of interest is recorded: %(name)s will not be assigned what it concerns.", name=person.name), "success")
    return redirect(url_for("people.show", user_id=person.id, _anchor="conflicts"), code=303)


# --- the administration log -------------------------------------------------------------------
@bp.route("/admin/log")
@role_required(ADMINISTRATOR)
def log():
    args = request.args
    kind = args.get("kind") if args.get("kind") in adminlog.KINDS else ""
    object_kind = args.get("object") if args.get("object") in adminlog.OBJECTS else ""
    actor_id = ops.number(args.get("person"), None)
    object_id = ops.number(args.get("object_id"), None)
    since, until = ops.riga_day(args.get("since")), ops.riga_day(args.get("until"))
    entries, pages, total = ops.log_page(kind, actor_id, object_kind, object_id, since, until, ops.number(args.get("page")))
    page = min(ops.number(args.get("page")), pages)
    filters = {"kind": kind, "object": object_kind, "person": actor_id, "object_id": object_id,
               "since": since.isoformat() if since else "", "until": until.isoformat() if until else ""}  # fmt: skip
    return render_template(
        "people/log.html", entries=entries, pages=pages, page=page, total=total, filters=filters,
        args={k: v for k, v in filters.items() if v}, kinds=sorted((k, adminlog.kind_label(k)) for k in adminlog.KINDS),
        objects=sorted((k, adminlog.object_label(k)) for k in adminlog.OBJECTS), actors=ops.actors(),
        kind_label=adminlog.kind_label, object_label=adminlog.object_label,
    )  # fmt: skip


# --- everyone's own profile -------------------------------------------------------------------
def _profile_page(form=None, conflict_form=None, status: int = 200):
    user = current_user._get_current_object()
    if form is None:
        form = drafts.restore(ProfileForm(formdata=None, name=user.name, locale=user.locale, reminders_off=user.reminders_off or []))
    context = {"form": form, "role_labels": ROLE_LABELS}
    if EVALUATOR in user.roles:
        context.update(_conflicts_context(user, conflict_form))
    return render_template("people/profile.html", **context), status


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    if request.method == "GET":
        return _profile_page()
    form = ProfileForm()
    if drafts.is_autosave():
        return drafts.keep(form)
    if not form.validate_on_submit():
        return _profile_page(form=form, status=422)
    drafts.forget()
    accounts_ops.update_profile(current_user._get_current_object(), form.name.data, form.locale.data)
    reminders.turn_off(current_user._get_current_object(), form.reminders_off.data or [])
    session["locale"] = form.locale.data
    flash(_("Your profile is saved."), "success")
    return redirect(url_for("people.profile"), code=303)


@bp.route("/profile/conflicts", methods=["POST"])
@role_required(EVALUATOR)
def declare_conflict():
    """An evaluator declares a standing conflict of interest on their own profile."""
    ok, form = _record_conflict(current_user._get_current_object(), None)
    if not ok:
        return _profile_page(conflict_form=form, status=422)
    flash(_("Your conflict of interest is recorded: you will not be assigned the ideas it concerns."), "success")
    return redirect(url_for("people.profile", _anchor="conflicts"), code=303)
