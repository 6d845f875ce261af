"""The public face: competition pages, funded ideas (published texts only with consent, never
a person's name), impact figures, the sitemap and the Atom feed, all without logging in."""

from datetime import timedelta
from xml.etree import ElementTree

from markupsafe import escape

from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.reports.models import Report, ReportStatus
from tests.querycount import count_queries

ATOM = "{http://www.w3.org/2005/Atom}"


def _accepted_report(idea, **kw):
    report = Report(idea_id=idea.id, status=ReportStatus.ACCEPTED, participants=120, volunteers=7,
                    changed="Ciemā tagad ir dārzs.", accepted_at=utcnow(), **kw)
    db.session.add(report)
    return report


def test_competition_page_tells_a_visitor_everything_to_apply(app, factory, client):
    competition = factory.competition(title_lv="Kopienu idejas & darbi", description_lv="Atbalstām kopienu idejas Latgalē.")
    past = factory.competition(title_lv="Pagājušais konkurss")
    past.opens_at, past.closes_at = utcnow() - timedelta(days=400), utcnow() - timedelta(days=300)
    coming = factory.competition(title_lv="Vēl gatavojamais")
    coming.opens_at = utcnow() + timedelta(days=10)
    coming.closes_at = utcnow() + timedelta(days=40)
    db.session.commit()

    listing = client.get("/calls/").get_data(as_text=True)
    assert "Kopienu idejas &amp; darbi" in listing and "Pagājušais konkurss" in listing
    assert "Vēl gatavojamais" not in listing
    assert client.get(f"/calls/{coming.id}").status_code == 404

    response = client.get(f"/calls/{competition.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Atbalstām kopienu idejas Latgalē." in page and '<meta name="description" content="Atbalstām' in page
    for criterion in competition.criteria:
        assert criterion.name_lv in page
    assert "Rīgas laiks" in page or "Rīgas laikā" in page
    assert "dienas" in page or "diena" in page  # the countdown
    assert "Pieteikt ideju" in page or "Izveidot kontu" in page
    past_page = client.get(f"/calls/{past.id}").get_data(as_text=True)
    assert "Pieteikt ideju" not in past_page and "Izveidot kontu" not in past_page


def test_funded_ideas_publish_texts_only_with_consent_and_never_a_person(app, factory, client):
    quiet = factory.funded(title="Kluss projekts")
    open_ = factory.funded(title="Atvērts projekts")
    open_.publish_consent = True
    _accepted_report(open_)
    _accepted_report(quiet)
    draft = factory.idea(title="Nefinansēts melnraksts")
    db.session.commit()

    page = client.get("/results/").get_data(as_text=True)
    assert "Kluss projekts" in page and "Atvērts projekts" in page and "Nefinansēts melnraksts" not in page
    assert str(escape(quiet.organisation.name)) in page
    assert page.count("Kopīgs dārzs ģimenēm un senioriem.") == 1  # the consenting idea's summary only
    for text in ("Anna Bērziņa", "anna@example.lv"):
        assert text not in page

    shown = client.get(f"/results/{open_.id}").get_data(as_text=True)
    assert "Kopīgs dārzs ģimenēm un senioriem." in shown and "Ciemā tagad ir dārzs." in shown and "120" in shown
    hidden = client.get(f"/results/{quiet.id}").get_data(as_text=True)
    assert "Kluss projekts" in hidden and "Ciemā tagad ir dārzs." not in hidden and "Kopīgs dārzs" not in hidden
    assert "Anna Bērziņa" not in shown + hidden
    assert client.get(f"/results/{draft.id}").status_code == 404


def test_filters_by_competition_year_and_municipality(app, factory, client):
    one = factory.funded(title="Pirmā konkursa ideja")
    two = factory.funded(title="Otrā konkursa ideja")
    db.session.commit()
    page = client.get(f"/results/?competition={one.competition_id}").get_data(as_text=True)
    assert "Pirmā konkursa ideja" in page and "Otrā konkursa ideja" not in page
    page = client.get(f"/results/?municipality={two.municipality_id}").get_data(as_text=True)
    assert "Otrā konkursa ideja" in page
    assert "Pirmā" not in page or one.municipality_id == two.municipality_id
    assert "Pirmā konkursa ideja" not in client.get("/results/?year=1999").get_data(as_text=True)
    assert client.get("/results/?year=abc&competition=%00&municipality=99999999999999").status_code == 200


def test_results_queries_do_not_grow_with_the_ideas(app, factory, client):
    competition = factory.competition()
    _accepted_report(factory.funded(competition=competition))
    db.session.commit()
    client.get("/results/")
    with count_queries(db.engine) as few:
        client.get("/results/")
    for _ in range(4):
        idea = factory.funded(competition=competition)
        idea.publish_consent = True
        _accepted_report(idea)
    db.session.commit()
    with count_queries(db.engine) as many:
        client.get("/results/")
    assert len(many) == len(few)


def test_sitemap_and_atom_feed(app, factory, client):
    open_ = factory.competition(title_lv="Atvērts <konkurss> & co")
    closed = factory.competition(title_lv="Slēgts konkurss")
    idea = factory.funded(competition=closed)
    closed.opens_at, closed.closes_at = utcnow() - timedelta(days=400), utcnow() - timedelta(days=300)
    db.session.commit()

    response = client.get("/sitemap.xml")
    assert response.mimetype == "application/xml"
    locs = [e.text for e in ElementTree.fromstring(response.data).iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert any(loc.endswith(f"/calls/{open_.id}?lang=lv") for loc in locs)
    assert any(loc.endswith(f"/calls/{open_.id}?lang=en") for loc in locs)
    assert any(loc.endswith(f"/results/{idea.id}?lang=lv") for loc in locs)
    # Each address names its other languages and the x-default (the address without a language).
    xhtml = "{http://www.w3.org/1999/xhtml}link"
    for url in ElementTree.fromstring(response.data).iter("{http://www.sitemaps.org/schemas/sitemap/0.9}url"):
        links = {link.get("hreflang"): link.get("href") for link in url.iter(xhtml)}
        assert set(links) == {"lv", "en", "x-default"}
        assert url.findtext("{http://www.sitemaps.org/schemas/sitemap/0.9}loc") in (links["lv"], links["en"])
        assert "lang=" not in links["x-default"]

    response = client.get("/feed.atom")
    assert response.mimetype == "application/atom+xml"
    feed = ElementTree.fromstring(response.data)
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert "Atvērts <konkurss> & co" in titles and "Slēgts konkurss" not in titles


def test_consent_is_asked_on_the_idea_form_and_defaults_to_no(app, factory, client):
    from tests.conftest import login

    idea = factory.idea()
    user = factory.member_of(idea.organisation)
    db.session.commit()
    assert idea.publish_consent is False
    login(client, user.email)
    form = client.get(f"/apply/{idea.id}").get_data(as_text=True)
    assert 'name="publish_consent"' in form
    client.post(f"/apply/{idea.id}", data={"title": idea.title, "publish_consent": "y", "action": "save"})
    db.session.refresh(idea)
    assert idea.publish_consent is True
    client.post(f"/apply/{idea.id}", data={"title": idea.title, "action": "save"})
    db.session.refresh(idea)
    assert idea.publish_consent is False
