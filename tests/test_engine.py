"""Firing transitions: roles, guards, effects, the audit trail, automatic steps, rollback."""

import threading
from decimal import Decimal

import pytest
import yaml
from sqlalchemy import func, select, text

from grantflow.core.database import Conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.funding.models import Decision
from grantflow.ideas.models import Idea
from grantflow.mail.models import OutboxMail
from grantflow.workflow import engine
from grantflow.workflow.models import AuditEntry
from grantflow.workflow.registry import effect, registry


def audit(idea):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.idea_id == idea.id).order_by(AuditEntry.id)).all()


def test_submit_changes_state_audits_and_queues_the_receipt(factory):
    idea = factory.idea()
    applicant = factory.member_of(idea.organisation)
    entry = engine.fire(idea, "submit", applicant, received_at=None)
    db.session.commit()
    assert idea.state == "submitted"
    assert idea.reference == f"{idea.competition.code}-0001"
    assert (entry.from_state, entry.to_state, entry.actor_id, entry.actor_role) == (
        "draft", "submitted", applicant.id, "applicant",
    )  # fmt: skip
    assert entry.created_at.tzinfo is not None
    assert db.session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.to_addr == applicant.email)) == 1


def test_reference_numbers_follow_each_other(factory):
    competition = factory.competition(code="DK-2030")
    first = factory.submitted(competition=competition)
    second = factory.submitted(competition=competition)
    assert (first.reference, second.reference) == ("DK-2030-0001", "DK-2030-0002")


def test_role_is_checked_against_the_idea(factory):
    idea = factory.idea()
    stranger = factory.applicant()  # an applicant, but of another organisation
    with pytest.raises(Refused, match="Jums nav tiesību veikt šo soli"):
        engine.fire(idea, "submit", stranger)
    assert db.session.get(Idea, idea.id).state == "draft"


def test_evaluator_cannot_fund(factory):
    idea = factory.reviewed()
    with pytest.raises(Refused):
        engine.fire(idea, "fund", factory.evaluator())


def test_guard_failure_is_explained(factory):
    idea = factory.idea(title="")
    with pytest.raises(Refused, match="Ideja nav pilnīga"):
        engine.fire(idea, "submit", factory.member_of(idea.organisation))


def test_closed_competition_refuses_submission(factory):
    idea = factory.idea(competition=factory.competition(open_=False))
    with pytest.raises(Refused, match="nevar iesniegt"):
        engine.fire(idea, "submit", factory.member_of(idea.organisation))


def test_transition_not_available_from_the_current_state(factory):
    idea = factory.idea()
    with pytest.raises(Refused, match="kamēr idejas statuss ir „Melnraksts”"):
        engine.fire(idea, "fund", factory.admin())


def test_required_comment(factory):
    idea = factory.reviewed()
    admin = factory.admin()
    with pytest.raises(Refused, match="iemeslu"):
        engine.fire(idea, "reject", admin, "  ")
    idea = db.session.get(Idea, idea.id)
    engine.fire(idea, "reject", admin, "Zems vērtējums")
    assert audit(idea)[-1].comment == "Zems vērtējums"


def test_automatic_transition_once_all_reviews_are_in(factory):
    evaluators = [factory.evaluator(), factory.evaluator()]
    idea = factory.in_review(evaluators=evaluators)
    factory.review(idea, evaluators[0])
    assert idea.state == "in_review"
    factory.review(idea, evaluators[1])
    assert idea.state == "reviewed"
    last = audit(idea)[-1]
    assert (last.trigger, last.actor_id, last.actor_role) == ("complete_review", None, "system")


def test_available_lists_what_the_user_may_do(factory):
    idea = factory.reviewed()
    admin = factory.admin()
    assert {t.trigger for t in engine.available(idea, admin)} == {"fund", "reject"}
    applicant = factory.member_of(idea.organisation)
    assert [t.trigger for t in engine.available(idea, applicant)] == ["withdraw"]
    assert engine.available(idea, factory.applicant()) == []


def test_funding_is_limited_by_the_budget(factory):
    competition = factory.competition(budget="1500.00")
    first = factory.reviewed(competition=competition, amount="1000.00")
    second = factory.reviewed(competition=competition, amount="1000.00")
    admin = factory.admin()
    engine.fire(first, "fund", admin)
    with pytest.raises(Refused, match="500.00"):
        engine.fire(second, "fund", admin)
    second = db.session.get(Idea, second.id)
    engine.fire(second, "fund", admin, "Budžeta atlikums", amount=Decimal("500.00"))
    amounts = db.session.scalars(select(Decision.amount).order_by(Decision.id)).all()
    assert amounts == [Decimal("1000.00"), Decimal("500.00")]


def test_the_loaded_workflow_never_grows_with_ideas(app, factory):
    workflow = app.extensions["grantflow.workflows"]["community_ideas"]
    shape = (len(workflow.by_key), {state: len(ts) for state, ts in workflow.leaving.items()})
    for _ in range(5):
        factory.submitted()
    assert (len(workflow.by_key), {state: len(ts) for state, ts in workflow.leaving.items()}) == shape


def test_recording_an_undeclared_kind_is_refused(factory):
    idea = factory.submitted()
    db.session.commit()
    with pytest.raises(LookupError, match="not declared"):
        engine.record(idea, "something_unheard_of", None)
    assert "something_unheard_of" not in [e.kind for e in audit(idea)]


def test_a_stale_version_is_refused_and_leaves_nothing(factory):
    idea = factory.idea()
    applicant = factory.member_of(idea.organisation)
    db.session.commit()
    db.session.execute(text("UPDATE ideas SET version = version + 1 WHERE id = :id"), {"id": idea.id})
    with pytest.raises(Conflict):
        engine.fire(idea, "submit", applicant)
    assert audit(idea) == [] and db.session.get(Idea, idea.id).state == "draft"


@pytest.fixture
def exploding_workflow(make_app, tmp_path):
    """A copy of the default workflow whose `fund` has an effect that fails after another effect
    has already written to the database."""

    @effect("explode")
    def explode(idea, ctx):
        raise RuntimeError("the printer is on fire")

    from grantflow.core.config import ROOT

    data = yaml.safe_load((ROOT / "workflows" / "community_ideas.yaml").read_text())
    for t in data["transitions"]:
        if t["trigger"] == "fund":
            t["effects"] = ["commit_funds", "notify_applicant", "explode"]
    (tmp_path / "community_ideas.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    app = make_app(WORKFLOWS_DIR=str(tmp_path))
    with app.app_context():
        yield app
    registry.effects.pop("explode")


def test_a_failing_effect_leaves_nothing_changed(exploding_workflow):
    from tests.factories import Factory

    factory = Factory()
    idea = factory.reviewed()
    db.session.commit()
    before = (len(audit(idea)), db.session.scalar(select(func.count(OutboxMail.id))))
    with pytest.raises(RuntimeError, match="on fire"):
        engine.fire(idea, "fund", factory.admin())
    idea = db.session.get(Idea, idea.id)
    assert idea.state == "reviewed"
    assert db.session.scalar(select(func.count(Decision.id))) == 0
    assert (len(audit(idea)), db.session.scalar(select(func.count(OutboxMail.id)))) == before


def test_audit_log_is_append_only(factory):
    idea = factory.submitted()
    db.session.commit()
    entry = audit(idea)[0]
    entry.comment = "rewritten"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("UPDATE audit_log SET comment = 'x'"))
    db.session.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("DELETE FROM audit_log"))
    db.session.rollback()


def fire_concurrently(app, idea_id: int, trigger: str, actor_ids: list[int], **params):
    """Fire `trigger` on one idea from several threads at the same instant, each with its own
    connection and session, as separate web requests would. Returns each thread's outcome."""
    from grantflow.accounts.models import User

    barrier = threading.Barrier(len(actor_ids))
    outcomes = [None] * len(actor_ids)

    def run(slot, actor_id):
        with app.app_context():
            try:
                idea = db.session.get(Idea, idea_id)
                actor = db.session.get(User, actor_id)
                barrier.wait(timeout=10)
                engine.fire(idea, trigger, actor, "vienlaicīgi", **params)
                db.session.commit()
                outcomes[slot] = "ok"
            except (Refused, Conflict) as error:
                db.session.rollback()
                outcomes[slot] = type(error).__name__
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actor_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    print("concurrent outcomes:", outcomes)
    return outcomes


def test_two_administrators_cannot_both_fund_the_same_idea(app, factory):
    idea = factory.reviewed()
    admins = [factory.admin(), factory.admin()]
    db.session.commit()
    outcomes = fire_concurrently(app, idea.id, "fund", [a.id for a in admins])
    assert sorted(outcomes) in (["Conflict", "ok"], ["Refused", "ok"]), outcomes
    db.session.rollback()  # end this test's read transaction to see the threads' work
    assert db.session.get(Idea, idea.id).state == "funded"
    assert db.session.scalar(select(func.count(Decision.id)).where(Decision.idea_id == idea.id)) == 1
    transitions = [e.trigger for e in audit(idea)]
    assert transitions.count("fund") == 1


def test_two_tabs_cannot_both_submit(app, factory):
    idea = factory.idea()
    applicant = factory.member_of(idea.organisation)
    db.session.commit()
    outcomes = fire_concurrently(app, idea.id, "submit", [applicant.id, applicant.id])
    assert sorted(outcomes) in (["Conflict", "ok"], ["Refused", "ok"]), outcomes
    db.session.rollback()  # end this test's read transaction to see the threads' work
    assert [e.trigger for e in audit(idea)] == ["submit"]
    assert db.session.get(Idea, idea.id).reference.endswith("-0001")
