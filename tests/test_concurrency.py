"""A crowd at the deadline: many people logging in, saving and submitting at the same moment,
each with their own browser, through the real app on a real database file (SQLite) and on
PostgreSQL. Nobody is refused or sees a server error because someone else wrote something
else; and when a request does fail, its error page still renders."""

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from grantflow.accounts.models import User
from grantflow.core.database import Conflict
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.ideas import operations as ops
from grantflow.ideas.models import Idea
from grantflow.workflow.models import AuditEntry
from tests.conftest import IsolatedClient, login
from tests.factories import PASSWORD, Factory
from tests.test_apply import form_of


def crowd(app, jobs, timeout=60):
    """Run each job(client) in its own thread with its own browser, all released at once;
    returns what each returned (an exception if it raised)."""
    app.test_client_class = IsolatedClient
    clients = [app.test_client() for _ in jobs]
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(slot):
        try:
            barrier.wait(timeout=10)
            results[slot] = jobs[slot](clients[slot])
        except Exception as error:  # reported by the test, not lost in the thread
            results[slot] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, clients


def test_a_crowd_logs_in_at_once(app, factory):
    users = [factory.user() for _ in range(10)]
    strangers = [f"nav{n}@example.lv" for n in range(3)]
    db.session.commit()
    emails = [u.email for u in users]

    def log_in(email, password):
        return lambda client: client.post("/login", data={"email": email, "password": password})

    jobs = [log_in(e, PASSWORD) for e in emails] + [log_in(e, "nepareiza-parole") for e in strangers]
    results, _ = crowd(app, jobs)
    statuses = [getattr(r, "status_code", r) for r in results]
    print("statuses:", statuses)
    assert statuses == [302] * len(emails) + [200] * len(strangers), statuses
    assert all(r.headers["Location"] == "/" for r in results[: len(emails)])
    assert all("Nepareizs e-pasts vai parole" in r.get_data(as_text=True) for r in results[len(emails) :])
    db.session.commit()  # a fresh read of what the requests did
    assert db.session.scalar(select(func.count(User.id)).where(User.last_login_at.is_not(None))) == len(emails)


def test_a_crowd_saves_and_submits_at_the_deadline(app, factory):
    """Each applicant saves a last change and submits their own idea, all at once: every idea
    is submitted exactly once with its own reference number, nobody refused, no server error."""
    competition = factory.competition()
    ideas = [factory.idea(competition=competition) for _ in range(10)]
    people = [factory.member_of(idea.organisation) for idea in ideas]
    db.session.commit()
    forms = [form_of(idea, title=f"Pēdējais labojums {n}") for n, idea in enumerate(ideas)]
    urls = [f"/apply/{idea.id}" for idea in ideas]
    app.test_client_class = IsolatedClient
    browsers = []
    for person in people:
        browser = app.test_client()
        login(browser, person.email)
        browsers.append(browser)

    def last_minute(slot):
        def job(_client):
            browser = browsers[slot]
            saved = browser.post(urls[slot], data={**forms[slot], "action": "save"})
            submitted = browser.post(urls[slot], data={**forms[slot], "action": "submit"})
            return saved.status_code, submitted.status_code, submitted.headers.get("Location", "")

        return job

    results, _ = crowd(app, [last_minute(i) for i in range(len(ideas))])
    print("outcomes:", results)
    for slot, result in enumerate(results):
        assert isinstance(result, tuple), result
        saved, submitted, location = result
        assert (saved, submitted) == (303, 303), result
        assert location.endswith(f"/ideas/{ideas[slot].id}"), result  # not back to the form
    db.session.commit()
    fresh = db.session.scalars(select(Idea).where(Idea.id.in_([i.id for i in ideas])).order_by(Idea.id)).all()
    references = [idea.reference for idea in fresh]
    assert all(references) and len(set(references)) == len(ideas), references
    assert all(idea.has_tag("filed") for idea in fresh)
    assert [idea.title for idea in fresh] == [f"Pēdējais labojums {n}" for n in range(len(ideas))]
    submits = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.trigger == "submit"))
    assert submits == len(ideas)


@pytest.fixture
def failing_app(make_app):
    """The app with a route whose write fails in the database and is not handled, as a bug
    would: the session is left needing a rollback when the error page is drawn."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    def broken():
        db.session.add_all([User(email="twice@example.lv", name="A", password_hash="x") for _ in range(2)])
        db.session.flush()  # the unique e-mail refuses the second
        return "unreachable"

    app.add_url_rule("/test-only/broken", "broken", broken, methods=["POST"])
    return app


def test_the_error_page_renders_after_a_failed_transaction(failing_app):
    with failing_app.app_context():
        user = Factory().user(locale="en")
        db.session.commit()
        email = user.email
        db.session.remove()
    client = failing_app.test_client()
    with pytest.raises(IntegrityError), failing_app.test_request_context():  # the route does fail
        failing_app.view_functions["broken"]()
    login(client, email)
    for _attempt in range(2):  # the same worker, again: nothing stuck from the first time
        response = client.post("/test-only/broken")
        page = response.get_data(as_text=True)
        assert response.status_code == 500
        assert '<h1 class="govuk-heading-l">Something went wrong</h1>' in page and "The error has been recorded" in page  # in English
        assert '<header class="gf-masthead">' in page  # the site's layout, not a bare page
        assert "Traceback" not in page and "IntegrityError" not in page and "twice@" not in page
    assert client.get("/").status_code == 200
    anonymous = failing_app.test_client().post("/test-only/broken")
    latvian = anonymous.get_data(as_text=True)
    assert anonymous.status_code == 500 and "Radās kļūda" in latvian and "Kļūda ir reģistrēta" in latvian
    with failing_app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.email == "twice@example.lv")) == 0


def test_a_save_racing_a_submission_of_the_same_idea_gets_conflict(app, factory):
    """The idea is read before anything is written (on SQLite without the write lock): a
    submission of the same idea committed meanwhile makes the save a Conflict, nothing
    written, on both databases."""
    idea = factory.idea()
    person = factory.member_of(idea.organisation)
    db.session.commit()
    idea_id, person_id = idea.id, person.id
    data = ops.form_data(idea)

    def submit_elsewhere():
        with app.app_context(), app.test_request_context(f"/apply/{idea_id}/submit", method="POST"):
            other = db.session.get(Idea, idea_id)
            ops.submit_idea(other, db.session.get(User, person_id), utcnow())
            db.session.remove()

    with app.test_request_context(f"/apply/{idea_id}", method="POST"):
        mine = db.session.get(Idea, idea_id)
        actor = db.session.get(User, person_id)
        assert mine.can_edit(actor)  # read, as the view does, before the other commits
        thread = threading.Thread(target=submit_elsewhere)
        thread.start()
        thread.join(30)
        with pytest.raises(Conflict):
            ops.save_idea(mine, {**data, "title": "Par vēlu"}, actor)
        db.session.rollback()
    db.session.remove()
    fresh = db.session.get(Idea, idea_id)
    assert fresh.reference and fresh.title != "Par vēlu"
