"""Filling every rule of the URL map with values from the world (tests/world.py)."""

import re

from grantflow import create_app
from tests.conftest import BASE_CONFIG

# Which idea of the world each endpoint's <idea_id> names (the state it is meant for).
IDEA_FOR = {
    "ideas.edit": "draft", "ideas.save": "draft", "ideas.upload": "draft", "ideas.step": "draft",
    "ideas.confirm_step": "draft", "ideas.confirm_submit": "draft", "ideas.submit": "draft",
    "ideas.sections": "draft", "ideas.section": "draft", "ideas.save_section": "draft", "ideas.check_answers": "draft",
    "ideas.show": "in_review", "public.idea": "funded",
    "documents.latest": "funded", "documents.issue": "funded", "documents.upload_signed": "funded",
    "funding.cooperation": "funded", "funding.decide": "reviewed", "funding.decide_page": "reviewed",
    "amendments.new": "funded", "amendments.create": "funded",
    "payments.refund_request": "funded", "payments.refund_returned": "funded",
    "reports.edit": "funded", "reports.save": "funded", "reports.upload": "funded",
    "reports.sections": "funded", "reports.section": "funded", "reports.save_section": "funded",
    "reports.check": "funded", "reports.submit": "funded",
    "review.assign": "in_review", "review.conflict": "in_review", "review.reviews": "in_review",
    "review.score": "in_review", "review.screening": "submitted",
}  # fmt: skip
FIXED = {"action": "up", "name": "community_ideas", "kind": "decision", "trigger": "withdraw", "fmt": "csv",
         "filename": "app.css", "key": "idea"}  # fmt: skip


def rules():
    """(endpoint, rule, methods) for every rule, from an app built without a database."""
    app = create_app({**BASE_CONFIG, "DATABASE_URL": "sqlite://"})
    return [
        (r.endpoint, r, sorted(r.methods - {"HEAD", "OPTIONS"}))
        for r in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))
    ]


def params(endpoint: str, rule, ids: dict) -> dict:
    values = {}
    for name in rule.arguments:
        if name == "idea_id":
            values[name] = ids[IDEA_FOR.get(endpoint, "in_review")]
        elif name == "attachment_id":
            values[name] = ids["attachment"]
        elif name == "competition_id":
            values[name] = ids["competition"]
        elif name == "criterion_id":
            values[name] = ids["criterion"]
        elif name == "document_id":
            values[name] = ids["document"]
        elif name == "org_id":
            values[name] = ids["org_a"]
        elif name == "user_id":
            values[name] = ids["person"]
        elif name == "instalment_id":
            values[name] = ids["instalment"]
        elif name == "amendment_id":
            values[name] = ids["amendment"]
        elif name == "run_id":
            values[name] = ids["run"]
        elif name == "token_id":
            values[name] = ids["api_token"]
        elif name == "message_id":
            values[name] = ids["message"]
        elif name == "file_id":
            values[name] = ids["message_file"]
        elif name == "doc_id":
            values[name] = ids["competition_document"]
        elif name == "summary_id":
            values[name] = ids["summary"]
        elif name == "export_id":
            values[name] = ids["export"]
        elif name == "version_id":
            values[name] = ids["form_version"]
        elif name == "round_id":
            values[name] = ids["round"]
        elif name == "assignment_id":
            values[name] = ids["assignment"]
        elif name == "token":
            values[name] = ids["document_token"] if endpoint == "documents.verify" else "nicht-ein-token-0000"
        elif name == "key" and endpoint.startswith("reports."):
            values[name] = "reach"  # a section of the report form
        elif name in FIXED:
            values[name] = FIXED[name]
        else:
            raise AssertionError(f"{endpoint}: no value for <{name}>: add it to tests/routes.py")
    return values


def path(rule, values: dict) -> str:
    """The rule's path with these values put in as text, without the converters' checks (so a
    fuzzer can put anything in)."""
    out = rule.rule
    for name, value in values.items():
        out = re.sub(r"<(?:[^<>:]+:)?" + re.escape(name) + r">", lambda _m, v=str(value): v, out)
    return out
