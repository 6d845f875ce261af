"""Application stages (issue #10, part 2) and the shipped two-stage competition (part 9): a
workflow declares stages, each with its form, its window per competition (Riga time) and its
submit; each stage's submission is kept as a frozen revision; the loader names every problem."""

from datetime import timedelta
from decimal import Decimal

import pytest
import yaml
from sqlalchemy import select

from grantflow.competitions.models import Competition
from grantflow.core.config import ROOT
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.funding import operations as funding_ops
from grantflow.ideas import operations as idea_ops
from grantflow.ideas.models import IdeaActivity, IdeaRevision
from grantflow.mail.operations import send_pending
from grantflow.pages.operations import next_step
from grantflow.review import operations as review_ops
from grantflow.review.models import CHECKLIST
from grantflow.review.rounds import current_round
from grantflow.workflow.definition import WorkflowError, load, parse
from tests.conftest import login

SHIPPED = ROOT / "workflows" / "concept_proposal.yaml"


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


# --- the workflow file ----------------------------------------------------------------------


def test_the_shipped_two_stage_workflow_declares_its_stages_forms_and_rounds():
    workflow = load(SHIPPED)
    assert list(workflow.stages) == ["concept", "proposal"]
    assert workflow.stages["concept"].form == "two_stage_concept.yaml"
    assert workflow.stage_of("concept_draft").key == "concept"
    assert workflow.stage_of("concept_reviewed").key == "concept"
    assert workflow.stage_of("proposal_draft").key == "proposal"
    assert workflow.stage_of("funded").key == "proposal"
    assert workflow.submit_trigger("concept_draft") == "submit_concept"
    assert workflow.submit_trigger("proposal_draft") == "submit_proposal"
    assert list(workflow.rounds) == ["concept", "proposal"]
    # A workflow without stages: none, and its submit part.
    default = load(ROOT / "workflows" / "community_ideas.yaml")
    assert default.stages == {} and default.stage_of("draft") is None and default.submit_trigger("draft") == "submit"


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda d: d["stages"]["concept"].update(form="missing.yaml"), "stage 'concept': form file 'missing.yaml' is not in"),
        (lambda d: d["stages"]["concept"].update(form="../secret.yaml"), "stage 'concept': form '../secret.yaml' must be"),
        (lambda d: d["stages"]["concept"].update(states=["nowhere"]), "stage 'concept': unknown state 'nowhere'"),
        (lambda d: d["stages"]["concept"].update(states=["concept_submitted", "concept_draft"]),
         "stage 'concept': state 'concept_submitted' is not tagged 'editable'"),
        (lambda d: d["stages"]["proposal"].update(states=["concept_draft"]),
         "stage 'proposal': state 'concept_draft' is already in stage 'concept'"),
        (lambda d: d["stages"]["concept"].pop("submit"), "stage 'concept': 'submit' is missing"),
        (lambda d: d["stages"]["concept"].update(submit="send"), "stage 'concept': submit trigger 'send' is not"),
        (lambda d: d["stages"]["concept"].update(submit="submit_proposal"),
         "stage 'concept': submit trigger 'submit_proposal' leaves none of the stage's states"),
        (lambda d: d["stages"]["concept"].update(deadline="2027-01-01"), "stage 'concept': unknown key 'deadline'"),
        (lambda d: d["stages"]["concept"].update(label="Koncepcija"), "stage 'concept': label must give both"),
        (lambda d: d["stages"].pop("proposal"), "state 'proposal_draft' is tagged 'editable' but is in no stage"),
        (lambda d: d.update(stages=["concept"]), "'stages' must map stage keys"),
        (lambda d: next(t for t in d["transitions"] if t["trigger"] == "invite").update(effects=["notify_applicant"]),
         "transition 'invite' enters stage 'proposal' from another stage but lacks the effect 'open_stage'"),
    ],
)  # fmt: skip
def test_the_loader_refuses_broken_stages_naming_the_problem(change, problem):
    data = shipped()
    change(data)
    with pytest.raises(WorkflowError) as refused:
        parse(data, str(SHIPPED))
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


def test_every_stage_problem_is_named_at_once():
    data = shipped()
    data["stages"]["concept"].update(form="missing.yaml", submit="send", states=["nowhere"])
    with pytest.raises(WorkflowError) as refused:
        parse(data, str(SHIPPED))
    named = " | ".join(refused.value.problems)
    assert "'missing.yaml'" in named and "'send'" in named and "'nowhere'" in named


# --- the two-stage competition run end to end ---------------------------------------------------


def _next(app, idea):
    """The applicant's next step on the home page (its link needs a request)."""
    with app.test_request_context():
        return next_step(idea, None)


def _fill_proposal(idea, applicant):
    """The full proposal's questions the concept did not ask, saved through its sections."""
    idea_ops.save_section(idea, "idea", {"title": "Kopienas dārzs un darbnīca", "goals": "Satikties un kopā strādāt."}, {}, applicant)
    idea.activities = [IdeaActivity(position=1, description="Talka",
                                    starts_on=(idea.competition.closes_at + timedelta(days=90)).date())]  # fmt: skip
    idea_ops.save_section(idea, "people", {"target_groups": ["seniors"], "expected_participants": 40}, {}, applicant)
    idea_ops.save_section(idea, "cooperation", {"sustainability": "Dārzu kops biedrība."}, {}, applicant)
    idea_ops.save_section(
        idea, "budget",
        {"budget_lines": [{"item": "Dēļi", "quantity": "2", "unit_cost": "450.00", "own": False}]}, {}, applicant,
    )  # fmt: skip


def test_a_concept_is_invited_to_a_full_proposal_reviewed_twice_and_funded(app, client, factory, smtp_server):
    competition = factory.competition(workflow="concept_proposal")
    concept_stage, proposal_stage = competition.stages
    assert (concept_stage.key, proposal_stage.key) == ("concept", "proposal")
    # The first stage's window is the competition's; the second opens at its deadline.
    assert (concept_stage.opens_at, concept_stage.closes_at) == (competition.opens_at, competition.closes_at)
    assert proposal_stage.opens_at == competition.closes_at
    concept_round, proposal_round = competition.rounds
    admin = factory.admin()
    org = factory.organisation()
    applicant = factory.applicant(org)
    db.session.commit()

    idea = idea_ops.create_idea(competition, org, applicant, utcnow())
    assert idea.state == "concept_draft" and idea.form_version.name == "two_stage_concept"
    assert idea_ops.current_stage(idea).key == "concept"
    idea_ops.save_section(idea, "concept", {
        "title": "Kopienas dārzs", "summary": "Kopīgs dārzs ģimenēm.", "community_need": "Nav kur satikties.",
        "requested_amount": "900.00"}, {}, applicant)  # fmt: skip
    idea_ops.save_section(idea, "contact", {"contact_name": "Anna", "contact_email": "anna@example.lv",
                                            "municipality": {"municipality": org.municipality_id, "parish": None}},
                          {}, applicant)  # fmt: skip
    assert idea.requested_amount == Decimal("900.00")  # asked directly, not summed from budget lines
    assert idea_ops.missing_fields(idea) == {}
    text, _ = _next(app, idea)
    assert "Koncepcija" in text

    reference = idea_ops.submit_idea(idea, applicant, utcnow())
    assert idea.state == "concept_submitted" and reference
    [concept] = idea.revisions
    assert (concept.stage, concept.form_version.name) == ("concept", "two_stage_concept")
    assert concept.answers["title"] == "Kopienas dārzs" and concept.answers["requested_amount"] == "900.00"
    assert concept.form_version.frozen

    # The first round reviews the concept; the administrator invites a full proposal.
    review_ops.screen(idea, admin, dict.fromkeys(CHECKLIST, True), eligible=True, reason="")
    assert current_round(idea) == concept_round
    evaluators = [factory.evaluator(), factory.evaluator()]
    for evaluator in evaluators:
        review_ops.assign(idea, evaluator, admin)
        factory.review(idea, evaluator, points=7)
    db.session.commit()
    assert idea.state == "concept_reviewed"
    idea_ops.take_step(idea, "invite", admin)
    assert idea.state == "proposal_draft" and idea_ops.current_stage(idea).key == "proposal"
    assert idea.form_version.name == "two_stage_proposal"
    assert idea.title == "Kopienas dārzs"  # the concept's answers carry over into the proposal
    assert idea.can_edit(applicant)

    # The proposal's own window: not open yet (it opens at the concept deadline).
    text, link = _next(app, idea)
    assert "Pilns projekts" in text and link is None
    _fill_proposal(idea, applicant)
    assert idea_ops.missing_fields(idea) == {}
    with pytest.raises(Refused) as refused:
        idea_ops.submit_idea(idea, applicant, utcnow())
    assert "Šī posma iesniegšanas laiks nav atvērts." in [str(m) for m in refused.value.messages]
    db.session.rollback()
    proposal_stage.opens_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    text, link = _next(app, idea)
    assert "Pilns projekts" in text and link is not None
    idea_ops.submit_idea(idea, applicant, utcnow())
    assert idea.state == "proposal_submitted"
    db.session.expire_all()
    concept, proposal = db.session.scalars(
        select(IdeaRevision).where(IdeaRevision.idea_id == idea.id).order_by(IdeaRevision.id)
    ).all()
    # The concept stays readable as it was submitted, beside the proposal.
    assert concept.answers["title"] == "Kopienas dārzs" and "budget_lines" not in concept.answers
    assert proposal.stage == "proposal" and proposal.form_version.name == "two_stage_proposal"
    assert proposal.answers["title"] == "Kopienas dārzs un darbnīca"
    assert proposal.answers["budget_lines"][0]["item"] == "Dēļi"
    assert idea.reference == reference  # one reference number through both stages
    # Each stage's own receipt names its stage (written when it is sent, from the job queued
    # with each submission).
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    send_pending()
    bodies = [m.get_body().get_content() for m in smtp_server.to(applicant.email) if reference in m["Subject"]]
    assert any("Posms: Koncepcija" in b for b in bodies) and any("Posms: Pilns projekts" in b for b in bodies), bodies
    # The idea page shows both submissions as submitted, the newest first.
    login(client, applicant.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert 'id="stage-submissions"' in page and f'id="revision-{concept.id}"' in page
    assert page.index(f'id="revision-{proposal.id}"') < page.index(f'id="revision-{concept.id}"')
    concept_part = page[page.index(f'id="revision-{concept.id}"'):]
    assert "Aptuvenais prasītais finansējums" in concept_part and "900,00" in concept_part
    assert "Kopienas dārzs</dd>" in concept_part.replace("\n", "").replace("  ", "")

    # The second round reviews the proposal; the board funds it.
    idea_ops.take_step(idea, "accept_proposal", admin)
    assert current_round(idea) == proposal_round
    for evaluator in evaluators:
        review_ops.assign(idea, evaluator, admin)
        factory.review(idea, evaluator, points=9)
    db.session.commit()
    assert idea.state == "proposal_reviewed"
    funding_ops.decide(idea, admin, "fund", reason="", amount=Decimal("900.00"))
    assert idea.state == "funded"


def test_the_concept_window_closes_submission_by_its_own_deadline(app, factory):
    competition = factory.competition(workflow="concept_proposal")
    org = factory.organisation()
    applicant = factory.applicant(org)
    db.session.commit()
    idea = idea_ops.create_idea(competition, org, applicant, utcnow())
    competition.stages[0].closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(Refused) as refused:
        idea_ops.submit_idea(idea, applicant, utcnow())
    assert "Šī posma iesniegšanas laiks nav atvērts." in [str(m) for m in refused.value.messages]
    text, link = _next(app, idea)
    assert link is None and "Koncepcija" in text


def test_saving_a_competition_moves_its_first_stage_window_with_it(app, factory):
    from grantflow.competitions.operations import save_competition  # noqa: PLC0415 (kept beside its one use)

    competition = factory.competition(workflow="concept_proposal")
    db.session.commit()
    later = competition.closes_at + timedelta(days=3)
    data = {"code": competition.code, "title_lv": competition.title_lv, "title_en": competition.title_en,
            "workflow": "concept_proposal", "opens_at": competition.opens_at, "closes_at": later}  # fmt: skip
    save_competition(competition, data)
    db.session.expire_all()
    stages = db.session.get(Competition, competition.id).stages
    assert stages[0].closes_at == later and stages[1].key == "proposal"


def test_administrators_set_each_stages_window_in_riga_time_logged(client, factory):
    from grantflow.adminlog.models import AdminLogEntry  # noqa: PLC0415 (kept beside its one use)

    competition = factory.competition(workflow="concept_proposal")
    plain = factory.competition()
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    concept, proposal = competition.stages
    page = client.get(f"/competitions/{competition.id}/stages").get_data(as_text=True)
    assert "Koncepcija" in page and "Pilns projekts" in page and f'name="closes_{proposal.id}"' in page
    assert f"/competitions/{competition.id}/stages" in client.get(f"/competitions/{competition.id}/rounds").get_data(as_text=True)
    data = {f"opens_{concept.id}": "2027-01-10T09:00", f"closes_{concept.id}": "2027-02-10T17:00",
            f"opens_{proposal.id}": "2027-04-01T09:00", f"closes_{proposal.id}": "2027-03-01T17:00"}  # fmt: skip
    bad = client.post(f"/competitions/{competition.id}/stages", data=data)
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Posmam jānoslēdzas pēc tā atvēršanas." in body and 'value="2027-03-01T17:00"' in body  # nothing lost
    data[f"closes_{proposal.id}"] = "2027-05-01T17:00"
    assert client.post(f"/competitions/{competition.id}/stages", data=data).status_code == 303
    db.session.expire_all()
    saved = db.session.get(Competition, competition.id)
    assert saved.stages[1].closes_at.hour == 14  # 17:00 Riga (summer time) is 14:00 UTC
    assert saved.closes_at == saved.stages[0].closes_at  # the first stage's window is the competition's
    kinds = db.session.scalars(select(AdminLogEntry.kind).where(AdminLogEntry.kind == "stage_window_changed")).all()
    assert len(kinds) == 2
    # A competition of one stage says so.
    assert "viens posms" in client.get(f"/competitions/{plain.id}/stages").get_data(as_text=True)
