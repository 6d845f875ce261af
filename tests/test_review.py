"""Evaluation: eligibility screening, assigning evaluators, conflicts of interest, scoring,
and the independence of reviews, through the web as each role does it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.ideas.models import Idea
from grantflow.mail.models import OutboxMail
from grantflow.review import operations as ops
from grantflow.review.models import Assignment, ConflictOfInterest, EligibilityCheck, Review, Score
from grantflow.workflow.models import AuditEntry
from tests.conftest import login


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def counts():
    return tuple(db.session.scalar(select(func.count(m.id))) for m in (Review, Score, AuditEntry, EligibilityCheck))


# --- 2. eligibility screening ---------------------------------------------------------------
def test_screening_prefills_what_the_server_knows_and_accepts(client, factory):
    idea = factory.submitted()
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    page = client.get(f"/review/ideas/{idea.id}/screening").get_data(as_text=True)
    assert page.count('checked') >= 5  # complete, legal form, territory, limits, deadline
    response = client.post(
        f"/review/ideas/{idea.id}/screening",
        data={item: "y" for item in ("complete", "legal_form", "territory", "grant_limits", "deadline")} | {"outcome": "eligible"},
    )
    assert response.status_code == 303
    idea = fresh(idea)
    assert idea.has_tag("scoring")
    check = ops.latest_check(idea)
    assert check.eligible and check.checked_by_id == admin.id and all(check.checklist.values())


def test_screening_prefill_notices_a_grant_outside_the_limits(app, factory):
    competition = factory.competition(max_grant="800.00")
    idea = factory.idea(competition=competition, amount="900.00")
    prefill = ops.checklist_prefill(idea)
    assert prefill["grant_limits"] is False and prefill["territory"] and prefill["legal_form"]


def test_ineligible_needs_a_reason_which_the_applicant_then_sees(client, factory):
    idea = factory.submitted()
    admin = factory.admin()
    applicant = factory.member_of(idea.organisation)
    db.session.commit()
    login(client, admin.email)
    url = f"/review/ideas/{idea.id}/screening"
    response = client.post(url, data={"outcome": "ineligible", "reason": "  "})
    assert response.status_code == 422
    assert "Norādiet, kāpēc ideja neatbilst" in response.get_data(as_text=True)
    assert ops.latest_check(idea) is None and fresh(idea).has_tag("screening")
    response = client.post(url, data={"complete": "y", "outcome": "eligible"})  # items unticked
    assert "tikai tad, ja ir izpildīti visi nosacījumi" in response.get_data(as_text=True)
    assert ops.latest_check(idea) is None
    reason = "Pieteicējs nav no programmas teritorijas."
    assert client.post(url, data={"outcome": "ineligible", "reason": reason}).status_code == 303
    idea = fresh(idea)
    assert not idea.has_tag("screening") and idea.workflow.states[idea.state].final
    client.post("/logout")
    login(client, applicant.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert reason in page and "Neatbilst konkursa nosacījumiem" in page


def test_screening_is_for_administrators_and_only_while_screening(client, factory):
    evaluator = factory.evaluator()
    idea = factory.in_review(evaluators=[evaluator])
    admin = factory.admin()
    db.session.commit()
    login(client, evaluator.email)
    assert client.post(f"/review/ideas/{idea.id}/screening", data={"outcome": "eligible"}).status_code == 403
    client.post("/logout")
    login(client, admin.email)
    before = counts()
    response = client.post(f"/review/ideas/{idea.id}/screening", data={"outcome": "ineligible", "reason": "x"})
    assert "Šai idejai atbilstības pārbaude nav gaidāma." in response.get_data(as_text=True)
    assert counts() == before


# --- 3. assignment and conflicts ------------------------------------------------------------
def test_manual_assignment_refuses_conflicts_and_duplicates(client, factory):
    idea = factory.in_review(evaluators=[])
    admin = factory.admin()
    free, org_conflict, place_conflict, idea_conflict = (factory.evaluator() for _ in range(4))
    db.session.add_all([
        ConflictOfInterest(evaluator_id=org_conflict.id, organisation_id=idea.organisation_id, reason="Esmu valdes loceklis"),
        ConflictOfInterest(evaluator_id=place_conflict.id, municipality_id=idea.municipality_id, reason="Strādāju domē"),
        ConflictOfInterest(evaluator_id=idea_conflict.id, idea_id=idea.id, reason="Radinieks"),
    ])  # fmt: skip
    db.session.commit()
    login(client, admin.email)
    # The page preselects nobody; sending the "choose" line asks for a choice.
    page = client.get(f"/review/competitions/{idea.competition_id}/assignments").get_data(as_text=True)
    assert '<option selected value="">— izvēlieties vērtētāju —</option>' in page
    url = f"/review/ideas/{idea.id}/assignments"
    page = client.post(url, data={"evaluator_id": ""}, follow_redirects=True).get_data(as_text=True)
    assert "Izvēlieties vērtētāju." in page
    for evaluator in (org_conflict, place_conflict, idea_conflict):
        page = client.post(url, data={"evaluator_id": evaluator.id}, follow_redirects=True).get_data(as_text=True)
        assert "ir deklarējis interešu konfliktu ar šo ideju" in page
    assert client.post(url, data={"evaluator_id": free.id}).status_code == 303
    page = client.post(url, data={"evaluator_id": free.id}, follow_redirects=True).get_data(as_text=True)
    assert "jau ir piesaistīts" in page
    assigned = db.session.scalars(select(Assignment.evaluator_id).where(Assignment.active.is_(True))).all()
    assert assigned == [free.id]


def test_automatic_assignment_balances_loads_and_skips_conflicts(client, factory):
    competition = factory.competition(evaluators_per_idea=2)
    evaluators = [factory.evaluator(name=f"Vērtētājs {n}") for n in range(3)]
    ideas = [factory.in_review(evaluators=[], competition=competition) for _ in range(6)]
    db.session.add(ConflictOfInterest(evaluator_id=evaluators[0].id, organisation_id=ideas[0].organisation_id))
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    client.post(f"/review/competitions/{competition.id}/assignments/auto")
    rows = db.session.execute(select(Assignment.idea_id, Assignment.evaluator_id).where(Assignment.active.is_(True))).all()
    by_idea = {}
    for idea_id, evaluator_id in rows:
        by_idea.setdefault(idea_id, set()).add(evaluator_id)
    assert all(len(by_idea[i.id]) == 2 for i in ideas)
    assert evaluators[0].id not in by_idea[ideas[0].id]
    loads = sorted(sum(e.id in s for s in by_idea.values()) for e in evaluators)
    assert loads == [4, 4, 4]  # 12 assignments over 3 evaluators
    # Running it again changes nothing: every idea has its evaluators.
    client.post(f"/review/competitions/{competition.id}/assignments/auto")
    assert db.session.scalar(select(func.count(Assignment.id))) == 12


def test_automatic_assignment_is_deterministic(app, factory):
    competition = factory.competition(evaluators_per_idea=2)
    for _ in range(4):
        factory.evaluator()
    ideas = [factory.in_review(evaluators=[], competition=competition) for _ in range(5)]
    admin = factory.admin()
    db.session.commit()
    ops.auto_assign(competition, admin)
    first = db.session.execute(select(Assignment.idea_id, Assignment.evaluator_id).order_by(Assignment.id)).all()
    db.session.execute(Assignment.__table__.delete())
    db.session.commit()
    ops.auto_assign(competition, admin)
    assert db.session.execute(select(Assignment.idea_id, Assignment.evaluator_id).order_by(Assignment.id)).all() == first
    assert {i for i, _ in first} == {i.id for i in ideas}


def test_automatic_assignment_says_which_ideas_lack_evaluators(client, factory):
    competition = factory.competition(evaluators_per_idea=3)
    factory.evaluator()
    idea = factory.in_review(evaluators=[], competition=competition)
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    page = client.post(f"/review/competitions/{competition.id}/assignments/auto", follow_redirects=True).get_data(as_text=True)
    assert "Nepietiek vērtētāju bez interešu konflikta" in page and idea.reference in page


def test_evaluator_declares_a_conflict_and_administrators_are_asked_to_reassign(client, factory):
    evaluator, other = factory.evaluator(), factory.evaluator()
    idea = factory.in_review(evaluators=[evaluator, other])
    admin = factory.admin(email="admin-konflikts@example.lv")
    db.session.commit()
    login(client, evaluator.email)
    url = f"/review/ideas/{idea.id}/conflict"
    response = client.post(url, data={"scope": "organisation", "reason": ""})
    assert response.status_code == 422 and "Aprakstiet interešu konfliktu." in response.get_data(as_text=True)
    response = client.post(url, data={"scope": "organisation", "reason": "Esmu biedrības valdes loceklis"})
    assert response.status_code == 303
    assignment = db.session.scalars(select(Assignment).where(Assignment.evaluator_id == evaluator.id)).one()
    assert not assignment.active and "Esmu biedrības valdes loceklis" in assignment.removed_reason
    conflict = db.session.scalars(select(ConflictOfInterest)).one()
    assert conflict.organisation_id == idea.organisation_id
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.kind == "conflict_declared")).one()
    assert audit.actor_id == evaluator.id and audit.data["reason"] == "Esmu biedrības valdes loceklis"
    mail = db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == admin.email)).one()
    assert idea.reference in mail.subject and "interešu konflikts" in mail.subject
    assert "Esmu biedrības valdes loceklis" in mail.body_text and "/review/competitions/" in mail.body_text
    # The idea is no longer theirs to see, and they cannot be assigned to it again.
    assert client.get(f"/ideas/{idea.id}").status_code == 404
    assert client.get(f"/review/ideas/{idea.id}/score").status_code == 404
    with pytest.raises(Refused):
        ops.assign(fresh(idea), evaluator, admin)


def test_declaring_a_conflict_with_the_last_pending_review_waits_for_a_replacement(app, factory):
    """Finding 9: the last pending evaluator stepping back used to settle the idea as
    "reviewed" with one review of the two required, and no replacement could be assigned."""
    done, conflicted, replacement = factory.evaluator(), factory.evaluator(), factory.evaluator()
    admin = factory.admin()
    idea = factory.in_review(evaluators=[done, conflicted])
    factory.review(idea, done)
    db.session.commit()
    assert idea.has_tag("scoring")
    ops.declare_conflict(idea, conflicted, "idea", "Kaimiņš")
    assert fresh(idea).has_tag("scoring")  # one review of two: still in review
    ops.assign(fresh(idea), replacement, admin)  # a replacement can still be assigned
    factory.review(fresh(idea), replacement)
    db.session.commit()
    assert fresh(idea).has_tag("decidable")  # two reviews in: moved on by itself


def test_removing_the_last_pending_evaluator_does_not_settle_the_idea_short(app, factory):
    done, pending = factory.evaluator(), factory.evaluator()
    admin = factory.admin()
    idea = factory.in_review(evaluators=[done, pending])
    factory.review(idea, done)
    db.session.commit()
    assignment = db.session.scalars(select(Assignment).where(Assignment.evaluator_id == pending.id)).one()
    ops.unassign(assignment, admin, "Slims")
    assert fresh(idea).has_tag("scoring")


# --- 4. scoring -----------------------------------------------------------------------------
def score_data(idea, points="8", submit=False, recommendation="fund", **overrides):
    data = {"recommendation": recommendation, "comment": "Laba ideja."}
    for criterion in idea.competition.criteria:
        data[f"points_{criterion.id}"] = points
        data[f"comment_{criterion.id}"] = f"Par {criterion.name_lv}"
    data.update(overrides)
    data["submit" if submit else "save"] = "1"
    return data


def test_draft_then_submit_computes_the_total_and_moves_the_idea_on(client, factory):
    first, second = factory.evaluator(), factory.evaluator()
    idea = factory.in_review(evaluators=[first, second])
    factory.review(idea, second, points=6)
    db.session.commit()
    login(client, first.email)
    url = f"/review/ideas/{idea.id}/score"
    page = client.get(url).get_data(as_text=True)
    assert "Vajadzība ir reāla un vietēja" in page and "veselos punktos vai ar pusi punkta" in page
    criteria = idea.competition.criteria
    draft = score_data(idea, points="")
    draft[f"points_{criteria[0].id}"] = "7,5"
    response = client.post(url, data=draft)  # a comment without points is not kept silently
    assert response.status_code == 422 and "Norādiet punktus šim kritērijam." in response.get_data(as_text=True)
    for criterion in criteria[1:]:
        draft[f"comment_{criterion.id}"] = ""
    assert client.post(url, data=draft).status_code == 303
    review = db.session.scalars(select(Review).where(Review.evaluator_id == first.id)).one()
    assert review.status == "draft" and review.total is None
    assert [(s.criterion_id, s.points) for s in review.scores] == [(criteria[0].id, Decimal("7.50"))]
    assert 'value="7.5"' in client.get(url).get_data(as_text=True)  # the draft comes back
    response = client.post(url, data=score_data(idea, points="9.5", submit=True))
    assert response.status_code == 303
    review = fresh(review)
    assert review.status == "submitted" and review.submitted_at is not None
    assert review.total == Decimal("95.00")
    assert fresh(idea).has_tag("decidable")  # both reviews in: moved on by itself


def test_submit_needs_every_criterion_and_a_recommendation(client, factory):
    evaluator = factory.evaluator()
    idea = factory.in_review(evaluators=[evaluator])
    db.session.commit()
    login(client, evaluator.email)
    data = score_data(idea, submit=True, recommendation="")
    data[f"points_{idea.competition.criteria[2].id}"] = ""
    response = client.post(f"/review/ideas/{idea.id}/score", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Norādiet punktus šim kritērijam." in page and "Izvēlieties savu ieteikumu." in page
    assert db.session.scalar(select(func.count(Review.id))) == 0


@pytest.mark.parametrize("points, message", [
    ("11", "Punktiem jābūt no 0 līdz 10."),
    ("-1", "Punktiem jābūt no 0 līdz 10."),
    ("7.3", "Izmantojiet veselus vai pus punktus"),
    ("septiņi", "Ievadiet skaitli"),
    ("NaN", "Punktiem jābūt no 0 līdz 10."),
])  # fmt: skip
def test_points_outside_the_range_are_refused_and_nothing_is_stored(client, factory, points, message):
    evaluator = factory.evaluator()
    idea = factory.in_review(evaluators=[evaluator])
    factory.review(idea, evaluator, points=5, submit=False)
    db.session.commit()
    before = sorted((s.criterion_id, s.points) for s in db.session.scalars(select(Score)))
    login(client, evaluator.email)
    data = score_data(idea, points="9")
    data[f"points_{idea.competition.criteria[-1].id}"] = points
    response = client.post(f"/review/ideas/{idea.id}/score", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    assert "Nekas netika saglabāts" in page and f'value="{points}"' in page  # kept for correction
    db.session.expire_all()
    assert sorted((s.criterion_id, s.points) for s in db.session.scalars(select(Score))) == before


def test_scoring_after_the_evaluation_closed_is_refused(client, factory):
    evaluator = factory.evaluator()
    competition = factory.competition(evaluation_closes_at=utcnow() + timedelta(days=1))
    idea = factory.in_review(evaluators=[evaluator], competition=competition)
    factory.review(idea, evaluator, points=5, submit=False)
    competition.evaluation_closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    before = counts()
    login(client, evaluator.email)
    response = client.post(f"/review/ideas/{idea.id}/score", data=score_data(idea, submit=True))
    assert response.status_code == 409
    assert "Vērtēšana noslēdzās" in response.get_data(as_text=True)
    assert counts() == before and fresh(idea).has_tag("scoring")
    assert db.session.scalars(select(Review)).one().status == "draft"


def test_submitting_twice_is_refused(client, factory):
    evaluator, other = factory.evaluator(), factory.evaluator()
    idea = factory.in_review(evaluators=[evaluator, other])
    db.session.commit()
    login(client, evaluator.email)
    url = f"/review/ideas/{idea.id}/score"
    assert client.post(url, data=score_data(idea, points="8", submit=True)).status_code == 303
    before = counts()
    response = client.post(url, data=score_data(idea, points="2", submit=True))
    assert response.status_code == 409
    assert "Jūs jau esat iesniedzis šīs idejas vērtējumu" in response.get_data(as_text=True)
    assert counts() == before
    assert db.session.scalars(select(Review)).one().total == Decimal("80.00")
    with pytest.raises(Refused):  # the operation itself, not only the page
        ops.save_review(fresh(idea), evaluator, {}, {}, "fund", "", submit=True)


def test_scoring_with_a_conflict_declared_is_refused(client, factory):
    evaluator = factory.evaluator()
    idea = factory.in_review(evaluators=[evaluator])
    # A conflict with the municipality recorded while the assignment is still active.
    db.session.add(ConflictOfInterest(evaluator_id=evaluator.id, municipality_id=idea.municipality_id, reason="Domes deputāts"))
    db.session.commit()
    login(client, evaluator.email)
    response = client.post(f"/review/ideas/{idea.id}/score", data=score_data(idea, submit=True))
    assert response.status_code == 409
    assert "Jūs esat deklarējis interešu konfliktu ar šo ideju" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Review.id))) == 0


def test_scoring_an_idea_not_assigned_is_refused(client, factory):
    idea = factory.in_review()
    stranger = factory.evaluator()
    db.session.commit()
    login(client, stranger.email)
    assert client.post(f"/review/ideas/{idea.id}/score", data=score_data(idea, submit=True)).status_code == 404
    assert db.session.scalar(select(func.count(Review.id))) == 0
    with pytest.raises(Refused, match="neesat piesaistīts|not assigned"):
        ops.save_review(idea, stranger, {}, {}, "fund", "", submit=False)


# --- independence and who sees what ---------------------------------------------------------
SECRET = "Slepenais komentārs par budžetu"


def evaluator_urls(idea):
    return [
        f"/ideas/{idea.id}",
        f"/review/ideas/{idea.id}/score",
        f"/review/ideas/{idea.id}/reviews",
        "/review/",
        "/",
        f"/review/competitions/{idea.competition_id}/ranking",
        "/admin/exports",
        f"/review/competitions/{idea.competition_id}/progress",
        f"/review/competitions/{idea.competition_id}/assignments",
    ]


def test_an_evaluator_never_sees_others_scores_before_submitting_their_own(client, factory):
    me, other = factory.evaluator(), factory.evaluator()
    idea = factory.in_review(evaluators=[me, other])
    theirs = factory.review(idea, other, points=3)
    theirs.comment = SECRET
    theirs.scores[0].comment = SECRET
    db.session.commit()
    login(client, me.email)
    for url in evaluator_urls(idea):
        response = client.get(url)
        body = response.get_data(as_text=True) if response.mimetype.startswith("text") else ""
        assert SECRET not in body and "30.00" not in body and "30,00" not in body, url
        assert response.status_code in (200, 403, 404), url
    assert client.get(f"/review/ideas/{idea.id}/reviews").status_code == 404
    assert not theirs.can_see(me)
    # A draft of mine is not enough.
    client.post(f"/review/ideas/{idea.id}/score", data=score_data(idea, points="7"))
    assert SECRET not in client.get(f"/review/ideas/{idea.id}/score").get_data(as_text=True)
    assert client.get(f"/review/ideas/{idea.id}/reviews").status_code == 404
    # Once mine is submitted, theirs shows.
    client.post(f"/review/ideas/{idea.id}/score", data=score_data(idea, points="7", submit=True))
    assert fresh(theirs).can_see(me)
    assert SECRET in client.get(f"/review/ideas/{idea.id}/score").get_data(as_text=True)
    page = client.get(f"/review/ideas/{idea.id}/reviews").get_data(as_text=True)
    assert SECRET in page and "30,00" in page and "70,00" in page  # Latvian: decimal comma


def test_an_evaluator_never_sees_others_drafts(app, factory):
    me, other = factory.evaluator(), factory.evaluator()
    idea = factory.in_review(evaluators=[me, other])
    mine = factory.review(idea, me, points=7)
    theirs = factory.review(idea, other, points=3, submit=False)
    assert mine.can_see(me) and theirs.can_see(other)
    assert not theirs.can_see(me) and not mine.can_see(other)
    assert mine.can_see(factory.admin()) and not mine.can_see(factory.applicant(idea.organisation))


def test_an_evaluator_not_assigned_sees_nothing_of_the_idea(client, factory):
    assigned = factory.evaluator()
    idea = factory.in_review(evaluators=[assigned])
    review = factory.review(idea, assigned, points=4)
    review.comment = SECRET
    stranger = factory.evaluator()
    db.session.commit()
    login(client, stranger.email)
    for url in evaluator_urls(idea):
        response = client.get(url)
        assert SECRET not in response.get_data(as_text=True), url
        assert idea.title not in response.get_data(as_text=True) or url == "/", url
    for url in evaluator_urls(idea)[:3]:
        assert client.get(url).status_code == 404, url
    for url in evaluator_urls(idea)[5:]:
        assert client.get(url).status_code == 403, url
    assert client.post(f"/review/ideas/{idea.id}/conflict", data={"scope": "idea", "reason": "x"}).status_code == 404
    assert client.post(f"/review/ideas/{idea.id}/score", data=score_data(idea)).status_code == 404
    assert client.post(f"/review/ideas/{idea.id}/assignments", data={"evaluator_id": stranger.id}).status_code == 403
    assert not review.can_see(stranger)
    assert db.session.scalar(select(func.count(ConflictOfInterest.id))) == 0


def test_evaluator_desk_shows_what_is_left_and_the_deadline(client, factory):
    me = factory.evaluator()
    competition = factory.competition(evaluation_closes_at=utcnow() + timedelta(days=5))
    done = factory.in_review(evaluators=[me, factory.evaluator()], competition=competition, title="Pabeigtā ideja")
    started = factory.in_review(evaluators=[me], competition=competition, title="Iesāktā ideja")
    factory.in_review(evaluators=[me], competition=competition, title="Neaiztiktā ideja")
    factory.in_review(competition=competition, title="Sveša ideja")
    factory.review(done, me)
    factory.review(started, me, submit=False)
    db.session.commit()
    login(client, me.email)
    for url in ("/", "/review/"):
        page = client.get(url).get_data(as_text=True)
        assert "Iesniegti 1 no 3; atlikuši 2." in page
        assert "Pabeigtā ideja" in page and "Iesāktā ideja" in page and "Neaiztiktā ideja" in page
        assert "Sveša ideja" not in page
        assert "Melnraksts" in page and "Jādara" in page
        assert (competition.evaluation_closes_at + timedelta(hours=2)).strftime("%Y") in page
    assert f"/review/ideas/{started.id}/score" in page and f"/review/ideas/{done.id}/reviews" in page


def test_administrator_removes_an_evaluator_who_has_not_submitted(client, factory):
    slow, quick = factory.evaluator(), factory.evaluator()
    idea = factory.in_review(evaluators=[slow, quick])
    factory.review(idea, quick)
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    submitted = db.session.scalars(select(Assignment).where(Assignment.evaluator_id == quick.id)).one()
    page = client.post(f"/review/assignments/{submitted.id}/remove", follow_redirects=True).get_data(as_text=True)
    assert "Iesniegtu vērtējumu nevar atsaukt" in page
    pending = db.session.scalars(select(Assignment).where(Assignment.evaluator_id == slow.id)).one()
    client.post(f"/review/assignments/{pending.id}/remove", data={"reason": "Slimības dēļ"})
    # One review of the two the competition requires: the idea waits for a replacement.
    assert not fresh(pending).active and fresh(idea).has_tag("scoring")
    page = client.get(f"/review/competitions/{idea.competition_id}/progress").get_data(as_text=True)
    assert slow.name in page and quick.name in page


def test_csrf_is_enforced_on_scoring(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from tests.factories import Factory

        factory = Factory()
        evaluator = factory.evaluator()
        idea = factory.in_review(evaluators=[evaluator])
        db.session.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"email": evaluator.email, "password": "parole-123456", "csrf_token": token})
        assert client.post(f"/review/ideas/{idea.id}/score", data=score_data(idea, submit=True)).status_code == 400
        assert client.post(f"/review/ideas/{idea.id}/conflict", data={"scope": "idea", "reason": "x"}).status_code == 400
        db.session.rollback()
        assert db.session.scalar(select(func.count(Review.id))) == 0
        assert db.session.get(Idea, idea.id).has_tag("scoring")


def test_the_applicant_does_not_see_evaluation_steps_in_the_history(client, factory):
    from grantflow.ideas.operations import history
    from grantflow.workflow import engine

    evaluator = factory.evaluator()
    idea = factory.in_review(evaluators=[evaluator])
    engine.record(idea, "review_submitted", evaluator)
    applicant = factory.member_of(idea.organisation)
    db.session.commit()
    assert "review_submitted" in [e.kind for e in history(idea)]
    assert "review_submitted" not in [e.kind for e in history(idea, for_applicant=True)]
    login(client, applicant.email)
    assert "Vērtētājs iesniedza vērtējumu" not in client.get(f"/ideas/{idea.id}").get_data(as_text=True)


# --- the idea's stored score ----------------------------------------------------------------
def _fresh_score(idea) -> Decimal | None:
    """The score computed afresh from the reviews, in Python: the mean of the submitted
    reviews' totals under active assignments, to the hundredth (half up)."""
    totals = db.session.scalars(
        select(Review.total)
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(Review.idea_id == idea.id, Review.status == "submitted", Assignment.active.is_(True))
    ).all()
    if not totals:
        return None
    return (sum(totals) / len(totals)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def test_the_stored_score_follows_every_change_of_the_reviews(app, factory):
    """Idea.score, what the ranking orders by, equals the freshly computed mean after a
    review is submitted, an evaluator is removed, a conflict is declared and an evaluator
    is assigned again; the ranking shows it."""
    from grantflow.review.ranking import Filters, ranking

    a, b, c, removed, conflicted = evaluators = [factory.evaluator() for _ in range(5)]
    idea = factory.in_review(evaluators=evaluators)
    admin = factory.admin()
    db.session.commit()
    criteria = idea.competition.criteria

    def stored():
        return fresh(idea).score

    assert stored() is None and _fresh_score(idea) is None
    for evaluator, points in ((a, "6"), (b, "7"), (c, "8.5")):
        ops.save_review(fresh(idea), evaluator, {cr.id: points for cr in criteria}, {}, "fund", "", submit=True)
        assert stored() == _fresh_score(idea)
    assert stored() == Decimal("71.67")  # 60, 70, 85
    ops.save_review(fresh(idea), removed, {cr.id: "1" for cr in criteria}, {}, "reject", "", submit=False)  # a draft
    assert stored() == _fresh_score(idea) == Decimal("71.67")

    assignment = db.session.scalars(select(Assignment).where(Assignment.evaluator_id == removed.id)).one()
    ops.unassign(assignment, admin, "Slims")
    assert stored() == _fresh_score(idea) == Decimal("71.67")

    ops.assign(fresh(idea), removed, admin)  # assigned again: their draft is back, still a draft
    assert stored() == _fresh_score(idea) == Decimal("71.67")
    ops.save_review(fresh(idea), removed, {cr.id: "3" for cr in criteria}, {}, "reject", "", submit=True)
    assert stored() == _fresh_score(idea) == Decimal("61.25")  # 60, 70, 85, 30

    ops.declare_conflict(fresh(idea), conflicted, "idea", "Kaimiņš")  # the last pending one: the idea settles
    assert stored() == _fresh_score(idea) == Decimal("61.25") and fresh(idea).state == "reviewed"

    row = next(r for r in ranking(fresh(idea).competition, Filters()).rows if r.idea_id == idea.id)
    assert row.mean == stored() and row.submitted == 4 and row.rank == 1


def test_the_stored_score_of_an_idea_without_submitted_reviews_is_none(app, factory):
    evaluator = factory.evaluator()
    idea = factory.in_review(evaluators=[evaluator])
    factory.review(idea, evaluator, points=9, submit=False)
    db.session.commit()
    assert fresh(idea).score is None and _fresh_score(idea) is None


def test_two_reviews_submitted_at_once_on_one_idea_both_count_in_its_score(app, factory):
    """refresh_score locks the idea's row before computing: of two evaluators submitting at
    once, the second waits for the first to commit and then counts both reviews (computed in
    a statement that began before the first committed, its score would miss one)."""
    import threading
    import time

    import sqlalchemy as sa

    from grantflow.accounts.models import User

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite writes one transaction at a time")
    evaluators = [factory.evaluator() for _ in range(3)]
    idea = factory.in_review(evaluators=evaluators)
    db.session.commit()
    idea_id, criteria = idea.id, [c.id for c in idea.competition.criteria]
    errors = []

    def submit(evaluator_id, points):
        with app.app_context():
            try:
                ops.save_review(db.session.get(Idea, idea_id), db.session.get(User, evaluator_id),
                                {c: points for c in criteria}, {}, "fund", "", submit=True)  # fmt: skip
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)
            finally:
                db.session.remove()

    holder = sa.create_engine(db.engine.url)
    watcher = sa.create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    with holder.connect() as conn, watcher.connect() as watch:
        # NO KEY UPDATE: the reviews' foreign keys still pass; refresh_score's lock waits.
        conn.execute(sa.text("SELECT id FROM ideas WHERE id = :id FOR NO KEY UPDATE"), {"id": idea_id})
        threads = [threading.Thread(target=submit, args=(evaluators[i].id, p)) for i, p in ((0, "6"), (1, "8"))]
        for t in threads:
            t.start()
        waiting = 0
        for _ in range(100):  # until both submissions wait on the idea's row
            waiting = watch.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )).scalar()
            if waiting == 2:
                break
            time.sleep(0.05)
        assert waiting == 2
        conn.rollback()
    for t in threads:
        t.join(timeout=30)
    holder.dispose()
    watcher.dispose()
    assert not errors, errors
    assert fresh(idea).score == _fresh_score(idea) == Decimal("70.00")  # 60 and 80
