"""axe-core in a real Chromium on the pages each role visits, on a desktop and a phone screen:
no serious or critical violation. axe-core comes from the axe-playwright-python package (a test
dependency); it is evaluated in the page, so the site's Content-Security-Policy stays as it is."""

from importlib.resources import files

import pytest
from sqlalchemy import select

from grantflow.accounts.models import User
from grantflow.competitions.models import Competition
from grantflow.core.extensions import db
from grantflow.demo.operations import PASSWORD
from grantflow.ideas.models import Idea
from grantflow.organisations.models import Organisation
from tests.browser.conftest import log_in

AXE = files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def ids(app) -> dict:
    """The demo's current competitions, one idea per state and the demo applicant's organisation."""
    with app.app_context():
        # Last year's competition holds the ideas past the open stage; this year's the rest.
        competition = db.session.scalars(select(Competition).where(Competition.code == "DK-2025")).one()
        current = db.session.scalars(select(Competition.id).where(Competition.code.in_(["DK-2025", "DK-2026"]))).all()
        ideas = {i.state: i.id for i in db.session.scalars(select(Idea).where(Idea.competition_id.in_(current)))}
        org = db.session.scalars(
            select(Organisation).where(Organisation.name == 'biedrība "Rušonas dārznieki"')
        ).first()
        representative = db.session.scalars(select(User).where(User.email == LOGINS["municipality"])).one()
        # One they can still answer on (filed, not over): the cooperation form is shown, not refused.
        theirs = next(
            idea.id for idea in db.session.scalars(
                select(Idea).where(Idea.municipality_id.in_(representative.municipality_ids()), Idea.reference.is_not(None))
                .order_by(Idea.id)
            ) if idea.has_tag("filed") and not idea.state_def.final
        )  # fmt: skip
        person = db.session.scalars(select(User.id).where(User.email == LOGINS["evaluator"])).one()
        db.session.remove()
    return {"competition": competition.id, "org": org.id, "theirs": theirs, "person": person, **ideas}


def pages_of(role: str, i: dict) -> list[str]:
    c = i["competition"]
    return {
        "anonymous": ["/", "/login", "/register", "/password/forgot", "/privacy", "/accessibility", "/verify", "/nowhere", "/open-data/",
                      "/calls/", f"/calls/{c}", f"/calls/{c}?lang=en", "/results/", f"/results/{i['funded']}", "/impact"],
        "applicant": ["/", "/orgs/", f"/orgs/{i['org']}", "/apply/new", f"/apply/{i['draft']}/sections",
                      f"/apply/{i['draft']}/sections/idea", f"/apply/{i['draft']}/sections/budget",
                      f"/apply/{i['draft']}/sections/files", f"/apply/{i['draft']}/check", f"/apply/{i['draft']}",
                      f"/ideas/{i['submitted']}", "/profile",
                      f"/ideas/{i['submitted']}/steps/withdraw/confirm", f"/apply/{i['draft']}/submit",
                      f"/ideas/{i['funded']}", f"/reports/{i['funded']}", f"/reports/{i['funded']}/sections",
                      f"/reports/{i['funded']}/sections/reach", f"/reports/{i['funded']}/sections/files",
                      f"/reports/{i['funded']}/check", f"/amendments/ideas/{i['funded']}/new",
                      "/orgs/new", f"/orgs/{i['org']}/edit", "/account/tokens"],
        "evaluator": ["/", "/review/", f"/review/ideas/{i['in_review']}/score", "/profile"],
        "administrator": [
            "/", "/admin/", f"/admin/competitions/{c}", f"/competitions/{c}/edit", f"/competitions/{c}/criteria",
            f"/review/competitions/{c}/assignments", f"/review/competitions/{c}/progress",
            f"/review/competitions/{c}/ranking", f"/review/competitions/{c}/ranking?columns=all",
            f"/decide/competitions/{c}", f"/decide/ideas/{i['reviewed']}", f"/review/ideas/{i['submitted']}/screening",
            f"/ideas/{i['funded']}", "/admin/outbox",
            "/admin/impact/", "/admin/impact/reports", "/admin/people", "/admin/people/invite", "/admin/log",
            "/admin/exports", f"/admin/people/{i['person']}/erase",
            "/payments/", f"/payments/competitions/{c}", f"/payments/competitions/{c}/plan",
            f"/competitions/{c}/reminders", f"/competitions/{c}/documents", "/competitions/new", f"/admin/people/{i['person']}",
            f"/ideas/{i['submitted']}/messages/new", "/admin/workflows/community_ideas", "/account/tokens",
        ],
        "municipality": ["/", f"/ideas/{i['theirs']}", f"/decide/ideas/{i['theirs']}/cooperation", "/profile"],
    }[role]  # fmt: skip


LOGINS = {
    "anonymous": None,
    "applicant": "pieteicejs@demo.grantflow.lv",
    "evaluator": "vertetajs@demo.grantflow.lv",
    "administrator": "admin@demo.grantflow.lv",
    "municipality": "pasvaldiba@demo.grantflow.lv",
}


def violations(page) -> list[str]:
    page.evaluate(AXE)
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.impact + ' ' + v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"
    )
    return result


@pytest.mark.browser
@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("role", list(LOGINS))
def test_no_serious_accessibility_violations(request, live_server, role, size):
    page = request.getfixturevalue("page" if size == "desktop" else "phone")
    if LOGINS[role]:
        log_in(page, LOGINS[role], PASSWORD)
    found = {}
    for path in pages_of(role, ids(live_server.app)):
        response = page.goto(path)
        assert path == "/nowhere" or response.status == 200, (path, response.status)
        problems = violations(page)
        if problems:
            found[path] = problems
    assert not found, found
