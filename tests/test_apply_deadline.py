"""The deadline, judged in Europe/Riga time by when the request arrived, around the
daylight-saving changes; and one submission only, however many arrive at once."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.i18n import RIGA, format_when
from grantflow.ideas.models import Idea
from grantflow.ideas.operations import submit_idea
from grantflow.mail.models import OutboxMail
from grantflow.workflow.models import AuditEntry
from tests.conftest import login

# About when and how often an idea can be submitted, not about its receipt's PDF copy.

SECOND = timedelta(seconds=1)
CLOSINGS = [
    # Spring forward: 2026-03-29 03:00 EET becomes 04:00 EEST.
    pytest.param(datetime(2026, 3, 29, 2, 30, tzinfo=RIGA), "2026-03-29T00:30:00+00:00", id="before-spring-change"),
    pytest.param(datetime(2026, 3, 29, 4, 30, tzinfo=RIGA), "2026-03-29T01:30:00+00:00", id="after-spring-change"),
    # Fall back: 2026-10-25 04:00 EEST becomes 03:00 EET; 03:30 happens twice, fold=1 the second time.
    pytest.param(datetime(2026, 10, 25, 3, 30, fold=1, tzinfo=RIGA), "2026-10-25T01:30:00+00:00", id="autumn-second-0330"),
]


@pytest.mark.parametrize("closes, closes_utc", CLOSINGS)
def test_submission_one_second_before_closing_is_accepted_one_after_refused(factory, closes, closes_utc):
    # Arithmetic on Riga wall-clock times is wall-clock arithmetic (and drops fold): count
    # seconds in UTC, as the server does.
    closes = closes.astimezone(UTC)
    competition = factory.competition(opens_at=closes - timedelta(days=30), closes_at=closes)
    assert competition.closes_at.astimezone(UTC).isoformat() == closes_utc
    on_time = factory.idea(competition=competition)
    late = factory.idea(competition=competition)
    exactly = factory.idea(competition=competition)
    user = factory.member_of(on_time.organisation)
    for idea in (late, exactly):
        factory.applicant(org=idea.organisation)
    db.session.commit()

    submit_idea(on_time, user, received_at=closes - SECOND)
    assert on_time.reference and on_time.submitted_at == closes - SECOND
    for idea, when in ((late, closes + SECOND), (exactly, closes)):
        with pytest.raises(Refused, match="nevar iesniegt idejas"):
            submit_idea(idea, factory.member_of(idea.organisation), received_at=when)
        assert db.session.get(Idea, idea.id).reference is None


def test_closing_time_is_shown_in_riga_time(client, factory):
    closes = datetime(2026, 3, 29, 4, 30, tzinfo=RIGA)
    competition = factory.competition(opens_at=closes - timedelta(days=3000), closes_at=closes + timedelta(days=3000))
    idea = factory.idea(competition=competition)
    user = factory.member_of(idea.organisation)
    competition.closes_at = closes
    db.session.commit()
    assert format_when(competition.closes_at, "lv") == "29. marts 2026, 04:30"
    login(client, user.email)
    page = client.get(f"/apply/{idea.id}").get_data(as_text=True)
    assert "29. marts 2026, 04:30" in page


def test_countdown_on_the_last_day(client, factory):
    from grantflow.core.types import utcnow

    now = utcnow()
    end_of_day = datetime.combine(now.astimezone(RIGA).date(), datetime.max.time(), tzinfo=RIGA) - timedelta(minutes=1)
    if end_of_day - now < timedelta(minutes=5):
        pytest.skip("too close to midnight in Riga")
    competition = factory.competition(closes_at=end_of_day)
    idea = factory.idea(competition=competition)
    user = factory.member_of(idea.organisation)
    far = factory.idea()
    factory.applicant(org=far.organisation)
    db.session.commit()
    login(client, user.email)
    page = client.get(f"/apply/{idea.id}").get_data(as_text=True)
    assert "data-countdown-seconds" in page and "countdown.js" in page
    client.post("/logout")
    login(client, far.organisation.memberships[0].user.email)
    assert "data-countdown-seconds" not in client.get(f"/apply/{far.id}").get_data(as_text=True)


def test_two_concurrent_submissions_make_one_reference(app, factory):
    """Two requests submit the same idea at the same moment, each with its own database
    session in its own thread: the row lock lets one through; the other is refused."""
    idea = factory.idea()
    user = factory.member_of(idea.organisation)
    db.session.commit()
    idea_id, user_id = idea.id, user.id
    barrier = threading.Barrier(2)
    outcomes = []

    def submit():
        from grantflow.accounts.models import User
        from grantflow.core.database import Conflict

        with app.app_context():
            try:
                me = db.session.get(User, user_id)
                mine = db.session.get(Idea, idea_id)
                _ = mine.competition, mine.organisation.memberships  # loaded before the race
                barrier.wait(timeout=10)
                submit_idea(mine, me, received_at=datetime.now(RIGA))
                outcomes.append("submitted")
            except (Refused, Conflict) as refused:
                outcomes.append(f"refused: {refused}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o.split(":")[0] for o in outcomes) == ["refused", "submitted"], outcomes
    db.session.commit()
    idea = db.session.get(Idea, idea_id)
    assert idea.reference and idea.reference.endswith("-0001")
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.trigger == "submit")) == 1
    assert db.session.scalar(select(func.count(Idea.id)).where(Idea.reference.is_not(None))) == 1
    assert db.session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.to_addr == user.email)) == 1
