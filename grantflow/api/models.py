"""Personal access tokens: how a script acts as a person through the JSON API."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.accounts.models import User
from grantflow.core.extensions import db
from grantflow.core.types import UTCDateTime, utcnow


class ApiToken(db.Model):
    """A token a person made on their tokens page. Only the SHA-256 of its secret is kept: the
    secret is shown once, when made. A token acts as its person, with their roles now (not as
    they were when it was made); a read token may not change anything."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The secret's first characters (after "gf_"), so a person can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    can_write: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def can_revoke(self, user) -> bool:
        """Only its own person revokes a token (from their tokens page)."""
        return getattr(user, "id", None) is not None and self.user_id == user.id
