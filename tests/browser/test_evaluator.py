"""The evaluator's journey in a real Chromium: declare a conflict of interest on one idea,
score another, and see the other evaluator's scores only after submitting."""

import pytest
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
    assert "Iesniegti 0 no 2; atlikuši 2." in desk.inner_text()

    # A conflict on the first idea: removed from it, the administrators are told.
    desk.get_by_role("link", name="Mana kaimiņa ideja").click()
    page.get_by_role("link", name="Vērtēt šo ideju").click()
    conflict = page.locator("#conflict")
    conflict.get_by_label("Tikai uz šo ideju").check()
    conflict.get_by_label("Aprakstiet interešu konfliktu").fill("Idejas autors ir mans kaimiņš.")
    conflict.get_by_role("button", name="Deklarēt interešu konfliktu").click()
    assert "Jūsu interešu konflikts ir reģistrēts" in page.get_by_role("status").inner_text()
    assert "Mana kaimiņa ideja" not in page.locator("#evaluation-desk").inner_text()
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
    assert SECRET not in page.content()
    form = page.locator("#score-form")
    for criterion_id in journey["criteria"]:
        form.locator(f"[name=points_{criterion_id}]").fill("7.5")
    form.get_by_label("Jūsu ieteikums").select_option("fund")
    form.get_by_role("button", name="Saglabāt melnrakstu").click()
    assert "Melnraksts saglabāts." in page.get_by_role("status").inner_text()
    assert SECRET not in page.content()
    page.locator("#score-form").get_by_role("button", name="Iesniegt vērtējumu").click()
    assert "Jūsu vērtējums ir iesniegts." in page.get_by_role("status").inner_text()
    assert "75.00" in page.locator(".review").first.inner_text()
    others = page.locator("#other-reviews")
    assert SECRET in others.inner_text() and "40.00" in others.inner_text()

    with live_server.app.app_context():
        from grantflow.ideas.models import Idea

        idea = db.session.scalars(select(Idea).where(Idea.id == journey["scored"])).one()
        assert idea.has_tag("decidable")  # both reviews in: moved on by itself
        db.session.remove()
