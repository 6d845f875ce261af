"""The funded grants as a 360Giving Data Standard package (schema 1.4): what a funder
publishes so that anyone can see who was given how much, where and for what.

One grant per idea whose latest funding decision funds it. Published: the idea's reference,
title, the amounts asked and awarded, the decision's date, the planned dates of its
activities, the recipient organisation (its register number where it has one) and the
municipality it benefits; nothing about people. The description is the idea's summary where
the applicant agreed to publish it (`Idea.publish_consent`), else a neutral sentence made from
the competition and the place.

Identifiers follow the standard's rules: a grant is `<prefix>-<reference>` with the
publisher's 360Giving prefix (OPEN_DATA_PREFIX); an organisation with a Latvian register
number is `LV-RE-<number>` (org-id.guide's scheme for the Register of Enterprises), one
without (initiative groups, residents' councils) `<prefix>-ORG-<GrantFlow's id>`."""

from datetime import date
from decimal import Decimal

from flask import current_app, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from grantflow.competitions.models import Competition
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.documents.operations import operator
from grantflow.funding.models import Decision, DecisionKind
from grantflow.ideas.models import Idea
from grantflow.organisations.models import REGISTERED, Organisation

SCHEMA_VERSION = "1.4"


def org_id(org: Organisation) -> str:
    number = (org.registration_number or "").strip()
    if org.legal_form in REGISTERED and len(number) == 11 and number.isdigit():
        return f"LV-RE-{number}"
    return f"{current_app.config['OPEN_DATA_PREFIX']}-ORG-{org.id}"


def funded(competition_id: int | None = None) -> list[tuple[Idea, Decision]]:
    """(idea, decision) of every idea whose latest decision funds it, oldest decision first;
    three queries whatever their number."""
    latest = select(func.max(Decision.id)).group_by(Decision.idea_id)
    query = (
        select(Idea, Decision)
        .join(Decision, Decision.idea_id == Idea.id)
        .where(Decision.id.in_(latest), Decision.kind == DecisionKind.FUND)
        .options(
            joinedload(Idea.organisation),
            joinedload(Idea.competition),
            joinedload(Idea.municipality),
            joinedload(Idea.parish),
            selectinload(Idea.activities),
        )
        .order_by(Decision.decided_at, Decision.id)
    )
    if competition_id is not None:
        query = query.where(Idea.competition_id == competition_id)
    return [(idea, decision) for idea, decision in db.session.execute(query).unique()]


def competitions_with_grants() -> list[tuple[Competition, int, Decimal]]:
    """(competition, grants, total awarded) of every competition with a funded idea."""
    latest = select(func.max(Decision.id)).group_by(Decision.idea_id)
    rows = db.session.execute(
        select(Competition, func.count(Decision.id), func.sum(Decision.amount))
        .join(Decision, Decision.competition_id == Competition.id)
        .where(Decision.id.in_(latest), Decision.kind == DecisionKind.FUND)
        .group_by(Competition.id)
        .order_by(Competition.id.desc())
    ).all()
    return [(competition, count, Decimal(total or 0)) for competition, count, total in rows]


def _money(value: Decimal) -> float:
    # JSON numbers: the cents survive (1101.21 prints as 1101.21).
    return float(Decimal(value).quantize(Decimal("0.01")))


def _description(idea: Idea) -> str:
    if idea.publish_consent and idea.summary.strip():
        return idea.summary.strip()  # the applicant agreed to publish it
    place = idea.municipality.name if idea.municipality else ""
    text = f"Kopienas ideja: {idea.competition.title_lv}"
    return f"{text}, {place}." if place else f"{text}."


def _public_url(endpoint: str, **values) -> str:
    """The public address (PUBLIC_URL) of a page, the same from a request, a command or a worker."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, _external=True, **values)


def _grant(idea: Idea, decision: Decision, funder: dict, prefix: str, urls: dict) -> dict:
    org = idea.organisation
    recipient = {"id": org_id(org), "name": org.name, "addressCountry": "LV"}
    if org.legal_form in REGISTERED and org.registration_number:
        recipient["companyNumber"] = org.registration_number
    if org.municipality_id is not None and org.municipality is not None:
        recipient["addressLocality"] = org.municipality.name
    grant = {
        "id": f"{prefix}-{idea.reference or idea.id}",
        "title": idea.title,
        "description": _description(idea),
        "currency": "EUR",
        "amountAppliedFor": _money(decision.requested),
        "amountAwarded": _money(decision.amount),
        "awardDate": decision.decided_at.isoformat(),
        "recipientOrganization": [recipient],
        "fundingOrganization": [funder],
        "grantProgramme": [
            {
                "code": idea.competition.code,
                "title": idea.competition.title_lv,
                "url": urls["programme"],
            }
        ],
        "fromOpenCall": "Yes",
        "dateModified": max(idea.updated_at, decision.decided_at).isoformat(),
        "dataSource": urls[idea.competition_id],
    }
    if idea.municipality is not None:
        location = {"name": idea.municipality.name, "countryCode": "LV"}
        if idea.parish is not None:
            location["name"] = f"{idea.parish.name}, {idea.municipality.name}"
        grant["beneficiaryLocation"] = [location]
    starts = [a.starts_on for a in idea.activities if a.starts_on]
    ends = [a.ends_on or a.starts_on for a in idea.activities if a.starts_on]
    if starts:
        grant["plannedDates"] = [{"startDate": min(starts).isoformat(), "endDate": max(ends).isoformat()}]
    return grant


def grants_package(competition_id: int | None = None, today: date | None = None) -> dict | None:
    """The 360Giving package of the funded grants (of one competition), or None when there are
    none: the standard's package needs at least one grant."""
    rows = funded(competition_id)
    if not rows:
        return None
    config = current_app.config
    prefix = config["OPEN_DATA_PREFIX"]
    name = config["PROGRAMME_NAME"]
    programme = name.get("lv", next(iter(name.values()))) if isinstance(name, dict) else name
    who = operator()
    number = (who["registration_number"] or "").strip()
    funder_id = f"LV-RE-{number}" if len(number) == 11 and number.isdigit() else f"{prefix}-FUNDER"
    funder = {"id": funder_id, "name": who["name"]}
    issued = (today or utcnow().date()).isoformat()
    urls = {"programme": _public_url("opendata.index")}
    for competition_id_ in {idea.competition_id for idea, _ in rows}:
        urls[competition_id_] = _public_url("opendata.grants", competition=competition_id_)
    scope = f"competition {competition_id}" if competition_id is not None else "all competitions"
    return {
        "version": SCHEMA_VERSION,
        "title": f"{programme}: funded grants ({scope})",
        "description": f"Grants awarded by {who['name']} in the {programme} programme, "
        "published by GrantFlow in the 360Giving Data Standard.",
        "identifier": f"{prefix}-{'all' if competition_id is None else competition_id}-{issued}",
        "issued": issued,
        "modified": max(max(i.updated_at, d.decided_at) for i, d in rows).isoformat(),
        "publisher": {"identifier": funder_id, "name": who["name"], "website": config["PUBLIC_URL"]},
        "license": config["OPEN_DATA_LICENSE"],
        "grants": [_grant(idea, decision, funder, prefix, urls) for idea, decision in rows],
    }
