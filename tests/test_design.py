"""The design system: status colours read from the states' tags, the programme's branding from the
configuration, the footer's pages, and the form patterns (error summary, character count)."""

import re
from types import SimpleNamespace

from grantflow import create_app
from grantflow.core.extensions import db
from grantflow.core.web import state_colour
from grantflow.workflow.registry import workflow_for
from tests.conftest import BASE_CONFIG, login

COLOURS = {"grey", "blue", "teal", "purple", "green", "yellow", "red"}


def test_status_colours_follow_the_states_tags(app):
    with app.app_context():
        states = workflow_for("community_ideas").states
        colours = {name: state_colour(state) for name, state in states.items()}
        centre = workflow_for("resource_centre").states
        centre_colours = {state_colour(state) for state in centre.values()}
    assert colours == {
        "draft": "grey", "submitted": "blue", "in_review": "teal", "reviewed": "purple", "funded": "yellow",
        "reported": "green", "closed": "green", "rejected": "red", "ineligible": "red", "withdrawn": "red",
    }  # fmt: skip
    assert centre_colours <= COLOURS and {"grey", "green", "red", "blue"} <= centre_colours
    # Names mean nothing: a state called "draft" tagged funded is green; an untagged final one is red.
    assert state_colour(SimpleNamespace(name="draft", tags=frozenset({"filed", "funded"}), final=False)) == "green"
    assert state_colour(SimpleNamespace(name="closed", tags=frozenset(), final=True)) == "red"


def test_an_ideas_state_is_shown_as_a_tag_of_its_colour(client, factory):
    idea = factory.submitted()
    member = factory.member_of(idea.organisation)
    db.session.commit()
    login(client, member.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert re.search(r'<strong class="govuk-tag govuk-tag--blue state">Iesniegts[^<]*</strong>', page)


def test_the_programmes_name_colour_logo_and_contacts_come_from_the_configuration():
    app = create_app(
        {
            **BASE_CONFIG,
            "DATABASE_URL": "sqlite://",
            "PROGRAMME_NAME": {"lv": "Mūsu kopiena", "en": "Our community"},
            "BRAND_COLOUR": "#123456",
            "LOGO": "/static/own-logo.png",
            "CONTACT_EMAIL": "sveiki@kopiena.example",
            "CONTACT_PHONE": "+371 2000 0000",
            "CONTACT_ADDRESS": "Skolas iela 1, Rēzekne",
        }
    )
    client = app.test_client()
    page = client.get("/privacy").get_data(as_text=True)
    assert "<title>Privātuma paziņojums · Mūsu kopiena</title>" in page
    assert '<span class="gf-header__name">Mūsu kopiena</span>' in page
    assert "--govuk-brand-colour: #123456;" in page and '<meta name="theme-color" content="#123456">' in page
    assert '<img class="gf-header__logo" src="/static/own-logo.png"' in page
    assert 'href="mailto:sveiki@kopiena.example"' in page and 'href="tel:+37120000000"' in page
    assert "Skolas iela 1, Rēzekne" in page and "Darbīgās kopienas" not in page
    client.post("/language", data={"language": "en", "next": "/privacy"})
    page = client.get("/privacy").get_data(as_text=True)
    assert "<title>Privacy notice · Our community</title>" in page and "sveiki@kopiena.example" in page


def test_every_page_has_the_footer_with_privacy_notice_and_accessibility_statement(client):
    for path in ("/", "/login", "/no-such-page"):
        page = client.get(path).get_data(as_text=True)
        assert 'href="/privacy">Privātuma paziņojums</a>' in page, path
        assert 'href="/accessibility">Piekļūstamības paziņojums</a>' in page, path
    texts = (
        ("/privacy", "Datu pārzinis ir programmas īstenotājs", "The controller of the data is"),
        ("/accessibility", "tīmekļa satura piekļūstamības vadlīniju", "Web Content Accessibility Guidelines"),
    )
    for path, lv, en in texts:
        response = client.get(path)
        assert (
            response.status_code == 200
            and lv in response.get_data(as_text=True)
            and en not in response.get_data(as_text=True)
        )
    client.post("/language", data={"language": "en", "next": "/"})
    for path, lv, en in texts:
        page = client.get(path).get_data(as_text=True)
        assert en in page and lv not in page, path


def test_a_form_with_errors_starts_with_a_summary_linking_to_each_field(client):
    page = client.post("/register", data={"name": "", "email": "nav-adrese", "password": "", "password_again": ""})
    page = page.get_data(as_text=True)
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S).group(0)
    linked = re.findall(r'<li><a href="#([\w-]+)">', summary)
    assert linked[:2] == ["name", "email"] and "password" in linked
    # each field keeps what was typed and says what is wrong beside it
    assert 'id="email"' in page and 'value="nav-adrese"' in page and 'id="email-error"' in page
    assert "govuk-form-group--error" in page and "govuk-input--error" in page


def test_long_text_gets_a_character_count_in_the_pages_language(client, factory):
    admin = factory.admin()
    competition = factory.competition()
    db.session.commit()
    login(client, admin.email)
    page = client.get(f"/competitions/{competition.id}/edit").get_data(as_text=True)
    counted = re.findall(r'data-module="govuk-character-count" data-maxlength="(\d+)"', page)
    assert counted and all(int(n) >= 250 for n in counted)
    assert 'data-i18n.characters-under-limit.one="Atlikusi %{count} rakstzīme"' in page
    assert re.search(r'id="title_lv-info">Varat ierakstīt līdz \d+ rakstzīmēm<', page)
