"""Review rounds: criteria, assignments, reviews and the evaluation deadline belong to a round;
the workflow says which state opens which round; the guard, scores and ranking count the
current round only, and earlier rounds stay visible to staff."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select, text

from grantflow.adminlog.models import AdminLogEntry
from grantflow.competitions.models import Competition, Criterion, ReviewRound
from grantflow.core.config import ROOT
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.ideas import operations as idea_ops
from grantflow.review import operations as review_ops
from grantflow.review.models import CHECKLIST, Assignment, Review
from grantflow.review.ranking import Filters, ranking
from grantflow.review.rounds import current_round, default_round
from grantflow.workflow.definition import WorkflowError, load, parse
from tests.conftest import login

HERE = Path(__file__).parent / "workflows"


def use_two_stage(app):
    workflow = load(HERE / "two_stage.yaml")
    app.extensions["grantflow.workflows"] = {**app.extensions["grantflow.workflows"], workflow.name: workflow}
    return workflow


def community_ideas() -> dict:
    return yaml.safe_load((ROOT / "workflows" / "community_ideas.yaml").read_text(encoding="utf-8"))


# --- the workflow file ----------------------------------------------------------------------


def test_the_two_stage_workflow_says_which_round_is_current_in_each_state():
    workflow = load(HERE / "two_stage.yaml")
    assert list(workflow.rounds) == ["concept", "proposal"]
    assert workflow.round_of("concept_draft") == "concept"  # before any round: the first
    assert workflow.round_of("concept_in_review") == "concept"
    assert workflow.round_of("invited") == "concept"  # the concept's round stays current
    assert workflow.round_of("proposal_checked") == "concept"
    assert workflow.round_of("proposal_in_review") == "proposal"
    assert workflow.round_of("board") == "proposal"
    assert workflow.round_of("funded") == "proposal"
    assert load(ROOT / "workflows" / "community_ideas.yaml").round_of("reviewed") == "evaluation"


@pytest.mark.parametrize(
    "rounds, problem",
    [
        ({"evaluation": {"label": {"lv": "V", "en": "E"}, "opens": ["nowhere"]}},
         "round 'evaluation': opens unknown state 'nowhere'"),
        ({"evaluation": {"label": {"lv": "V", "en": "E"}, "opens": ["in_review"], "deadline": 3}},
         "round 'evaluation': unknown key 'deadline'"),
        ({"a": {"label": {"lv": "A", "en": "A"}, "opens": ["in_review"]},
          "b": {"label": {"lv": "B", "en": "B"}, "opens": ["in_review"]}},
         "round 'b': state 'in_review' already opens round 'a'"),
        ({}, "state 'in_review' is tagged 'scoring' but opens no review round"),
        ({"evaluation": {"label": "Vērtēšana", "opens": ["in_review"]}}, "round 'evaluation': label must give both"),
        ({"evaluation": {"label": {"lv": "V", "en": "E"}}}, "round 'evaluation': 'opens' names no state"),
        ({"2nd": {"label": {"lv": "V", "en": "E"}, "opens": ["in_review"]}}, "round '2nd': the key must be a name"),
        (["evaluation"], "'rounds' must map round keys"),
        ({"evaluation": {"label": {"lv": "V", "en": "E"}, "opens": ["in_review"], "criteria": []}},
         "round 'evaluation': 'criteria' must be a list"),
        ({"evaluation": {"label": {"lv": "V", "en": "E"}, "opens": ["in_review"], "criteria": ["Need"]}},
         "round 'evaluation', criterion 1: must be a mapping"),
        ({"evaluation": {"label": {"lv": "V", "en": "E"}, "opens": ["in_review"],
                         "criteria": [{"name": {"lv": "V", "en": "N"}, "points": 5}]}},
         "round 'evaluation', criterion 1: unknown key 'points'"),
        ({"evaluation": {"label": {"lv": "V", "en": "E"}, "opens": ["in_review"],
                         "criteria": [{"name": "Need", "max_points": 10}]}},
         "round 'evaluation', criterion 1, name: label must give both"),
        ({"evaluation": {"label": {"lv": "V", "en": "E"}, "opens": ["in_review"],
                         "criteria": [{"name": {"lv": "V", "en": "N"}, "guidance": {"lv": "G"}}]}},
         "round 'evaluation', criterion 1, guidance: label has no 'en' text"),
        ({"evaluation": {"label": {"lv": "V", "en": "E"}, "opens": ["in_review"],
                         "criteria": [{"name": {"lv": "V", "en": "N"}, "max_points": 0}]}},
         "round 'evaluation', criterion 1: 'max_points' must be a whole number from 1 to 100"),
        ({"evaluation": {"label": {"lv": "V", "en": "E"}, "opens": ["in_review"],
                         "criteria": [{"name": {"lv": "V", "en": "N"}}, {"name": {"lv": "V", "en": "N"}, "weight": "1.555"}]}},
         "round 'evaluation', criterion 2: 'weight' must be a number from 0.1 to 10"),
    ],
)  # fmt: skip
def test_the_loader_refuses_broken_rounds_naming_the_problem(rounds, problem):
    data = community_ideas()
    data["rounds"] = rounds
    with pytest.raises(WorkflowError) as refused:
        parse(data, "broken.yaml")
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


def test_a_round_starts_with_the_criteria_its_workflow_file_gives(factory):
    """The shipped two-stage workflow judges a concept on its own criteria (no budget: a concept
    has none yet); the proposal's round, giving none, gets the default community-idea criteria.
    The competition's criteria are its own from then on (the criteria page changes them)."""
    workflow = load(ROOT / "workflows" / "concept_proposal.yaml")
    concept = workflow.rounds["concept"].criteria
    assert [c.name["en"] for c in concept] == [
        "The need is real and local", "It reaches the less active groups", "The idea is clear and can be done"]  # fmt: skip
    assert [c.weight for c in concept] == [Decimal("1.50"), Decimal("1.50"), Decimal("1.00")]
    assert workflow.rounds["proposal"].criteria == ()
    competition = factory.competition(workflow="concept_proposal")
    db.session.commit()
    first, second = sorted(competition.rounds, key=lambda r: r.position)
    criteria = {r.key: sorted(r.criteria, key=lambda c: c.position) for r in (first, second)}
    assert [(c.name_lv, c.max_points, c.weight) for c in criteria["concept"]] == [
        ("Vajadzība ir reāla un vietēja", 10, Decimal("1.50")),
        ("Sasniedz mazāk aktīvās grupas", 10, Decimal("1.50")),
        ("Ideja ir skaidra un īstenojama", 10, Decimal("1.00")),
    ]
    assert criteria["concept"][0].guidance_en.startswith("Does the concept answer")
    assert "The budget is justified and realistic" in [c.name_en for c in criteria["proposal"]]
    assert "The budget is justified and realistic" not in [c.name_en for c in criteria["concept"]]


# --- two rounds run ---------------------------------------------------------------------------


def _to_round_two(idea, admin, applicant, evaluators, factory, points):
    """Through the concept's round (reviews of `points`) to the proposal's round."""
    for evaluator in evaluators:
        review_ops.assign(idea, evaluator, admin)
    for evaluator, p in zip(evaluators, points, strict=True):
        factory.review(idea, evaluator, points=p)
    db.session.commit()
    assert idea.state == "concept_reviewed"
    idea_ops.take_step(idea, "invite", admin)
    idea_ops.take_step(idea, "start_proposal", applicant)
    idea_ops.take_step(idea, "submit_proposal", applicant)
    idea_ops.take_step(idea, "check_proposal", admin)
    idea_ops.take_step(idea, "open_round_two", admin)
    assert idea.state == "proposal_in_review"


def test_an_evaluator_reviews_the_same_idea_in_two_rounds_and_only_the_current_one_counts(app, client, factory):
    use_two_stage(app)
    competition = factory.competition(workflow="two_stage")
    concept, proposal = competition.rounds
    assert (concept.key, proposal.key) == ("concept", "proposal")
    assert len(concept.criteria) == len(proposal.criteria) == 5  # each round its own criteria
    admin = factory.admin()
    idea = factory.idea(competition=competition)
    applicant = factory.member_of(idea.organisation)
    idea_ops.submit_idea(idea, applicant, utcnow())
    review_ops.screen(idea, admin, dict.fromkeys(CHECKLIST, True), eligible=True, reason="")
    assert current_round(idea) == concept
    first, second = factory.evaluator(), factory.evaluator()
    _to_round_two(idea, admin, applicant, [first, second], factory, points=(6, 8))

    # Round two: the concept's reviews are in, but the guard counts the proposal's round only.
    assert current_round(idea) == proposal
    assert review_ops.active_assignment(idea, first) is None  # not yet assigned in this round
    assert not review_ops.all_reviews_in(idea, None)
    review_ops.assign(idea, first, admin)  # the same evaluator, the same idea, the next round
    review_ops.assign(idea, second, admin)
    rows = db.session.execute(
        select(Assignment.round_id, func.count()).where(Assignment.idea_id == idea.id).group_by(Assignment.round_id)
    ).all()
    assert dict(rows) == {concept.id: 2, proposal.id: 2}
    assert idea.score is None  # the stored score is the current round's: none yet
    assert not review_ops.all_reviews_in(idea, None)
    factory.review(idea, first, points=10)
    db.session.commit()
    assert idea.state == "proposal_in_review" and idea.score == Decimal("100.00")
    factory.review(idea, second, points=9)
    db.session.commit()
    assert idea.state == "proposal_reviewed"

    # The ranking counts its round: the current one first, the concept's on request.
    assert default_round(competition) == proposal
    [row] = ranking(competition, Filters()).rows
    assert (row.mean, row.submitted, row.assigned) == (Decimal("95.00"), 2, 2)
    [row] = ranking(competition, Filters(round_id=concept.id)).rows
    assert (row.mean, row.submitted, row.spread) == (Decimal("70.00"), 2, Decimal("20.00"))
    [row] = ranking(competition, Filters(round_id=concept.id, order="normalised")).rows
    assert row.mean == Decimal("70.00")
    assert db.session.scalar(select(func.count(Review.id)).where(Review.idea_id == idea.id)) == 4

    # Staff read the earlier round on the reviews page and the ranking (a round selector).
    db.session.commit()
    login(client, admin.email)
    page = client.get(f"/review/ideas/{idea.id}/reviews").get_data(as_text=True)
    assert 'id="rounds"' in page and "Projektu vērtēšana" in page and "95,00" in page
    page = client.get(f"/review/ideas/{idea.id}/reviews?round={concept.id}").get_data(as_text=True)
    assert "70,00" in page
    page = client.get(f"/review/competitions/{competition.id}/ranking?round={concept.id}").get_data(as_text=True)
    assert 'aria-current="page">Koncepciju vērtēšana' in page and "70,00" in page


def test_scoring_closes_at_the_rounds_own_deadline(app, factory):
    use_two_stage(app)
    competition = factory.competition(workflow="two_stage")
    concept, proposal = competition.rounds
    concept.evaluation_closes_at = utcnow() - timedelta(days=1)  # the concept's round is over
    proposal.evaluation_closes_at = utcnow() + timedelta(days=5)
    admin = factory.admin()
    idea = factory.idea(competition=competition)
    applicant = factory.member_of(idea.organisation)
    idea_ops.submit_idea(idea, applicant, utcnow())
    review_ops.screen(idea, admin, dict.fromkeys(CHECKLIST, True), eligible=True, reason="")
    evaluator = factory.evaluator()
    review_ops.assign(idea, evaluator, admin)
    assert "Vērtēšana noslēdzās" in review_ops.scoring_refusal(idea, evaluator)


# --- administrators manage the rounds -------------------------------------------------------------


def test_administrators_edit_a_rounds_names_and_deadline_logged(client, factory):
    competition = factory.competition()
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    [only] = competition.rounds
    page = client.get(f"/competitions/{competition.id}/rounds").get_data(as_text=True)
    assert "Vērtēšana" in page and f"/competitions/{competition.id}/rounds/{only.id}/edit" in page
    bad = client.post(f"/competitions/{competition.id}/rounds/{only.id}/edit",
                      data={"label_lv": "", "label_en": "Scoring", "evaluation_closes_at": "rīt"})  # fmt: skip
    assert bad.status_code == 422 and 'value="Scoring"' in bad.get_data(as_text=True)
    done = client.post(f"/competitions/{competition.id}/rounds/{only.id}/edit",
                       data={"label_lv": "Vērtēšanas kārta", "label_en": "Scoring", "evaluation_closes_at": "2027-05-10T17:00"})  # fmt: skip
    assert done.status_code == 303
    db.session.expire_all()
    changed = db.session.get(ReviewRound, only.id)
    assert (changed.label_lv, changed.evaluation_closes_at.hour) == ("Vērtēšanas kārta", 14)  # 17:00 Riga is 14:00 UTC
    assert db.session.get(Competition, competition.id).evaluation_closes_at == changed.evaluation_closes_at
    entry = db.session.scalars(select(AdminLogEntry).where(AdminLogEntry.kind == "round_changed")).one()
    assert entry.object_id == only.id


def test_a_competition_gets_the_rounds_its_workflow_declares_and_lacks(app, client, factory):
    use_two_stage(app)
    competition = factory.competition(workflow="two_stage")
    proposal = competition.rounds[1]
    db.session.delete(proposal)
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    page = client.get(f"/competitions/{competition.id}/rounds").get_data(as_text=True)
    assert "Projektu vērtēšana" in page  # named as missing
    assert client.post(f"/competitions/{competition.id}/rounds", data={}).status_code == 303
    db.session.expire_all()
    keys = [r.key for r in db.session.get(Competition, competition.id).rounds]
    assert keys == ["concept", "proposal"]
    assert db.session.scalars(select(AdminLogEntry).where(AdminLogEntry.kind == "round_added")).one()


def test_criteria_of_one_round_are_managed_apart_from_the_others(app, client, factory):
    use_two_stage(app)
    competition = factory.competition(workflow="two_stage")
    concept, proposal = competition.rounds
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    new = {"name_lv": "Publicitāte", "name_en": "Publicity", "max_points": "5", "weight": "1"}
    assert client.post(f"/competitions/{competition.id}/criteria?round={proposal.id}", data=new).status_code == 303
    db.session.expire_all()
    assert [len(r.criteria) for r in db.session.get(Competition, competition.id).rounds] == [5, 6]
    added = db.session.scalars(select(Criterion).where(Criterion.name_en == "Publicity")).one()
    assert added.round_id == proposal.id
    assert client.get(f"/competitions/{competition.id}/criteria?round=999999").status_code == 404


# --- the migration ------------------------------------------------------------------------------


def test_the_rounds_migration_moves_existing_evaluation_into_a_first_round(app, factory):
    """At 0016_exports criteria, assignments and reviews belonged to the competition, with its
    evaluation deadline; 0023_rounds moves every one into a first round, nothing lost."""
    from flask_migrate import downgrade, upgrade

    closes = utcnow().replace(microsecond=0) + timedelta(days=3)
    idea = factory.reviewed(points=7, competition=factory.competition(evaluation_closes_at=closes))
    idea_id, competition_id = idea.id, idea.competition_id
    other_id = factory.competition().id  # no ideas: a round all the same
    db.session.commit()
    before = {
        table: db.session.execute(text(f"SELECT id FROM {table} ORDER BY id")).scalars().all()
        for table in ("criteria", "assignments", "reviews", "scores")
    }
    db.session.remove()
    downgrade(revision="0016_exports")
    with db.engine.connect() as connection:  # the 0016 shape, filled
        assert connection.execute(
            text("SELECT evaluation_closes_at FROM competitions WHERE id = :id"), {"id": competition_id}
        ).scalar() is not None
        assert connection.execute(text("SELECT count(*) FROM assignments")).scalar() == len(before["assignments"])
    upgrade()
    after = {
        table: db.session.execute(text(f"SELECT id FROM {table} ORDER BY id")).scalars().all()
        for table in ("criteria", "assignments", "reviews", "scores")
    }
    assert after == before
    competition = db.session.get(Competition, competition_id)
    [first] = competition.rounds
    assert (first.key, first.position, first.evaluation_closes_at) == ("evaluation", 1, closes)
    assert {c.round_id for c in competition.criteria} == {first.id}
    assert set(db.session.scalars(select(Assignment.round_id).where(Assignment.idea_id == idea_id))) == {first.id}
    assert set(db.session.scalars(select(Review.round_id).where(Review.idea_id == idea_id))) == {first.id}
    assert [r.key for r in db.session.get(Competition, other_id).rounds] == ["evaluation"]
    assert ranking(competition, Filters()).rows[0].mean == Decimal("70.00")
