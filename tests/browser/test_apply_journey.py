"""An applicant's whole journey in a real Chromium: register, confirm, create the
organisation, start an idea, fill its sections from the task list over two sittings
with a logout between, fix what the server could not read, add a file, check the answers, submit, get the receipt, and later
file the final report. Once on a desktop window, once on a narrow phone screen."""

import re
from itertools import count

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, log_out

_n = count(1)


PASSWORD = "Kopienas-dārzs-2026"


def register_with_organisation(page, live_server, mail_sink) -> str:
    """Register, confirm the e-mail by the mailed link, create the organisation."""
    email = f"journey{next(_n)}@example.lv"
    page.goto("/register")
    page.get_by_label("Jūsu vārds un uzvārds").fill("Inese Ozoliņa")
    page.get_by_label("E-pasts").fill(email)
    page.get_by_label("Parole", exact=True).fill(PASSWORD)
    page.get_by_label("Parole vēlreiz").fill(PASSWORD)
    page.get_by_role("button", name="Reģistrēties").click()
    expect(page).to_have_url(re.compile(r"/login$"))  # registered: sent on to log in
    deliver_outbox(live_server)
    (mail,) = mail_sink.to(email)
    link = re.search(re.escape(live_server.url) + r"(/confirm/\S+)", mail.get_body(("plain",)).get_content())[1]
    page.goto(link)
    log_in(page, email, PASSWORD)
    page.goto("/orgs/")
    page.get_by_role("link", name="Izveidot organizāciju").click()
    page.get_by_label("Organizācijas nosaukums").fill('Biedrība "Upes krasts"')
    page.get_by_label("Juridiskā forma").select_option(label="Biedrība")
    page.get_by_label("Reģistrācijas numurs").fill("40008012347")
    page.get_by_label("Bankas konts (IBAN)").fill("LV80 BANK 0000 4351 9500 1")
    page.get_by_label("Adrese").fill("Upes iela 1, Kaunata")
    page.get_by_label("Pašvaldība").select_option(label="Rēzeknes novads")
    page.get_by_label("Pagasts vai pilsēta").select_option(label="Kaunatas pagasts")
    page.get_by_label("Kontaktpersona").fill("Inese Ozoliņa")
    page.get_by_label("Tālrunis").fill("+371 20000000")
    page.get_by_role("button", name="Saglabāt").click()
    heading = page.get_by_role("heading", name='Biedrība "Upes krasts"')
    expect(heading.or_(page.locator(".field-error")).first).to_be_visible()  # saved, or refused
    errors = page.locator(".field-error").all_inner_texts()
    assert not errors, errors
    expect(heading).to_be_visible()
    log_out(page)
    return email


def fund(live_server, reference: str) -> None:
    """The programme's side, done through the real engine: eligible, two reviews, funded."""
    from decimal import Decimal

    from sqlalchemy import select

    from grantflow.core.extensions import db
    from grantflow.ideas.models import Idea
    from grantflow.review.models import Assignment, EligibilityCheck
    from grantflow.review.rounds import current_round_id
    from grantflow.workflow import engine
    from tests.factories import Factory

    with live_server.app.app_context():
        factory = Factory()
        idea = db.session.scalars(select(Idea).where(Idea.reference == reference)).one()
        admin = factory.admin()
        db.session.add(EligibilityCheck(idea_id=idea.id, checklist={}, eligible=True, checked_by_id=admin.id))
        engine.fire(idea, "accept_eligible", admin)
        evaluators = [factory.evaluator(), factory.evaluator()]
        for evaluator in evaluators:
            db.session.add(Assignment(idea_id=idea.id, evaluator_id=evaluator.id, assigned_by_id=admin.id,
                                      round_id=current_round_id(idea)))
        db.session.flush()
        for evaluator in evaluators:
            factory.review(idea, evaluator, 9)
        engine.fire(idea, "fund", admin, amount=Decimal(idea.requested_amount))
        db.session.commit()
        db.session.remove()


def deliver_outbox(live_server) -> None:
    """Send everything still queued: the demo data leaves its own mails in the outbox, which the
    server sends a hundred per request, so ours may still wait behind them."""
    from grantflow.core.extensions import db
    from grantflow.mail.operations import send_pending

    with live_server.app.app_context():
        while send_pending(500) != (0, 0):
            pass
        db.session.remove()


def fits_the_screen(page) -> bool:
    page.wait_for_load_state()  # the page's stylesheet is in
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def save(page, section: str) -> None:
    """Press the section's save button (the final report's one-page form); the caller waits for
    what the saved page shows."""
    page.locator(f"#{section}").get_by_role("button", name="Saglabāt").click()


def open_section(page, title: str, state: str) -> None:
    """On the idea's task list: the section shows its state; open it."""
    item = page.locator("#sections li").filter(has=page.get_by_role("link", name=title, exact=True))
    expect(item.locator(".govuk-task-list__status")).to_have_text(state)
    item.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def save_and_continue(page, next_title: str | None) -> None:
    page.get_by_role("button", name="Saglabāt un turpināt").click()
    expect(page.get_by_role("status").first).to_contain_text("Saglabāts.")
    if next_title:
        expect(page.get_by_role("heading", level=1)).to_have_text(next_title)


def journey(page, live_server, mail_sink, tmp_path, name):
    email = register_with_organisation(page, live_server, mail_sink)
    # First sitting: start the idea; it opens on its task list of sections.
    log_in(page, email, PASSWORD)
    page.get_by_role("link", name="Sākt jaunu ideju").click()
    page.get_by_label("Konkurss").select_option(label="Kopienu iniciatīvu konkurss „Darbīgās kopienas” 2026")
    page.get_by_role("button", name="Sākt melnrakstu").click()
    expect(page).to_have_url(re.compile(r"/apply/\d+/sections$"))
    assert fits_the_screen(page)
    page.screenshot(path=str(tmp_path / f"{name}-tasks.png"), full_page=True)
    open_section(page, "Ideja", "Nav sākts")
    page.get_by_label("Idejas nosaukums").fill(f"Ūdensmalas talka {name}")
    page.get_by_label("Kopsavilkums").fill("Sakopsim upes krastu kopā ar ģimenēm 👨‍👩‍👧.")
    save_and_continue(page, "Plānotās aktivitātes")
    log_out(page)

    # Second sitting: the desk leads to the task list; what was typed is still there.
    log_in(page, email, PASSWORD)
    page.get_by_role("link", name="Aizpildiet un iesniedziet ideju").click()
    open_section(page, "Ideja", "Tiek aizpildīts")
    expect(page.get_by_label("Idejas nosaukums")).to_have_value(f"Ūdensmalas talka {name}")
    page.get_by_label("Kopiena un tās vajadzība").fill("Upes krasts ir aizaudzis, ciemā nav kur satikties.")
    page.get_by_label("Mērķi").fill("Sakopt krastu un satikties.")
    save_and_continue(page, "Plānotās aktivitātes")
    activity = page.locator("#activities-0")
    activity.get_by_label("Kas notiks").fill("Talka upes krastā")
    activity.get_by_label("No (datums)").fill("2026-05-16")
    save_and_continue(page, "Mērķgrupas un dalībnieki")
    page.get_by_label("Ģimenes ar bērniem").check()
    page.get_by_label("Paredzamais dalībnieku skaits").fill("40")
    save_and_continue(page, "Partneri un viņu ieguldījums")
    save_and_continue(page, "Sadarbība ar pašvaldību un ilgtspēja")
    page.get_by_label("Kas paliks pēc tam, kad nauda būs iztērēta?").fill("Soliņi paliek kopienai.")
    save_and_continue(page, "Budžets")
    line = page.locator("#budget_lines-0")
    line.get_by_label("Pozīcija").fill("Soliņi")
    line.get_by_label("Daudzums").fill("4")
    line.get_by_label("Vienības cena, €").fill("1OO")  # letters O, not zeros
    page.get_by_role("button", name="Pievienot rindu").click()
    # The server kept the typed text and says so beside the field.
    cost = page.locator("#budget_lines-0").get_by_label("Vienības cena, €")
    expect(cost).to_have_attribute("aria-invalid", "true")
    expect(cost).to_have_value("1OO")
    expect(page.locator("#budget_lines-0-unit_cost-error")).to_contain_text("Ierakstiet skaitli")
    cost.fill("150")
    second = page.locator("#budget_lines-1")
    second.get_by_label("Pozīcija").fill("Brīvprātīgo darbs")
    second.get_by_label("Daudzums").fill("10")
    second.get_by_label("Vienības cena, €").fill("5")
    second.get_by_label("Pašu vai nefinanšu ieguldījums (netiek segts no finansējuma)").check()
    page.get_by_role("button", name="Saglabāt", exact=True).click()
    totals = page.locator("#budget-totals")
    expect(totals).to_contain_text("600,00 €")
    expect(totals).to_contain_text("50,00 €")
    assert fits_the_screen(page)
    page.screenshot(path=str(tmp_path / f"{name}-form.png"), full_page=True)
    save_and_continue(page, "Kontaktpersona un norises vieta")
    save_and_continue(page, "Datnes")
    # The files section takes a file on its own page.
    page.get_by_label("Datne", exact=True).set_input_files(
        files=[{"name": "tāme.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"}]
    )
    page.locator("#attachments").get_by_role("button", name="Augšupielādēt").click()
    expect(page.locator("#attachments")).to_contain_text("tāme.pdf")
    expect(page.get_by_role("heading", level=1)).to_have_text("Datnes")
    page.get_by_role("link", name="Visas sadaļas").click()
    for title in ("Ideja", "Plānotās aktivitātes", "Budžets", "Datnes"):
        item = page.locator("#sections li").filter(has=page.get_by_role("link", name=title, exact=True))
        expect(item.locator(".govuk-task-list__status")).to_have_text("Pabeigts")

    # Check the answers, then the page that says what submitting does, then submit.
    page.get_by_role("link", name="Pārbaudiet atbildes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pārbaudiet atbildes")
    if page.locator("#problems").count():
        pytest.fail(f"unexpected missing fields: {page.locator('main').inner_text()}")
    assert fits_the_screen(page)
    page.screenshot(path=str(tmp_path / f"{name}-check.png"), full_page=True)
    page.get_by_role("link", name="Turpināt uz iesniegšanu").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Iesniegt ideju?")
    page.screenshot(path=str(tmp_path / f"{name}-confirm.png"), full_page=True)
    page.get_by_role("button", name="Iesniegt ideju").click()
    expect(page.get_by_role("status").first).to_contain_text("Reģistrācijas numurs")
    flash = page.get_by_role("status").first.inner_text()
    reference = flash.split("numurs ")[1].split(";")[0]
    deliver_outbox(live_server)
    receipts = [m for m in mail_sink.to(email) if reference in m["Subject"]]
    assert len(receipts) == 1
    pdfs = [part for part in receipts[0].iter_attachments() if part.get_content_type() == "application/pdf"]
    assert pdfs and pdfs[0].get_payload(decode=True).startswith(b"%PDF")
    expect(page.get_by_role("link", name=re.compile(f"Iesniegtās idejas kopija.*{reference}"))).to_be_visible()

    # Later: the idea is funded and the final report is due.
    fund(live_server, reference)
    page.goto("/")
    page.get_by_role("link", name="Noslēguma atskaite jāiesniedz").click()
    expect(page.locator("#sections")).to_contain_text("Nav sākts")  # the report's task list
    page.get_by_role("link", name=re.compile("Visa atskaite vienā lapā")).click()
    held = page.locator("#activities-0")
    held.get_by_label("Datums").fill("2026-05-16")
    held.get_by_label("Kas notika").fill("Talka: sakopti 300 m krasta")
    held.get_by_label("Cik piedalījās").fill("38")
    page.get_by_label("Cik cilvēku kopā piedalījās").fill("38")
    page.get_by_label("Ģimenes ar bērniem").fill("20")
    page.get_by_label("Brīvprātīgo skaits").fill("12")
    page.locator("#spending-0").get_by_label("Faktiski iztērēts, €").fill("590,00")
    page.get_by_label("Kas kopienā mainījās?").fill("Krasts ir sakopts, kaimiņi satiekas.")
    page.get_by_label("Kas turpinās pēc projekta?").fill("Talka katru pavasari.")
    save(page, "spending")
    expect(page.locator("#spending")).to_contain_text("-10,00 €")
    assert fits_the_screen(page)
    page.get_by_role("button", name="Pārbaudīt un iesniegt atskaiti").click()
    expect(page.get_by_role("status").first).to_contain_text("Noslēguma atskaite ir iesniegta")
    expect(page.locator("#report")).to_contain_text("Talka katru pavasari.")
    page.screenshot(path=str(tmp_path / f"{name}-report.png"), full_page=True)


@pytest.mark.browser
def test_applicant_journey_on_a_desktop(page, live_server, mail_sink, tmp_path):
    journey(page, live_server, mail_sink, tmp_path, "desktop")


@pytest.mark.browser
def test_applicant_journey_on_a_phone(phone, live_server, mail_sink, tmp_path):
    journey(phone, live_server, mail_sink, tmp_path, "phone")
