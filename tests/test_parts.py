"""Declared parts (the workflow file says which trigger plays what the pages need), internal
comments, and staff roles a deployment declares."""

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from grantflow import ConfigError
from grantflow.core.config import ROOT
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.funding.models import Decision, DecisionKind
from grantflow.funding.operations import answer_cooperation, decide
from grantflow.ideas import operations as idea_ops
from grantflow.mail.models import OutboxMail
from grantflow.review.models import CHECKLIST, Assignment
from grantflow.review.operations import screen
from grantflow.review.rounds import current_round_id
from grantflow.workflow.definition import WorkflowError, load, parse
from grantflow.workflow.models import AuditEntry
from grantflow.workflow.registry import parse_staff_roles, role_catalogue
from tests.conftest import login

HERE = Path(__file__).parent / "workflows"
INTERNAL = "Needs another internal look"


def use_workflow(app, path: Path, **kw):
    """Load `path` into the test's app (the fixture puts the app's workflows back afterwards)."""
    workflow = load(path, **kw)
    app.extensions["grantflow.workflows"] = {**app.extensions["grantflow.workflows"], workflow.name: workflow}
    return workflow


def triggers(idea) -> list[str]:
    query = select(AuditEntry.trigger).where(AuditEntry.idea_id == idea.id, AuditEntry.kind == "transition")
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


def test_a_workflow_renaming_every_trigger_runs_end_to_end(app, client, factory):
    workflow = use_workflow(app, HERE / "renamed_triggers.yaml")
    assert not {"submit", "accept_eligible", "declare_ineligible", "fund", "reject", "confirm_cooperation"} & {
        t.trigger for t in workflow.transitions
    }
    competition = factory.competition(workflow="renamed_triggers")
    admin = factory.admin()

    # The application form's submit, screening, the municipality, the funding board (in part).
    idea = factory.idea(competition=competition, amount="1000.00")
    applicant = factory.member_of(idea.organisation)
    idea_ops.submit_idea(idea, applicant, utcnow())
    screen(idea, admin, dict.fromkeys(CHECKLIST, True), eligible=True, reason="")
    assert idea.state == "in_review"
    evaluators = [factory.evaluator(), factory.evaluator()]
    for evaluator in evaluators:
        db.session.add(Assignment(idea_id=idea.id, evaluator_id=evaluator.id, assigned_by_id=admin.id,
                                  round_id=current_round_id(idea)))
    db.session.flush()
    for evaluator in evaluators:
        factory.review(idea, evaluator)
    db.session.commit()
    assert idea.state == "reviewed"
    representative = factory.user("municipality", municipality=idea.municipality)
    answer_cooperation(idea, representative, confirmed=True, comment="Telpas kultūras namā")
    assert idea.state == "municipality_confirmed"
    idea_ops.take_step(idea, "board_note", admin, INTERNAL)
    decide(idea, admin, DecisionKind.FUND, amount=Decimal("600.00"), reason="Tikai inventāram")
    assert idea.state == "funded"
    assert triggers(idea) == [
        "file_idea", "pass_screening", "scoring_done", "municipality_agrees", "board_note", "grant_part",
    ]  # fmt: skip

    # Screening's other outcome, and the board's rejection.
    ineligible = factory.submitted(competition=competition)
    screen(ineligible, admin, dict.fromkeys(CHECKLIST, True), eligible=False, reason="Ārpus teritorijas")
    assert ineligible.state == "ineligible" and triggers(ineligible)[-1] == "fail_screening"
    rejected = factory.reviewed(competition=competition)
    answer_cooperation(rejected, factory.user("municipality", municipality=rejected.municipality),
                       confirmed=True, comment="Jā")  # fmt: skip
    decide(rejected, admin, DecisionKind.REJECT, reason="Zems vērtējums")
    assert rejected.state == "rejected" and triggers(rejected)[-1] == "decline"

    # The internal note: the applicant is told of the step, never of the comment.
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == applicant.email)).all()
    assert mails and not any(INTERNAL in m.body_text for m in mails)
    note = db.session.scalars(select(AuditEntry).where(AuditEntry.trigger == "board_note")).one()
    assert note.internal and note.comment == INTERNAL
    login(client, applicant.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Tikai inventāram" in page and INTERNAL not in page
    assert INTERNAL not in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(client, admin.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert INTERNAL in page


def test_an_internal_comment_stays_out_of_the_decision_letter_reason(app, factory):
    """A funding step whose comment is internal leaves the decision's reason (which the
    letter prints) empty; the audit row keeps the comment."""
    path = HERE / "renamed_triggers.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for t in data["transitions"]:
        if t["trigger"] == "decline":
            t["comment_to"] = "internal"
    workflow = parse(data, str(path))
    app.extensions["grantflow.workflows"] = {**app.extensions["grantflow.workflows"], workflow.name: workflow}
    idea = factory.reviewed(competition=factory.competition(workflow="renamed_triggers"))
    decide(idea, factory.admin(), DecisionKind.REJECT, reason=INTERNAL)
    decision = db.session.scalars(select(Decision).where(Decision.idea_id == idea.id)).one()
    assert decision.reason == "" and INTERNAL not in " ".join(m.body_text for m in db.session.scalars(select(OutboxMail)))
    assert db.session.scalars(select(AuditEntry.comment).where(AuditEntry.trigger == "decline")).one() == INTERNAL


def shipped(name="community_ideas"):
    return yaml.safe_load((ROOT / "workflows" / f"{name}.yaml").read_text(encoding="utf-8"))


def problems_of(data) -> list[str]:
    with pytest.raises(WorkflowError) as error:
        parse(data, "test.yaml")
    return error.value.problems


def test_the_shipped_workflows_declare_their_parts(app):
    workflows = app.extensions["grantflow.workflows"]
    assert workflows["community_ideas"].part("screen_reject") == "declare_ineligible"
    assert workflows["community_ideas"].part("confirm_cooperation") is None
    assert workflows["resource_centre"].part("confirm_cooperation") == "confirm_cooperation"


def test_missing_and_dangling_parts_are_refused_naming_every_problem(app):
    data = shipped()
    del data["parts"]["submit"], data["parts"]["screen_reject"]
    data["parts"]["fund"] = "fund_everything"  # no such trigger
    data["parts"]["reject"] = "close"  # leaves no decidable state
    data["parts"]["teleport"] = "close"  # no such part
    problems = problems_of(data)
    assert "part 'submit' is missing (a state is tagged 'editable'): say which trigger plays it under 'parts'" in problems
    assert "part 'screen_reject' is missing (a state is tagged 'screening'): say which trigger plays it under 'parts'" in problems
    assert "part 'fund' names trigger 'fund_everything', which no transition has" in problems
    assert "part 'reject': trigger 'close' leaves no state tagged 'decidable'" in problems
    assert any(p.startswith("part 'teleport' is unknown (known: ") for p in problems)
    assert len(problems) == 5


def test_a_file_without_parts_is_refused(app):
    data = shipped()
    del data["parts"]
    problems = problems_of(data)
    for name in ("submit", "screen_accept", "screen_reject", "fund", "reject"):
        assert any(p.startswith(f"part {name!r} is missing") for p in problems), name
    assert not any("part_fund" in p or "confirm_cooperation" in p or "'close'" in p for p in problems)  # optional


def test_parts_must_be_a_map_of_names(app):
    data = shipped()
    data["parts"] = ["submit"]
    assert "'parts' must map part names to triggers, e.g. {submit: submit}" in problems_of(data)


def test_comment_audience_is_checked(app):
    data = shipped()
    data["transitions"][1]["comment_to"] = "everyone"
    assert "transition #2 'return_for_changes': comment_to must be one of applicant, internal" in problems_of(data)


# --- staff roles ------------------------------------------------------------------------------

STAFF = {
    "programme_staff": {
        "label": {"lv": "Programmas darbinieks", "en": "Programme staff"},
        "capabilities": ["screen", "assign", "moderate", "see_reviews"],
    }
}


def test_staff_roles_are_checked_naming_every_problem():
    roles, problems = parse_staff_roles(STAFF, builtin={"administrator"})
    assert problems == [] and roles["programme_staff"].capabilities == {"screen", "assign", "moderate", "see_reviews"}
    _, problems = parse_staff_roles(
        {
            "administrator": {"label": {"lv": "A", "en": "A"}},
            "clerk": {"label": "Clerk", "capabilities": ["fly"]},
            "a very long name": {},
        },
        builtin={"administrator"},
    )
    assert problems == [
        "staff role 'administrator': the name is taken by a built-in role",
        "staff role 'clerk': label must be exactly {lv: ..., en: ...}",
        "staff role 'clerk': unknown capability 'fly' (known: screen, assign, moderate, fund, see_reviews, "
        "see_documents, report)",
        "staff role 'a very long name': the name must be a word of letters, digits and _ (at most 20)",
    ]


def test_a_bad_staff_role_stops_start_up(make_app):
    with pytest.raises(ConfigError, match="unknown capability 'fly'"):
        make_app(STAFF_ROLES={"clerk": {"label": {"lv": "Lietvede", "en": "Clerk"}, "capabilities": ["fly"]}})


def test_workflows_may_name_declared_staff_roles_and_only_those(app, factory):
    data = shipped()
    data["transitions"][1]["roles"] = ["administrator", "programme_staff"]  # return_for_changes
    assert "transition #2 'return_for_changes': unknown role 'programme_staff' (known: administrator, applicant, evaluator, municipality)" in problems_of(data)
    workflow = parse(data, "staffed.yaml", staff_roles=STAFF)
    assert workflow.transitions[1].roles == {"administrator", "programme_staff"}


def test_a_staff_member_holds_their_role_on_filed_ideas(app, factory):
    roles, _ = parse_staff_roles(STAFF)
    app.extensions["grantflow.staff_roles"] = roles
    data = shipped()
    data["name"] = "staffed"
    data["transitions"][1]["roles"] = ["administrator", "programme_staff"]  # return_for_changes
    workflow = parse(data, "staffed.yaml", staff_roles=roles)
    app.extensions["grantflow.workflows"] = {**app.extensions["grantflow.workflows"], "staffed": workflow}
    competition = factory.competition(workflow="staffed")
    staff = factory.user()
    staff.grant("programme_staff")
    with pytest.raises(ValueError):
        staff.grant("janitor")
    draft = factory.idea(competition=competition)
    filed = factory.submitted(competition=competition)
    db.session.commit()
    assert not draft.can_view(staff)
    assert filed.roles_of(staff) == {"programme_staff"} and filed.can_view(staff)
    assert [t.trigger for t in idea_ops.engine.available(filed, staff)] == ["return_for_changes"]
    idea_ops.take_step(filed, "return_for_changes", staff, "Lūdzu, papildiniet budžetu")
    assert filed.state == "draft"
    assert ("programme_staff", {"lv": "Programmas darbinieks", "en": "Programme staff"},
            frozenset({"screen", "assign", "moderate", "see_reviews"})) in role_catalogue()  # fmt: skip
    assert [name for name, _, caps in role_catalogue() if caps is None] == [
        "administrator", "applicant", "municipality", "evaluator",
    ]  # fmt: skip


# --- the workflow page ------------------------------------------------------------------------


def test_the_workflow_page_shows_plain_words_at_natural_size(app, client, factory):
    use_workflow(app, HERE / "two_stage.yaml")
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    page = client.get("/admin/workflows/two_stage").get_data(as_text=True)
    assert "Pieteicējs ir apstiprinājis savu e-pasta adresi" in page  # the guard email_confirmed
    assert "Piešķir idejai reģistrācijas numuru" in page  # the effect assign_reference
    assert "obligāts, tikai darbiniekiem" in page  # panel_recommends: a required internal comment
    assert "Pieteicējs iesniedz ideju pieteikuma veidlapā" in page  # the part submit_concept plays
    for code in ("email_confirmed", "assign_reference", "notify_applicant", "submit_concept", "concept_draft"):
        assert code not in page.replace('name="two_stage"', ""), code
    svg = client.get("/admin/workflows/two_stage.svg").get_data(as_text=True)
    assert "Koncepcijas melnraksts" in svg and "concept_draft\\l" not in svg and 'font-size="14.00"' in svg
    client.post("/language", data={"language": "en", "next": "/"})
    svg = client.get("/admin/workflows/two_stage.svg").get_data(as_text=True)
    assert "Concept draft" in svg and "Invite a full proposal" in svg
