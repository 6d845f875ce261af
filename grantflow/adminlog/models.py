"""The administration log's rows: append-only, like the ideas' audit (workflow.models), and
enforced the same way, by the ORM here and by database triggers (migration 0011_people).

One exception, narrow and itself on record: erasing a person rewrites the personal values
(their e-mail addresses and names) in the rows that hold them, so the log does not keep what
was erased (`adminlog.operations.pseudonymise`). The triggers (migration 0025_programme) let
an UPDATE through only when it raises the row's `redactions` by exactly one and leaves who,
when, what kind of change and which record as they were; deleting stays impossible. The ORM
refuses every change; the rewrite goes through one Core UPDATE per row."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.core.extensions import db
from grantflow.core.types import UTCDateTime, utcnow

WEB = "web"
CLI = "cli"


class AdminLogEntry(db.Model):
    """One administrative change: `kind` (a declared kind of change, e.g. "roles_changed"), the
    object (`object_kind`, `object_id`, and its name as it was then), who (None: a command
    run on the server, `source` "cli"), when, and the fields that changed, before and after."""

    __tablename__ = "admin_log"
    __table_args__ = (Index("ix_admin_log_object", "object_kind", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    object_kind: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column()
    object_label: Mapped[str] = mapped_column(String(300), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    source: Mapped[str] = mapped_column(String(10), default=WEB)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    redactions: Mapped[int] = mapped_column(default=0, server_default="0")  # times personal values were pseudonymised

    actor: Mapped["User | None"] = relationship()  # noqa: F821

    def changed_fields(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for every field either side names, in a stable order."""
        before, after = self.before or {}, self.after or {}
        return [(name, before.get(name), after.get(name)) for name in sorted(before.keys() | after.keys())]


@event.listens_for(AdminLogEntry, "before_update")
@event.listens_for(AdminLogEntry, "before_delete")
def _append_only(_mapper, _connection, target):
    raise PermissionError("the administration log is append-only")
