"""The API's messages and amendments: read as the idea's page shows them to the caller, a
question or note written by staff, a question answered by the applicant, an amendment asked
for by the applicant; the web's checks (the models' permission methods), If-Match on every
change, problem+json for what is refused, and nothing changed by a refused call."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from grantflow.amendments.models import Amendment
from grantflow.api.operations import create_token
from grantflow.core.extensions import db
from grantflow.ideas.models import BudgetLine, Idea
from grantflow.ideas.operations import recompute_budget
from grantflow.mail.models import OutboxMail
from grantflow.messages import operations as messages_ops
from grantflow.messages.models import Message
from grantflow.workflow import engine
from grantflow.workflow.models import AuditEntry
from tests.world import snapshot

PROBLEM = "application/problem+json"


_TOKENS: dict = {}


def token(user, write=True) -> str:
    """One token per person and kind, made once (made before a snapshot, it is no change)."""
    key = (user.id, write)
    if key not in _TOKENS:
        _TOKENS[key] = create_token(user, "t", write).secret
    return _TOKENS[key]


@pytest.fixture(autouse=True)
def _fresh_tokens():
    _TOKENS.clear()


def tokens_of(*users) -> None:
    for user in users:
        token(user, True), token(user, False)


def call(client, method, url, secret=None, etag=None, **kw):
    headers = {}
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    if etag:
        headers["If-Match"] = etag
    return client.open(url, method=method, headers=headers, **kw)


def problem(response, status):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["detail"]
    return body


@pytest.fixture
def thread(factory):
    """An idea in review with a question to the applicant (reopening the title) and a staff
    note shared with its evaluator."""
    evaluator = factory.evaluator()
    idea = factory.in_review(evaluators=[evaluator])
    admin = factory.admin()
    applicant = factory.member_of(idea.organisation)
    other = factory.applicant(factory.organisation(name="Cita biedrība"))
    db.session.commit()
    question = messages_ops.write(idea, admin, "question", "Precizējiet nosaukumu.", False, ["title"])
    note = messages_ops.write(idea, admin, "note", "Iekšēja piezīme.", True)
    return {"idea": idea, "admin": admin, "applicant": applicant, "evaluator": evaluator, "other": other,
            "question": question.id, "note": note.id}  # fmt: skip


def test_each_reader_sees_the_thread_as_the_page_shows_it(app, client, thread):
    url = f"/api/v1/ideas/{thread['idea'].id}/messages"
    seen = {}
    for who in ("admin", "applicant", "evaluator"):
        response = call(client, "GET", url, token(thread[who], write=False))
        assert response.status_code == 200 and response.headers["ETag"] == f'"{thread["idea"].version}"'
        seen[who] = {m["id"]: m for m in response.get_json()}
    assert set(seen["admin"]) == {thread["question"], thread["note"]}
    assert set(seen["applicant"]) == {thread["question"]}  # never the staff note
    assert set(seen["evaluator"]) == {thread["note"]}  # what was shared with the evaluators
    assert seen["admin"][thread["question"]]["author"] == thread["admin"].name
    assert seen["applicant"][thread["question"]]["author"] is None  # the page says "Programme staff"
    assert seen["applicant"][thread["question"]]["open"] is True and seen["applicant"][thread["question"]]["open_fields"] == ["title"]
    problem(call(client, "GET", url, token(thread["other"], write=False)), 404)
    problem(call(client, "GET", url), 401)


def test_staff_write_with_if_match_and_others_may_not(app, client, thread):
    idea = thread["idea"]
    url = f"/api/v1/ideas/{idea.id}/messages"
    etag = f'"{idea.version}"'
    body = {"kind": "question", "body": "Kur notiks talka?", "to_evaluators": False}
    tokens_of(thread["admin"], thread["applicant"], thread["other"])
    before = snapshot()
    problem(call(client, "POST", url, token(thread["admin"]), json=body), 428)
    problem(call(client, "POST", url, token(thread["admin"]), etag='"9999"', json=body), 412)
    problem(call(client, "POST", url, token(thread["admin"], write=False), etag=etag, json=body), 403)
    problem(call(client, "POST", url, token(thread["applicant"]), etag=etag, json=body), 403)
    problem(call(client, "POST", url, token(thread["other"]), etag=etag, json=body), 404)
    refused = problem(call(client, "POST", url, token(thread["admin"]), etag=etag,
                           json={**body, "kind": "note", "open_fields": ["title"]}), 422)  # fmt: skip
    assert "open_fields" in refused["errors"]["json"]
    assert "kind" in problem(call(client, "POST", url, token(thread["admin"]), etag=etag, json={**body, "kind": "x"}), 422)["errors"]["json"]
    assert "extra" in problem(call(client, "POST", url, token(thread["admin"]), etag=etag, json={**body, "extra": 1}), 422)["errors"]["json"]
    problem(call(client, "POST", url, token(thread["admin"]), etag=etag, data="{nope", content_type="application/json"), 400)
    assert snapshot() == before
    mails = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail))
    done = call(client, "POST", url, token(thread["admin"]), etag=etag, json=body)
    assert done.status_code == 201, done.get_data(as_text=True)
    made = db.session.get(Message, done.get_json()["id"])
    assert (made.kind, made.body, made.author_id) == ("question", "Kur notiks talka?", thread["admin"].id)
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.idea_id == idea.id).order_by(AuditEntry.id.desc())).first()
    assert entry.kind == "message_question" and entry.actor_id == thread["admin"].id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) > mails  # the applicant is mailed, as from the page


def test_the_applicant_answers_a_question_once_with_corrections(app, client, thread):
    idea = thread["idea"]
    url = f"/api/v1/messages/{thread['question']}/answer"
    etag = f'"{idea.version}"'
    answer = {"body": "Nosaukums precizēts.", "values": {"title": "Kopienas dārzs Rušonā"}}
    tokens_of(thread["admin"], thread["applicant"], thread["other"])
    before = snapshot()
    problem(call(client, "POST", url, token(thread["applicant"]), json=answer), 428)
    problem(call(client, "POST", url, token(thread["admin"]), etag=etag, json=answer), 403)
    problem(call(client, "POST", url, token(thread["other"]), etag=etag, json=answer), 404)
    problem(call(client, "POST", f"/api/v1/messages/{thread['note']}/answer", token(thread["applicant"]), etag=etag, json=answer), 404)
    assert "body" in problem(call(client, "POST", url, token(thread["applicant"]), etag=etag, json={"body": ""}), 422)["errors"]["json"]
    assert snapshot() == before
    done = call(client, "POST", url, token(thread["applicant"]), etag=etag, json=answer)
    assert done.status_code == 201, done.get_data(as_text=True)
    db.session.expire_all()
    idea = db.session.get(Idea, idea.id)
    assert idea.title == "Kopienas dārzs Rušonā" and done.headers["ETag"] == f'"{idea.version}"'
    assert db.session.get(Message, thread["question"]).closed_at is not None
    problem(call(client, "POST", url, token(thread["applicant"]), etag=done.headers["ETag"], json=answer), 409)


@pytest.fixture
def funded(factory):
    idea = factory.reviewed(amount="1000.00")
    idea.budget_lines.append(BudgetLine(position=2, item="Krāsa", quantity=Decimal("10"), unit_cost=Decimal("50.00")))
    recompute_budget(idea)
    db.session.commit()
    admin = factory.admin()
    engine.fire(idea, "fund", admin, amount=Decimal("1500.00"))
    db.session.commit()
    return idea, factory.member_of(idea.organisation), admin


def test_the_applicant_asks_for_an_amendment_and_reads_it(app, client, factory, funded):
    idea, applicant, admin = funded
    url = f"/api/v1/ideas/{idea.id}/amendments"
    etag = f'"{idea.version}"'
    first, second = [line.id for line in idea.budget_lines]
    activity = idea.activities[0]
    body = {"reason": "Dēļi kļuva lētāki.", "lines": [{"id": first, "amount": "900.00"}, {"id": second, "amount": "600.00"}],
            "dates": [{"id": activity.id, "starts_on": str(activity.starts_on + timedelta(days=3)),
                       "ends_on": str(activity.starts_on + timedelta(days=13))}]}  # fmt: skip
    evaluator = factory.evaluator()
    db.session.commit()
    assert call(client, "GET", url, token(applicant, write=False)).get_json() == []
    tokens_of(applicant, admin, evaluator)
    before = snapshot()
    problem(call(client, "POST", url, token(applicant), json=body), 428)
    problem(call(client, "POST", url, token(applicant, write=False), etag=etag, json=body), 403)
    problem(call(client, "POST", url, token(admin), etag=etag, json=body), 403)
    problem(call(client, "GET", url, token(evaluator, write=False)), 404)
    problem(call(client, "POST", url, token(applicant), etag=etag, json={**body, "lines": [{"id": 2**31 - 1, "amount": "1.00"}]}), 422)
    assert "amount" in str(problem(call(client, "POST", url, token(applicant), etag=etag,
                                        json={**body, "lines": [{"id": first, "amount": "abc"}]}), 422)["errors"])  # fmt: skip
    problem(call(client, "POST", url, token(applicant), etag=etag, json={"reason": "Nekas.", "lines": [], "dates": []}), 409)
    assert snapshot() == before
    done = call(client, "POST", url, token(applicant), etag=etag, json=body)
    assert done.status_code == 201, done.get_data(as_text=True)
    made = db.session.get(Amendment, done.get_json()["id"])
    assert (made.status, made.amount, made.requested_by_id) == ("requested", Decimal("1500.00"), applicant.id)
    listed = call(client, "GET", url, token(admin, write=False)).get_json()
    assert [a["id"] for a in listed] == [made.id] and listed[0]["status_label"]["lv"] and listed[0]["before"]["amount"] == "1500.00"
    # A second request waits for the first to be decided, as on the page.
    problem(call(client, "POST", url, token(applicant), etag=done.headers["ETag"], json=body), 409)
