"""Loading and validating workflow files, and the CLI that checks and draws them."""


import pytest
import yaml

from grantflow.core.config import ROOT
from grantflow.workflow.definition import WorkflowError, load, parse

MINIMAL = """
name: tiny
initial: draft
states:
  draft: {label: {lv: Melnraksts, en: Draft}, tags: [editable]}
  submitted: {label: {lv: Iesniegts, en: Submitted}}
  closed: {label: {lv: Slēgts, en: Closed}, final: true}
transitions:
  - {trigger: submit, source: draft, dest: submitted, roles: [applicant], label: {lv: Iesniegt, en: Submit}}
  - {trigger: close, source: submitted, dest: closed, roles: [administrator], label: {lv: Slēgt, en: Close}}
"""


def broken(**changes):
    data = yaml.safe_load(MINIMAL)
    for path, value in changes.items():
        *parents, key = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is None:
            del node[key]
        else:
            node[int(key) if key.isdigit() else key] = value
    return data


def problems_of(data) -> list[str]:
    with pytest.raises(WorkflowError) as error:
        parse(data, "test.yaml")
    return error.value.problems


@pytest.mark.parametrize("name", ["community_ideas", "resource_centre"])
def test_shipped_workflows_load(app, name):
    workflow = load(ROOT / "workflows" / f"{name}.yaml")
    assert workflow.name == name
    assert {"draft", "submitted", "reviewed", "funded", "rejected", "closed", "withdrawn"} <= set(workflow.states)
    assert workflow.transition("submit", "draft").dest == "submitted"


def test_default_workflow_has_every_state_the_programme_needs(app):
    workflow = app.extensions["grantflow.workflows"]["community_ideas"]
    assert {"draft", "submitted", "reviewed", "funded", "rejected", "reported", "closed", "withdrawn"} <= set(
        workflow.states
    )
    assert all(workflow.states[s].final for s in ("rejected", "closed", "withdrawn"))
    auto = [t for t in workflow.transitions if t.automatic]
    assert [t.trigger for t in auto] == ["complete_review"]


def test_minimal_file_parses(app):
    workflow = parse(yaml.safe_load(MINIMAL), "tiny.yaml")
    assert workflow.states_tagged("editable") == ["draft"]
    assert workflow.transition("submit", "draft").dest == "submitted"


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"transitions.0.dest": "nowhere"}, "unknown destination state 'nowhere'"),
        ({"transitions.0.source": "limbo"}, "unknown source state 'limbo'"),
        ({"initial": "start"}, "initial state 'start' is not a declared state"),
        ({"transitions.0.roles": ["janitor"]}, "unknown role 'janitor'"),
        ({"transitions.0.guards": ["moon_is_full"]}, "unknown guard 'moon_is_full'"),
        ({"transitions.1.effects": ["send_flowers"]}, "unknown effect 'send_flowers'"),
        ({"states.draft.tags": ["shiny"]}, "unknown tag 'shiny'"),
        ({"states.closed.final": False}, "state 'closed' has no way out and is not marked final"),
        ({"states.draft.label": {"lv": "Melnraksts"}}, "label has no 'en' text"),
        ({"states.draft.colour": "red"}, "unknown key 'colour'"),
        ({"transitions.0.comment": "maybe"}, "comment must be one of"),
        ({"transitions.1.roles": []}, "no role may fire it and it is not automatic"),
    ],
)
def test_broken_files_are_refused_naming_the_problem(app, changes, expected):
    problems = problems_of(broken(**changes))
    assert any(expected in p for p in problems), problems


def test_unreachable_state_is_named(app):
    data = broken()
    data["states"]["orphan"] = {"label": {"lv": "Bārenis", "en": "Orphan"}, "final": True}
    assert "state 'orphan' cannot be reached from 'draft'" in problems_of(data)


def test_final_state_with_a_way_out_is_refused(app):
    data = broken(**{"states.submitted.final": True})
    assert "state 'submitted' is final but has transitions leaving it" in problems_of(data)


def test_duplicate_trigger_from_the_same_state_is_refused(app):
    data = broken()
    data["transitions"].append(dict(data["transitions"][0], dest="closed"))
    assert any("declared twice from state 'draft'" in p for p in problems_of(data))


def test_every_problem_is_listed_at_once(app):
    problems = problems_of(broken(**{"transitions.0.dest": "x", "transitions.1.guards": ["nope"]}))
    assert len(problems) >= 2


def test_not_yaml_is_refused(tmp_path, app):
    path = tmp_path / "bad.yaml"
    path.write_text("states: [unclosed\n")
    with pytest.raises(WorkflowError, match="not valid YAML"):
        load(path)


def test_cli_check_passes_good_files_and_fails_broken_ones(app, tmp_path):
    runner = app.test_cli_runner()
    good = runner.invoke(args=["workflow", "check", str(ROOT / "workflows" / "community_ideas.yaml")])
    assert good.exit_code == 0, good.output
    assert "ok (community_ideas" in good.output
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text(yaml.safe_dump(broken(**{"transitions.0.dest": "nowhere", "transitions.0.roles": ["cat"]})))
    bad = runner.invoke(args=["workflow", "check", str(bad_file)])
    assert bad.exit_code == 1
    assert "unknown destination state 'nowhere'" in bad.output
    assert "unknown role 'cat'" in bad.output


def test_cli_diagram_prints_mermaid(app):
    result = app.test_cli_runner().invoke(
        args=["workflow", "diagram", str(ROOT / "workflows" / "community_ideas.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "stateDiagram-v2" in result.output
    assert "reviewed --> funded: fund" in result.output
    assert "in_review --> reviewed: complete_review ⚙" in result.output


def test_cli_diagram_svg(app):
    result = app.test_cli_runner().invoke(
        args=["workflow", "diagram", "--format", "svg", str(ROOT / "workflows" / "resource_centre.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert result.output.lstrip().startswith("<?xml") and "</svg>" in result.output
    assert "Pašvaldība apstiprinājusi sadarbību" in result.output


def test_app_refuses_to_start_with_a_broken_workflow(tmp_path, make_app):
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken(**{"transitions.0.dest": "nowhere"})))
    with pytest.raises(WorkflowError, match="nowhere"):
        make_app(WORKFLOWS_DIR=str(tmp_path))


def test_admin_sees_the_workflow_picture(app, client, factory):
    from grantflow.core.extensions import db
    from tests.conftest import login

    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    page = client.get("/admin/workflows/community_ideas")
    assert page.status_code == 200 and "Piešķirt finansējumu" in page.get_data(as_text=True)
    picture = client.get("/admin/workflows/community_ideas.svg")
    assert picture.status_code == 200 and picture.mimetype == "image/svg+xml"
    assert b"Atbalst" in picture.data  # Latvian state labels, UTF-8


def test_non_admins_cannot_see_workflow_pages(app, client, factory):
    from grantflow.core.extensions import db
    from tests.conftest import login

    applicant = factory.applicant()
    db.session.commit()
    login(client, applicant.email)
    assert client.get("/admin/workflows/community_ideas").status_code == 403
    assert client.get("/admin/").status_code == 403
