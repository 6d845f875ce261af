"""Organisations that apply, and who belongs to them."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.extensions import db
from grantflow.types import UTCDateTime, utcnow

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
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    municipality: Mapped["Municipality | None"] = relationship()  # noqa: F821
    parish: Mapped["Parish | None"] = relationship()  # noqa: F821
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    def is_member(self, user) -> bool:
        return getattr(user, "id", None) is not None and self.id in user.organisation_ids()

    def can_view(self, user) -> bool:
        return self.is_member(user) or (getattr(user, "id", None) is not None and user.is_admin)

    def can_edit(self, user) -> bool:
        return self.is_member(user)

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
