"""Organisations that apply, and who belongs to them."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from stdnum import iban

from grantflow.core.extensions import db
from grantflow.core.types import UTCDateTime, utcnow

# Legal forms of applicants; those in REGISTERED have a Latvian register number.
LEGAL_FORMS = (
    "association",
    "foundation",
    "residents_council",
    "initiative_group",
    "school",
    "municipal_institution",
    "other",
)
REGISTERED = frozenset({"association", "foundation", "school", "municipal_institution"})
LEGAL_FORM_LABELS = {
    "association": _l("Association"),
    "foundation": _l("Foundation"),
    "residents_council": _l("Residents' council"),
    "initiative_group": _l("Informal initiative group"),
    "school": _l("School"),
    "municipal_institution": _l("Municipal institution"),
    "other": _l("Other"),
}


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    legal_form: Mapped[str] = mapped_column(String(30))
    registration_number: Mapped[str | None] = mapped_column(String(11), index=True)
    iban: Mapped[str | None] = mapped_column(String(34))
    address: Mapped[str] = mapped_column(String(300), default="")
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"), index=True)
    parish_id: Mapped[int | None] = mapped_column(ForeignKey("parishes.id"))
    contact_person: Mapped[str] = mapped_column(String(200), default="")
    # Who signs agreements for the organisation (printed in the cooperation agreement).
    signatory_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    signatory_position: Mapped[str] = mapped_column(String(200), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    municipality: Mapped["Municipality | None"] = relationship()  # noqa: F821
    parish: Mapped["Parish | None"] = relationship()  # noqa: F821
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    @property
    def legal_form_label(self) -> str:
        return str(LEGAL_FORM_LABELS.get(self.legal_form, self.legal_form))

    @property
    def formatted_iban(self) -> str:
        return iban.format(self.iban) if self.iban else ""

    def is_member(self, user) -> bool:
        return getattr(user, "id", None) is not None and self.id in user.organisation_ids()

    def can_view(self, user) -> bool:
        return self.is_member(user) or (getattr(user, "id", None) is not None and user.is_admin)

    def can_edit(self, user) -> bool:
        """Members with a confirmed e-mail act for the organisation (edit, invite)."""
        return self.is_member(user) and user.email_confirmed

    def __str__(self) -> str:
        return self.name


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped["User"] = relationship(back_populates="memberships")  # noqa: F821
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class Invitation(db.Model):
    """A member's invitation for someone to join, sent by e-mail. Only a hash of the token is
    stored, so a database leak does not hand out memberships."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped["User | None"] = relationship(foreign_keys=[invited_by_id])  # noqa: F821

    def is_open(self, now: datetime) -> bool:
        return self.accepted_at is None and now < self.expires_at
