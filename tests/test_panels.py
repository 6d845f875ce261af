"""The idea page's panels (ideas.panels): the areas register them in the page's order, and
no template global or context processor asks the database (views gather what pages need)."""

from flask_login import login_user

from grantflow.core.extensions import db
from grantflow.ideas import panels
from tests.querycount import count_queries

QUERYING_HELPERS = {
    "evaluation_desk", "evaluation_panel", "decision_of", "latest_confirmation", "can_answer_cooperation",
    "report_of", "may_report", "documents_for", "document_versions",
}


def test_the_areas_register_the_idea_page_panels_in_order(app):
    assert panels.registered() == ["idea", "stages", "messages", "report", "evaluation", "funding", "payments", "amendments", "documents"]


def test_the_template_context_asks_the_database_nothing(app, factory):
    user = factory.admin()
    db.session.commit()
    with app.test_request_context("/"):
        login_user(user)
        context = {}
        with count_queries(db.engine) as statements:
            app.update_template_context(context)
        assert statements == []
    assert not QUERYING_HELPERS & (set(context) | set(app.jinja_env.globals))
