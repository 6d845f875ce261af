"""The deadline surge in short (bench/surge.py has the full one with figures): 20 applicants,
logged in with complete drafts, submit at the same moment against GrantFlow served by
gunicorn with 4 workers in production mode; two of them press twice, some type a last change.
Nothing lost, nothing given twice, nobody refused, no server error: on both databases."""

import pytest

from bench.serving import database, gunicorn, production_env
from bench.surge import check, prepare, run_surge


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_twenty_applicants_submitting_at_once_are_all_submitted_once(kind, request):
    if kind == "postgresql":
        request.getfixturevalue("postgres_url")  # skips (or fails under CI) without a server
    with database(kind) as url:
        people = prepare(url, 20)
        with gunicorn("grantflow:create_app()", production_env(url), workers=4) as base_url:
            outcome = run_surge(base_url, people)
        check(url, people, outcome)
    assert outcome.errors == [] and outcome.refused == [] and outcome.problems == []
    assert len(outcome.acknowledged) == 20

