"""Standing conflicts of interest: declared by evaluators on their profile, or recorded for
them by an administrator, before any assignment. Assignment honours them as it honours the
conflicts declared on an idea (`operations.conflict_with`, `auto_assign`): manual assignment
is refused with a message, automatic assignment passes the evaluator over. Recording one also
steps the evaluator back from the unsubmitted assignments it covers."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from grantflow.accounts.models import EVALUATOR, User
from grantflow.accounts.operations import find_user
from grantflow.adminlog.operations import log_kind
from grantflow.adminlog.operations import record as log
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.organisations.models import Organisation
from grantflow.review.models import ConflictOfInterest
from grantflow.review.operations import step_back
from grantflow.territory.models import Municipality

STANDING_SCOPES = ("organisation", "municipality", "person")

log_kind("conflict_recorded", _l("Conflict of interest recorded"))
log_kind("conflict_withdrawn", _l("Conflict of interest withdrawn"))


def standing(evaluator: User) -> list[ConflictOfInterest]:
    """The evaluator's conflicts not tied to one idea, newest first, with what they name."""
    return list(
        db.session.scalars(
            select(ConflictOfInterest)
            .options(
                selectinload(ConflictOfInterest.organisation),
                selectinload(ConflictOfInterest.municipality),
                selectinload(ConflictOfInterest.person),
                selectinload(ConflictOfInterest.recorded_by),
            )
            .where(ConflictOfInterest.evaluator_id == evaluator.id, ConflictOfInterest.idea_id.is_(None))
            .order_by(ConflictOfInterest.declared_at.desc(), ConflictOfInterest.id.desc())
        )
    )


def describe(conflict: ConflictOfInterest) -> str:
    """What the conflict names, as the log keeps it."""
    if conflict.organisation is not None:
        return conflict.organisation.name
    if conflict.municipality is not None:
        return conflict.municipality.name
    if conflict.person is not None:
        return f"{conflict.person.name} <{conflict.person.email}>"
    return ""


def declare(evaluator: User, scope: str, organisation_id, municipality_id, person_email: str, reason: str,
            recorded_by: User | None = None) -> ConflictOfInterest:
    """A standing conflict of the evaluator's with an organisation, a municipality or a person
    (found by their e-mail address). Refused beside the field that is wrong; nothing stored."""
    if EVALUATOR not in evaluator.roles:
        raise Refused(_("%(name)s is not an evaluator.", name=evaluator.name))
    if scope not in STANDING_SCOPES:
        raise Refused(fields={"scope": _("Choose what the conflict concerns.")})
    reason = (reason or "").strip()
    conflict = ConflictOfInterest(evaluator_id=evaluator.id, reason=reason,
                                  recorded_by_id=recorded_by.id if recorded_by is not None else None)  # fmt: skip
    if scope == "organisation":
        conflict.organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
        if conflict.organisation is None:
            raise Refused(fields={"organisation": _("Choose the organisation.")})
    elif scope == "municipality":
        conflict.municipality = db.session.get(Municipality, municipality_id) if municipality_id else None
        if conflict.municipality is None:
            raise Refused(fields={"municipality": _("Choose the municipality.")})
    else:
        conflict.person = find_user(person_email or "") if (person_email or "").strip() else None
        if conflict.person is None:
            raise Refused(fields={"person_email": _("No account has this e-mail address: enter the address the person uses in GrantFlow.")})
        if conflict.person.id == evaluator.id:
            raise Refused(fields={"person_email": _("Enter someone else's address.")})
    if not reason:
        raise Refused(fields={"reason": _("Describe the conflict of interest.")})
    db.session.add(conflict)
    db.session.flush()
    log("conflict_recorded", "account", evaluator.id, evaluator.email,
        after={"scope": scope, "with": describe(conflict), "reason": reason}, actor=recorded_by or evaluator)  # fmt: skip
    step_back(conflict, evaluator, scope, reason)
    db.session.commit()
    return conflict


def withdraw(conflict: ConflictOfInterest, actor: User) -> None:
    """An administrator removes a standing conflict (recorded by mistake, or no longer so)."""
    if conflict.idea_id is not None:
        raise Refused(_("A conflict declared on an idea stays on record."))
    evaluator = db.session.get(User, conflict.evaluator_id)
    log("conflict_withdrawn", "account", evaluator.id, evaluator.email,
        before={"scope": conflict.scope, "with": describe(conflict), "reason": conflict.reason}, actor=actor)  # fmt: skip
    db.session.delete(conflict)
    db.session.commit()
