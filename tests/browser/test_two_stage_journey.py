"""The two-stage competition (workflows/concept_proposal.yaml) in a real Chromium, every step by
clicks as the person who does it: the applicant writes and submits the concept through its
sections and "check your answers"; the administrator screens it, assigns an evaluator who scores
it in the concept's round; the administrator invites a full proposal; the applicant sees the
proposal's deadline, writes the proposal and still reads the concept; the proposal is screened
into the second round, where the same evaluator is assigned and scores it again; the board funds
it and the applicant sees the decision. Only the competition and the people are made in Python.

GRANTFLOW_SHOTS=<folder> keeps a desktop (1366) and a phone (375) screenshot of each page on
the way, to look at."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect
from pypdf import PdfReader

from grantflow.core.config import ROOT
from grantflow.core.extensions import db
from grantflow.core.i18n import format_when
from grantflow.core.types import utcnow
from tests.browser.conftest import log_in, log_out
from tests.factories import PASSWORD, Factory

SHOTS = os.environ.get("GRANTFLOW_SHOTS")
WORKFLOW = yaml.safe_load((ROOT / "workflows" / "concept_proposal.yaml").read_text(encoding="utf-8"))
# The workflow's code words (states, triggers) that never reach a page.
CODE_WORDS = sorted({*WORKFLOW["states"], *(t["trigger"] for t in WORKFLOW["transitions"] if "_" in t["trigger"])})


def shot(page, name: str) -> None:
    """The page shows no code word; screenshots of it on a desktop and on a phone (those with
    GRANTFLOW_SHOTS only)."""
    text = page.locator("body").inner_text()
    assert not [word for word in CODE_WORDS if word in text], name
    if not SHOTS:
        return
    folder = Path(SHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, width in (("desktop", 1366), ("phone", 375)):
        page.set_viewport_size({"width": width, "height": 900 if width > 400 else 740})
        page.screenshot(path=folder / f"{name}-{label}.png", full_page=True)
        page.screenshot(path=folder / f"{name}-{label}-screen.png")  # as seen, sticky parts in place
    page.set_viewport_size(size)


@pytest.fixture
def two_stage(live_server):
    with live_server.app.app_context():
        factory = Factory()
        competition = factory.competition(
            workflow="concept_proposal", title_lv="Divpakāpju pārlūka konkurss", code="DIVP-2026",
            evaluators_per_idea=1,
        )  # fmt: skip
        # The full proposal's window: opens once the concepts are in (here, already).
        proposal = competition.stage("proposal")
        proposal.opens_at = utcnow() - timedelta(hours=1)
        proposal.closes_at = utcnow() + timedelta(days=30)
        org = factory.organisation(name='biedrība "Upes krasts"')
        applicant = factory.applicant(org, email="divpakapju@example.lv", name="Ilze Upeniece")
        admin = factory.admin(email="divpakapju-admins@example.lv", name="Dace Divpakāpe")
        evaluator = factory.evaluator(email="divpakapju-vertetajs@example.lv", name="Valdis Divkārtējs")
        db.session.commit()
        data = {
            "competition": competition.id, "title": competition.title_lv, "applicant": applicant.email,
            "admin": admin.email, "evaluator": evaluator.email, "evaluator_name": evaluator.name,
            "concept_closes": format_when(competition.stage("concept").closes_at, "lv"),
            "proposal_closes": format_when(proposal.closes_at, "lv"),
        }  # fmt: skip
        db.session.remove()
    return data


def save_and_continue(page):
    page.get_by_role("button", name="Saglabāt un turpināt").click()


def open_competition(page, data: dict) -> None:
    """The administrator's way to a competition: Konkursi, then its title."""
    page.get_by_role("link", name="Konkursi").first.click()
    page.get_by_role("link", name=data["title"]).click()


def screen_as_eligible(page, idea_id: int, deadline: str) -> None:
    """The administrator's eligibility check, from the idea's staff page."""
    page.goto(f"/ideas/{idea_id}")
    page.get_by_role("link", name="Pārbaudīt atbilstību").first.click()
    expect(page.locator("main")).to_contain_text(f"termiņš {deadline}")  # the stage's own
    shot(page, "screening")
    form = page.locator("form.card")
    for box in form.locator("input[type=checkbox]").all():
        box.check()
    form.get_by_label("Atbilst: nodot vērtēšanai").check()
    form.get_by_role("button", name="Saglabāt pārbaudi").click()
    expect(page.get_by_role("status").first).to_contain_text("Atbilstības pārbaude saglabāta.")


def assign_evaluator(page, data: dict, idea_id: int, round_label: str) -> None:
    """The administrator assigns the evaluator by hand on the competition's assignment page:
    each idea with its current round and that round's evaluators only."""
    open_competition(page, data)
    page.get_by_role("link", name="Vērtētāji").first.click()
    row = page.locator(f"#idea-{idea_id}")
    expect(row).to_contain_text(round_label)
    expect(row).to_contain_text("Vērtētāja vēl nav.")
    row.get_by_label("Vērtētājs").select_option(label=data["evaluator_name"])
    row.get_by_role("button", name="Piesaistīt").click()
    expect(page.get_by_role("status").first).to_contain_text(f"{data['evaluator_name']} piesaistīts vērtēšanai.")
    expect(page.locator(f"#idea-{idea_id}")).to_contain_text("Jādara")
    shot(page, "assignments")


def score(page, data: dict, title: str, points: str, round_label: str) -> None:
    """The evaluator scores the idea from their desk, in the round the page names."""
    log_in(page, data["evaluator"], PASSWORD)
    page.locator("#evaluator-home").get_by_role("link", name=title).click()
    page.get_by_role("link", name="Vērtēt šo ideju").click()
    expect(page.locator("body")).to_contain_text(round_label)
    form = page.locator("#score-form")
    for box in form.locator("input[name^=points_]").all():
        box.fill(points)
    form.get_by_label("Jūsu ieteikums").select_option("fund")
    shot(page, f"score-{points}")
    form.get_by_role("button", name="Iesniegt vērtējumu").click()
    expect(page.get_by_role("status").first).to_contain_text("Jūsu vērtējums ir iesniegts.")
    log_out(page)


@pytest.mark.browser
def test_concept_invitation_full_proposal_second_round_and_decision(page, live_server, two_stage):
    data = two_stage
    title = "Upes krasta taka"

    # The applicant starts the concept and writes it section by section.
    log_in(page, data["applicant"], PASSWORD)
    page.goto("/apply/new")
    page.get_by_label("Konkurss").select_option(label=data["title"])
    page.get_by_role("button", name="Sākt melnrakstu").click()
    expect(page).to_have_url(re.compile(r"/apply/\d+/sections$"))
    idea_id = int(re.search(r"/apply/(\d+)/", page.url).group(1))
    shot(page, "concept-sections")
    page.goto("/")  # the desk gives the concept's deadline
    expect(page.get_by_text(f"Koncepcija: aizpildiet un iesniedziet līdz {data['concept_closes']}")).to_be_visible()
    page.goto(f"/apply/{idea_id}/sections")
    page.get_by_role("link", name="Koncepcija", exact=True).click()
    page.get_by_label("Projekta nosaukums").fill(title)
    page.get_by_label("Kopsavilkums").fill("Taka gar upi visai kopienai.")
    page.get_by_label("Kopiena un tās vajadzība").fill("Nav drošas vietas pastaigām.")
    page.get_by_label("Aptuvenais prasītais finansējums, €").fill("1500")
    save_and_continue(page)
    page.get_by_label("Kontaktpersona", exact=True).fill("Ilze Upeniece")
    page.get_by_label("Kontaktpersonas e-pasts").fill("divpakapju@example.lv")
    page.get_by_label("Pašvaldība", exact=True).select_option(index=1)
    save_and_continue(page)
    expect(page).to_have_url(re.compile(r"/check$"))
    assert not page.locator(".govuk-error-summary").count()
    shot(page, "concept-check")
    page.get_by_role("link", name="Turpināt uz iesniegšanu").click()
    page.get_by_role("button", name="Iesniegt ideju").click()
    expect(page.get_by_role("status").first).to_be_visible()
    expect(page.locator("#stage-submissions")).to_contain_text("Koncepcija — iesniegts")
    shot(page, "concept-submitted")
    with page.expect_download() as download:  # the receipt's copy: the concept as submitted
        page.locator("#documents").get_by_role("link", name=re.compile("Iesniegtās idejas kopija")).click()
    copy = " ".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    assert "Nav drošas vietas pastaigām." in copy and "Budžets" not in copy and "Mērķi" not in copy
    log_out(page)

    # The administrator screens the concept and assigns the evaluator to the concept's round.
    log_in(page, data["admin"], PASSWORD)
    screen_as_eligible(page, idea_id, data["concept_closes"])
    expect(page.locator("body")).to_contain_text("Koncepciju vērtē")
    assign_evaluator(page, data, idea_id, "Koncepciju vērtēšana")
    log_out(page)

    # The evaluator scores the concept: the idea is reviewed by itself.
    score(page, data, title, "7", "Koncepciju vērtēšana")

    # The administrator invites a full proposal from the idea page.
    log_in(page, data["admin"], PASSWORD)
    page.goto(f"/ideas/{idea_id}")
    expect(page.locator("body")).to_contain_text("Koncepcija izvērtēta")
    details = page.locator(".idea-details")  # the concept's answers, not the proposal's empty parts
    expect(details).to_contain_text("Nav drošas vietas pastaigām.")
    expect(details).not_to_contain_text("Budžets")
    shot(page, "admin-idea-concept-reviewed")
    page.locator("#steps").get_by_role("button", name="Uzaicināt iesniegt pilnu projektu").click()
    expect(page.locator("body")).to_contain_text("Uzaicināts — projekta melnraksts")
    log_out(page)

    # The applicant sees the next step and the proposal's deadline, writes the proposal.
    log_in(page, data["applicant"], PASSWORD)
    next_step = f"Pilns projekts: aizpildiet un iesniedziet līdz {data['proposal_closes']} (Rīgas laiks)."
    expect(page.locator("#applicant-home")).to_contain_text(next_step)
    shot(page, "applicant-desk-invited")
    page.locator("#applicant-home").get_by_role("link", name=title).first.click()
    expect(page.locator("main")).to_contain_text("Uzaicināts iesniegt pilnu projektu")
    expect(page.locator("main")).to_contain_text(next_step)
    shot(page, "applicant-idea-invited")
    page.get_by_role("link", name="Turpināt aizpildīt ideju").click()
    shot(page, "proposal-sections")
    page.get_by_role("link", name="Ideja", exact=True).click()
    expect(page.get_by_label("Idejas nosaukums")).to_have_value(title)  # carried over from the concept
    page.get_by_label("Mērķi").fill("Droša pastaigu vieta visiem.")
    save_and_continue(page)
    if page.locator("#activities-0-description").count() == 0:
        page.get_by_role("button", name="+ Pievienot rindu").click()
    page.locator("#activities-0-description").fill("Talka: takas būve.")
    page.locator("#activities-0-starts_on").fill((utcnow() + timedelta(days=60)).date().isoformat())
    page.locator("#activities-0-ends_on").fill((utcnow() + timedelta(days=61)).date().isoformat())
    save_and_continue(page)
    page.get_by_label("Seniori").check()
    page.get_by_label("Paredzamais dalībnieku skaits").fill("40")
    save_and_continue(page)
    save_and_continue(page)  # partners: none
    page.get_by_label("Kas paliks pēc tam, kad nauda būs iztērēta?").fill("Taku kops biedrība.")
    save_and_continue(page)
    if page.locator("#budget_lines-0-item").count() == 0:
        page.get_by_role("button", name="+ Pievienot rindu").click()
    page.locator("#budget_lines-0-item").fill("Dēļi un soliņi")
    page.locator("#budget_lines-0-quantity").fill("1")
    page.locator("#budget_lines-0-unit_cost").fill("1400")
    save_and_continue(page)
    while not re.search(r"/check$", page.url):  # the sections left (contact, files) are complete
        save_and_continue(page)
    errors = page.locator(".govuk-error-summary").all_inner_texts()
    assert not errors, errors
    shot(page, "proposal-check")
    page.get_by_role("link", name="Turpināt uz iesniegšanu").click()
    page.get_by_role("button", name="Iesniegt ideju").click()
    submissions = page.locator("#stage-submissions")
    expect(submissions).to_contain_text("Pilns projekts — iesniegts")
    expect(submissions).to_contain_text("Koncepcija — iesniegts")
    expect(submissions).to_contain_text("Aptuvenais prasītais finansējums")  # the concept, as it was
    shot(page, "proposal-submitted")
    log_out(page)

    # The second round: the proposal screened, the same evaluator assigned again.
    log_in(page, data["admin"], PASSWORD)
    page.goto(f"/ideas/{idea_id}")
    page.locator("#steps").get_by_role("button", name="Sākt projekta vērtēšanu").click()
    expect(page.locator("body")).to_contain_text("Projektu vērtē")
    assign_evaluator(page, data, idea_id, "Projektu vērtēšana")
    log_out(page)
    score(page, data, title, "9", "Projektu vērtēšana")

    # The decision on the funding board.
    log_in(page, data["admin"], PASSWORD)
    open_competition(page, data)
    page.get_by_role("link", name="Finansējuma sadale").click()
    row = page.locator(f"#idea-{idea_id}")
    shot(page, "board")
    row.get_by_role("button", name="Atbalstīt pilnā apmērā").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Atbalstīts: {title}")
    log_out(page)

    # The applicant sees the decision.
    log_in(page, data["applicant"], PASSWORD)
    page.locator("#applicant-home").get_by_role("link", name=title).first.click()
    expect(page.locator("body")).to_contain_text("Atbalstīts — īstenošana un atskaite")
    shot(page, "applicant-funded")
