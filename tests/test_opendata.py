"""Open data: the funded grants as a 360Giving Data Standard package, valid against the
standard's own schema (tests/standards/360giving/), from the command line and a public URL."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select

from grantflow.core.extensions import db
from grantflow.demo.operations import load_demo
from grantflow.funding import operations as funding_ops
from grantflow.funding.models import Decision, DecisionKind
from grantflow.opendata.operations import grants_package
from grantflow.workflow import engine
from tests.querycount import count_queries

SCHEMAS = Path(__file__).parent / "standards" / "360giving"


def validator() -> Draft202012Validator:
    package = json.loads((SCHEMAS / "360-giving-package-schema.json").read_text())
    grant = json.loads((SCHEMAS / "360-giving-schema.json").read_text())
    # The files name their dialect as http://json-schema.org/draft/2020-12/schema (http, not
    # the https of the real meta-schema); they are 2020-12.
    resource = Resource(contents=grant, specification=DRAFT202012)
    # The package schema names the grant schema by its published address (1.4.2 there, 1.4.3 in
    # the grant schema's own $id): both lead to the copy here.
    registry = Registry().with_resources([(package["properties"]["grants"]["items"]["$ref"], resource), (grant["$id"], resource)])
    return Draft202012Validator(package, registry=registry, format_checker=FormatChecker())


def problems(package) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(package)]


def test_the_validator_is_real():
    """A package without a grant's required fields is refused: the check can fail."""
    assert problems({"grants": [{"id": "x"}]})
    assert problems({"grants": []})


def test_the_demo_programme_validates_against_the_standard(app):
    load_demo()
    package = grants_package()
    assert problems(package) == []
    funded = db.session.scalars(select(Decision).where(Decision.kind == DecisionKind.FUND)).all()
    assert len(package["grants"]) == len({d.idea_id for d in funded}) >= 32
    assert len({g["id"] for g in package["grants"]}) == len(package["grants"])
    total = sum(Decimal(str(g["amountAwarded"])) for g in package["grants"])
    assert total == sum(d.amount for d in funded)
    text = json.dumps(package, ensure_ascii=False)
    assert "@" not in text  # no e-mail address, nobody's contact


def test_identifiers_amounts_and_places(app, factory):
    registered = factory.reviewed(amount="1000.00")
    funding_ops.decide(registered, factory.admin(), "fund", reason="Daļa tāmes nav attiecināma", amount=Decimal("750.50"))
    group_org = factory.organisation(name="Iniciatīvas grupa „Zaļā pļava”", legal_form="initiative_group")
    group_org.registration_number = None
    group = factory.funded(org=group_org)
    rejected = factory.reviewed()
    engine.fire(rejected, "reject", factory.admin(), "Nepietiek līdzekļu")
    db.session.commit()

    package = grants_package(today=None)
    assert problems(package) == []
    by_id = {g["id"]: g for g in package["grants"]}
    assert set(by_id) == {f"360G-darbigaskopienas-{registered.reference}", f"360G-darbigaskopienas-{group.reference}"}
    one = by_id[f"360G-darbigaskopienas-{registered.reference}"]
    assert (one["amountAwarded"], one["amountAppliedFor"]) == (750.5, 1000.0)
    assert one["currency"] == "EUR" and one["fromOpenCall"] == "Yes"
    assert one["recipientOrganization"][0]["id"] == f"LV-RE-{registered.organisation.registration_number}"
    assert one["beneficiaryLocation"][0]["name"].endswith(registered.municipality.name)
    assert one["grantProgramme"][0]["code"] == registered.competition.code
    other = by_id[f"360G-darbigaskopienas-{group.reference}"]
    assert other["recipientOrganization"][0]["id"] == f"360G-darbigaskopienas-ORG-{group_org.id}"
    assert "companyNumber" not in other["recipientOrganization"][0]

    assert one["description"].startswith("Kopienas ideja")  # no consent: not the applicant's text
    registered.publish_consent, registered.summary = True, "Kopīgs dārzs ģimenēm."
    db.session.commit()
    again = {g["id"]: g for g in grants_package()["grants"]}
    assert again[one["id"]]["description"] == "Kopīgs dārzs ģimenēm."

    only = grants_package(registered.competition_id)
    assert {g["id"] for g in only["grants"]} >= {one["id"]}
    assert grants_package(10**6) is None


def test_queries_do_not_grow_with_the_grants(app, factory):
    competition = factory.competition()
    factory.funded(competition=competition)
    db.session.commit()
    with count_queries(db.engine) as few:
        grants_package()
    for _ in range(4):
        factory.funded(competition=competition)
    db.session.commit()
    db.session.expire_all()
    with count_queries(db.engine) as many:
        package = grants_package()
    assert len(package["grants"]) == 5
    assert len(many) == len(few)


def test_public_url_and_command_give_the_same_grants(app, factory, client):
    idea = factory.funded()
    db.session.commit()
    response = client.get("/open-data/360giving.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    served = response.get_json()
    assert problems(served) == []
    result = app.test_cli_runner().invoke(args=["export", "360giving", "--competition", str(idea.competition_id)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["grants"] == served["grants"]

    page = client.get("/open-data/").get_data(as_text=True)
    assert idea.competition.code in page and f"competition={idea.competition_id}" in page


@pytest.mark.parametrize("query, status", [("?competition=abc", 400), ("?competition=99999", 404), ("?competition=%C2%B2", 400)])
def test_bad_or_empty_requests_get_a_clear_json_answer(app, client, query, status):
    response = client.get(f"/open-data/360giving.json{query}")
    assert response.status_code == status
    assert response.mimetype == "application/problem+json" and response.get_json()["title"]


def test_the_command_says_when_there_is_nothing_to_publish(app):
    result = app.test_cli_runner().invoke(args=["export", "360giving"])
    assert result.exit_code != 0 and "no funded grants" in result.output
