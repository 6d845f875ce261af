"""Tokens made, revoked and checked, and the lists the API pages through. Every permission
question is asked of the models (`Idea.visible_to`, `can_view`, `Review.can_see`, …), the same
methods the web pages ask."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from grantflow.accounts.models import ADMINISTRATOR, User
from grantflow.api.models import ApiToken
from grantflow.competitions.models import Competition
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.ideas.models import Idea
from grantflow.review.models import Review

PREFIX = "gf_"
# Writing "last used" on every call would make each reading call a writing one; once a
# minute is exact enough to tell a person whether a token is still in use.
LAST_USED_EVERY = timedelta(minutes=1)
MAX_TOKENS = 20


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def tokens_of(user: User) -> list[ApiToken]:
    return db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
    ).all()


def create_token(user: User, name: str, can_write: bool) -> NewToken:
    """Make a token for `user`; the secret is returned once and only its SHA-256 is kept."""
    count = db.session.scalar(
        select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    if count >= MAX_TOKENS:
        raise Refused([_l("You already have the most tokens allowed (%(num)d): first revoke one you no longer use.", num=count)])
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=name.strip(), prefix=secret[len(PREFIX) : len(PREFIX) + 6],
        secret_sha256=_digest(secret), can_write=can_write,
    )  # fmt: skip
    db.session.add(token)
    db.session.commit()
    return NewToken(token, secret)


def revoke_token(token: ApiToken, user: User) -> None:
    if not token.can_revoke(user):
        raise Refused([_l("This is not your token.")])
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()


def authenticate(secret: str) -> ApiToken | None:
    """The active token of an active person whose secret this is, or None. Marks it used (at
    most once a minute, see LAST_USED_EVERY)."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    digest = _digest(secret)
    token = db.session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.secret_sha256 == digest)
    )
    # The lookup is by digest (an index), then compared in constant time for good measure.
    if token is None or not hmac.compare_digest(token.secret_sha256, digest):
        return None
    if token.revoked_at is not None or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = now
        db.session.commit()
    return token


# --- lists ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _page(query, page: int, per_page: int) -> Page:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return Page(list(items), page, per_page, total)


def published_competitions(user, now) -> "select":
    """Competitions anyone may read (those that have opened: the call is public from then on);
    administrators see those being prepared too."""
    query = select(Competition).options(selectinload(Competition.criteria), selectinload(Competition.documents))
    if user is None or ADMINISTRATOR not in user.roles:
        query = query.where(Competition.opens_at <= now)
    return query


def competitions(user, now, page: int, per_page: int, open_only: bool | None) -> Page:
    query = published_competitions(user, now)
    if open_only is True:
        query = query.where(Competition.opens_at <= now, Competition.closes_at > now)
    elif open_only is False:
        query = query.where(Competition.closes_at <= now)
    return _page(query.order_by(Competition.opens_at.desc(), Competition.id.desc()), page, per_page)


def competition(user, now, competition_id: int) -> Competition | None:
    return db.session.scalar(published_competitions(user, now).where(Competition.id == competition_id))


def ideas(user, page: int, per_page: int, competition_id=None, tag=None, municipality_id=None) -> Page:
    """The ideas `user` may view (Idea.visible_to: the same answer as Idea.can_view), filtered."""
    query = (
        select(Idea)
        .options(joinedload(Idea.competition), joinedload(Idea.organisation), joinedload(Idea.municipality))
        .where(Idea.visible_to(user))
    )
    if competition_id is not None:
        query = query.where(Idea.competition_id == competition_id)
    if municipality_id is not None:
        query = query.where(Idea.municipality_id == municipality_id)
    if tag is not None:
        query = query.where(Idea.tagged(tag))
    return _page(query.order_by(Idea.id), page, per_page)


def idea(user, idea_id: int) -> Idea | None:
    """The idea if `user` may view it; None otherwise (not even confirmed to exist)."""
    found = db.session.get(Idea, idea_id)
    return found if found is not None and found.can_view(user) else None


def reviews_of_idea(idea: Idea, user) -> list[Review]:
    """The reviews of `idea` that `user` may see (Review.can_see)."""
    reviews = db.session.scalars(
        select(Review).options(selectinload(Review.scores)).where(Review.idea_id == idea.id).order_by(Review.id)
    ).all()
    return [r for r in reviews if r.can_see(user)]


def own_reviews(user, page: int, per_page: int) -> Page:
    """The reviews `user` wrote (their owner sees them whatever their state)."""
    query = (
        select(Review)
        .options(selectinload(Review.scores))
        .where(Review.evaluator_id == user.id)
        .order_by(Review.id)
    )
    return _page(query, page, per_page)
