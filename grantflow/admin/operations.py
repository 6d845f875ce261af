"""Effects that tell the programme's administrators something happened."""

from sqlalchemy import select

from grantflow.auth.models import ADMINISTRATOR, User, UserRole
from grantflow.extensions import db
from grantflow.mail.operations import queue_mail
from grantflow.workflow.registry import effect


def administrators() -> list[User]:
    return list(
        db.session.scalars(
            select(User).join(UserRole).where(UserRole.role == ADMINISTRATOR, User.active.is_(True))
        )
    )


@effect("notify_administrators")
def notify_administrators(idea, ctx) -> None:
    for admin in administrators():
        queue_mail(admin.email, "admin_notice", locale=admin.locale, idea=idea, comment=ctx.comment)
