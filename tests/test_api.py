"""The JSON API v1 on both databases: tokens (made, hashed, read or read-write, revoked),
the web's permissions through the same model methods, ETag/If-Match on a transition, and
problem+json for every kind of bad input. Schemathesis against the OpenAPI document is in
tests/test_api_schema.py."""

import hashlib
import json

import pytest
import sqlalchemy as sa

from grantflow.api import operations as api_ops
from grantflow.api.models import ApiToken
from grantflow.core.extensions import db
from grantflow.ideas.models import Idea
from grantflow.workflow.models import AuditEntry
from tests.factories import Factory
from tests.world import PERSONAS, snapshot, world_fixture

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    yield from world_fixture(request, tmp_path_factory)


@pytest.fixture(scope="module")
def tokens(world):
    """A read token and a read-write token of every persona."""
    made = {}
    for persona in PERSONAS[1:]:
        user = world.users[persona]
        made[persona] = api_ops.create_token(user, f"{persona} read", False).secret
        made[persona + "+w"] = api_ops.create_token(user, f"{persona} write", True).secret
    return made


def call(world, method, url, token=None, **kw):
    headers = kw.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return world.app.test_client().open(url, method=method, headers=headers, **kw)


def problem(response, status):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_token_is_stored_hashed_and_shown_once(world, tokens):
    secret = tokens["applicant_a"]
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()))
    assert row is not None and row.user_id == world.users["applicant_a"].id and not row.can_write
    assert secret not in json.dumps({c.name: str(getattr(row, c.name)) for c in ApiToken.__table__.columns})
    me = call(world, "GET", "/api/v1/me", secret)
    assert me.status_code == 200 and me.get_json()["email"] == world.users["applicant_a"].email
    assert me.get_json()["token"] == {"name": "applicant_a read", "can_write": False}


@pytest.mark.parametrize("header", [None, "Bearer gf_nonsense", "Bearer ", "Basic YTpi", "gf_x", "Bearer " + "x" * 5000])
def test_missing_or_wrong_token_is_401(world, header):
    response = call(world, "GET", "/api/v1/ideas", headers={"Authorization": header} if header else {})
    problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_token_on_a_public_call_is_401_too(world):
    problem(call(world, "GET", "/api/v1/competitions", "gf_nonsense"), 401)
    assert call(world, "GET", "/api/v1/competitions").status_code == 200


def test_revoked_token_is_401(world):
    user = world.users["applicant_a"]
    made = api_ops.create_token(user, "short-lived", True)
    assert call(world, "GET", "/api/v1/me", made.secret).status_code == 200
    api_ops.revoke_token(made.token, user)
    problem(call(world, "GET", "/api/v1/me", made.secret), 401)


def test_a_session_cookie_does_not_authenticate_the_api(world):
    """A logged-in browser is nobody to the API (no CSRF through cookies)."""
    client = world.client("administrator")
    problem(client.get("/api/v1/ideas"), 401)
    problem(client.post(f"/api/v1/ideas/{world.ids['draft']}/transitions", json={"trigger": "withdraw"}), 401)


def test_every_persona_lists_exactly_the_ideas_the_web_lets_them_see(world, tokens):
    """Idea.visible_to (the list) and Idea.can_view (each page) answer alike for everyone."""
    every = db.session.scalars(sa.select(Idea).order_by(Idea.id)).all()
    assert len(every) >= 5
    for persona in PERSONAS[1:]:
        user = world.users[persona]
        expected = [i.id for i in every if i.can_view(user)]
        response = call(world, "GET", "/api/v1/ideas?per_page=100", tokens[persona])
        assert response.status_code == 200
        assert [i["id"] for i in response.get_json()["items"]] == expected, persona
        for idea in every:
            status = call(world, "GET", f"/api/v1/ideas/{idea.id}", tokens[persona]).status_code
            assert status == (200 if idea.id in expected else 404), (persona, idea.id)


def test_applicant_of_another_organisation_sees_nothing_of_it(world, tokens):
    ids = world.ids
    assert call(world, "GET", "/api/v1/ideas", tokens["applicant_b"]).get_json()["items"] == []
    for path in ("", "/history", "/transitions", "/reviews", "/documents", "/report"):
        body = problem(call(world, "GET", f"/api/v1/ideas/{ids['funded']}{path}", tokens["applicant_b"]), 404)
        assert "Atbalstīta" not in json.dumps(body)
    problem(call(world, "GET", f"/api/v1/documents/{ids['document']}", tokens["applicant_b"]), 404)
    pdf = call(world, "GET", f"/api/v1/documents/{ids['document']}", tokens["applicant_a"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_evaluator_sees_only_assigned_ideas_and_own_reviews(world, tokens):
    ids = world.ids
    listed = call(world, "GET", "/api/v1/ideas", tokens["evaluator_draft"]).get_json()["items"]
    assert [i["id"] for i in listed] == [ids["in_review"]]
    assert call(world, "GET", "/api/v1/ideas", tokens["evaluator_other"]).get_json()["items"] == []
    # Independent review: the draft's author sees only their own until they submit.
    reviews = call(world, "GET", f"/api/v1/ideas/{ids['in_review']}/reviews", tokens["evaluator_draft"]).get_json()
    assert [r["own"] for r in reviews] == [True] and reviews[0]["status"] == "draft"
    # The one who submitted sees theirs, not the other's draft; the administrator sees both.
    seen = call(world, "GET", f"/api/v1/ideas/{ids['in_review']}/reviews", tokens["evaluator"]).get_json()
    assert [(r["own"], r["status"]) for r in seen] == [(True, "submitted")]
    assert len(call(world, "GET", f"/api/v1/ideas/{ids['in_review']}/reviews", tokens["administrator"]).get_json()) == 2
    assert call(world, "GET", "/api/v1/reviews", tokens["evaluator"]).get_json()["total"] == 1
    assert call(world, "GET", f"/api/v1/ideas/{ids['in_review']}/reviews", tokens["applicant_a"]).get_json() == []


def test_filters_and_pagination(world, tokens):
    admin, ids = tokens["administrator"], world.ids
    page = call(world, "GET", "/api/v1/ideas?per_page=2&page=2", admin)
    body = page.get_json()
    assert body["page"] == 2 and body["per_page"] == 2 and len(body["items"]) == 2 and body["total"] >= 5
    assert 'rel="next"' in page.headers["Link"] and 'rel="prev"' in page.headers["Link"]
    filed = call(world, "GET", "/api/v1/ideas?state_tag=filed&per_page=100", admin).get_json()["items"]
    assert ids["draft"] not in [i["id"] for i in filed] and ids["submitted"] in [i["id"] for i in filed]
    assert all("filed" in i["state"]["tags"] for i in filed)
    mine = call(world, "GET", f"/api/v1/ideas?municipality={ids['municipality']}&competition={ids['competition']}", admin)
    assert mine.get_json()["total"] >= 5
    assert call(world, "GET", "/api/v1/ideas?municipality=999999", admin).get_json()["total"] == 0
    problem(call(world, "GET", "/api/v1/ideas?per_page=1000", admin), 422)
    body = problem(call(world, "GET", "/api/v1/ideas?state_tag=nonsense", admin), 422)
    assert "state_tag" in body["errors"]["query"]


def test_public_calls_show_nothing_unpublished(world):
    ids = world.ids
    grants = call(world, "GET", "/api/v1/grants").get_json()
    assert [g["idea_id"] for g in grants["items"]] == [ids["funded"]]
    assert "contact" not in json.dumps(grants) and "anna@example.lv" not in json.dumps(grants)
    assert call(world, "GET", f"/api/v1/grants/{ids['funded']}").status_code == 200
    for unpublished in ("draft", "submitted", "in_review", "reviewed"):
        problem(call(world, "GET", f"/api/v1/grants/{ids[unpublished]}"), 404)
    competition = call(world, "GET", f"/api/v1/competitions/{ids['competition']}").get_json()
    assert len(competition["criteria"]) == 5 and competition["open"] is True
    impact = call(world, "GET", "/api/v1/impact").get_json()
    assert impact["funded"] == 1 and impact["granted"] == "1000.00"


def test_read_token_cannot_fire(world, tokens):
    idea = db.session.get(Idea, world.ids["draft"])
    before = snapshot()
    response = call(world, "POST", f"/api/v1/ideas/{idea.id}/transitions", tokens["applicant_a"],
                    json={"trigger": "withdraw"}, headers={"If-Match": f'"{idea.version}"'})  # fmt: skip
    body = problem(response, 403)
    assert "read" in body["detail"].lower() or "las" in body["detail"].lower()
    assert snapshot() == before


def test_firing_a_transition_is_audited_like_the_web_and_guarded_by_if_match(world, tokens):
    f = Factory()
    org_a = db.session.get(Idea, world.ids["draft"]).organisation
    idea = f.idea(competition=db.session.get(Idea, world.ids["draft"]).competition, org=org_a, title="API melnraksts")
    db.session.commit()
    url, token = f"/api/v1/ideas/{idea.id}/transitions", tokens["applicant_a+w"]
    read = call(world, "GET", f"/api/v1/ideas/{idea.id}", token)
    etag = read.headers["ETag"]
    assert etag == f'"{idea.version}"' and read.get_json()["version"] == idea.version
    assert "withdraw" in [t["trigger"] for t in call(world, "GET", url, token).get_json()]
    before = snapshot()
    problem(call(world, "POST", url, token, json={"trigger": "withdraw"}), 428)
    problem(call(world, "POST", url, token, json={"trigger": "withdraw"}, headers={"If-Match": '"999"'}), 412)
    problem(call(world, "POST", url, token, json={"trigger": "withdraw"}, headers={"If-Match": "*"}), 428)
    # Not allowed by the workflow now (the engine's own refusal), and another's idea.
    problem(call(world, "POST", url, token, json={"trigger": "fund"}, headers={"If-Match": etag}), 409)
    problem(call(world, "POST", url, tokens["applicant_b+w"], json={"trigger": "withdraw"}, headers={"If-Match": etag}), 404)
    assert snapshot() == before
    done = call(world, "POST", url, token, json={"trigger": "withdraw", "comment": "Pārdomājām"}, headers={"If-Match": etag})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "withdrawn" in done.get_json()["state"]["tags"] and done.headers["ETag"] != etag
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.idea_id == idea.id).order_by(AuditEntry.id.desc())).first()
    assert (entry.kind, entry.trigger, entry.actor_id, entry.actor_role, entry.comment) == (
        "transition", "withdraw", world.users["applicant_a"].id, "applicant", "Pārdomājām")
    history = call(world, "GET", f"/api/v1/ideas/{idea.id}/history", token).get_json()
    assert history[-1]["trigger"] == "withdraw" and history[-1]["comment"] == "Pārdomājām"
    # The same request again, with the ETag it was made with: stale now.
    problem(call(world, "POST", url, token, json={"trigger": "withdraw"}, headers={"If-Match": etag}), 412)


@pytest.mark.parametrize("data, content_type, status, field", [
    ("{not json", "application/json", 400, None),
    ('{"trigger": 5}', "application/json", 422, "trigger"),
    ('{"trigger": "withdraw", "extra": 1}', "application/json", 422, "extra"),
    ('[1, 2]', "application/json", 422, None),
    ('{"comment": "x"}', "application/json", 422, "trigger"),
    ('{"trigger": "withdraw", "comment": "' + "x" * 6000 + '"}', "application/json", 422, "comment"),
    ('{"trigger": "' + "x" * 70000 + '"}', "application/json", 413, None),
])  # fmt: skip
def test_bad_bodies_are_clear_4xx(world, tokens, data, content_type, status, field):
    idea = db.session.get(Idea, world.ids["draft"])
    before = snapshot()
    response = call(world, "POST", f"/api/v1/ideas/{idea.id}/transitions", tokens["applicant_a+w"], data=data,
                    content_type=content_type, headers={"If-Match": f'"{idea.version}"'})  # fmt: skip
    body = problem(response, status)
    if field:
        assert field in body["errors"]["json"], body
    assert snapshot() == before


def test_unknown_routes_and_methods_are_problems(world, tokens):
    problem(call(world, "GET", "/api/v1/nothing-here"), 404)
    problem(call(world, "DELETE", "/api/v1/competitions"), 405)
    problem(call(world, "GET", f"/api/v1/ideas/{2**40}", tokens["administrator"]), 404)
    spec = call(world, "GET", "/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0" and "/api/v1/ideas/{idea_id}/transitions" in spec["paths"]


def test_tokens_page_makes_shows_once_and_revokes(world):
    client = world.client("applicant_b")
    page = client.post("/account/tokens", data={"name": "Skripts B", "access": "read"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    secret = text.split('style="word-break: break-all">')[1].split("<")[0]
    assert call(world, "GET", "/api/v1/me", secret).status_code == 200
    assert secret not in client.get("/account/tokens").get_data(as_text=True)  # shown once
    bad = client.post("/account/tokens", data={"name": "", "access": "admin"})
    assert bad.status_code == 422
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "Skripts B"))
    # Another person cannot revoke it.
    assert world.client("applicant_a").post(f"/account/tokens/{token.id}/revoke").status_code == 404
    assert call(world, "GET", "/api/v1/me", secret).status_code == 200
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 303
    problem(call(world, "GET", "/api/v1/me", secret), 401)
