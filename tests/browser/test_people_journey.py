"""An administrator invites a municipality representative; the representative sets a password
through the mailed link, sees the ideas of their municipality and confirms a cooperation (the
resource centre competition's idea waits for it). Screenshots of the people pages at desktop
and phone width go to the test's temporary folder."""

import re

import pytest
from playwright.sync_api import expect

from grantflow.demo.operations import PASSWORD
from tests.browser.conftest import log_in, log_out
from tests.factories import register_number


@pytest.mark.browser
def test_invited_representative_sets_a_password_and_confirms_a_cooperation(page, phone, live_server, mail_sink, tmp_path):
    log_in(page, "admin@demo.grantflow.lv", PASSWORD)
    page.get_by_role("link", name="Konkursi").first.click()
    page.get_by_role("link", name="Cilvēki").click()
    page.get_by_role("link", name="Uzaicināt cilvēku").click()
    page.get_by_label("Vārds").fill("Rasma Pašvaldniece")
    page.get_by_label("E-pasts").fill("rasma@example.lv")
    page.get_by_label("Pašvaldības pārstāvis").check()
    page.get_by_role("button", name="Nosūtīt uzaicinājumu").click()
    # No municipality chosen: refused beside the field, what was typed kept.
    expect(page.locator("#municipalities-error")).to_contain_text("vismaz viena pašvaldība")
    expect(page.get_by_label("E-pasts")).to_have_value("rasma@example.lv")
    page.screenshot(path=str(tmp_path / "invite-refused.png"), full_page=True)
    if not page.get_by_label("Rēzeknes novads").is_visible():
        page.get_by_text("Izvēlēties pašvaldības").click()
    page.get_by_label("Rēzeknes novads").check()
    page.get_by_role("button", name="Nosūtīt uzaicinājumu").click()
    expect(page.get_by_role("heading", name="Rasma Pašvaldniece")).to_be_visible()
    expect(page.get_by_text("uzaicināts, parole vēl nav iestatīta").first).to_be_visible()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(tmp_path / "person-desktop.png"), full_page=True)
    page.goto("/admin/log")
    expect(page.get_by_role("cell", name="Uzaicināts cilvēks").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "log-desktop.png"), full_page=True)
    log_out(page)

    # The mail arrived at the SMTP server with the link.
    mails = mail_sink.to("rasma@example.lv")
    assert mails, "no invitation mail arrived"
    body = mails[-1].get_body(("plain",)).get_content()
    link = re.search(r"http://127\.0\.0\.1:\d+(/invitation/\S+)", body).group(1)
    page.goto(link)
    page.get_by_label("Jaunā parole", exact=True).fill("rasmas-parole-2026")
    page.get_by_label("Jaunā parole vēlreiz").fill("rasmas-parole-2026")
    page.get_by_role("button", name="Saglabāt paroli un ienākt").click()
    home = page.locator("#municipality-home")
    expect(home.get_by_role("heading").first).to_have_text("Idejas: Rēzeknes novads")
    home.get_by_role("link", name="Kopienu resursu centrs Dricānos").click()
    page.locator("a[href*='/cooperation']").first.click()
    page.locator("#registration_number").fill(register_number(7))
    page.locator("#address").fill("Atbrīvošanas aleja 95A, Rēzekne")
    page.locator("#signatory_position").fill("Domes priekšsēdētāja")
    page.get_by_role("button", name="Apstiprināt pašvaldības apņemšanās").click()
    expect(page.locator(".flash.success").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "cooperation-confirmed.png"), full_page=True)

    # The people list on a phone.
    log_in(phone, "admin@demo.grantflow.lv", PASSWORD)
    phone.goto("/admin/people?q=rasma")
    expect(phone.get_by_role("link", name="Rasma Pašvaldniece")).to_be_visible()
    phone.screenshot(path=str(tmp_path / "people-phone.png"), full_page=True)
    print("screenshots in", tmp_path)
