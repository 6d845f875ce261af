"""The evaluator's journey in a real Chromium: declare a conflict of interest on one idea,
score another, and see the other evaluator's scores only after submitting."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from grantflow.core.extensions import db
from grantflow.mail.operations import send_pending
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, Factory

SECRET = "Otrā vērtētāja slepenais komentārs"


@pytest.fixture
def journey(live_server):
    with live_server.app.app_context():
        factory = Factory()
        me = factory.evaluator(email="vertetajs-celojums@example.lv", name="Marta Celotāja")
        other = factory.evaluator(email="otrs-vertetajs@example.lv", name="Oskars Otrais")
        competition = factory.competition(title_lv="Pārlūka konkurss")
        conflicted = factory.in_review(evaluators=[me, other], competition=competition, title="Mana kaimiņa ideja")
        scored = factory.in_review(evaluators=[me, other], competition=competition, title="Bibliotēkas lasītāju klubs")
        review = factory.review(scored, other, points=4)
        review.comment = SECRET
        db.session.commit()
        data = {"me": me.email, "conflicted": conflicted.id, "conflicted_ref": conflicted.reference,
                "scored": scored.id, "criteria": [c.id for c in competition.criteria]}  # fmt: skip
        db.session.remove()
    return data


@pytest.mark.browser
def test_evaluator_declares_a_conflict_scores_and_then_sees_the_other_review(page, live_server, mail_sink, journey):
    log_in(page, journey["me"], PASSWORD)
    desk = page.locator("#evaluator-home")
    expect(desk).to_contain_text("Iesniegti 0 no 2; atlikuši 2.")

    # A conflict on the first idea: removed from it, the administrators are told.
    desk.get_by_role("link", name="Mana kaimiņa ideja").click()
    page.get_by_role("link", name="Vērtēt šo ideju").click()
    conflict = page.locator("#conflict")  # asked before the scores, folded until opened
    expect(conflict.get_by_label("Tikai uz šo ideju")).to_be_hidden()
    conflict.get_by_text("Man ir interešu konflikts").click()
    conflict.get_by_label("Tikai uz šo ideju").check()
    conflict.get_by_label("Aprakstiet interešu konfliktu").fill("Idejas autors ir mans kaimiņš.")
    conflict.get_by_role("button", name="Deklarēt interešu konfliktu").click()
    expect(page.get_by_role("status")).to_contain_text("Jūsu interešu konflikts ir reģistrēts")
    expect(page.locator("#evaluation-desk")).not_to_contain_text("Mana kaimiņa ideja")
    assert page.goto(f"/ideas/{journey['conflicted']}").status == 404
    with live_server.app.app_context():  # the demo data's backlog goes out 100 mails per request
        while send_pending()[0]:
            pass
        db.session.remove()
    subjects = [m["Subject"] for m in mail_sink.to("admin@demo.grantflow.lv")]
    assert any(journey["conflicted_ref"] in s and "interešu konflikts" in s for s in subjects)

    # Scoring the second idea: the other evaluator's review stays hidden until mine is in.
    page.goto("/review/")
    page.get_by_role("link", name="Vērtēt").click()
    form = page.locator("#score-form")
    expect(form).to_be_visible()
    assert SECRET not in page.content()  # not in the page's text, nor anywhere in its HTML
    for criterion_id in journey["criteria"]:
        form.locator(f"[name=points_{criterion_id}]").fill("7.5")
    form.get_by_label("Jūsu ieteikums").select_option("fund")
    form.get_by_role("button", name="Saglabāt melnrakstu").click()
    expect(page.get_by_role("status")).to_contain_text("Melnraksts saglabāts.")
    assert SECRET not in page.content()
    page.locator("#score-form").get_by_role("button", name="Iesniegt vērtējumu").click()
    expect(page.get_by_role("status")).to_contain_text("Jūsu vērtējums ir iesniegts.")
    expect(page.locator(".review").first).to_contain_text("75,00")
    others = page.locator("#other-reviews")
    expect(others).to_contain_text(SECRET)
    expect(others).to_contain_text("40,00")

    with live_server.app.app_context():
        from grantflow.ideas.models import Idea

        idea = db.session.scalars(select(Idea).where(Idea.id == journey["scored"])).one()
        assert idea.has_tag("decidable")  # both reviews in: moved on by itself
        db.session.remove()
