"""The administrator's funding journey (suggestion, fund, reject, issue the letters) and the
applicant downloading the decision letter, in a real Chromium."""

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from grantflow.core.extensions import db
from tests.browser.conftest import log_in, log_out
from tests.factories import PASSWORD, Factory


@pytest.fixture
def journey(live_server):
    """A competition of its own in the live server's database: budget for one of two ideas."""
    with live_server.app.app_context():
        factory = Factory()
        competition = factory.competition(budget="1500.00", code="PARL-2026")
        org = factory.organisation(name='biedrība "Ūdrīšu ģimenes"')
        applicant = factory.applicant(org, email="udrisi@example.lv", name="Ērika Ūdrīte")
        best = factory.reviewed(competition=competition, org=org, amount="1000.00", points=9, title="Šūpoles Ūdrīšos")
        second = factory.reviewed(competition=competition, amount="1000.00", points=7, title="Ķiršu dārzs Lūznavā")
        admin = factory.admin(email="lemejs@example.lv", name="Lēmējs Administrators")
        db.session.commit()
        data = {"competition": competition.id, "best": best.id, "second": second.id,
                "admin": admin.email, "applicant": applicant.email, "title": competition.title_lv}
        db.session.remove()
    return data


@pytest.mark.browser
def test_administrator_funds_rejects_and_issues_letters_applicant_downloads(page, journey, live_server):
    log_in(page, journey["admin"], PASSWORD)
    page.get_by_role("link", name="Konkursi").first.click()
    page.get_by_role("link", name=journey["title"]).click()
    page.get_by_role("link", name="Finansējuma sadale").click()

    board = page.locator("#board")
    best, second = page.locator(f"#idea-{journey['best']}"), page.locator(f"#idea-{journey['second']}")
    # Amounts are written with no-break spaces, which these assertions take as spaces.
    expect(page.locator("#budget-remaining")).to_have_text("1 500,00 €")
    expect(best.locator(".suggestion")).to_contain_text("Atbalstīt")
    expect(second.locator(".suggestion")).to_contain_text("atlikuši tikai 500,00 €")
    expect(board.locator("tbody tr").first).to_have_id(f"idea-{journey['best']}")  # best score first

    page.get_by_label(re.compile("Līdzsvarot starp pašvaldībām")).check()
    page.get_by_role("button", name="Atjaunot ieteikumu").click()
    expect(page).to_have_url(re.compile(r"balance=1"))

    best.get_by_role("button", name="Atbalstīt pilnā apmērā").click()
    expect(page.get_by_role("status").first).to_contain_text("Atbalstīts: Šūpoles Ūdrīšos")
    expect(page.locator("#budget-committed")).to_have_text("1 000,00 €")
    expect(best.locator(".decision")).to_contain_text("1 000,00 €")

    second.get_by_role("link", name="Daļēji vai noraidīt…").click()
    page.locator("#reject").get_by_role("button", name="Noraidīt").click()  # no reason yet
    expect(page.locator("#reject .field-error")).to_be_visible()
    page.get_by_label("Noraidījuma pamatojums").fill("Idejai nepietiek budžeta; vērtējums zemāks.")
    page.locator("#reject").get_by_role("button", name="Noraidīt").click()
    expect(page.get_by_role("status").first).to_contain_text("Noraidīts: Ķiršu dārzs Lūznavā")

    for idea_id in (journey["best"], journey["second"]):
        page.goto(f"/ideas/{idea_id}")
        page.get_by_role("button", name="Izsniegt lēmumu").click()
        expect(page.get_by_role("status").first).to_contain_text("Izsniegts: lemums-PARL-2026-")
        expect(page.locator("#documents").get_by_role("link", name=re.compile("Lēmums"))).to_be_visible()

    log_out(page)
    log_in(page, journey["applicant"], PASSWORD)
    page.locator("#applicant-home").get_by_role("link", name="Šūpoles Ūdrīšos").click()
    with page.expect_download() as download:
        page.locator("#documents").get_by_role("link", name=re.compile("Lēmums")).click()
    pdf = open(download.value.path(), "rb").read()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    text = re.sub(r"\s+", " ", text)
    assert "biedrība „Ūdrīšu ģimenes”" in text and "Šūpoles Ūdrīšos" in text
    assert "viens tūkstotis eiro, 00 centi" in text and "Jēkabpilī, " in text

    url = re.search(r"https?://\S+/verify/[0-9a-f-]{36}", text).group(0)
    page.goto(url)
    expect(page.locator("#currency")).to_contain_text("Šī ir pašreizējā versija.")
