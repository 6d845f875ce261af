"""Staff roles a deployment declares (config STAFF_ROLES) work by capability: the screening,
assignment, moderation and funding pages ask the permission methods on the models, and the
engine lets a staff role play a part its capability covers (screening's outcomes, the
funding decision) though the workflow file names only built-in roles."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.funding.models import DecisionKind
from grantflow.funding.operations import decide
from grantflow.ideas.models import Idea
from grantflow.review.models import Assignment
from grantflow.workflow.registry import parse_staff_roles
from tests.conftest import login

STAFF_ROLES = {
    "programme": {"label": {"lv": "Programmas darbinieks", "en": "Programme staff"},
                  "capabilities": ["screen", "assign", "moderate", "see_reviews"]},
    "board": {"label": {"lv": "Valdes loceklis", "en": "Board member"}, "capabilities": ["fund", "see_reviews"]},
}  # fmt: skip


@pytest.fixture
def staffed(app, monkeypatch):
    """The test app with this deployment's staff roles (put back after the test)."""
    roles, problems = parse_staff_roles(STAFF_ROLES)
    assert not problems
    monkeypatch.setitem(app.extensions, "grantflow.staff_roles", roles)
    return app


def test_programme_staff_screen_and_assign_but_do_not_fund(staffed, client, factory):
    staff, board_member = factory.user("programme"), factory.user("board")
    idea = factory.submitted()
    reviewed = factory.reviewed()
    evaluator = factory.evaluator()
    competition_id = idea.competition_id
    idea_id, reviewed_id, evaluator_id = idea.id, reviewed.id, evaluator.id
    assert idea.can_screen(staff) and idea.can_assign(staff) and idea.can_moderate(staff)
    assert not idea.can_fund(staff) and not idea.competition.can_fund(staff)
    assert reviewed.can_fund(board_member) and not reviewed.can_screen(board_member)
    db.session.commit()
    staff_email, board_email = staff.email, board_member.email

    login(client, staff_email)
    # Screening: the workflow's accept_eligible names only administrators; the capability plays the part.
    data = {"complete": "y", "legal_form": "y", "territory": "y", "grant_limits": "y", "deadline": "y", "outcome": "eligible"}
    assert client.post(f"/review/ideas/{idea_id}/screening", data=data).status_code == 303
    assert client.get(f"/review/competitions/{competition_id}/assignments").status_code == 200
    assert client.post(f"/review/ideas/{idea_id}/assignments", data={"evaluator_id": str(evaluator_id)}).status_code == 303
    db.session.expire_all()
    assert db.session.scalars(select(Assignment).filter_by(idea_id=idea_id, evaluator_id=evaluator_id, active=True)).one()
    assert db.session.get(Idea, idea_id).state == "in_review"
    assert client.get(f"/review/competitions/{competition_id}/ranking").status_code == 200
    assert client.get(f"/ideas/{idea_id}/messages/new").status_code == 200
    # Funding: refused to programme staff, page and decision alike.
    assert client.get(f"/decide/competitions/{competition_id}").status_code == 403
    assert client.get(f"/decide/ideas/{reviewed_id}").status_code == 403
    refused = client.post(f"/decide/ideas/{reviewed_id}", data={"action": "reject", "reject-reason": "Nē"})
    assert refused.status_code == 403

    board = staffed.test_client()
    login(board, board_email)
    assert board.get(f"/decide/competitions/{competition_id}").status_code == 200
    assert board.get(f"/review/ideas/{idea_id}/screening").status_code == 403
    assert board.get(f"/review/competitions/{competition_id}/assignments").status_code == 403


def test_the_engine_lets_a_staff_role_play_only_the_parts_its_capability_covers(staffed, factory):
    staff, board_member = factory.user("programme"), factory.user("board")
    idea = factory.reviewed()
    db.session.commit()
    with pytest.raises(Refused):  # programme staff cannot fund, by any way in
        decide(idea, staff, DecisionKind.FUND, amount=Decimal("1000.00"))
    decision = decide(idea, board_member, DecisionKind.FUND, amount=Decimal("1000.00"))
    assert decision.kind == DecisionKind.FUND and idea.has_tag("funded")
