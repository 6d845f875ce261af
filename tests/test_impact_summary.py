"""The PDF programme summary: asked for on the impact dashboard, built by the task queue's
worker with WeasyPrint, with the very charts the dashboard draws, for the programme or one
competition, in Latvian and English; its progress shown, downloadable when done."""

import io
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import select

from grantflow.competitions.models import Competition
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.demo.operations import load_demo
from grantflow.impact import charts, summaries
from grantflow.impact.models import ImpactSummary, SummaryStatus
from grantflow.impact.operations import Scope, impact
from tests.conftest import login


@pytest.fixture
def demo(app, database_snapshot):
    database_snapshot(load_demo)


@pytest.fixture
def admin(client, factory):
    admin = factory.admin(email="summary-admin@example.lv")
    db.session.commit()
    login(client, admin.email)
    return admin


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_summary_has_the_dashboards_charts(demo):
    competition = db.session.scalars(select(Competition).order_by(Competition.id)).first()
    for scope_id in (None, competition.id):
        for locale in ("lv", "en"):
            html = summaries.html(scope_id, locale)
            with force_locale(locale):
                drawn = charts.drawn(impact(Scope(competition_id=scope_id)), locale)
            for name, svg in drawn.items():
                assert svg in html, (scope_id, locale, name)


def test_asked_for_built_on_the_queue_and_downloaded_in_both_languages(demo, client, admin):
    page = client.get("/admin/impact/").get_data(as_text=True)
    assert 'action="/admin/impact/summaries"' in page
    competition = db.session.scalars(select(Competition).order_by(Competition.id)).first()
    for scope, locale, heading in (("", "lv", "Programmas kopsavilkums"), (str(competition.id), "en", "Programme summary")):
        response = client.post("/admin/impact/summaries", data={"competition": scope, "language": locale})
        assert response.status_code == 303
        summary = db.session.scalars(select(ImpactSummary).order_by(ImpactSummary.id.desc())).first()
        db.session.refresh(summary)
        assert summary.status == SummaryStatus.DONE, summary.error
        assert summary.locale == locale and summary.competition_id == (competition.id if scope else None)
        page = client.get("/admin/impact/").get_data(as_text=True)
        assert f"/admin/impact/summaries/{summary.id}.pdf" in page
        pdf = client.get(f"/admin/impact/summaries/{summary.id}.pdf")
        assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
        text = _text(pdf.data)
        assert heading in text
        data = impact(Scope(competition_id=competition.id if scope else None))
        with force_locale(locale):
            titles = [re.search(r'aria-label="([^"]+)"', svg).group(1) for svg in charts.drawn(data, locale).values()]
        for title in titles:  # the charts' titles are text in the PDF (the SVG keeps its text)
            assert " ".join(title.split())[:30] in text, title
        if scope:
            assert competition.title("en") in text
        assert len(PdfReader(io.BytesIO(pdf.data)).pages) >= 2


def test_progress_is_shown_and_a_lost_summary_is_built_by_the_sweep(app, client, admin):
    summary = ImpactSummary(locale="lv", requested_by_id=admin.id, status=SummaryStatus.QUEUED,
                            created_at=utcnow() - timedelta(minutes=5))  # fmt: skip
    db.session.add(summary)
    db.session.commit()
    page = client.get("/admin/impact/").get_data(as_text=True)
    assert "Gaida" in page and f"/admin/impact/summaries/{summary.id}.pdf" not in page
    assert client.get(f"/admin/impact/summaries/{summary.id}.pdf").status_code == 404
    summaries.sweep()
    db.session.expire_all()
    assert db.session.get(ImpactSummary, summary.id).status == SummaryStatus.DONE
    assert client.get(f"/admin/impact/summaries/{summary.id}.pdf").data.startswith(b"%PDF")


@pytest.mark.parametrize("form, field", [({"competition": "", "language": "xx"}, "language"),
                                         ({"competition": "999999", "language": "lv"}, "competition"),
                                         ({"competition": "abc", "language": "lv"}, "competition"),
                                         ({"competition": ""}, "language")])  # fmt: skip
def test_bad_choices_are_refused_beside_the_field(app, client, admin, form, field):
    response = client.post("/admin/impact/summaries", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert db.session.scalars(select(ImpactSummary)).all() == []
