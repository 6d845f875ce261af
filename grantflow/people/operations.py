"""What the people pages read: accounts searched and paged, the administration log filtered
and paged. Every change they lead to is made by the operations of the areas that own the
records (accounts.operations, review.conflicts)."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from grantflow.accounts.models import INVITED, ROLES, User, UserRole
from grantflow.adminlog import operations as adminlog
from grantflow.adminlog.models import AdminLogEntry
from grantflow.core.extensions import db
from grantflow.core.i18n import RIGA

PER_PAGE = 25
STATUSES = ("active", "inactive", "invited")


def number(value, default: int = 1, maximum: int = 10**6) -> int:
    """A page number or an id from the query string: ASCII digits within bounds, else `default`."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= maximum:
        return default
    return int(value)


def riga_day(value) -> date | None:
    """A YYYY-MM-DD date typed in a filter, or None when it is not one."""
    value = (value or "").strip()
    try:
        day = date.fromisoformat(value) if len(value) == 10 and value.isascii() else None
    except ValueError:
        return None
    return day if day is not None and 1900 <= day.year <= 9000 else None  # far from date's limits


def _start_of(day: date) -> datetime:
    """Midnight of a Riga day, in UTC (what the log stores)."""
    return datetime.combine(day, time(), tzinfo=RIGA).astimezone(UTC)


def _pages(total: int) -> int:
    return max(1, -(-total // PER_PAGE))


def search(q: str = "", role: str = "", status: str = "", page: int = 1) -> tuple[list[User], int, int]:
    """Accounts matching the search (name or e-mail), role and status, by name; a page of
    them, the number of pages and of matches. Roles and municipalities load with them."""
    stmt = select(User)
    if q:
        like = f"%{q.lower().replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(func.lower(User.name).like(like), func.lower(User.email).like(like)))
    if role in ROLES:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    if status == "active":
        stmt = stmt.where(User.active.is_(True), ~User.password_hash.startswith(INVITED))
    elif status == "inactive":
        stmt = stmt.where(User.active.is_(False))
    elif status == "invited":
        stmt = stmt.where(User.password_hash.startswith(INVITED))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    pages = _pages(total)
    page = min(page, pages)
    people = db.session.scalars(
        stmt.order_by(func.lower(User.name), User.id).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
    ).all()
    return list(people), pages, total


def log_page(kind="", actor_id=None, object_kind="", object_id=None, since: date | None = None,
             until: date | None = None, page: int = 1) -> tuple[list[AdminLogEntry], int, int]:
    """The administration log filtered (the dates are Riga days, both included), newest first."""
    stmt = adminlog.query(
        kind=kind if kind in adminlog.KINDS else None,
        actor_id=actor_id,
        object_kind=object_kind if object_kind in adminlog.OBJECTS else None,
        object_id=object_id,
        since=_start_of(since) if since else None,
        until=_start_of(until + timedelta(days=1)) if until else None,
    )
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    pages = _pages(total)
    page = min(page, pages)
    entries = db.session.scalars(
        stmt.options(selectinload(AdminLogEntry.actor)).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
    ).all()
    return list(entries), pages, total


def about(user: User, limit: int = 20) -> list[AdminLogEntry]:
    """The latest log rows about this account."""
    return list(
        db.session.scalars(
            adminlog.query(object_kind="account", object_id=user.id).options(selectinload(AdminLogEntry.actor)).limit(limit)
        )
    )


def actors() -> list[User]:
    """Everyone who has changed something the log records, for the log's filter."""
    return list(
        db.session.scalars(
            select(User).where(User.id.in_(select(AdminLogEntry.actor_id).where(AdminLogEntry.actor_id.is_not(None)))).order_by(User.name)
        )
    )
