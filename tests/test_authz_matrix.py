"""Who may use every route, from the URL map itself: each endpoint declares which personas
may GET and POST it; every other persona must be sent to the login page (anonymous) or get
403/404, never 200 and never 500, and a refused POST must change nothing. A route added
without a declaration fails here, so whoever adds a route says who may use it. Also: every
POST route refuses a request without a CSRF token (400, nothing changed)."""

import io

import pytest

from grantflow.core.extensions import db
from grantflow.funding.operations import committed
from grantflow.ideas.models import Idea
from tests import routes
from tests.world import PDF, PERSONAS, snapshot, world_fixture

ANY = frozenset(PERSONAS)
LOGGED_IN = ANY - {"anonymous"}
ADMIN = frozenset({"administrator"})
# Programme staff (tests/world.py STAFF_ROLES): they screen, assign, moderate and read the
# reviews, by the permission methods on the models; they never fund.
STAFF = frozenset({"staff"})
EVALUATORS = frozenset({"evaluator", "evaluator_draft", "evaluator_other"})
A = frozenset({"applicant_a"})
PUBLIC = "public"  # anyone; only "never a 500" is checked
# The JSON API's calls that need a token: who may is the token's person, checked per persona
# in tests/test_api.py through the same model methods; here every persona's session cookie
# must get 401 problem+json (a cookie never authenticates the API) and change nothing.
TOKEN = "token"


def E(get=None, post=None, redirect=frozenset()):
    """get/post: the personas who may (PUBLIC: anyone); redirect: those sent on by a 303 (a
    page they may not use in this state, e.g. editing a submitted idea)."""
    return {"GET": get, "POST": post, "redirect": frozenset(redirect)}


EXPECT = {
    "amendments.new": E(A), "amendments.create": E(post=A),
    "amendments.approve": E(post=ADMIN), "amendments.refuse": E(post=ADMIN),
    "accounts.accept_invitation": E(PUBLIC, PUBLIC), "accounts.confirm": E(PUBLIC), "accounts.forgot_password": E(PUBLIC, PUBLIC), "accounts.login": E(PUBLIC, PUBLIC),
    "accounts.logout": E(post=PUBLIC), "accounts.register": E(PUBLIC, PUBLIC),
    "accounts.resend_confirmation": E(PUBLIC, PUBLIC), "accounts.reset_password": E(PUBLIC, PUBLIC),
    "competitions.change_criterion": E(post=ADMIN), "competitions.criteria": E(ADMIN, ADMIN),
    "competitions.edit": E(ADMIN, ADMIN), "competitions.edit_criterion": E(ADMIN, ADMIN),
    "competitions.new": E(ADMIN, ADMIN), "competitions.rounds": E(ADMIN, ADMIN), "competitions.stages": E(ADMIN, ADMIN), "competitions.edit_round": E(ADMIN, ADMIN), "competitions.workflow": E(ADMIN), "competitions.workflow_svg": E(ADMIN),
    "documents.download": E(A | {"municipality", "administrator"}),
    "documents.issue": E(post=ADMIN), "documents.start_batch": E(post=ADMIN),
    "documents.latest": E(A | {"municipality", "administrator"}),
    "documents.upload_signed": E(post=A | {"municipality", "administrator"}),
    "documents.verify": E(PUBLIC, PUBLIC), "documents.verify_index": E(PUBLIC, PUBLIC),
    "messages.new": E(ADMIN | STAFF, ADMIN | STAFF), "messages.answer": E(A, A), "messages.download": E(A | ADMIN | STAFF),
    "funding.board": E(ADMIN), "funding.cooperation": E({"municipality"}, {"municipality"}),
    "funding.decide": E(post=ADMIN), "funding.decide_page": E(ADMIN),
    "ideas.delete": E(post=A), "ideas.download": E(A | ADMIN), "ideas.edit": E(A, redirect={"administrator"}),
    "ideas.new": E(LOGGED_IN, {"applicant_a", "applicant_b"}),
    "ideas.save": E(post=A), "ideas.show": E(A | ADMIN | STAFF | {"evaluator", "evaluator_draft", "municipality"}),
    "ideas.step": E(post=A), "ideas.confirm_step": E(A), "ideas.confirm_submit": E(A, redirect={"administrator"}), "ideas.submit": E(post=A), "ideas.upload": E(post=A),
    "ideas.sections": E(A, redirect={"administrator"}), "ideas.section": E(A, redirect={"administrator"}),
    "ideas.check_answers": E(A, redirect={"administrator"}), "ideas.save_section": E(post=A),
    "questionnaires.index": E(ADMIN), "questionnaires.edit": E(ADMIN),
    "questionnaires.change": E(post=ADMIN), "questionnaires.copy": E(post=ADMIN),
    "organisations.create": E(LOGGED_IN, LOGGED_IN), "organisations.edit": E(A, A), "organisations.index": E(LOGGED_IN),
    "organisations.invitation": E(PUBLIC, PUBLIC), "organisations.invite": E(post=A),
    "organisations.register_invited": E(PUBLIC, PUBLIC), "organisations.show": E(A | ADMIN),
    "pages.competition": E(ADMIN), "pages.competitions": E(ADMIN), "pages.outbox": E(ADMIN), "pages.healthz": E(PUBLIC),
    "pages.index": E(PUBLIC), "pages.privacy": E(PUBLIC), "pages.accessibility": E(PUBLIC), "pages.set_language": E(post=PUBLIC),
    "opendata.index": E(PUBLIC), "opendata.grants": E(PUBLIC),
    "public.competitions": E(PUBLIC), "public.competition": E(PUBLIC), "public.results": E(PUBLIC),
    "public.idea": E(PUBLIC), "public.impact_page": E(PUBLIC), "public.sitemap": E(PUBLIC), "public.feed": E(PUBLIC),
    "impact.dashboard": E(ADMIN), "impact.reports": E(ADMIN), "impact.summary": E(post=ADMIN), "impact.summary_pdf": E(ADMIN),
    "public.document": E(PUBLIC),
    "competitions.documents": E(ADMIN, ADMIN), "competitions.edit_document": E(ADMIN, ADMIN), "competitions.remove_document": E(post=ADMIN),
    "people.active": E(post=ADMIN), "people.declare_conflict": E(post=EVALUATORS), "people.index": E(ADMIN),
    "people.invite": E(ADMIN, ADMIN), "people.invite_again": E(post=ADMIN), "people.log": E(ADMIN),
    "people.profile": E(LOGGED_IN, LOGGED_IN), "people.record_conflict": E(post=ADMIN), "people.roles": E(post=ADMIN),
    "people.show": E(ADMIN),
    "reminders.settings": E(ADMIN, ADMIN),
    "exports.index": E(ADMIN, ADMIN), "exports.download": E(ADMIN), "exports.my_data": E(LOGGED_IN),
    "exports.erase": E(ADMIN, ADMIN),
    "payments.competition": E(ADMIN), "payments.create_run": E(post=ADMIN), "payments.index": E(ADMIN),
    "payments.plan": E(ADMIN, ADMIN), "payments.record": E(ADMIN, ADMIN), "payments.refund_request": E(post=ADMIN),
    "payments.refund_returned": E(ADMIN, ADMIN), "payments.run": E(ADMIN), "payments.run_cancel": E(post=ADMIN),
    "payments.run_file": E(ADMIN), "payments.run_paid": E(post=ADMIN),
    "reports.edit": E(A, redirect={"municipality", "administrator", "staff"}), "reports.save": E(post=A), "reports.upload": E(post=A),
    "reports.sections": E(A, redirect={"municipality", "administrator", "staff"}),
    "reports.section": E(A, redirect={"municipality", "administrator", "staff"}),
    "reports.check": E(A, redirect={"municipality", "administrator", "staff"}),
    "reports.save_section": E(post=A), "reports.submit": E(post=A),
    "review.assign": E(post=ADMIN | STAFF), "review.assignments": E(ADMIN | STAFF), "review.auto_assign": E(post=ADMIN | STAFF),
    "review.conflict": E(post={"evaluator_draft"}), "review.desk": E(EVALUATORS), "review.progress": E(ADMIN | STAFF),
    "review.ranking": E(ADMIN | STAFF), "exports.ranking": E(post=ADMIN), "review.reviews": E({"evaluator"} | ADMIN | STAFF),
    "review.score": E({"evaluator", "evaluator_draft"}, {"evaluator", "evaluator_draft"}),
    "review.screening": E(ADMIN | STAFF, ADMIN | STAFF), "review.unassign": E(post=ADMIN | STAFF),
    "static": E(PUBLIC),
    "api.competitions": E(PUBLIC), "api.competition": E(PUBLIC), "api.impact": E(PUBLIC), "api.grants": E(PUBLIC),
    "api.grant": E(PUBLIC), "api-docs.openapi_json": E(PUBLIC), "tokens.docs": E(PUBLIC),
    "api.me": E(TOKEN), "api.ideas": E(TOKEN), "api.idea": E(TOKEN), "api.history": E(TOKEN),
    "api.transitions": E(TOKEN), "api.fire": E(post=TOKEN), "api.reviews": E(TOKEN), "api.idea_reviews": E(TOKEN),
    "api.documents": E(TOKEN), "api.document": E(TOKEN), "api.report": E(TOKEN),
    "api.messages": E(TOKEN), "api.write_message": E(post=TOKEN), "api.answer_message": E(post=TOKEN),
    "api.amendments": E(TOKEN), "api.request_amendment": E(post=TOKEN),
    "tokens.tokens": E(LOGGED_IN, LOGGED_IN), "tokens.revoke": E(post=A),
}  # fmt: skip

# Known findings not fixed yet: (endpoint, method, persona) -> the finding. Each case is a
# strict xfail, so fixing the finding without removing its line here fails the suite.
KNOWN: dict[tuple[str, str, str], str] = {}

RULES = routes.rules()


def _cases():
    for endpoint, _rule, methods in RULES:
        for method in methods:
            for persona in PERSONAS:
                expect = EXPECT.get(endpoint)
                if method == "POST" and expect is not None and expect["POST"] not in (PUBLIC, TOKEN) and persona in expect["POST"]:
                    continue  # an allowed POST is the fuzzer's and the CSRF sweep's (test_fuzz.py)
                reason = KNOWN.get((endpoint, method, persona))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                yield pytest.param(endpoint, method, persona, marks=marks, id=f"{method}-{endpoint}-{persona}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    yield from world_fixture(request, tmp_path_factory)


def _body(endpoint: str, world) -> dict:
    """A well-formed request for the route, so a missing check would show as a change."""
    ids, users = world.ids, world.users
    idea = db.session.get(Idea, ids[routes.IDEA_FOR.get(endpoint, "in_review")])
    if endpoint == "review.score":
        body = {f"points_{c.id}": "8" for c in idea.competition.criteria} | {"recommendation": "fund", "submit": "1"}
        return body | {f"comment_{c.id}": "x" for c in idea.competition.criteria}
    return {
        "ideas.save": {"title": "Pārrakstīts", "action": "save"},
        "ideas.save_section": {"title": "Pārrakstīts", "action": "save"},
        "ideas.step": {"version": str(idea.version), "comment": "x"},
        "ideas.upload": {"purpose": "quote", "file": (io.BytesIO(PDF), "x.pdf")},
        "reports.upload": {"purpose": "receipt", "file": (io.BytesIO(PDF), "x.pdf")},
        "documents.upload_signed": {"party": "organisation", "pdf": (io.BytesIO(PDF), "x.pdf")},
        "ideas.new": {"competition_id": str(ids["competition"]), "organisation_id": str(ids["org_a"])},
        "review.conflict": {"scope": "idea", "reason": "Radinieks"},
        "review.assign": {"evaluator_id": str(users["evaluator_other"].id)},
        "review.unassign": {"reason": "x"},
        "review.screening": {"outcome": "ineligible", "reason": "x"},
        "funding.decide": {"action": "fund", "fund-version": str(idea.version),
                           "fund-committed": str(committed(idea.competition_id))},
        "funding.cooperation": {"comment_only": "y", "comment": "x"},
        "organisations.invite": {"email": "jauns@example.lv"},
        "people.invite": {"name": "Jauns", "email": "jauns.darbinieks@example.lv", "roles": "evaluator", "locale": "lv"},
        "people.roles": {"roles": "evaluator"},
        "people.active": {"active": "0"},
        "people.record_conflict": {"scope": "municipality", "municipality": str(ids["municipality"]), "reason": "Dzīvo"},
        "people.declare_conflict": {"scope": "municipality", "municipality": str(ids["municipality"]), "reason": "Dzīvo"},
        "people.profile": {"name": "Cits vārds", "locale": "lv"},
        "organisations.edit": {"name": "Pārrakstīta"},
        "reports.save": {"action": "save"},
        "reports.save_section": {"participants": "12", "action": "save"},
        "reminders.settings": {"draft_days": "1", "evaluation_days": "", "report_due_days": "0",
                               "report_overdue_every": "7", "report_overdue_max": "3", "confirmation_wait_days": "7"},
        "messages.new": {"kind": "question", "body": "Kāpēc?", "open_fields": "title"},
        "messages.answer": {"body": "Tāpēc.", "title": "Jauns nosaukums"},
    }.get(endpoint, {})  # fmt: skip


def _denied(persona, response) -> bool:
    if persona == "anonymous":
        return response.status_code == 302 and "/login" in response.headers.get("Location", "")
    return response.status_code in (403, 404)


def test_every_route_declares_who_may_use_it():
    missing = sorted({endpoint for endpoint, _rule, _m in RULES} - EXPECT.keys())
    assert not missing, f"declare who may use these routes in EXPECT: {missing}"
    stale = sorted(EXPECT.keys() - {endpoint for endpoint, _rule, _m in RULES})
    assert not stale, f"these declared routes no longer exist: {stale}"
    checked = sum(len(methods) for _e, _r, methods in RULES) * len(PERSONAS)
    print(f"authorisation matrix: {len(RULES)} routes, {checked} (route, method, persona) cases")
    assert len(RULES) >= 59 and checked >= 59 * len(PERSONAS)


@pytest.mark.parametrize("endpoint, method, persona", list(_cases()))
def test_route_by_persona(world, endpoint, method, persona):
    expect = EXPECT.get(endpoint)
    assert expect is not None, f"{endpoint}: no declared expectation; add it to EXPECT"
    rule = next(r for e, r, _m in RULES if e == endpoint)
    url = routes.path(rule, routes.params(endpoint, rule, world.ids))
    allowed = expect[method]
    client = world.client(persona)
    if allowed == TOKEN:
        before = snapshot()
        response = client.open(url, method=method, json={"trigger": "withdraw"} if method == "POST" else None)
        assert response.status_code == 401 and response.mimetype == "application/problem+json", (url, response.status_code)
        assert snapshot() == before
        return
    if allowed == PUBLIC:
        if endpoint == "accounts.logout" or (method == "POST" and persona != "anonymous"):
            client = world.app.test_client()  # public POSTs (log in, log out, register) from a fresh client
        response = client.open(url, method=method, data=_body(endpoint, world) if method == "POST" else None)
        assert response.status_code < 500
        return
    if method == "GET":
        response = client.get(url)
        assert response.status_code < 500
        if persona in allowed:
            assert response.status_code == 200, (url, response.status_code)
        elif persona in expect["redirect"]:
            assert response.status_code == 303, (url, response.status_code)
        else:
            assert _denied(persona, response), (url, response.status_code, response.headers.get("Location"))
        return
    before = snapshot()
    response = client.post(url, data=_body(endpoint, world))
    assert response.status_code < 500
    if persona == "anonymous":
        assert _denied(persona, response), (url, response.status_code)
    assert snapshot() == before, (url, persona, "a refused POST changed the database")


@pytest.mark.parametrize("endpoint", sorted({e for e, _r, m in RULES if "POST" in m}))
def test_post_without_csrf_token_is_refused(world, endpoint):
    """With CSRF on, a POST with no token from someone who may use the route gets 400 and
    changes nothing. Log in first (the login POST itself is one of the checked routes)."""
    rule = next(r for e, r, _m in RULES if e == endpoint)
    url = routes.path(rule, routes.params(endpoint, rule, world.ids))
    allowed = EXPECT[endpoint]["POST"]
    # The API is exempt from CSRF because no cookie authenticates it: a logged-in browser's
    # POST there is refused as unauthenticated (401), not for its missing CSRF token.
    persona = "administrator" if allowed == TOKEN else "anonymous" if allowed == PUBLIC else sorted(allowed)[0]
    client = world.client(persona)
    before = snapshot()
    world.app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(url, data=_body(endpoint, world))
    finally:
        world.app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == (401 if allowed == TOKEN else 400), (endpoint, response.status_code)
    assert snapshot() == before
