"""Which review round counts: an idea's current round comes from its workflow (the state it is
in, `Workflow.round_of`), a competition's from where its ideas are. Criteria, assignments,
reviews and the evaluation deadline belong to a round (competitions.models.ReviewRound)."""

from sqlalchemy import select

from grantflow.competitions.models import Competition, ReviewRound
from grantflow.core.extensions import db
from grantflow.ideas.models import Idea
from grantflow.workflow.registry import WorkflowUnavailable, workflow_for


def current_round(idea) -> ReviewRound | None:
    """The idea's current review round: the one its workflow makes current in its state; None
    when the workflow declares no rounds or the competition lacks that round."""
    try:
        key = workflow_for(idea.competition.workflow).round_of(idea.state)
    except WorkflowUnavailable:
        return None
    return idea.competition.round(key) if key else None


def current_round_id(idea) -> int | None:
    found = current_round(idea)
    return found.id if found is not None else None


def round_ids_by_state(competition: Competition) -> dict[str, int]:
    """Per state of the competition's workflow, the id of the round current in it (states whose
    round the competition lacks are left out)."""
    try:
        workflow = workflow_for(competition.workflow)
    except WorkflowUnavailable:
        return {}
    ids = {r.key: r.id for r in competition.rounds}
    return {state: ids[key] for state, key in workflow.round_at.items() if key in ids}


def default_round(competition: Competition) -> ReviewRound | None:
    """The round the competition's pages show first: the latest round current for any of its
    filed ideas (one query), the first round when none is."""
    if len(competition.rounds) <= 1:
        return competition.rounds[0] if competition.rounds else None
    by_state = round_ids_by_state(competition)
    states = db.session.scalars(select(Idea.state).where(Idea.competition_id == competition.id).distinct()).all()
    current = {by_state[s] for s in states if s in by_state}
    chosen = [r for r in competition.rounds if r.id in current]
    return chosen[-1] if chosen else competition.rounds[0]


def chosen_round(competition: Competition, value) -> ReviewRound | None:
    """The round a page's `round` argument names (its id), or the default round."""
    for review_round in competition.rounds:
        if str(review_round.id) == str(value or ""):
            return review_round
    return default_round(competition)
