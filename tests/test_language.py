"""Every word in the reader's language: each persona walks every page it may see (the routes of
the authorisation matrix, filled from tests/world.py) in Latvian and in English, plus error
pages and forms sent back with errors; no page may show an English message on a Latvian page
or a Latvian translation on an English one (from our catalogues, so a message left out of a
catalogue or a hard-coded word is caught), a telltale word of the other language, or a code
word (a state, trigger or audit-kind name). Language does not depend on the database: SQLite
only, to keep it fast."""

import re
from html.parser import HTMLParser

import pytest

from grantflow.core import catalogues
from grantflow.workflow.registry import registry
from tests import routes
from tests.conftest import login
from tests.test_authz_matrix import EXPECT, PUBLIC, RULES
from tests.world import PERSONAS, world_fixture

# Words that give the other language away (names aside): on a Latvian page, English ones...
ENGLISH_WORDS = {"the", "and", "of", "is", "required", "Please", "please", "Nov", "not", "valid", "field", "euros",
                 "receipt", "with", "this", "page"}  # fmt: skip
# ...on an English page, Latvian ones.
LATVIAN_WORDS = {"nav", "ir", "lūdzu", "Lūdzu", "un", "vai", "ar", "līdz", "eiro", "gada", "idejas", "konkurss",
                 "lauks", "obligāts", "summa", "nov"}  # fmt: skip
# Stored text the world made in Latvian (names, titles, places): allowed on English pages.
NAMES = re.compile(r"Rēzeknes novads|Ludzas novads|biedrība \"Kopiena \d+\"|Lietotājs \d+|Kopienas dārzs|Talka|"
                   r"Anna Bērziņa|Kopīgs dārzs ģimenēm un senioriem\.|Ciemā nav vietas, kur satikties\.|Satikties un kopā strādāt\.|"
                   r"Melnraksts A|Iesniegta A|Novērtēta A|Atbalstīta A|tāme\.pdf|čeks\.pdf|"
                   r"lemums\.pdf|[\w.+-]+@[\w.-]+|\w+ pagasts|Rēzekne|Ludza|[A-Z]-\d+|DK-\d{4}-\d+")  # fmt: skip
# Pages that show stored text in both languages by design: the criteria an administrator
# edits (Latvian and English names side by side) and the outbox (each mail in its recipient's
# language); their own words are still checked on the pages that use the same templates.
BILINGUAL = {"competitions.criteria", "competitions.edit_criterion", "competitions.rounds", "competitions.edit_round", "pages.outbox"}
# The API's page lists the operations as the OpenAPI document describes them: in English, for
# developers (the page says so in Latvian).
API_DOCS = {"tokens.docs"}
SKIP_ENDPOINTS = BILINGUAL | API_DOCS | {"static", "pages.healthz", "competitions.workflow_svg",
                  "documents.download", "documents.latest", "ideas.download", "accounts.confirm",
                  "organisations.invitation", "organisations.register_invited", "accounts.reset_password"}  # fmt: skip


class _Text(HTMLParser):
    """The words a person sees: text outside script and style, and the attributes read out
    or shown (title, placeholder, alt, aria-label, the value of a button). Text in <code> is
    a name from a file shown as such (a workflow's trigger, guard or effect), not a word; text
    in a <textarea> is a field's value, as an input's value is (the form editor's choices and
    columns: stored text in both languages, with their keys, for the administrator to edit)."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code", "textarea"):
            self._skip += 1
        attrs = dict(attrs)
        for name in ("title", "placeholder", "alt", "aria-label"):
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "textarea"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def _messages():
    """(English msgid, Latvian text) of every catalogue entry whose two texts differ and are
    long enough to be telling (three words or more)."""
    pairs = []
    for area in catalogues.areas():
        catalog = catalogues.load(area, "lv")
        for message in catalog or ():
            if not message.id or not message.string or message.pluralizable:
                continue
            english, latvian = message.id, message.string
            if english == latvian or "%(" in english or "{" in english:
                continue
            if len(english.split()) >= 3:
                pairs.append((english, latvian))
    return pairs


MESSAGES = _messages()


def code_words(app) -> set[str]:
    """Audit kinds, and the state and trigger names of the loaded workflows."""
    words = set(registry.kinds)
    for workflow in app.extensions["grantflow.workflows"].values():
        words |= set(workflow.states)
        words |= {t.trigger for t in workflow.transitions}
    return words


def problems(text: str, locale: str, words=frozenset()) -> list[str]:
    found = []
    seen = NAMES.sub(" ", text)
    telltales = ENGLISH_WORDS if locale == "lv" else LATVIAN_WORDS
    for match in re.finditer(r"[^\W\d_]+", seen):
        if match.group() in telltales:
            found.append(f"word {match.group()!r} in …{seen[max(0, match.start() - 40):match.end() + 40]}…")
    for english, latvian in MESSAGES:
        other = english if locale == "lv" else latvian
        if other in seen:
            found.append(f"message {other!r}")
    words = words if locale == "lv" else {w for w in words if "_" in w}  # "submitted" is English too
    found += [f"code word {w!r}" for w in sorted(words) if re.search(rf"\b{re.escape(w)}\b", seen)]
    found += [f"message id {m!r}" for m in re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", seen)]
    return found


@pytest.fixture(scope="module", params=["sqlite"])
def world(request, tmp_path_factory):
    yield from world_fixture(request, tmp_path_factory)


def _client(world, persona, locale):
    client = world.app.test_client()
    if persona != "anonymous":
        login(client, world.users[persona].email)
    client.post("/language", data={"language": locale, "next": "/"})
    return client


def _pages():
    for endpoint, _rule, methods in RULES:
        if "GET" not in methods or endpoint in SKIP_ENDPOINTS:
            continue
        allowed = EXPECT[endpoint]["GET"]
        if allowed is None:
            continue
        yield endpoint, (["anonymous"] if allowed == PUBLIC else sorted(allowed))


PAGES = list(_pages())


@pytest.mark.parametrize("locale", ["lv", "en"])
def test_every_page_in_the_readers_language(world, locale):
    """Every page each persona may see, in one language; all findings at once."""
    findings, seen, words = [], 0, code_words(world.app)
    for persona in PERSONAS:
        client = _client(world, persona, locale)
        for endpoint, personas in PAGES:
            if persona not in personas:
                continue
            rule = next(r for e, r, _m in RULES if e == endpoint)
            url = routes.path(rule, routes.params(endpoint, rule, world.ids))
            response = client.get(url)
            if response.status_code != 200 and persona == "anonymous":
                continue  # a public route that wants what the world has not (a token)
            assert response.status_code == 200, (persona, url, response.status_code)
            if not response.mimetype.startswith("text/html"):
                continue
            html = response.get_data(as_text=True)
            assert f'lang="{locale}"' in html, (persona, url)
            seen += 1
            findings += [f"{persona} {url}: {p}" for p in problems(visible_text(html), locale, words)]
    assert seen >= 40, seen
    assert not findings, "\n".join(findings)


@pytest.mark.parametrize("locale", ["lv", "en"])
def test_error_pages_and_refused_forms_in_the_readers_language(world, locale):
    findings, words = [], code_words(world.app)
    admin = _client(world, "administrator", locale)
    anonymous = _client(world, "anonymous", locale)
    applicant = _client(world, "applicant_b", locale)
    checks = [
        (anonymous, "GET", "/no-such-page", None, 404),
        (anonymous, "GET", f"/ideas/{world.ids['draft']}", None, 302),
        (applicant, "GET", f"/ideas/{world.ids['draft']}", None, 404),
        (admin, "POST", "/competitions/new", {}, 422),
        (admin, "POST", f"/competitions/{world.ids['competition']}/edit", {"budget": "12,3,4"}, 422),
        (anonymous, "POST", "/login", {"email": "", "password": ""}, 200),
    ]
    for client, method, url, data, status in checks:
        response = client.open(url, method=method, data=data)
        assert response.status_code == status, (url, response.status_code)
        if status == 302:
            response = client.get(response.headers["Location"])
        text = visible_text(response.get_data(as_text=True))
        findings += [f"{url}: {p}" for p in problems(text, locale, words)]
    assert not findings, "\n".join(findings)


def test_the_check_finds_what_it_looks_for(world):
    """The checker itself: an English message on a Latvian page, a Latvian one on an English
    page, a code word and a telltale word are each found; a clean page passes."""
    assert problems("Šis lauks ir obligāts.", "lv") == []
    assert any("This field is required." in p for p in problems("Vārds This field is required.", "lv"))
    assert any("'ir'" in p for p in problems("Title ir", "en"))
    assert any("message id" in p for p in problems("Vēsture: document_issued", "lv"))
    assert any("code word 'submitted'" in p for p in problems("Statuss: submitted", "lv", code_words(world.app)))
