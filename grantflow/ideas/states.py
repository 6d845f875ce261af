"""Ideas left in a state their workflow file no longer has.

A workflow file may change between releases; a change that removes a state in which ideas
still are would leave those ideas with no way on (and their pages unable to say where they
are). Such a file is refused at start-up like a broken one, naming the ideas: competitions on
it say their workflow is unavailable, administrators see why on their overview, and the ideas
stay as they were until the state is put back (or the ideas are moved by a migration)."""

from sqlalchemy import func, select

from grantflow.competitions.models import Competition
from grantflow.core.extensions import db
from grantflow.core.i18n import ntranslatable
from grantflow.ideas.models import Idea

EXAMPLES = 5


def stranded(workflows: dict) -> dict[str, list]:
    """{workflow name: problems} for every loaded workflow (name -> Workflow) whose ideas are
    in a state the file does not have. Two queries, the second only when something is found."""
    in_use = db.session.execute(
        select(Competition.workflow, Idea.state, func.count(Idea.id))
        .join(Competition, Competition.id == Idea.competition_id)
        .group_by(Competition.workflow, Idea.state)
    ).all()
    missing = [(name, state, count) for name, state, count in in_use if name in workflows and state not in workflows[name].states]
    problems: dict[str, list] = {}
    for name, state, count in missing:
        rows = db.session.execute(
            select(Idea.reference, Idea.id)
            .join(Competition, Competition.id == Idea.competition_id)
            .where(Competition.workflow == name, Idea.state == state)
            .order_by(Idea.id)
            .limit(EXAMPLES)
        ).all()
        examples = [reference or f"#{idea_id}" for reference, idea_id in rows]
        found = ", ".join(examples)
        if count > len(examples):
            message = ntranslatable(
                "the state %(state)s is no longer in the file, but %(num)d idea is in it: %(ideas)s and %(more)d more",
                "the state %(state)s is no longer in the file, but %(num)d ideas are in it: %(ideas)s and %(more)d more",
                count,
                state=repr(state),
                ideas=found,
                more=count - len(examples),
            )
        else:
            message = ntranslatable(
                "the state %(state)s is no longer in the file, but %(num)d idea is in it: %(ideas)s",
                "the state %(state)s is no longer in the file, but %(num)d ideas are in it: %(ideas)s",
                count,
                state=repr(state),
                ideas=found,
            )
        problems.setdefault(name, []).append(message)
    return problems
