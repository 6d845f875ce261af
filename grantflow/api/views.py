"""The JSON API v1 (flask-smorest: marshmallow schemas, the OpenAPI 3.1 document made from this
code) and the page where a person makes and revokes their tokens.

Who calls is told by `Authorization: Bearer <token>` only: a session cookie never counts here
(so no page elsewhere can make a logged-in browser call the API, and the API needs no CSRF
token). A token acts as its person, and every check is the models' own (`Idea.can_view`,
`Idea.visible_to`, `Review.can_see`, `Report.can_view`), the web's checks."""

import http
from datetime import date
from decimal import Decimal

from flask import Blueprint as WebBlueprint
from flask import current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException, NotFound

from grantflow.accounts.models import APPLICANT
from grantflow.amendments import operations as amendments_ops
from grantflow.amendments.models import STATUS_LABELS as AMENDMENT_STATUS_LABELS
from grantflow.amendments.models import can_see_amendments
from grantflow.api import operations as ops
from grantflow.api import schemas as s
from grantflow.api.forms import NewTokenForm
from grantflow.api.models import ApiToken
from grantflow.core import web
from grantflow.core.database import Conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import csrf, db
from grantflow.core.forms import ActionForm
from grantflow.core.types import utcnow
from grantflow.core.web import flash_refused
from grantflow.documents import operations as documents_ops
from grantflow.documents.models import Document
from grantflow.ideas import operations as ideas_ops
from grantflow.ideas.models import Idea
from grantflow.impact import operations as impact_ops
from grantflow.messages import operations as messages_ops
from grantflow.messages.models import Message, can_write, is_staff
from grantflow.opendata import operations as opendata_ops
from grantflow.reports.operations import report_of
from grantflow.workflow import engine
from grantflow.workflow.registry import audit_label

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"
# The largest request body the API reads: a transition is a few hundred bytes.
MAX_BODY = 64 * 1024

# The calls anyone may make without a token (nothing personal, nothing unpublished).
PUBLIC_CALLS = {"api.competitions", "api.competition", "api.impact", "api.grants", "api.grant"}

bp = Blueprint(
    "api", __name__, url_prefix=PREFIX,
    description="Competitions, ideas, their workflow, reviews, documents, reports and impact figures.",
)  # fmt: skip
tokens_bp = WebBlueprint("tokens", __name__)


class GrantflowApi(Api):
    """flask-smorest's Api, with errors as problem+json documented on every operation, and
    without its app-wide error handler: the web pages keep theirs (core.web), and the API's
    errors are answered by `problem` through core.web.render_errors_under."""

    ERROR_SCHEMA = s.Problem

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def init_app(app) -> None:
    app.config.update(
        API_TITLE="GrantFlow API",
        API_VERSION="1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": "Public calls need no token; the others take `Authorization: Bearer <token>` "
                                    "(made on the tokens page, /account/tokens). Errors are problem details."},
            "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
        },
    )  # fmt: skip
    api = GrantflowApi(app)
    api.register_field(s.DecimalText, "string", "decimal")
    # Ids in paths: what `<int:…>` takes (core's BoundedInt: 0 … 2**31 - 1), so clients and
    # schemathesis know a larger number is no id.
    api.register_converter(app.url_map.converters["int"], lambda c: {"type": "integer", "minimum": 0, "maximum": c.max})
    csrf.exempt(bp)  # bearer tokens only (see the module docstring): there is no cookie to ride on
    api.register_blueprint(bp)
    app.register_blueprint(tokens_bp)
    app.extensions["grantflow.api"] = api
    web.render_errors_under(app, PREFIX + "/", problem)
    web.render_errors_under(app, "/api/", problem)


def problem(error) -> tuple:
    """Any error under /api/ as problem details: the status, its name, what went wrong, and for
    invalid input which fields (webargs puts them in `data["messages"]`)."""
    if isinstance(error, Conflict):
        status, detail = 409, _("Someone else changed this at the same moment. Nothing was saved; read it again and retry.")
    elif isinstance(error, HTTPException) and error.code and error.code < 500:
        status, detail = error.code, error.description or ""
    else:
        status, detail = 500, _("The error has been recorded. Please try again in a moment; if it happens again, tell us.")
    body = {"type": "about:blank", "title": http.HTTPStatus(status).phrase, "status": status, "detail": str(detail)}
    messages = (getattr(error, "data", None) or {}).get("messages")
    if messages:
        body["errors"] = messages
        body["detail"] = _("The request has invalid or unknown fields: see errors.")
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="GrantFlow API"'
    if isinstance(error, HTTPException) and status == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


class ApiError(HTTPException):
    """An API refusal with its status and message (answered by `problem`)."""

    def __init__(self, code: int, detail: str):
        self.code = code
        super().__init__(detail)


@bp.before_request
def authenticate():
    """Who calls: the token's person, or nobody. A token given but not good (unknown, revoked,
    its person deactivated) is refused, even for a public call, so a script learns at once."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, _("The request is too large (at most %(num)d KiB).", num=MAX_BODY // 1024))
    request.max_content_length = MAX_BODY
    g.api_token = None
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _sep, secret = header.partition(" ")
        token = ops.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise ApiError(401, _("The token is missing, unknown or revoked: send Authorization: Bearer <token>."))
        g.api_token = token
    # Before the body is read: who may not call is told so, whatever they sent.
    if request.endpoint not in PUBLIC_CALLS:
        writer() if request.method not in ("GET", "HEAD", "OPTIONS") else reader()


def caller():
    """The token's person, or None for a public call."""
    return g.api_token.user if g.get("api_token") else None


def reader():
    if not g.get("api_token"):
        raise ApiError(401, _("This call needs a token: send Authorization: Bearer <token>."))
    return g.api_token.user


def writer():
    user = reader()
    if not g.api_token.can_write:
        raise ApiError(403, _("This token may only read. Make a read-write token to change anything."))
    return user


def _page_out(page: ops.Page, items: list) -> dict:
    return {"items": items, "page": page.page, "per_page": page.per_page, "total": page.total, "pages": page.pages}


def _links(page: ops.Page) -> dict:
    """The Link header (first, prev, next, last) besides the envelope."""
    links = []
    args = request.args.to_dict()
    for rel, number in (("first", 1), ("prev", page.page - 1), ("next", page.page + 1), ("last", page.pages)):
        if 1 <= number <= page.pages and (rel in ("first", "last") or number != page.page):
            links.append(f'<{url_for(request.endpoint, **{**request.view_args, **args, "page": number})}>; rel="{rel}"')
    return {"Link": ", ".join(links)} if links else {}


# --- public ------------------------------------------------------------------------------------
def _competition(c, now) -> dict:
    return {
        "id": c.id, "code": c.code, "title": {"lv": c.title_lv, "en": c.title_en},
        "description": {"lv": c.description_lv, "en": c.description_en},
        "opens_at": c.opens_at, "closes_at": c.closes_at, "open": c.is_open(now),
        "budget": c.budget, "min_grant": c.min_grant, "max_grant": c.max_grant,
        "criteria": [
            {"id": k.id, "position": k.position, "name": {"lv": k.name_lv, "en": k.name_en},
             "guidance": {"lv": k.guidance_lv, "en": k.guidance_en}, "max_points": k.max_points, "weight": k.weight}
            for k in c.criteria
        ],
        "documents": [
            {"id": d.id, "kind": d.kind, "title": {"lv": d.title_lv, "en": d.title_en}, "filename": d.filename,
             "content_type": d.content_type, "size": d.size, "sha256": d.sha256,
             "url": url_for("public.document", competition_id=c.id, doc_id=d.id, _external=True)}
            for d in c.documents
        ],
    }  # fmt: skip


@bp.route("/competitions")
@bp.arguments(s.CompetitionArgs, location="query")
@bp.response(200, s.CompetitionPage)
@bp.doc(security=[{}, {"token": []}])
def competitions(args):
    """Competitions that have opened (public); administrators also see those not open yet."""
    now = utcnow()
    page = ops.competitions(caller(), now, args["page"], args["per_page"], args.get("open"))
    return _page_out(page, [_competition(c, now) for c in page.items]), 200, _links(page)


@bp.route("/competitions/<int:competition_id>")
@bp.response(200, s.CompetitionOut)
@bp.doc(security=[{}, {"token": []}])
def competition(competition_id):
    """A competition with its criteria and weights (public once it has opened)."""
    now = utcnow()
    found = ops.competition(caller(), now, competition_id)
    if found is None:
        raise NotFound(_("No such competition."))
    return _competition(found, now)


@bp.route("/impact")
@bp.arguments(s.ImpactArgs, location="query")
@bp.response(200, s.ImpactOut)
@bp.doc(security=[{}, {"token": []}])
def impact(args):
    """The programme's impact figures from the accepted final reports (public): in all, or of
    one competition, municipality or year."""
    scope = impact_ops.Scope(args.get("competition"), args.get("municipality"), args.get("year"))
    figures = impact_ops.impact(scope)
    total = figures.total
    return {**{name: getattr(total, name) for name in impact_ops.MEASURES}, "less_active": total.less_active,
            "reach": dict(total.reach), "demo": figures.demo}  # fmt: skip


def _grant(idea, decision) -> dict:
    return {
        "idea_id": idea.id, "reference": idea.reference, "title": idea.title, "organisation": idea.organisation.name,
        "municipality": idea.municipality.name if idea.municipality else None,
        "parish": idea.parish.name if idea.parish else None,
        "competition": {"id": idea.competition.id, "name": idea.competition.title_lv},
        "amount_requested": decision.requested, "amount_awarded": decision.amount, "awarded_at": decision.decided_at,
    }  # fmt: skip


@bp.route("/grants")
@bp.arguments(s.GrantArgs, location="query")
@bp.response(200, s.GrantPage)
@bp.doc(security=[{}, {"token": []}])
def grants(args):
    """Funded ideas, as the open data publishes them (public; nothing personal)."""
    rows = opendata_ops.funded(args.get("competition"))
    if args.get("municipality") is not None:
        rows = [(i, d) for i, d in rows if i.municipality_id == args["municipality"]]
    start = (args["page"] - 1) * args["per_page"]
    page = ops.Page(rows[start : start + args["per_page"]], args["page"], args["per_page"], len(rows))
    return _page_out(page, [_grant(i, d) for i, d in page.items]), 200, _links(page)


@bp.route("/grants/<int:idea_id>")
@bp.response(200, s.GrantOut)
@bp.doc(security=[{}, {"token": []}])
def grant(idea_id):
    """One funded idea (public); an idea not funded is not found, whoever asks."""
    found = next(((i, d) for i, d in opendata_ops.funded() if i.id == idea_id), None)
    if found is None:
        raise NotFound(_("No funded idea with this number."))
    return _grant(*found)


# --- with a token ------------------------------------------------------------------------------
SECURED = {"security": [{"token": []}]}


@bp.route("/me")
@bp.response(200, s.MeOut)
@bp.doc(**SECURED)
def me():
    """Whom the token acts as."""
    user = reader()
    return {"id": user.id, "name": user.name, "email": user.email, "roles": sorted(user.roles),
            "token": {"name": g.api_token.name, "can_write": g.api_token.can_write}}  # fmt: skip


def _state(idea) -> dict:
    state = idea.state_def
    return {"name": state.name, "label": dict(state.label), "tags": sorted(state.tags)}


def _summary(idea) -> dict:
    return {
        "id": idea.id, "reference": idea.reference, "title": idea.title, "competition_id": idea.competition_id,
        "organisation": {"id": idea.organisation.id, "name": idea.organisation.name},
        "municipality": {"id": idea.municipality.id, "name": idea.municipality.name} if idea.municipality else None,
        "state": _state(idea), "version": idea.version, "requested_amount": idea.requested_amount,
        "submitted_at": idea.submitted_at, "updated_at": idea.updated_at,
    }  # fmt: skip


def _idea(idea) -> dict:
    answers = ("summary", "community_need", "goals", "less_active_reach", "expected_participants", "coop_premises",
               "coop_inventory", "coop_upkeep", "sustainability", "contact_name", "contact_email", "contact_phone",
               "place", "own_contribution", "created_at")  # fmt: skip
    return {
        **_summary(idea),
        **{name: getattr(idea, name) for name in answers},
        "target_groups": [g for g in (idea.target_groups or []) if g in s.TARGET_GROUPS],
        "parish": {"id": idea.parish.id, "name": idea.parish.name} if idea.parish else None,
        "activities": [{"description": a.description, "starts_on": a.starts_on, "ends_on": a.ends_on} for a in idea.activities],
        "budget_lines": [{"item": b.item, "quantity": b.quantity, "unit_cost": b.unit_cost, "total": b.total, "own": b.own}
                         for b in idea.budget_lines],
        "partners": [{"name": p.name, "kind": p.kind, "contribution": p.contribution} for p in idea.partners],
        "attachments": [{"id": a.id, "purpose": a.purpose, "filename": a.filename, "content_type": a.content_type,
                         "size": a.size, "sha256": a.sha256} for a in idea.attachments],
    }  # fmt: skip


def _etag(idea) -> dict:
    return {"ETag": f'"{idea.version}"'}


def _visible_idea(idea_id: int):
    user = reader()
    idea = ops.idea(user, idea_id)
    if idea is None:
        raise NotFound(_("No such idea, or you may not see it."))
    return user, idea


@bp.route("/ideas")
@bp.arguments(s.IdeaArgs, location="query")
@bp.response(200, s.IdeaPage)
@bp.doc(**SECURED)
def ideas(args):
    """The ideas the token's person may see (their organisation's, those assigned to them, their
    municipality's filed ones; all for administrators), filtered."""
    user = reader()
    page = ops.ideas(user, args["page"], args["per_page"], args.get("competition"), args.get("state_tag"),
                     args.get("municipality"))  # fmt: skip
    return _page_out(page, [_summary(i) for i in page.items]), 200, _links(page)


@bp.route("/ideas/<int:idea_id>")
@bp.response(200, s.IdeaOut, headers={"ETag": {"description": "the idea's version", "schema": {"type": "string"}}})
@bp.doc(**SECURED)
def idea(idea_id):
    """An idea with its answers and state; its ETag is the version a change must name."""
    _user, found = _visible_idea(idea_id)
    return _idea(found), 200, _etag(found)


@bp.route("/ideas/<int:idea_id>/history")
@bp.response(200, s.HistoryOut(many=True))
@bp.doc(**SECURED)
def history(idea_id):
    """The idea's audited history as its page shows it to the caller (names only where the page
    shows them)."""
    user, found = _visible_idea(idea_id)
    lines = ideas_ops.history_for(found, user, found.roles_of(user))
    return [
        {"kind": line.entry.kind, "label": audit_label(line.entry.kind) if line.entry.kind != "transition" else "",
         "trigger": line.entry.trigger, "from_state": line.entry.from_state, "to_state": line.entry.to_state,
         "actor": line.entry.actor.name if line.show_actor and line.entry.actor else None,
         "actor_role": line.entry.actor_role if line.show_actor else None,
         "comment": line.entry.comment, "created_at": line.entry.created_at}
        for line in lines
    ]  # fmt: skip


def _transition(t) -> dict:
    return {"trigger": t.trigger, "label": dict(t.label), "to_state": t.dest, "comment": t.comment}


@bp.route("/ideas/<int:idea_id>/transitions")
@bp.response(200, s.TransitionOut(many=True))
@bp.doc(**SECURED)
def transitions(idea_id):
    """The workflow steps the caller may take on the idea now (the buttons its page shows)."""
    user, found = _visible_idea(idea_id)
    return [_transition(t) for t in engine.available(found, user)]


@bp.route("/ideas/<int:idea_id>/transitions", methods=["POST"])
@bp.arguments(s.TransitionIn)
@bp.response(200, s.IdeaOut, headers={"ETag": {"description": "the idea's new version", "schema": {"type": "string"}}})
@bp.alt_response(409, response="CONFLICT", description="The step is not possible now; `detail` says why")
@bp.alt_response(412, response="PRECONDITION_FAILED", description="If-Match names an older version of the idea")
@bp.alt_response(428, response="PRECONDITION_REQUIRED", description="If-Match is missing")
@bp.doc(
    parameters=[{"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
                 "description": "the idea's ETag (its version) as last read; required"}],
    **SECURED,
)  # fmt: skip
def fire(body, idea_id):
    """Take a workflow step (a read-write token): the same checks, effects and audit as the
    button on the idea's page, against the version named in If-Match."""
    received_at = utcnow()
    user = writer()
    _user, found = _visible_idea(idea_id)
    _check_if_match(found)
    try:
        ideas_ops.take_step(found, body["trigger"], user, body["comment"], received_at=received_at)
    except Refused as refused:
        db.session.rollback()
        raise ApiError(409, " ".join(refused.messages + list(refused.fields.values()))) from None
    found = db.session.get(Idea, idea_id)
    return _idea(found), 200, _etag(found)


def _check_if_match(found) -> None:
    """A change names the idea's version it was based on (If-Match: its ETag): none is 428, an
    older one 412, so a stale client never overwrites what it has not seen."""
    if not request.if_match or request.if_match.star_tag:
        raise ApiError(428, _("Send If-Match with the idea's ETag, so a change made since you read it is not overwritten."))
    if not request.if_match.contains(str(found.version)):
        raise ApiError(412, _("The idea changed after you read it (now version %(version)d); read it again.", version=found.version))


def _refused(refused: Refused, status: int = 422):
    """A refusal of the models' checks as a problem: the message, and each field's beside it."""
    db.session.rollback()
    error = ApiError(status, " ".join(refused.messages + list(refused.fields.values())))
    if refused.fields:
        error.data = {"messages": {"json": {name: [message] for name, message in refused.fields.items()}}}
    raise error from None


# --- messages --------------------------------------------------------------------------------------
IF_MATCH = {"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
            "description": "the idea's ETag (its version) as last read; required"}  # fmt: skip
CHANGE_RESPONSES = (
    (409, "CONFLICT", "Not possible now (answered already, changed at the same moment); `detail` says why"),
    (412, "PRECONDITION_FAILED", "If-Match names an older version of the idea"),
    (422, "UNPROCESSABLE_ENTITY", "The content is refused; `errors` names the fields"),
    (428, "PRECONDITION_REQUIRED", "If-Match is missing"),
)


def _changes(func):
    for status, response, description in CHANGE_RESPONSES:
        func = bp.alt_response(status, response=response, description=description)(func)
    return func


def _message(message, user, roles, staff: bool) -> dict:
    if message.kind == "answer":
        author = message.author.name if message.author and (staff or message.author_id == user.id) else None
    else:
        author = message.author.name if message.author and staff else None
    return {
        "id": message.id, "kind": message.kind, "body": message.body, "author": author,
        "to_applicant": message.to_applicant, "to_evaluators": message.to_evaluators, "open": message.is_open,
        "open_fields": list(message.open_fields or []), "changes": list(message.changes or []),
        "files": [{"id": f.id, "filename": f.filename, "content_type": f.content_type, "size": f.size, "sha256": f.sha256}
                  for f in message.files],
        "created_at": message.created_at, "closed_at": message.closed_at,
    }  # fmt: skip


@bp.route("/ideas/<int:idea_id>/messages")
@bp.response(200, s.MessageOut(many=True), headers={"ETag": {"description": "the idea's version", "schema": {"type": "string"}}})
@bp.doc(**SECURED)
def messages(idea_id):
    """The idea's questions and notes, each with its answers, as its page shows them to the
    caller (staff see all; the applicant what is addressed to them; evaluators what is shared)."""
    user, found = _visible_idea(idea_id)
    roles = found.roles_of(user)
    staff = is_staff(roles)
    return [
        {**_message(m, user, roles, staff), "answers": [_message(a, user, roles, staff) for a in answers]}
        for m, answers in messages_ops.thread(found, user, roles)
    ], 200, _etag(found)


@bp.route("/ideas/<int:idea_id>/messages", methods=["POST"])
@bp.arguments(s.MessageIn)
@bp.response(201, s.MessageOut, headers={"ETag": {"description": "the idea's version", "schema": {"type": "string"}}})
@_changes
@bp.doc(parameters=[IF_MATCH], **SECURED)
def write_message(body, idea_id):
    """Ask the applicant a question or write a staff note (the programme's staff, a read-write
    token), with the same checks, audit and mails as the idea's page."""
    user = writer()
    _user, found = _visible_idea(idea_id)
    if not can_write(found, user):
        raise ApiError(403, _("You may not write messages on this idea."))
    _check_if_match(found)
    try:
        message = messages_ops.write(found, user, body["kind"], body["body"], body["to_evaluators"], body["open_fields"])
    except Refused as refused:
        _refused(refused)
    found = db.session.get(Idea, idea_id)
    return {**_message(message, user, found.roles_of(user), True), "answers": []}, 201, _etag(found)


@bp.route("/messages/<int:message_id>/answer", methods=["POST"])
@bp.arguments(s.AnswerIn)
@bp.response(201, s.MessageOut, headers={"ETag": {"description": "the idea's new version", "schema": {"type": "string"}}})
@_changes
@bp.doc(parameters=[IF_MATCH], **SECURED)
def answer_message(body, message_id):
    """Answer a question to the applicant (its organisation's members, a read-write token),
    with the corrections of the fields it reopened; files are sent on the idea's page."""
    user = writer()
    question = db.session.get(Message, message_id)
    if question is None or not question.can_see(user):
        raise NotFound(_("No such message, or you may not see it."))
    if not question.can_answer(user):
        if question.kind == "question" and not question.is_open and APPLICANT in question.idea.roles_of(user):
            raise ApiError(409, _("This question has already been answered."))
        raise ApiError(403, _("Only the applicant answers a question to them."))
    idea_id = question.idea_id
    _check_if_match(question.idea)
    try:
        reply = messages_ops.answer(question, user, body["body"], body["values"])
    except Refused as refused:
        _refused(refused)
    found = db.session.get(Idea, idea_id)
    return {**_message(reply, user, found.roles_of(user), False), "answers": []}, 201, _etag(found)


# --- amendments ------------------------------------------------------------------------------------
def _amendment(a) -> dict:
    return {
        "id": a.id, "number": a.number, "status": a.status,
        "status_label": {code: str(label) for code, label in _labels(AMENDMENT_STATUS_LABELS.get(a.status, a.status)).items()},
        "reason": a.reason, "amount": a.amount, "lines": a.lines, "dates": a.dates, "before": a.before or None,
        "answer": a.answer, "requested_at": a.requested_at, "decided_at": a.decided_at, "document_id": a.document_id,
    }  # fmt: skip


def _labels(label) -> dict:
    """A lazy label in each language."""
    out = {}
    for code in current_app.config["LANGUAGES"]:
        with force_locale(code):
            out[code] = str(label)
    return out


def _amendable_idea(idea_id: int):
    user, found = _visible_idea(idea_id)
    if not can_see_amendments(found, user):
        raise NotFound(_("No such idea, or you may not see it."))
    return user, found


@bp.route("/ideas/<int:idea_id>/amendments")
@bp.response(200, s.AmendmentOut(many=True), headers={"ETag": {"description": "the idea's version", "schema": {"type": "string"}}})
@bp.doc(**SECURED)
def amendments(idea_id):
    """The amendments asked for on a funded idea, newest first, with what each changes and the
    answer (its applicants and the administrators, as on the idea's page)."""
    _user, found = _amendable_idea(idea_id)
    return [_amendment(a) for a in amendments_ops.amendments_of(found)], 200, _etag(found)


@bp.route("/ideas/<int:idea_id>/amendments", methods=["POST"])
@bp.arguments(s.AmendmentIn)
@bp.response(201, s.AmendmentOut, headers={"ETag": {"description": "the idea's version", "schema": {"type": "string"}}})
@_changes
@bp.doc(parameters=[IF_MATCH], **SECURED)
def request_amendment(body, idea_id):
    """Ask to change a funded idea's budget lines (hence the grant) or activity dates (its
    applicant, a read-write token): the same checks as the request page; the administrator
    decides on the idea's page."""
    user = writer()
    _user, found = _amendable_idea(idea_id)
    if not amendments_ops.may_request(found, user):
        raise ApiError(403, _("Only the applicant of a funded idea being carried out may ask for an amendment."))
    _check_if_match(found)
    now = amendments_ops.current_values(found)
    lines = {row["id"]: Decimal(row["amount"]) for row in now["lines"]}
    dates = {row["id"]: (_day(row["starts_on"]), _day(row["ends_on"])) for row in now["dates"]}
    unknown = [row["id"] for row in body["lines"] if row["id"] not in lines] + [row["id"] for row in body["dates"] if row["id"] not in dates]
    if unknown:
        raise ApiError(422, _("No such budget line or activity on this idea: %(ids)s.", ids=", ".join(map(str, unknown))))
    lines.update({row["id"]: row["amount"] for row in body["lines"]})
    dates.update({row["id"]: (row["starts_on"], row["ends_on"]) for row in body["dates"]})
    try:
        amendment = amendments_ops.request_amendment(found, user, reason=body["reason"], lines=lines, dates=dates)
    except Refused as refused:
        _refused(refused, 409)
    found = db.session.get(Idea, idea_id)
    return _amendment(amendment), 201, _etag(found)


def _day(text):
    return date.fromisoformat(text) if text else None


def _review(review, user) -> dict:
    return {"id": review.id, "idea_id": review.idea_id, "own": review.evaluator_id == user.id, "status": review.status,
            "recommendation": review.recommendation, "comment": review.comment, "total": review.total,
            "submitted_at": review.submitted_at,
            "scores": [{"criterion_id": x.criterion_id, "points": x.points, "comment": x.comment} for x in review.scores]}  # fmt: skip


@bp.route("/reviews")
@bp.arguments(s.PageArgs, location="query")
@bp.response(200, s.ReviewPage)
@bp.doc(**SECURED)
def reviews(args):
    """The caller's own reviews."""
    user = reader()
    page = ops.own_reviews(user, args["page"], args["per_page"])
    return _page_out(page, [_review(r, user) for r in page.items]), 200, _links(page)


@bp.route("/ideas/<int:idea_id>/reviews")
@bp.response(200, s.ReviewOut(many=True))
@bp.doc(**SECURED)
def idea_reviews(idea_id):
    """The idea's reviews the caller may see: administrators all, evaluators their own (and the
    others' once their own is submitted)."""
    user, found = _visible_idea(idea_id)
    return [_review(r, user) for r in ops.reviews_of_idea(found, user)]


def _document(d) -> dict:
    return {"id": d.id, "kind": d.kind, "version": d.version, "number": d.number, "language": d.language,
            "filename": d.filename, "size": d.size, "sha256": d.sha256, "issued_at": d.issued_at,
            "download": url_for("api.document", document_id=d.id)}  # fmt: skip


@bp.route("/ideas/<int:idea_id>/documents")
@bp.response(200, s.DocumentOut(many=True))
@bp.doc(**SECURED)
def documents(idea_id):
    """The idea's documents: the current version of each, every version for administrators
    (as the idea's page lists them)."""
    user, found = _visible_idea(idea_id)
    admin = user.is_admin
    return [_document(d) for d in (documents_ops.all_versions(found) if admin else documents_ops.documents_for(found))]


@bp.route("/documents/<int:document_id>")
@bp.response(200, content_type="application/pdf", description="The PDF")
@bp.doc(**SECURED)
def document(document_id):
    """A document's PDF, for whoever may see its idea."""
    user = reader()
    found = db.session.get(Document, document_id)
    if found is None or not found.idea.can_view(user):
        raise NotFound(_("No such document, or you may not see it."))
    return current_app.response_class(
        found.pdf, mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"', "Cache-Control": "private, no-store"},
    )  # fmt: skip


@bp.route("/ideas/<int:idea_id>/report")
@bp.response(200, s.ReportOut)
@bp.doc(**SECURED)
def report(idea_id):
    """The idea's final report, for whoever may see the idea."""
    user, found = _visible_idea(idea_id)
    rep = report_of(found)
    if rep is None or not rep.can_view(user):
        raise NotFound(_("This idea has no final report yet."))
    return {
        "id": rep.id, "idea_id": rep.idea_id, "status": rep.status, "participants": rep.participants,
        "organisations_count": rep.organisations_count, "organisations_names": rep.organisations_names,
        "volunteers": rep.volunteers, "changed": rep.changed, "continues": rep.continues,
        "submitted_at": rep.submitted_at, "accepted_at": rep.accepted_at,
        "activities": [{"held_on": a.held_on, "description": a.description, "participants": a.participants} for a in rep.activities],
        "reach": [{"target_group": r.target_group, "people": r.people} for r in rep.reach],
        "spending": [{"item": x.item, "planned": x.planned, "actual": x.actual} for x in rep.spending],
    }  # fmt: skip


# --- the browsable page and the tokens page (web pages) -----------------------------------------
@tokens_bp.route("/api/v1/")
def docs():
    """The API described for people, drawn from the same OpenAPI document (no script, nothing
    from elsewhere)."""
    spec = current_app.extensions["grantflow.api"].spec.to_dict()
    operations = [
        (path, method.upper(), op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    return render_template("api/docs.html", spec=spec, operations=operations)


@tokens_bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = NewTokenForm()
    secret = None
    status = 200
    if form.validate_on_submit():
        try:
            made = ops.create_token(current_user, form.name.data, form.access.data == "write")
        except Refused as refused:
            flash_refused(refused)
            status = 422
        else:
            secret = made.secret
            form = NewTokenForm(formdata=None)
    elif form.errors:
        status = 422
    return render_template(
        "api/tokens.html", form=form, secret=secret, tokens=ops.tokens_of(current_user), revoke=ActionForm(formdata=None)
    ), status


@tokens_bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None or not token.can_revoke(current_user):
        raise NotFound()
    if ActionForm().validate_on_submit():
        ops.revoke_token(token, current_user)
        flash(_("The token “%(name)s” is revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("tokens.tokens"), code=303)
