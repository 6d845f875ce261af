"""Organisations: creating and editing the profile, inviting members, accepting invitations."""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from grantflow.accounts.models import User
from grantflow.accounts.operations import find_user, normalise_email
from grantflow.adminlog.operations import log_kind, object_kind, snapshot
from grantflow.adminlog.operations import record as log
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.mail.operations import queue_mail
from grantflow.organisations.models import Invitation, Membership, Organisation

object_kind("organisation", _l("Organisation"))
log_kind("organisation_created", _l("Organisation created"))
log_kind("organisation_changed", _l("Organisation changed"))


def create_organisation(values: dict, creator: User) -> Organisation:
    """A new organisation with its creator as the first member."""
    org = Organisation(**values)
    org.memberships.append(Membership(user=creator))
    db.session.add(org)
    db.session.flush()
    log("organisation_created", "organisation", org.id, org.name, after=snapshot(org, values), actor=creator)
    db.session.commit()
    return org


def update_organisation(org: Organisation, values: dict) -> None:
    before = snapshot(org, values)
    for name, value in values.items():
        setattr(org, name, value)
    log("organisation_changed", "organisation", org.id, org.name, before=before, after=snapshot(org, values))
    db.session.commit()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(org: Organisation, email: str, inviter: User, locale: str) -> Invitation:
    """Record an invitation and mail its link; the mail is in the invitee's language if they
    have an account, else in the inviter's current one."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["INVITATION_DAYS"]
    invitation = Invitation(
        organisation=org,
        email=normalise_email(email),
        token_hash=_hash(token),
        invited_by=inviter,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(invitation)
    invitee = find_user(email)
    queue_mail(
        invitation.email,
        "invitation",
        invitee.locale if invitee else locale,
        invitation=invitation,
        token=token,
        has_account=invitee is not None,
    )
    db.session.commit()
    return invitation


def open_invitation(token: str) -> Invitation | None:
    """The invitation behind a link, if it is still open (not used, not expired)."""
    if not token or len(token) > 100:
        return None
    invitation = db.session.scalars(select(Invitation).where(Invitation.token_hash == _hash(token))).first()
    return invitation if invitation is not None and invitation.is_open(utcnow()) else None


def accept(invitation: Invitation, user: User) -> bool:
    """Make `user` a member if the invitation was sent to their address. The link arrived at
    that address, so it confirms the address too."""
    if normalise_email(user.email) != invitation.email:
        return False
    if not user.email_confirmed:
        user.email_confirmed_at = utcnow()
    if invitation.organisation_id not in user.organisation_ids():
        db.session.add(Membership(user=user, organisation_id=invitation.organisation_id))
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    db.session.commit()
    return True
