"""Funding decisions: the board, the suggestion, deciding (in full, partly, reject), bad
input, stale forms, the budget under concurrent requests, and the municipality's answer."""

import re
import threading
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from grantflow.accounts.models import MUNICIPALITY
from grantflow.core.database import Conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.funding import operations as ops
from grantflow.funding.models import CooperationConfirmation, Decision
from grantflow.ideas.models import Idea
from grantflow.workflow import engine
from tests.conftest import login
from tests.querycount import count_queries

MUNICIPALITY_REG_NO = "90009112679"  # a valid Latvian registration number (check digit)


def flashes(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r'class="flash[^"]*"[^>]*>(.*?)</', html, re.S)]


def text(response) -> str:
    """The page with Babel's no-break spaces (1 000,00 €) as plain ones."""
    return response.get_data(as_text=True).replace("\xa0", " ").replace("\u202f", " ")


def fresh(idea) -> Idea:
    db.session.expire_all()
    return db.session.get(Idea, idea.id)


def decisions() -> list[Decision]:
    db.session.expire_all()
    return db.session.scalars(select(Decision).order_by(Decision.id)).all()


@pytest.fixture
def admin_client(client, factory):
    admin = factory.admin(email="admin@example.lv")
    db.session.commit()
    login(client, admin.email)
    return client


def stamp(idea, action="fund", committed="0.00"):
    """What the decision form carries: its action and the page's idea version and committed total."""
    return {"action": action, f"{action}-version": str(fresh(idea).version), f"{action}-committed": committed}


# --- the board and the suggestion ---------------------------------------------------------


def test_board_ranks_and_suggests_skipping_what_no_longer_fits(admin_client, factory):
    competition = factory.competition(budget="2500.00", min_score=Decimal("50"))
    best = factory.reviewed(competition=competition, amount="1000.00", points=9, title="Labākā")
    big = factory.reviewed(competition=competition, amount="2000.00", points=8, title="Lielā")
    third = factory.reviewed(competition=competition, amount="1500.00", points=7, title="Trešā")
    weak = factory.reviewed(competition=competition, amount="100.00", points=3, title="Vājā")
    factory.in_review(competition=competition, title="Vēl vērtē")
    db.session.commit()

    page = text(admin_client.get(f"/decide/competitions/{competition.id}"))
    assert page.index("Labākā") < page.index("Lielā") < page.index("Trešā") < page.index("Vājā")
    assert "2 500,00 €" in page  # budget and remaining
    board = ops.board(competition)
    picks = {i: s.pick for i, s in board.suggestions.items()}
    assert picks == {best.id: True, big.id: False, third.id: True, weak.id: False}
    assert "atlikuši tikai 1\xa0500,00 €" in board.suggestions[big.id].reason
    assert "zem konkursa minimālā" in board.suggestions[weak.id].reason
    assert board.waiting == 1


def test_balanced_suggestion_gives_every_municipality_its_best_idea_first(app, factory):
    competition = factory.competition(budget="2000.00")
    rezekne = [factory.reviewed(competition=competition, amount="1000.00", points=p) for p in (10, 9)]
    ludza_org = factory.organisation(municipality=factory.municipality("Ludzas novads"))
    ludza = factory.reviewed(competition=competition, org=ludza_org, amount="1000.00", points=6)
    db.session.commit()
    plain = ops.board(competition).suggestions
    assert [plain[i.id].pick for i in (*rezekne, ludza)] == [True, True, False]
    balanced = ops.board(competition, balance=True).suggestions
    assert [balanced[i.id].pick for i in (*rezekne, ludza)] == [True, False, True]
    assert "Ludzas novads" in balanced[ludza.id].reason


def test_board_has_no_n_plus_one(admin_client, factory):
    competition = factory.competition(budget="100000.00")
    for _ in range(3):
        factory.reviewed(competition=competition)
    db.session.commit()
    with count_queries(db.engine) as few:
        admin_client.get(f"/decide/competitions/{competition.id}")
    for _ in range(5):
        factory.reviewed(competition=competition)
    db.session.commit()
    with count_queries(db.engine) as many:
        assert admin_client.get(f"/decide/competitions/{competition.id}").status_code == 200
    assert len(many) == len(few), (len(few), len(many))


def test_only_administrators_see_the_board(client, factory):
    competition = factory.competition()
    applicant = factory.applicant(email="a@example.lv")
    db.session.commit()
    login(client, applicant.email)
    assert client.get(f"/decide/competitions/{competition.id}").status_code == 403


# --- deciding --------------------------------------------------------------------------------


def test_fund_in_full_from_the_board(admin_client, factory):
    competition = factory.competition(budget="5000.00")
    idea = factory.reviewed(competition=competition, amount="1500.00")
    db.session.commit()
    response = admin_client.post(f"/decide/ideas/{idea.id}", data=stamp(idea), follow_redirects=True)
    page = text(response)
    assert any("1 500,00 €" in f for f in flashes(page)), flashes(page)
    assert fresh(idea).has_tag("funded")
    [decision] = decisions()
    assert (decision.kind, decision.amount, decision.requested) == ("fund", Decimal("1500.00"), Decimal("1500.00"))
    assert 'id="budget-committed">1 500,00 €' in page
    assert 'id="budget-remaining">3 500,00 €' in page


def test_fund_partly_with_adjusted_budget_lines(admin_client, factory):
    idea = factory.reviewed(amount="1000.00")
    db.session.commit()
    data = {"partial-lines-0": "600.50", "partial-reason": "Dēļu cena ir zemāka.", **stamp(idea, "partial")}
    admin_client.post(f"/decide/ideas/{idea.id}", data=data)
    [decision] = decisions()
    assert decision.amount == Decimal("600.50") and decision.partial
    assert decision.reason == "Dēļu cena ir zemāka."
    assert decision.adjusted_budget == [{"item": "Dēļi", "requested": "1000.00", "granted": "600.50"}]


@pytest.mark.parametrize(
    "value, message",
    [
        ("1000.01", "Ne vairāk kā 1 000,00 €"),
        ("-5", "nevar būt negatīva"),
        ("10.555", "ar ne vairāk kā divām zīmēm aiz komata"),
        ("10,555", "ar ne vairāk kā divām zīmēm aiz komata"),
        ("abc", "Ierakstiet skaitli, piemēram, 150 vai 150,50."),
        ("12,3,4", "Ierakstiet skaitli, piemēram, 150 vai 150,50."),
        ("1000.00", "izmantojiet „Atbalstīt pilnā apmērā”"),
        ("0", "kopsumma ir nulle"),
    ],
)
def test_partial_funding_refuses_bad_amounts_beside_the_field(admin_client, factory, value, message):
    idea = factory.reviewed(amount="1000.00")
    db.session.commit()
    data = {"partial-lines-0": value, "partial-reason": "Iemesls", **stamp(idea, "partial")}
    response = admin_client.post(f"/decide/ideas/{idea.id}", data=data)
    page = text(response)
    assert response.status_code == 422
    assert message in page
    assert f'value="{value}"' in page  # the value is kept
    assert "Not a valid" not in page and ("negatīva" in page) == (value == "-5")  # in Latvian, and only what is wrong
    assert decisions() == [] and fresh(idea).has_tag("decidable")


@pytest.mark.parametrize(
    ("locale", "typed"), [("lv", "345,67"), ("lv", "345.67"), ("en", "345.67"), ("en", "345,67"), ("lv", "1 000,00 €")]
)
def test_partial_funding_takes_either_decimal_separator(admin_client, factory, locale, typed):
    """Partial funding once refused "345,67" ("Not a valid decimal value. Summa nevar būt
    negatīva."): the money field reads the comma and the point in both languages."""
    idea = factory.reviewed(amount="2000.00")
    db.session.commit()
    admin_client.post("/language", data={"language": locale})
    data = {"partial-lines-0": typed, "partial-reason": "Daļēji", **stamp(idea, "partial")}
    response = admin_client.post(f"/decide/ideas/{idea.id}", data=data)
    assert response.status_code in (302, 303), text(response)[:2000]
    [decision] = decisions()
    assert decision.amount == (Decimal("1000.00") if typed.startswith("1 000") else Decimal("345.67"))


def test_partial_funding_needs_a_reason(admin_client, factory):
    idea = factory.reviewed(amount="1000.00")
    db.session.commit()
    response = admin_client.post(f"/decide/ideas/{idea.id}", data={"partial-lines-0": "500", "partial-reason": "", **stamp(idea, "partial")})
    assert response.status_code == 422
    assert 'id="partial-reason-error"' in response.get_data(as_text=True)
    assert decisions() == []


def test_reject_needs_a_reason_and_records_it(admin_client, factory):
    idea = factory.reviewed()
    db.session.commit()
    response = admin_client.post(f"/decide/ideas/{idea.id}", data={"reject-reason": " ", **stamp(idea, "reject")})
    assert response.status_code == 422 and decisions() == []
    admin_client.post(f"/decide/ideas/{idea.id}", data={"reject-reason": "Neatbilst mērķim.", **stamp(idea, "reject")})
    [decision] = decisions()
    assert (decision.kind, decision.amount, decision.reason) == ("reject", Decimal("0.00"), "Neatbilst mērķim.")
    assert not fresh(idea).has_tag("decidable") and not fresh(idea).has_tag("funded")


def test_an_idea_not_ready_for_a_decision_is_refused(admin_client, factory):
    idea = factory.in_review()
    db.session.commit()
    response = admin_client.post(f"/decide/ideas/{idea.id}", data=stamp(idea), follow_redirects=True)
    assert any("nevar pieņemt lēmumu" in f for f in flashes(response.get_data(as_text=True)))
    assert decisions() == []
    assert admin_client.get(f"/decide/ideas/{idea.id}").status_code == 303


def test_engine_refuses_more_than_requested_negative_and_over_precise_amounts(factory):
    idea = factory.reviewed(amount="1000.00")
    admin = factory.admin()
    db.session.commit()
    for amount, message in [("1000.01", "pārsniegt pieprasīto"), ("-1", "lielākai par nulli"), ("999.999", "divām zīmēm")]:
        with pytest.raises(Refused, match=message):
            ops.decide(idea, admin, "fund", reason="x", amount=Decimal(amount))
    assert decisions() == [] and fresh(idea).has_tag("decidable")


def test_stale_version_after_someone_else_decided(admin_client, factory):
    idea = factory.reviewed()
    other = factory.admin()
    db.session.commit()
    seen = stamp(idea)  # the page as the administrator opened it
    ops.decide(fresh(idea), other, "reject", reason="Cits administrators noraidīja.")
    response = admin_client.post(f"/decide/ideas/{idea.id}", data=seen, follow_redirects=True)
    assert any("nevar pieņemt lēmumu" in f for f in flashes(response.get_data(as_text=True)))
    [decision] = decisions()
    assert decision.kind == "reject"


def test_stale_version_of_an_idea_still_decidable(admin_client, factory):
    idea = factory.reviewed()
    db.session.commit()
    seen = stamp(idea, "reject")
    changed = fresh(idea)
    changed.title = "Pārdēvēta"  # someone changed the idea meanwhile: its version moves on
    engine.bump_version(changed)
    db.session.commit()
    response = admin_client.post(f"/decide/ideas/{idea.id}", data={"reject-reason": "x", **seen}, follow_redirects=True)
    assert any("Pēc lapas atvēršanas" in f for f in flashes(response.get_data(as_text=True)))
    assert decisions() == []


def test_stale_committed_total_after_another_idea_was_funded(admin_client, factory):
    competition = factory.competition(budget="5000.00")
    first, second = (factory.reviewed(competition=competition) for _ in range(2))
    other = factory.admin()
    db.session.commit()
    seen = stamp(second)  # committed 0.00 when the page was shown
    ops.decide(fresh(first), other, "fund")
    response = admin_client.post(f"/decide/ideas/{second.id}", data=seen, follow_redirects=True)
    messages = flashes(text(response))
    assert any("tagad piešķirti 1 000,00 €, nevis 0,00 €" in f for f in messages), messages
    assert [d.idea_id for d in decisions()] == [first.id]


def test_decision_forms_are_protected_by_csrf(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from tests.factories import Factory

        f = Factory()
        idea = f.reviewed()
        f.admin(email="csrf-admin@example.lv")
        db.session.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/login", data={"email": "csrf-admin@example.lv", "password": "parole-123456", "csrf_token": token})
        response = client.post(f"/decide/ideas/{idea.id}", data={"action": "fund", "fund-version": idea.version, "fund-committed": "0.00"})
        assert response.status_code == 400
        assert db.session.scalar(select(func.count(Decision.id))) == 0


# --- the budget under concurrent requests ------------------------------------------------------


def _two_ideas_one_budget(factory):
    competition = factory.competition(budget="1000.00")
    ideas = [factory.reviewed(competition=competition, amount="1000.00") for _ in range(2)]
    admins = [factory.admin(email=f"admin{n}@example.lv") for n in range(2)]
    db.session.commit()
    return competition, ideas, admins


def test_two_administrators_funding_at_once_over_http_never_overspend(app, factory):
    """Two browsers, two sessions, two requests released at the same instant: one idea is
    funded, the other administrator is told why not, and the budget holds."""
    competition, ideas, admins = _two_ideas_one_budget(factory)
    clients = []
    for admin in admins:
        client = app.test_client()
        login(client, admin.email)
        clients.append(client)
    forms = [stamp(idea) for idea in ideas]
    urls = [f"/decide/ideas/{idea.id}" for idea in ideas]
    db.session.commit()
    barrier = threading.Barrier(2)
    results = [None, None]

    def run(slot):
        barrier.wait(timeout=10)
        response = clients[slot].post(urls[slot], data=forms[slot], follow_redirects=True)
        results[slot] = flashes(response.get_data(as_text=True))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    print("outcomes:", results)
    funded = [m for r in results for m in r if m.startswith("Atbalstīts")]
    assert len(funded) == 1, results
    assert len([r for r in results if r and not r[0].startswith("Atbalstīts")]) == 1, results
    assert ops.committed(competition.id) == Decimal("1000.00") <= competition.budget
    assert len(decisions()) == 1


def test_concurrent_funding_waits_for_the_lock_then_respects_the_budget(app, factory):
    """PostgreSQL: both decisions are made while the competition row is held, so both are
    certainly in flight at once; released, the first commits and the second is refused by
    the budget guard (not by a stale form: neither carries one)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite is covered by the test above")
    competition, ideas, admins = _two_ideas_one_budget(factory)
    idea_ids, admin_ids, competition_id = [i.id for i in ideas], [a.id for a in admins], competition.id
    outcomes = [None, None]

    def run(slot):
        with app.app_context():
            try:
                from grantflow.accounts.models import User

                ops.decide(db.session.get(Idea, idea_ids[slot]), db.session.get(User, admin_ids[slot]), "fund")
                outcomes[slot] = "funded"
            except Refused as refused:
                outcomes[slot] = refused.messages[0]
            except Conflict:
                outcomes[slot] = "conflict"
            finally:
                db.session.remove()

    holder = sa.create_engine(db.engine.url)
    watcher = sa.create_engine(db.engine.url, isolation_level="AUTOCOMMIT")  # sees live activity
    with holder.connect() as conn, watcher.connect() as watch:
        conn.execute(sa.text("SELECT id FROM competitions WHERE id = :id FOR UPDATE"), {"id": competition_id})
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        waiting = 0
        for _ in range(100):  # until both requests wait on the row this connection holds
            waiting = watch.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )).scalar()
            if waiting == 2:
                break
            time.sleep(0.05)
        assert waiting == 2
        conn.rollback()  # release the row
    for t in threads:
        t.join(timeout=30)
    holder.dispose()
    watcher.dispose()
    print("outcomes:", outcomes)
    assert outcomes.count("funded") == 1
    assert any("Budžets šo summu nesedz" in str(o) for o in outcomes), outcomes
    assert ops.committed(competition_id) == Decimal("1000.00")


# --- the municipality's answer ------------------------------------------------------------------


@pytest.fixture
def representative(factory):
    return factory.user(MUNICIPALITY, email="pasvaldiba@example.lv", municipality=factory.municipality("Rēzeknes novads"))


def confirmation_form(**extra):
    return {
        "authority_name": "Rēzeknes novada pašvaldība",
        "registration_number": MUNICIPALITY_REG_NO,
        "address": "Atbrīvošanas aleja 95A, Rēzekne, LV-4601",
        "signatory_name": "Aivars Pašvaldnieks",
        "signatory_position": "domes priekšsēdētājs",
        "sustainability_years": "5",
        "comment": "",
        "confirm": "1",
        **extra,
    }


def test_municipality_confirms_its_commitments(client, factory, representative):
    idea = factory.funded(coop_premises="Tautas nama zāle", coop_upkeep="Pašvaldība uztur laukumu")
    db.session.commit()
    login(client, representative.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Pašvaldība vēl nav apstiprinājusi" in page
    form = client.get(f"/decide/ideas/{idea.id}/cooperation").get_data(as_text=True)
    assert "Tautas nama zāle" in form and "Rēzeknes novada pašvaldība" in form
    response = client.post(f"/decide/ideas/{idea.id}/cooperation", data=confirmation_form())
    assert response.status_code == 303
    row = ops.confirmed_cooperation(fresh(idea))
    assert row.premises == "Tautas nama zāle" and row.sustainability_years == 5
    assert row.registration_number == MUNICIPALITY_REG_NO


def test_municipality_bad_registration_number_is_shown_beside_the_field(client, factory, representative):
    idea = factory.funded()
    db.session.commit()
    login(client, representative.email)
    response = client.post(f"/decide/ideas/{idea.id}/cooperation", data=confirmation_form(registration_number="90009112670"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="registration_number-error"' in page and 'value="90009112670"' in page
    assert ops.latest_confirmation(fresh(idea)) is None


def test_municipality_may_only_comment(client, factory, representative):
    idea = factory.funded()
    db.session.commit()
    login(client, representative.email)
    response = client.post(f"/decide/ideas/{idea.id}/cooperation", data={"comment": "Telpas tikai vasarā.", "comment_only": "1"})
    assert response.status_code == 303
    latest = ops.latest_confirmation(fresh(idea))
    assert latest.comment == "Telpas tikai vasarā." and not latest.confirmed
    assert ops.confirmed_cooperation(fresh(idea)) is None
    response = client.post(f"/decide/ideas/{idea.id}/cooperation", data={"comment": "", "comment_only": "1"})
    assert response.status_code == 422


def test_another_municipality_cannot_answer(client, factory):
    idea = factory.funded()
    other = factory.user(MUNICIPALITY, email="ludza@example.lv", municipality=factory.municipality("Ludzas novads"))
    db.session.commit()
    login(client, other.email)
    assert client.get(f"/decide/ideas/{idea.id}/cooperation").status_code == 404
    assert client.post(f"/decide/ideas/{idea.id}/cooperation", data=confirmation_form()).status_code == 404
    assert db.session.scalar(select(func.count(CooperationConfirmation.id))) == 0


def test_resource_centre_confirmation_makes_the_idea_decidable(client, factory, representative):
    competition = factory.competition(workflow="resource_centre")
    idea = factory.reviewed(competition=competition)
    db.session.commit()
    assert not idea.has_tag("decidable")
    login(client, representative.email)
    client.post(f"/decide/ideas/{idea.id}/cooperation", data=confirmation_form())
    assert fresh(idea).has_tag("decidable")


def test_board_and_ranking_page_number_tied_ideas_alike(admin_client, factory):
    """One ranking: the board takes its order and rank numbers from the ranking page's, and
    ideas with the same score are ordered by their reference (here not their id order)."""
    competition = factory.competition(budget="100000.00")
    best = factory.reviewed(competition=competition, points=9)
    tied = [factory.reviewed(competition=competition, points=7) for _ in range(3)]
    # Still being evaluated, with one of two reviews in: ranked on the ranking page, not on the board.
    evaluators = [factory.evaluator(), factory.evaluator()]
    halfway = factory.in_review(competition=competition, evaluators=evaluators)
    factory.review(halfway, evaluators[0], points=8)
    references = [idea.reference for idea in tied]
    for idea in tied:  # the references in the opposite order of the ids
        idea.reference = f"tmp-{idea.id}"
    db.session.flush()
    for idea, reference in zip(tied, reversed(references)):
        idea.reference = reference
    db.session.commit()

    ranking_page = admin_client.get(f"/review/competitions/{competition.id}/ranking").get_data(as_text=True)
    on_ranking = {int(i): r for r, i in re.findall(r'<td class="num">(\d+|—)</td>\s*<td><a href="/ideas/(\d+)"', ranking_page)}
    board_page = admin_client.get(f"/decide/competitions/{competition.id}").get_data(as_text=True)
    on_board = {int(i): r for i, r in re.findall(r'<tr id="idea-(\d+)"[^>]*>\s*<td class="num">([^<]*)</td>', board_page)}

    assert on_ranking == {best.id: "1", halfway.id: "2", tied[2].id: "3", tied[1].id: "4", tied[0].id: "5"}
    assert on_board == {i: r for i, r in on_ranking.items() if i != halfway.id}
    assert [row.rank for row in ops.board(competition).rows] == [1, 3, 4, 5]


def test_board_pages_keep_the_running_total_the_suggestion_and_the_options(admin_client, factory, monkeypatch):
    """A page at a time: page 2's running total continues page 1's and is the database's sum;
    the suggestion on each page is the one made over the whole board; pager links keep the
    balancing option."""
    monkeypatch.setattr(ops, "PAGE_SIZE", 2)
    competition = factory.competition(budget="2600.00", min_score=Decimal("50"))
    ludza_org = factory.organisation(municipality=factory.municipality("Ludzas novads"))
    amounts = ("1000.00", "1900.00", "900.00", "1200.00", "600.00")
    ideas = [factory.reviewed(competition=competition, amount=a, points=p, **({"org": ludza_org} if p == 5 else {}))
             for a, p in zip(amounts, (10, 9, 8, 7, 5))]  # fmt: skip
    decided = factory.reviewed(competition=competition, amount="100.00", points=6)
    engine.fire(decided, "fund", factory.admin())
    db.session.commit()
    for balance in (False, True):
        whole = ops.board(competition, balance=balance, page_size=100)
        pages = [ops.board(competition, balance=balance, page=n) for n in (1, 2, 3)]
        assert [p.pages for p in pages] == [3, 3, 3] and [len(p.rows) for p in pages] == [2, 2, 2]
        rows = [row for p in pages for row in p.rows]
        assert [r.idea.id for r in rows] == [r.idea.id for r in whole.rows] == [*(i.id for i in ideas[:4]), decided.id, ideas[4].id]
        assert [r.rank for r in rows] == [1, 2, 3, 4, 5, 6]
        assert pages[1].rows[0].running_total == pages[0].rows[-1].running_total + pages[1].rows[0].idea.requested_amount
        for index, row in enumerate(rows):
            above = [r.idea.id for r in rows[: index + 1]]
            assert row.running_total == db.session.scalar(select(func.sum(Idea.requested_amount)).where(Idea.id.in_(above)))
        merged = {i: (s.pick, s.reason) for p in pages for i, s in p.suggestions.items()}
        assert merged == {i: (s.pick, s.reason) for i, s in whole.suggestions.items()}
        assert decided.id not in merged and set(pages[1].suggestions) == {ideas[2].id, ideas[3].id}
    # 2,500 € left. Plain: 1,000 fits, 1,900 does not, 900 fits, 1,200 does not, 600 fits;
    # balancing takes Ludza's best (600) right after Rēzekne's.
    plain = ops.board(competition, page_size=100).suggestions
    assert [plain[i.id].pick for i in ideas] == [True, False, True, False, True]
    assert ops.board(competition, balance=True, page=3).suggestions[ideas[4].id].reason.startswith("Līdzsvarošana")
    page = admin_client.get(f"/decide/competitions/{competition.id}", query_string={"balance": 1, "page": 2}).get_data(as_text=True)
    links = re.findall(r'href="(/decide/competitions/\d+\?[^"]*)"', page)
    assert links and all("balance=1" in link for link in links), links
    assert f'id="idea-{ideas[2].id}"' in page and f'id="idea-{ideas[0].id}"' not in page


def test_municipality_answer_typed_and_left_is_kept_and_dropped_when_sent(client, factory, representative):
    """The cooperation form autosaves like the others (core.drafts): what the representative
    typed and left is filled in again, nothing is confirmed by it, and sending drops it."""
    from grantflow.core.drafts import FormDraft

    idea = factory.funded()
    db.session.commit()
    login(client, representative.email)
    url = f"/decide/ideas/{idea.id}/cooperation"
    assert 'data-autosave' in client.get(url).get_data(as_text=True)
    typed = confirmation_form(signatory_position="izpilddirektora vietnieks", registration_number="")
    response = client.post(url, data=typed, headers={"X-Autosave": "1"})
    assert response.status_code == 204 and response.headers["X-Saved-At"]
    assert ops.latest_confirmation(fresh(idea)) is None  # kept, not sent
    page = client.get(url).get_data(as_text=True)
    assert 'value="izpilddirektora vietnieks"' in page and "ir saglabāts un ievietots zemāk" in page
    assert client.post(url, data=confirmation_form()).status_code == 303
    assert ops.confirmed_cooperation(fresh(idea)) is not None
    assert db.session.scalar(select(func.count()).select_from(FormDraft)) == 0
