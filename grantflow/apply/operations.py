"""Changes an applicant makes to an idea, and the guards and effects of filing one."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from grantflow.apply.models import Idea
from grantflow.competitions.models import Competition
from grantflow.extensions import db
from grantflow.mail.operations import queue_mail
from grantflow.workflow.registry import effect, guard

ZERO = Decimal("0.00")


def recompute_budget(idea: Idea) -> None:
    """The requested grant and the own contribution are the server's sums of the lines."""
    idea.requested_amount = sum((l.total for l in idea.budget_lines if not l.own), ZERO)
    idea.own_contribution = sum((l.total for l in idea.budget_lines if l.own), ZERO)


def missing_fields(idea: Idea) -> dict[str, str]:
    """What must be filled before the idea can be submitted: field name -> message."""
    problems: dict[str, str] = {}
    required = {
        "title": _l("Give the idea a title."),
        "summary": _l("Write a short summary."),
        "community_need": _l("Describe the community and its need."),
        "goals": _l("State the goals."),
        "contact_name": _l("Name the contact person."),
        "contact_email": _l("Give the contact person's e-mail."),
    }
    for name, message in required.items():
        if not (getattr(idea, name) or "").strip():
            problems[name] = str(message)
    if not idea.target_groups:
        problems["target_groups"] = str(_l("Choose at least one target group."))
    if not idea.expected_participants:
        problems["expected_participants"] = str(_l("Estimate how many people will take part."))
    if idea.municipality_id is None:
        problems["municipality_id"] = str(_l("Choose the municipality where the idea takes place."))
    if not any(a.description.strip() for a in idea.activities):
        problems["activities"] = str(_l("Plan at least one activity."))
    if not any(not l.own and l.total > 0 for l in idea.budget_lines):
        problems["budget_lines"] = str(_l("Add at least one budget line paid from the grant."))
    competition = idea.competition
    requested = idea.requested_amount or ZERO
    if requested and not (competition.min_grant <= requested <= competition.max_grant):
        problems["budget_lines"] = str(
            _l(
                "The grant asked (%(asked)s €) must be between %(min)s € and %(max)s €.",
                asked=requested,
                min=competition.min_grant,
                max=competition.max_grant,
            )
        )
    return problems


@guard("competition_open", _l("The competition is not open for submissions."))
def competition_open(idea: Idea, ctx) -> bool:
    # `received_at` is when the request arrived, so a slow server does not refuse it.
    return idea.competition.is_open(ctx.params.get("received_at") or ctx.now)


@guard("idea_complete")
def idea_complete(idea: Idea, ctx):
    missing = missing_fields(idea)
    if missing:
        return str(_l("The idea is not complete: %(count)d field(s) need attention.", count=len(missing)))
    return True


@effect("assign_reference")
def assign_reference(idea: Idea, ctx) -> None:
    """DK-2025-0042: the competition's code and the next number. The competition row is
    locked so two submissions cannot take the same number."""
    if idea.reference:
        return  # returned for changes and submitted again: keeps its number
    competition = db.session.execute(
        select(Competition).where(Competition.id == idea.competition_id).with_for_update()
    ).scalar_one()
    taken = db.session.scalar(
        select(func.count(Idea.id)).where(Idea.competition_id == competition.id, Idea.reference.is_not(None))
    )
    idea.reference = f"{competition.code}-{taken + 1:04d}"
    idea.submitted_at = ctx.params.get("received_at") or ctx.now


def applicant_addresses(idea: Idea) -> list[tuple[str, str]]:
    """(e-mail, locale) of the idea's contact and the organisation's members."""
    seen, out = set(), []
    for membership in idea.organisation.memberships:
        user = membership.user
        if user.active and user.email not in seen:
            seen.add(user.email)
            out.append((user.email, user.locale))
    if idea.contact_email and idea.contact_email not in seen:
        out.append((idea.contact_email, "lv"))
    return out


@effect("send_receipt")
def send_receipt(idea: Idea, ctx) -> None:
    for address, locale in applicant_addresses(idea):
        queue_mail(address, "receipt", locale=locale, idea=idea)


@effect("notify_applicant")
def notify_applicant(idea: Idea, ctx) -> None:
    for address, locale in applicant_addresses(idea):
        queue_mail(address, "state_changed", locale=locale, idea=idea, comment=ctx.comment)
