"""The desks: each role's home page starts with what waits for that person, with a fixed
number of queries however much waits."""

from datetime import timedelta

from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.funding.models import CooperationConfirmation
from tests.conftest import login
from tests.querycount import count_queries
from tests.test_apply import applicant, complete, draft, new_draft  # noqa: F401 (fixtures)


def _world(factory, competition, evaluator):
    factory.submitted(competition=competition)  # to screen
    factory.in_review(evaluators=[evaluator], competition=competition)  # one evaluator of two: to assign
    factory.reviewed(competition=competition)  # to decide
    factory.funded(competition=competition)  # a decision letter to issue


def test_administrator_desk_lists_each_waiting_task_with_its_count_and_link(client, factory):
    competition = factory.competition(title_lv="Galdu konkurss", evaluation_closes_at=utcnow() - timedelta(days=1))
    evaluator = factory.evaluator()
    _world(factory, competition, evaluator)
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    page = client.get("/").get_data(as_text=True)
    desk = page[page.index('id="admin-desk"') : page.index('id="admin-home"')]
    for label in (
        "Idejas atbilstības pārbaudei",
        "Idejas, kurām vajag vērtētājus",
        "Idejas, kas gaida lēmumu par finansējumu",
        "Izdodamās lēmumu vēstules",
        "Vērtējumi pēc vērtēšanas termiņa",
    ):
        assert label in desk, label
    assert (
        f"/decide/competitions/{competition.id}" in desk
        and f"/review/competitions/{competition.id}/assignments" in desk
    )
    assert "Galdu konkurss" in desk and "Nokavēts" in desk
    assert page.index('id="admin-desk"') < page.index('id="admin-home"')


def test_administrator_desk_asks_a_fixed_number_of_queries(client, factory):
    admin = factory.admin()
    evaluator = factory.evaluator()
    _world(factory, factory.competition(), evaluator)
    db.session.commit()
    login(client, admin.email)
    with count_queries(db.engine) as few:
        client.get("/")
    for _ in range(2):
        _world(factory, factory.competition(), evaluator)
    db.session.commit()
    with count_queries(db.engine) as many:
        client.get("/")
    assert len(few) == len(many)


def test_nothing_waiting_is_said_plainly(client, factory):
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    assert "Jums nekas negaida" in client.get("/").get_data(as_text=True)


def test_evaluator_sees_unscored_ideas_first_nearest_deadline_first(client, factory):
    me = factory.evaluator()
    late = factory.competition(evaluation_closes_at=utcnow() + timedelta(days=9))
    soon = factory.competition(evaluation_closes_at=utcnow() + timedelta(days=2))
    done = factory.in_review(evaluators=[me, factory.evaluator()], competition=soon, title="Novērtētā")
    factory.review(done, me)
    factory.in_review(evaluators=[me], competition=late, title="Vēlākā")
    factory.in_review(evaluators=[me], competition=soon, title="Steidzamā")
    db.session.commit()
    login(client, me.email)
    page = client.get("/").get_data(as_text=True)
    waiting = page[page.index('id="evaluations-waiting"') : page.index('id="evaluations-past"')]
    assert waiting.index("Steidzamā") < waiting.index("Vēlākā") and "Novērtētā" not in waiting
    assert "Novērtētā" in page[page.index('id="evaluations-past"') :]


def test_municipality_sees_the_ideas_waiting_for_its_confirmation(client, factory):
    waiting = factory.submitted(title="Gaidošā ideja")
    confirmed = factory.submitted(title="Apstiprinātā ideja", competition=waiting.competition)
    confirmed.municipality = waiting.municipality
    representative = factory.user("municipality", municipality=waiting.municipality)
    db.session.add(
        CooperationConfirmation(
            idea_id=confirmed.id, municipality_id=waiting.municipality_id, confirmed=True, by_id=representative.id
        )
    )
    db.session.commit()
    login(client, representative.email)
    page = client.get("/").get_data(as_text=True)
    desk = page[page.index('id="municipality-desk"') : page.index('id="municipality-home"')]
    assert "Gaidošā ideja" in desk and f"/decide/ideas/{waiting.id}/cooperation" in desk
    assert "Apstiprinātā ideja" not in desk and "Apstiprinātā ideja" in page


def test_evaluator_scores_with_the_idea_beside_and_the_conflict_declared_first(client, factory):
    me = factory.evaluator()
    idea = factory.in_review(evaluators=[me])
    idea.community_need = "Ciemā nav vietas, kur satikties."
    db.session.commit()
    login(client, me.email)
    page = client.get(f"/review/ideas/{idea.id}/score").get_data(as_text=True)
    beside = page[page.index('id="idea-to-score"') : page.index('id="conflict"')]
    assert "Ciemā nav vietas, kur satikties." in beside
    assert page.index('id="conflict"') < page.index('id="score-form"')


def test_withdrawing_is_asked_on_a_page_that_says_what_happens(client, factory):
    idea = factory.submitted()
    applicant = factory.member_of(idea.organisation)
    db.session.commit()
    login(client, applicant.email)
    show = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    confirm_url = f"/ideas/{idea.id}/steps/withdraw/confirm"
    steps = show[show.index('id="steps"') :]
    assert confirm_url in steps and 'value="withdraw"' not in steps  # a link to the question, not the step
    page = client.get(confirm_url).get_data(as_text=True)
    assert "Atsaukt ideju?" in page and "Tas ir galīgs solis: to vairs nevarēs atcelt." in page and "govuk-button--warning" in page
    assert factory and idea.state == "submitted"  # looking at the question changes nothing
    client.post(f"/ideas/{idea.id}/steps/withdraw", data={"version": str(idea.version)})
    db.session.expire_all()
    assert idea.has_tag("withdrawn")
    assert client.get(confirm_url).status_code == 404  # nothing left to withdraw


def test_submitting_goes_through_a_page_that_says_what_happens(client, draft):
    user, competition = draft
    idea = new_draft(client, user, competition)
    data = complete(idea)
    edit = client.get(f"/apply/{idea.id}").get_data(as_text=True)
    assert 'value="check"' in edit and 'value="submit"' not in edit
    response = client.post(f"/apply/{idea.id}", data={**data, "action": "check"})
    assert response.headers["Location"].endswith(f"/apply/{idea.id}/submit")
    page = client.get(f"/apply/{idea.id}/submit").get_data(as_text=True)
    assert "Iesniegt ideju?" in page and "Kas notiks, kad iesniegsiet" in page
    assert idea.reference is None  # checked and saved, not submitted
    # The idea page's "Submit…" leads to checking the answers first, which leads on to that page.
    assert f'href="/apply/{idea.id}/check"' in client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert f'href="/apply/{idea.id}/submit"' in client.get(f"/apply/{idea.id}/check").get_data(as_text=True)
    response = client.post(f"/apply/{idea.id}/submit", follow_redirects=True)
    db.session.expire_all()
    assert idea.reference and idea.reference in response.get_data(as_text=True)


def test_administrator_is_offered_only_the_documents_the_state_allows(client, factory):
    admin = factory.admin()
    unscreened, funded = factory.submitted(), factory.funded()
    db.session.commit()
    login(client, admin.email)
    page = client.get(f"/ideas/{unscreened.id}").get_data(as_text=True)
    assert "/documents/ideas/" not in page and "Izlemt" not in page
    page = client.get(f"/ideas/{funded.id}").get_data(as_text=True)
    assert f"/documents/ideas/{funded.id}/decision" in page and f"/documents/ideas/{funded.id}/agreement" not in page


def test_applicant_desk_starts_with_the_ideas_waiting_for_them(client, factory):
    """A draft to submit comes before ideas on which nothing is to be done, however recently
    those changed."""
    first = factory.idea(title="Melnraksts A")
    org = first.organisation
    filed = factory.submitted(org=org, title="Iesniegta A")
    filed.updated_at = utcnow() + timedelta(minutes=5)  # changed after the draft
    applicant = factory.member_of(org)
    db.session.commit()
    login(client, applicant.email)
    page = client.get("/").get_data(as_text=True)
    assert page.index("Melnraksts A") < page.index("Iesniegta A")
