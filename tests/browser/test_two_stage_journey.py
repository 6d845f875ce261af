"""The two-stage competition (workflows/concept_proposal.yaml) in a real Chromium: the applicant
submits a concept within the concept's window, the administrator invites a full proposal, the
applicant submits it within the proposal's window and still reads the concept as submitted,
the proposal goes to the second review round and the board funds it. Screening and scoring have
their own journeys (test_decisions, test_evaluator); here they are done through the operations."""

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from grantflow.accounts.models import User
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.funding import operations as funding_ops
from grantflow.ideas import operations as idea_ops
from grantflow.ideas.models import Idea, IdeaActivity
from grantflow.review import operations as review_ops
from grantflow.review.models import CHECKLIST
from tests.browser.conftest import log_in, log_out
from tests.factories import PASSWORD, Factory


@pytest.fixture
def two_stage(live_server):
    with live_server.app.app_context():
        factory = Factory()
        competition = factory.competition(workflow="concept_proposal", title_lv="Divpakāpju pārlūka konkurss")
        # The full proposal's window opens once the concepts are in: here, already.
        competition.stage("proposal").opens_at = utcnow() - timedelta(hours=1)
        org = factory.organisation()
        applicant = factory.applicant(org, email="divpakapju@example.lv")
        admin = factory.admin(email="divpakapju-admins@example.lv")
        evaluators = [factory.evaluator(), factory.evaluator()]
        db.session.commit()
        idea = idea_ops.create_idea(competition, org, applicant, utcnow())
        idea_ops.save_section(idea, "concept", {
            "title": "Upes krasta taka", "summary": "Taka gar upi visai kopienai.",
            "community_need": "Nav drošas vietas pastaigām.", "requested_amount": "1500.00"}, {}, applicant)  # fmt: skip
        idea_ops.save_section(idea, "contact", {"contact_name": "Ilze", "contact_email": "divpakapju@example.lv",
                                                "municipality": {"municipality": org.municipality_id, "parish": None}},
                              {}, applicant)  # fmt: skip
        data = {"idea": idea.id, "applicant": applicant.email, "admin": admin.email,
                "evaluators": [e.id for e in evaluators], "admin_id": admin.id}  # fmt: skip
        db.session.remove()
    return data


def _score_round(live_server, data, points):
    """Both evaluators assigned in the idea's current round and their reviews submitted."""
    with live_server.app.app_context():
        factory = Factory()
        idea = db.session.get(Idea, data["idea"])
        admin = db.session.get(User, data["admin_id"])
        for evaluator_id in data["evaluators"]:
            evaluator = db.session.get(User, evaluator_id)
            review_ops.assign(idea, evaluator, admin)
            factory.review(idea, evaluator, points=points)
        db.session.commit()
        state = idea.state
        db.session.remove()
    return state


@pytest.mark.browser
def test_concept_invitation_full_proposal_second_round_and_decision(page, live_server, two_stage):
    idea_id = two_stage["idea"]
    # The applicant: the home page gives the concept's deadline; the concept is submitted.
    log_in(page, two_stage["applicant"], PASSWORD)
    expect(page.get_by_text("Koncepcija: aizpildiet un iesniedziet līdz")).to_be_visible()
    page.goto(f"/ideas/{idea_id}")
    page.locator("#steps").get_by_role("link", name="Iesniegt koncepciju…").click()
    page.get_by_role("link", name="Turpināt uz iesniegšanu").click()  # check your answers first
    page.get_by_role("button", name="Iesniegt ideju").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.locator("#stage-submissions")).to_contain_text("Koncepcija — iesniegts")
    log_out(page)

    # Screening and the concept's round of reviews.
    with live_server.app.app_context():
        idea = db.session.get(Idea, idea_id)
        review_ops.screen(idea, db.session.get(User, two_stage["admin_id"]), dict.fromkeys(CHECKLIST, True),
                          eligible=True, reason="")  # fmt: skip
        db.session.remove()
    assert _score_round(live_server, two_stage, points=7) == "concept_reviewed"

    # The administrator invites a full proposal from the idea page.
    log_in(page, two_stage["admin"], PASSWORD)
    page.goto(f"/ideas/{idea_id}")
    page.locator("#steps").get_by_role("button", name="Uzaicināt iesniegt pilnu projektu").click()
    expect(page.locator("body")).to_contain_text("Uzaicināts — projekta melnraksts")
    log_out(page)

    # The applicant writes the full proposal (the concept's answers carried over).
    with live_server.app.app_context():
        idea = db.session.get(Idea, idea_id)
        assert idea.form_version.name == "two_stage_proposal" and idea.title == "Upes krasta taka"
        idea.activities = [IdeaActivity(position=1, description="Talka", starts_on=(utcnow() + timedelta(days=60)).date())]
        db.session.commit()
        db.session.remove()
    log_in(page, two_stage["applicant"], PASSWORD)
    expect(page.get_by_text("Pilns projekts: aizpildiet un iesniedziet līdz")).to_be_visible()
    page.goto(f"/apply/{idea_id}/sections")
    for key, fields in (
        ("idea", {"goals": "Droša pastaigu vieta visiem."}),
        ("people", {}),
        ("cooperation", {"sustainability": "Taku kops biedrība."}),
    ):
        page.goto(f"/apply/{idea_id}/sections/{key}")
        for name, value in fields.items():
            page.locator(f"[name={name}]").fill(value)
        if key == "people":
            page.get_by_label("Seniori").check()
            page.locator("[name=expected_participants]").fill("40")
        page.get_by_role("button", name="Saglabāt un turpināt").click()
    page.goto(f"/apply/{idea_id}/sections/budget")
    page.locator("[name='budget_lines-0-item']").fill("Dēļi un soliņi")
    page.locator("[name='budget_lines-0-quantity']").fill("1")
    page.locator("[name='budget_lines-0-unit_cost']").fill("1400")
    page.get_by_role("button", name="Saglabāt un turpināt").click()
    page.goto(f"/ideas/{idea_id}")
    page.locator("#steps").get_by_role("link", name="Iesniegt projektu…").click()
    page.get_by_role("link", name="Turpināt uz iesniegšanu").click()  # check your answers first
    page.get_by_role("button", name="Iesniegt ideju").click()
    submissions = page.locator("#stage-submissions")
    expect(submissions).to_contain_text("Pilns projekts — iesniegts")
    expect(submissions).to_contain_text("Koncepcija — iesniegts")
    expect(submissions).to_contain_text("Aptuvenais prasītais finansējums")  # the concept, as it was
    log_out(page)

    # The second round: the administrator sends the proposal to review; evaluators score it.
    log_in(page, two_stage["admin"], PASSWORD)
    page.goto(f"/ideas/{idea_id}")
    page.locator("#steps").get_by_role("button", name="Sākt projekta vērtēšanu").click()
    expect(page.locator("body")).to_contain_text("Projektu vērtē")
    assert _score_round(live_server, two_stage, points=9) == "proposal_reviewed"

    # The decision: funded on the funding board's decision page.
    with live_server.app.app_context():
        idea = db.session.get(Idea, idea_id)
        funding_ops.decide(idea, db.session.get(User, two_stage["admin_id"]), "fund", amount=Decimal("1400.00"))
        db.session.remove()
    page.goto(f"/ideas/{idea_id}")
    expect(page.locator("body")).to_contain_text("Atbalstīts")
