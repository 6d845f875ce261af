"""The Proof of issue #11 as one journey in a real Chromium, with mail through the real SMTP
server: an administrator invites a municipality representative; the representative sets a
password through the link in the mail that arrived, sees the ideas of their municipality and
confirms a cooperation; the administrator asks the applicant a clarification question; the
applicant, mailed about it, answers in the app with an attachment. Its people, municipality
and idea are its own (the live server's database is shared by the journeys). Screenshots at
1366 and 375 px wide go to the test's temporary folder."""

import re
import time

import pytest
from playwright.sync_api import expect

from grantflow.core.extensions import db
from tests.browser.conftest import log_in, log_out
from tests.factories import PASSWORD, Factory, register_number

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MUNICIPALITY = "Balvu novads"
TITLE = "Balvu pirts atjaunošana talkā"
REPRESENTATIVE = "ausma.balvos@example.lv"


@pytest.fixture
def journey(live_server):
    with live_server.app.app_context():
        factory = Factory()
        admin = factory.admin(email="programmas.admins@example.lv", name="Zane Programmas")
        org = factory.organisation(name='biedrība "Balvu pirtnieki"', municipality=factory.municipality(MUNICIPALITY))
        applicant = factory.applicant(org, email="pirtniece@example.lv", name="Dace Pirtniece")
        idea = factory.submitted(org=org, title=TITLE)
        db.session.commit()
        data = {"admin": admin.email, "applicant": applicant.email, "idea": idea.id}
        db.session.remove()
    return data


def shots(page, folder, name: str) -> None:
    """The page at desktop and at phone width."""
    for width, height in ((1366, 900), (375, 740)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def mailed_link(mail_sink, address: str, pattern: str) -> str:
    """The path of the link matching `pattern` in the latest mail to `address` that has one
    (delivery runs after the commit: wait for it a little)."""
    for _attempt in range(50):
        for mail in reversed(mail_sink.to(address)):
            found = re.search(rf"http://127\.0\.0\.1:\d+({pattern}\S*)", mail.get_body(("plain",)).get_content())
            if found:
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address} with a link like {pattern}")


@pytest.mark.browser
def test_invite_a_representative_confirm_a_cooperation_and_answer_a_question(page, live_server, mail_sink, journey,
                                                                             tmp_path):  # fmt: skip
    # 1. The administrator invites a representative of the idea's municipality.
    log_in(page, journey["admin"], PASSWORD)
    page.goto("/admin/people")
    page.get_by_role("link", name="Uzaicināt cilvēku").click()
    page.get_by_label("Vārds").fill("Ausma Balvos")
    page.get_by_label("E-pasts").fill(REPRESENTATIVE)
    page.get_by_label("Pašvaldības pārstāvis").check()
    if not page.get_by_label(MUNICIPALITY, exact=True).is_visible():
        page.get_by_text("Izvēlēties pašvaldības").click()
    page.get_by_label(MUNICIPALITY, exact=True).check()
    shots(page, tmp_path, "1-invite")
    page.get_by_role("button", name="Nosūtīt uzaicinājumu").click()
    expect(page.get_by_role("heading", name="Ausma Balvos")).to_be_visible()
    expect(page.get_by_text("uzaicināts, parole vēl nav iestatīta").first).to_be_visible()
    log_out(page)

    # 2. The representative sets a password through the mailed link and sees their municipality's ideas.
    page.goto(mailed_link(mail_sink, REPRESENTATIVE, "/invitation/"))
    page.get_by_label("Jaunā parole", exact=True).fill("ausmas-parole-2026")
    page.get_by_label("Jaunā parole vēlreiz").fill("ausmas-parole-2026")
    page.get_by_role("button", name="Saglabāt paroli un ienākt").click()
    home = page.locator("#municipality-home")
    expect(home.get_by_role("heading").first).to_have_text(f"Idejas: {MUNICIPALITY}")
    shots(page, tmp_path, "2-municipality-home")
    home.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()

    # 3. ...and confirms the cooperation.
    page.locator("a[href*='/cooperation']").first.click()
    page.locator("#registration_number").fill(register_number(11))
    page.locator("#address").fill("Brīvības iela 46A, Balvi")
    page.locator("#signatory_position").fill("Domes priekšsēdētājs")
    shots(page, tmp_path, "3-cooperation")
    page.get_by_role("button", name="Apstiprināt pašvaldības apņemšanās").click()
    expect(page.locator(".flash.success").first).to_be_visible()
    log_out(page)

    # 4. The administrator asks the applicant a question, reopening the budget line.
    log_in(page, journey["admin"], PASSWORD)
    page.goto(f"/ideas/{journey['idea']}")
    expect(page.get_by_text("Balvu novads").first).to_be_visible()
    page.get_by_role("link", name="Rakstīt ziņu").click()
    page.get_by_label("Jautājums pieteicējam").check()
    page.get_by_label("Ziņa").fill("Lūdzu, pievienojiet pirts krāsns tāmi un pārbaudiet cenu.")
    page.get_by_label(re.compile(r"Budžeta 1\. pozīcija")).check()
    page.get_by_role("button", name="Nosūtīt").click()
    expect(page.get_by_text("Jautājums nosūtīts pieteicējam.")).to_be_visible()
    log_out(page)

    # 5. The applicant follows the link in the mail about the question and answers in the app,
    # with a file and a corrected price.
    answer = mailed_link(mail_sink, journey["applicant"], r"/messages/\d+/answer")
    log_in(page, journey["applicant"], PASSWORD)
    page.goto(f"/ideas/{journey['idea']}")
    expect(page.get_by_text("pievienojiet pirts krāsns tāmi")).to_be_visible()
    page.goto(answer)
    page.get_by_label("Jūsu atbilde").fill("Pievienoju tāmi; cena ir par 200 € mazāka.")
    page.get_by_label("Vienības cena, €").fill("800")
    quote = tmp_path / "kraesns-tame.pdf"
    quote.write_bytes(PDF)
    page.get_by_label("Datnes (nav obligātas)").set_input_files(str(quote))
    shots(page, tmp_path, "5-answer")
    page.get_by_role("button", name="Nosūtīt atbildi").click()
    expect(page.get_by_text("Paldies, jūsu atbilde nosūtīta.")).to_be_visible()
    messages = page.locator("#messages")
    expect(messages.get_by_text("Pievienoju tāmi")).to_be_visible()
    expect(messages.get_by_role("link", name="kraesns-tame.pdf")).to_be_visible()
    expect(messages.get_by_role("cell", name="800,00 €", exact=True).first).to_be_visible()  # the corrected price
    shots(page, tmp_path, "6-thread")
    log_out(page)

    # The administrator reads the answer, with the file, on the idea page.
    log_in(page, journey["admin"], PASSWORD)
    page.goto(f"/ideas/{journey['idea']}")
    expect(page.locator("#messages").get_by_text("Pievienoju tāmi")).to_be_visible()
    expect(page.locator("#messages").get_by_role("link", name="kraesns-tame.pdf")).to_be_visible()
    print("screenshots in", tmp_path)
