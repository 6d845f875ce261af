"""Personal data: what is held about a person, given to them as a zip; erasure
(pseudonymisation) by an administrator; and the retention sweep.

Erasure keeps what the law on public funds requires be kept: organisations' ideas, decisions,
documents, reports, payments, reviews and both audit trails stay, and rows naming the person
by id now show the pseudonym (the audit rows keep the actor id). The administration log's rows
that held the person's e-mail addresses or names (labels, before and after) are rewritten
with the pseudonym (adminlog.operations.pseudonymise, the one change its triggers allow). What identifies them goes:
name and e-mail (replaced), password and every session, roles, municipalities, memberships,
API tokens, unaccepted invitations and mails addressed to them, the address on the
invitations they accepted, the forms they had typed and not sent (core.drafts), and the
contact details on the drafts they made."""

import io
import json
import zipfile
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from grantflow.accounts.models import ADMINISTRATOR, User, UserRole
from grantflow.adminlog import operations as adminlog
from grantflow.adminlog.models import AdminLogEntry
from grantflow.api.models import ApiToken
from grantflow.core.drafts import FormDraft
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.ideas.models import Attachment, Idea
from grantflow.mail.models import OutboxMail
from grantflow.organisations.models import Invitation, Membership
from grantflow.review.models import Assignment, ConflictOfInterest, Review
from grantflow.workflow.models import AuditEntry

adminlog.log_kind("person_erased", _l("Personal data erased (pseudonymised)"))
adminlog.log_kind("retention_applied", _l("Retention: old personal data pseudonymised"))
adminlog.object_kind("retention", _l("Retention"))

ERASED_HASH = "!erased"  # no password matches it


def pseudonym(user_id: int) -> str:
    """Stable, not derived from anything but the id, which the records already hold."""
    return f"P-{user_id:06d}"


# --- a person's own data --------------------------------------------------------------------------
def _plain(value):
    return adminlog.plain(value)


def _row(obj, fields) -> dict:
    return {name: _plain(getattr(obj, name)) for name in fields}


IDEA_FIELDS = ("id", "reference", "state", "competition_id", "organisation_id", "title", "summary", "community_need",
               "goals", "target_groups", "less_active_reach", "expected_participants", "coop_premises",
               "coop_inventory", "coop_upkeep", "sustainability", "contact_name", "contact_email", "contact_phone",
               "place", "requested_amount", "own_contribution", "created_at", "updated_at", "submitted_at")  # fmt: skip


def data_of(user: User) -> dict[str, object]:
    """Everything held about `user`, as JSON-ready documents (name -> content), in a fixed
    number of queries. Their uploaded files come separately (`files_of`)."""
    ideas = db.session.scalars(
        select(Idea).options(selectinload(Idea.activities), selectinload(Idea.budget_lines), selectinload(Idea.partners))
        .where(Idea.created_by_id == user.id).order_by(Idea.id)
    ).all()  # fmt: skip
    reviews = db.session.scalars(
        select(Review).options(selectinload(Review.scores)).where(Review.evaluator_id == user.id).order_by(Review.id)
    ).all()
    memberships = db.session.scalars(
        select(Membership).options(selectinload(Membership.organisation)).where(Membership.user_id == user.id)
    ).all()
    conflicts = db.session.scalars(select(ConflictOfInterest).where(ConflictOfInterest.evaluator_id == user.id)).all()
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id)).all()
    admin = db.session.scalars(
        select(AdminLogEntry).where(or_(AdminLogEntry.actor_id == user.id,
                                        (AdminLogEntry.object_kind == "account") & (AdminLogEntry.object_id == user.id)))
        .order_by(AdminLogEntry.id)
    ).all()  # fmt: skip
    unsent = db.session.scalars(select(FormDraft).where(FormDraft.user_id == user.id).order_by(FormDraft.id)).all()
    return {
        "account.json": {
            **_row(user, ("id", "email", "name", "locale", "active", "created_at", "email_confirmed_at",
                          "last_login_at")),
            "roles": sorted(user.roles), "municipalities": [m.name for m in user.municipalities],
        },  # fmt: skip
        "memberships.json": [
            {"organisation_id": m.organisation_id, "organisation": m.organisation.name, "joined_at": _plain(m.joined_at)}
            for m in memberships
        ],
        "ideas.json": [
            {
                **_row(i, IDEA_FIELDS),
                "activities": [_row(a, ("description", "starts_on", "ends_on")) for a in i.activities],
                "budget": [_row(b, ("item", "quantity", "unit_cost", "own")) for b in i.budget_lines],
                "partners": [_row(p, ("name", "kind", "contribution")) for p in i.partners],
            }
            for i in ideas
        ],
        "reviews.json": [
            {
                **_row(r, ("id", "idea_id", "status", "recommendation", "comment", "total", "submitted_at")),
                "scores": [_row(s, ("criterion_id", "points", "comment")) for s in r.scores],
            }
            for r in reviews
        ],
        "conflicts.json": [_row(c, ("organisation_id", "municipality_id", "person_id", "idea_id", "reason",
                                    "declared_at")) for c in conflicts],  # fmt: skip
        "audit.json": [_row(a, ("idea_id", "kind", "trigger", "from_state", "to_state", "actor_role", "comment",
                                "created_at")) for a in audit],  # fmt: skip
        "administration_log.json": [_row(e, ("kind", "object_kind", "object_id", "object_label", "actor_id", "before",
                                             "after", "created_at")) for e in admin],  # fmt: skip
        "unsent_forms.json": [_row(d, ("path", "fields", "saved_at")) for d in unsent],
    }


def files_of(user: User):
    """(name in the zip, bytes) of every file the person uploaded, one query."""
    found = db.session.execute(
        select(Attachment.id, Attachment.filename, Attachment.data).where(Attachment.uploaded_by_id == user.id)
        .order_by(Attachment.id)
    )  # fmt: skip
    for attachment_id, filename, data in found:
        yield f"files/{attachment_id}-{filename.replace('/', '_')}", data


def data_zip(user: User) -> bytes:
    """The zip a person downloads from their profile. Built in the request, not on the queue:
    one person's rows are a few dozen and their files are their own uploads (each within
    MAX_CONTENT_LENGTH), so it takes well under a second, the person gets it at once, and no
    second copy of their personal data is stored waiting to be fetched."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in data_of(user).items():
            archive.writestr(name, json.dumps(content, ensure_ascii=False, indent=2))
        for name, data in files_of(user):
            archive.writestr(name, data)
    return out.getvalue()


# --- erasure -------------------------------------------------------------------------------------
def consequences(user: User) -> dict[str, int]:
    """What erasing `user` touches, counted for the confirmation page."""
    return {
        "memberships": db.session.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == user.id)),
        "drafts": db.session.scalar(select(func.count()).select_from(Idea)
                                    .where(Idea.created_by_id == user.id, Idea.tagged("editable"))),
        "ideas": db.session.scalar(select(func.count()).select_from(Idea).where(Idea.created_by_id == user.id)),
        "reviews": db.session.scalar(select(func.count()).select_from(Assignment).where(Assignment.evaluator_id == user.id)),
        "audit": db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor_id == user.id)),
    }  # fmt: skip


def _check_erasable(user: User, actor: User | None) -> None:
    if user.erased_at is not None:
        raise Refused(_("This person's data has already been erased."))
    if actor is not None and actor.id == user.id:
        raise Refused(_("You cannot erase your own account; ask another administrator."))
    if user.active and user.is_admin:
        others = db.session.scalar(
            select(func.count()).select_from(User).join(UserRole)
            .where(UserRole.role == ADMINISTRATOR, User.active.is_(True), User.id != user.id)
        )  # fmt: skip
        if not others:
            raise Refused(_("%(name)s is the last active administrator: make someone else an administrator first.",
                            name=user.name))  # fmt: skip


def _empty_contacts(ideas_where) -> int:
    return db.session.execute(
        update(Idea).where(*ideas_where).values(contact_name="", contact_email="", contact_phone="", draft_raw={})
        .execution_options(synchronize_session=False)
    ).rowcount  # fmt: skip


def _pseudonymise(user: User) -> tuple[int, list[int]]:
    """Replace what identifies the person, in their account and in the administration log;
    returns how many drafts lost their contacts and the ids of the log rows rewritten."""
    address = user.email
    emails, names = adminlog.identifiers_of(user.id)
    emails.add(user.email)
    names.add(user.name)
    db.session.execute(delete(Membership).where(Membership.user_id == user.id))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    db.session.execute(delete(FormDraft).where(FormDraft.user_id == user.id))
    db.session.execute(delete(Invitation).where(Invitation.email == address, Invitation.accepted_at.is_(None)))
    # Accepted ones are the organisation's record of who joined when: kept, without the address.
    db.session.execute(
        update(Invitation).where(or_(Invitation.email == address, Invitation.accepted_by_id == user.id))
        .values(email=f"{pseudonym(user.id).lower()}@erased.invalid").execution_options(synchronize_session=False)
    )  # fmt: skip
    db.session.execute(delete(OutboxMail).where(OutboxMail.to_addr == address))
    drafts = _empty_contacts([Idea.created_by_id == user.id, Idea.tagged("editable")])
    for row in list(user.role_rows):
        user.role_rows.remove(row)
    user.municipalities = []
    user.name, user.email = pseudonym(user.id), f"{pseudonym(user.id).lower()}@erased.invalid"
    user.password_hash = ERASED_HASH
    user.active = False  # ends every session (User's validator)
    user.end_sessions()
    user.erased_at = utcnow()
    db.session.expire(user, ["memberships"])
    db.session.flush()
    return drafts, adminlog.pseudonymise(user.id, emails, names, user.name)


def erase(user: User, actor: User | None) -> None:
    """Pseudonymise the person (see the module's docstring) and log it; the log row names only
    the pseudonym, so the log does not keep what was erased."""
    _check_erasable(user, actor)
    drafts, rows = _pseudonymise(user)
    db.session.flush()
    adminlog.record("person_erased", "account", user.id, user.name, before={"erased": False},
                    after={"erased": True, "drafts_emptied": drafts, "log_rows_pseudonymised": rows}, actor=actor)  # fmt: skip
    db.session.commit()


# --- retention -----------------------------------------------------------------------------------
def retention(now=None) -> dict:
    """Apply the retention settings once: drafts untouched for RETENTION_DRAFT_DAYS lose their
    contact details, accounts without a login for RETENTION_INACTIVE_DAYS (never logged in:
    since they were made) are pseudonymised; administrators are left to a person's decision.
    What was done is one administration log row (none when nothing was due)."""
    now = now or utcnow()
    config = current_app.config
    done = {"drafts": [], "accounts": []}
    log_rows = []  # administration log rows rewritten for the accounts pseudonymised
    if int(config["RETENTION_DRAFT_DAYS"]) > 0:
        cutoff = now - timedelta(days=int(config["RETENTION_DRAFT_DAYS"]))
        where = [Idea.tagged("editable"), Idea.updated_at < cutoff,
                 or_(Idea.contact_name != "", Idea.contact_email != "", Idea.contact_phone != "")]  # fmt: skip
        done["drafts"] = list(db.session.scalars(select(Idea.id).where(*where).order_by(Idea.id)))
        if done["drafts"]:
            _empty_contacts([Idea.id.in_(done["drafts"])])
    if int(config["RETENTION_INACTIVE_DAYS"]) > 0:
        cutoff = now - timedelta(days=int(config["RETENTION_INACTIVE_DAYS"]))
        admins = select(UserRole.user_id).where(UserRole.role == ADMINISTRATOR)
        stale = db.session.scalars(
            select(User).where(User.erased_at.is_(None), User.id.not_in(admins),
                               func.coalesce(User.last_login_at, User.created_at) < cutoff).order_by(User.id)
        ).all()  # fmt: skip
        for user in stale:
            _drafts, rows = _pseudonymise(user)
            done["accounts"].append(user.id)
            log_rows.extend(rows)
    if done["drafts"] or done["accounts"]:
        db.session.flush()
        adminlog.record("retention_applied", "retention", None, "", before={},
                        after={"drafts_emptied": done["drafts"], "accounts_pseudonymised": done["accounts"],
                               "log_rows_pseudonymised": log_rows})  # fmt: skip
    db.session.commit()
    return done
