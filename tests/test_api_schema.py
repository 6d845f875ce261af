"""Schemathesis against the API's own OpenAPI document, in-process (WSGI), on both databases:
for every operation, generated requests (valid and invalid) with no token, with a read token
and with a read-write token of an applicant of the world; no answer is a 5xx and none
contradicts the document (status, content type, headers, body schema)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from grantflow.api.operations import create_token
from tests.world import world_fixture

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]  # fmt: skip
CALLS = {"count": 0}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    yield from world_fixture(request, tmp_path_factory)


@pytest.mark.parametrize("who", ["nobody", "read", "administrator"])
def test_api_answers_as_its_document_says(world, who):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app)
    headers = {}
    if who != "nobody":
        persona = "administrator" if who == "administrator" else "applicant_a"
        headers["Authorization"] = "Bearer " + create_token(world.users[persona], who, who != "read").secret
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=10, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            def run(case):
                response = case.call(headers=headers)
                CALLS["count"] += 1
                case.validate_response(response, checks=CHECKS)

            run()
    print(f"schemathesis: {len(operations)} operations, {CALLS['count']} calls so far")
