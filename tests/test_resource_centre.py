"""The second workflow: the municipality confirms its cooperation before an idea is funded."""

import pytest

from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.funding.operations import answer_cooperation
from grantflow.workflow import engine


def test_municipality_must_confirm_before_funding(factory):
    competition = factory.competition(workflow="resource_centre")
    idea = factory.reviewed(competition=competition)
    admin = factory.admin()
    assert idea.state == "reviewed"
    with pytest.raises(Refused):
        engine.fire(idea, "fund", admin)
    other = factory.user("municipality", municipality=factory.municipality("Balvu novads"))
    with pytest.raises(Refused, match="Jums nav tiesību"):
        engine.fire(idea, "confirm_cooperation", other)
    representative = factory.user("municipality", municipality=idea.municipality)
    with pytest.raises(Refused):  # not as a bare step: only with the commitments recorded
        engine.fire(idea, "confirm_cooperation", representative, "Telpas kultūras namā")
    answer_cooperation(idea, representative, confirmed=True, comment="Telpas kultūras namā")
    assert idea.state == "municipality_confirmed"
    engine.fire(idea, "fund", admin)
    db.session.commit()
    assert idea.state == "funded"
