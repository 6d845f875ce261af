"""Loading and validating workflow files, and the CLI that checks and draws them."""


import shutil

import pytest
import sqlalchemy as sa
import yaml

from grantflow import create_app
from grantflow.core.config import ROOT
from grantflow.core.extensions import db
from grantflow.ideas.models import Idea
from grantflow.workflow.definition import Broken, WorkflowError, load, load_dir, parse
from tests.conftest import BASE_CONFIG

MINIMAL = """
name: tiny
initial: draft
states:
  draft: {label: {lv: Melnraksts, en: Draft}, tags: [editable]}
  submitted: {label: {lv: Iesniegts, en: Submitted}}
  closed: {label: {lv: Slēgts, en: Closed}, final: true}
parts: {submit: submit}
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


def test_app_starts_with_a_broken_workflow_and_admins_see_why(tmp_path, make_app, app, client, factory):
    from grantflow.core.extensions import db
    from tests.conftest import login

    shutil.copy(ROOT / "workflows" / "community_ideas.yaml", tmp_path / "community_ideas.yaml")
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken(**{"transitions.0.dest": "nowhere"})))
    started = make_app(WORKFLOWS_DIR=str(tmp_path))
    assert list(started.extensions["grantflow.workflows"]) == ["community_ideas"]
    [problem] = started.extensions["grantflow.workflow_problems"]
    assert problem.source.endswith("broken.yaml") and problem.name == "tiny"
    assert any("unknown destination state 'nowhere'" in p for p in problem.problems)
    # What that app loaded, served by the test app: the valid workflow works, /admin/ says why
    # the broken file did not load.
    app.extensions["grantflow.workflows"] = started.extensions["grantflow.workflows"]
    app.extensions["grantflow.workflow_problems"] = started.extensions["grantflow.workflow_problems"]
    admin = factory.admin()
    idea = factory.idea()
    idea_id = idea.id
    db.session.commit()
    login(client, admin.email)
    assert client.get(f"/ideas/{idea_id}").status_code == 200
    page = client.get("/admin/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="broken-workflows"' in text
    # in the reader's language: Latvian by default, every word around the file's own keys too
    assert "broken.yaml" in text and "1. pāreja &#39;submit&#39;: nezināms mērķa stāvoklis &#39;nowhere&#39;" in text
    assert "darba plūsmas datne netika ielādēta" in text and "fails" not in text
    assert "unknown destination state" not in text and "transition #" not in text
    # the competitions table names no workflow by its code: one on the broken file is unavailable
    competition = db.session.get(Idea, idea_id).competition
    competition.workflow = "tiny"
    db.session.commit()
    text = client.get("/admin/").get_data(as_text=True)
    row = text[text.index(competition.code) :].split("</tr>")[0]
    assert "nav pieejama" in row and "broken.yaml" in row and ">tiny<" not in row
    text = client.get("/admin/?lang=en").get_data(as_text=True)
    assert "transition #1 &#39;submit&#39;: unknown destination state &#39;nowhere&#39;" in text
    assert "nezināms" not in text
    row = text[text.index(competition.code) :].split("</tr>")[0]
    assert "unavailable" in row and "broken.yaml" in row


def test_an_idea_on_an_unloaded_workflow_says_the_workflow_is_unavailable(app, client, factory):
    from grantflow.core.extensions import db
    from tests.conftest import login

    app.extensions["grantflow.workflow_problems"] = [Broken("workflows/tiny.yaml", "tiny", ("state 'x' is broken",))]
    idea = factory.idea()
    applicant = factory.member_of(idea.organisation)
    admin = factory.admin()
    idea.competition.workflow = "tiny"
    idea_id = idea.id
    db.session.commit()
    login(client, applicant.email)
    page = client.get(f"/ideas/{idea_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 503 and "Darba plūsma nav pieejama" in text
    assert "state &#39;x&#39; is broken" not in text  # only administrators see why
    client.post("/logout")
    login(client, admin.email)
    text = client.get(f"/ideas/{idea_id}").get_data(as_text=True)
    assert "Darba plūsma nav pieejama" in text and "state &#39;x&#39; is broken" in text


def test_a_cycle_with_no_way_to_a_final_state_is_refused(app):
    data = yaml.safe_load(MINIMAL)
    data["transitions"][1] = {
        "trigger": "return",
        "source": "submitted",
        "dest": "draft",
        "roles": ["administrator"],
        "label": {"lv": "Atgriezt", "en": "Return"},
    }
    data["transitions"].append(
        {"trigger": "begin", "source": "closed", "dest": "draft", "roles": ["administrator"],
         "label": {"lv": "Sākt", "en": "Begin"}}
    )
    data["states"]["closed"]["final"] = False
    data["initial"] = "closed"
    problems = problems_of(data)
    for state in ("draft", "submitted", "closed"):
        assert f"state {state!r} cannot reach a final state (its ways out lead only in a circle)" in problems


def test_a_state_stuck_in_a_side_loop_is_refused(app):
    data = yaml.safe_load(
        """
name: loop
initial: draft
states:
  draft: {label: {lv: Melnraksts, en: Draft}}
  ping: {label: {lv: Ping, en: Ping}}
  pong: {label: {lv: Pong, en: Pong}}
  closed: {label: {lv: Slēgts, en: Closed}, final: true}
transitions:
  - {trigger: close, source: draft, dest: closed, roles: [administrator], label: {lv: Slēgt, en: Close}}
  - {trigger: ping, source: [draft, pong], dest: ping, roles: [administrator], label: {lv: Ping, en: Ping}}
  - {trigger: pong, source: ping, dest: pong, roles: [administrator], label: {lv: Pong, en: Pong}}
"""
    )
    problems = problems_of(data)
    assert "state 'ping' cannot reach a final state (its ways out lead only in a circle)" in problems
    assert "state 'pong' cannot reach a final state (its ways out lead only in a circle)" in problems
    assert not any("'draft'" in p for p in problems)


def test_two_files_with_one_name_are_both_refused(tmp_path, app):
    (tmp_path / "a.yaml").write_text(MINIMAL)
    (tmp_path / "b.yaml").write_text(MINIMAL.replace("Slēgts", "Aizvērts"))
    (tmp_path / "other.yaml").write_text(MINIMAL.replace("name: tiny", "name: other"))
    workflows, broken_files = load_dir(tmp_path)
    assert list(workflows) == ["other"]
    assert [(b.source, b.name, b.problems) for b in broken_files] == [
        (str(tmp_path / "a.yaml"), "tiny", (f"the name 'tiny' is also used by {tmp_path / 'b.yaml'}",)),
        (str(tmp_path / "b.yaml"), "tiny", (f"the name 'tiny' is also used by {tmp_path / 'a.yaml'}",)),
    ]


def test_cli_check_names_two_files_with_one_name(app, tmp_path):
    (tmp_path / "a.yaml").write_text(MINIMAL)
    (tmp_path / "b.yaml").write_text(MINIMAL)
    result = app.test_cli_runner().invoke(args=["workflow", "check", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")])
    assert result.exit_code == 1
    assert f"the name 'tiny' is also used by {tmp_path / 'b.yaml'}" in result.output


@pytest.mark.parametrize(
    "where, key",
    [("", "colour"), ("states.draft.", "colour"), ("transitions.0.", "colour")],
)
def test_unknown_keys_are_refused_at_every_level(app, where, key):
    problems = problems_of(broken(**{f"{where}{key}": "red"}))
    assert any(f"unknown key {key!r}" in p for p in problems), problems


@pytest.mark.parametrize(
    "text, expected",
    [
        # An unquoted comma: the map gets a third key, 'nē'.
        ("label: {lv: Jā, nē, en: Yes}", "label has unknown key(s) 'nē'"),
        ("label: {lv: 12, en: Twelve}", "label 'lv' must be text, not a number"),
        ("label: {lv: Jā, en: [Yes]}", "label 'en' must be text, not a list"),
        ("label: {lv: Jā, en: Yes, de: Ja}", "label has unknown key(s) 'de'"),
    ],
)
def test_a_label_must_be_exactly_latvian_and_english_text(app, text, expected):
    source = MINIMAL.replace("label: {lv: Iesniegt, en: Submit}", text)
    assert text in source
    problems = problems_of(yaml.safe_load(source))
    assert any(p.startswith("transition #1 'submit': " + expected) for p in problems), problems


def test_the_workflow_label_is_checked_too(app):
    problems = problems_of(yaml.safe_load("label: {lv: Mazais, konkurss, en: Tiny}\n" + MINIMAL))
    assert any(p.startswith("workflow: label has unknown key(s) 'konkurss'") for p in problems), problems


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


def test_the_workflow_keeps_its_own_label(app):
    """The workflow's label is its own, not the last state's (a name read in the states' loop)."""
    workflow = app.extensions["grantflow.workflows"]["community_ideas"]
    assert workflow.label == {"lv": "Kopienu ideju konkurss", "en": "Community ideas competition"}


def test_a_file_without_a_state_ideas_are_in_is_refused_at_start_naming_them(app, factory, make_app):
    """As if a new release of community_ideas.yaml had dropped a state in which ideas still
    are: the file is refused at start-up like a broken one, the ideas named; the other files
    load, and `workflow check --database` says the same."""
    stuck = factory.submitted()
    other = factory.submitted()
    db.session.execute(sa.update(Idea).where(Idea.id.in_([stuck.id, other.id])).values(state="archived"))
    db.session.commit()
    fresh = make_app()
    with fresh.app_context():
        assert "community_ideas" not in fresh.extensions["grantflow.workflows"]
        assert "resource_centre" in fresh.extensions["grantflow.workflows"]
        (refused,) = [b for b in fresh.extensions["grantflow.workflow_problems"] if b.name == "community_ideas"]
        assert "'archived'" in refused.problems[0] and stuck.reference in refused.problems[0] and "2 ideas are in it" in refused.problems[0]
    with fresh.test_request_context("/?lang=lv"):  # on the administrators' page, in their language
        assert str(refused.problems[0]).startswith("stāvokļa 'archived' datnē vairs nav, bet tajā ir 2 idejas: ")
    result = app.test_cli_runner().invoke(args=["workflow", "check", "--database", "workflows/community_ideas.yaml", "workflows/resource_centre.yaml"])
    assert result.exit_code == 1 and stuck.reference in result.output and "resource_centre.yaml: ok" in result.output


def test_start_up_does_not_need_a_migrated_database(tmp_path):
    """A fresh install creates the app before `db upgrade`: the check is skipped, not fatal."""
    fresh = create_app({**BASE_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path}/empty.sqlite3"})
    assert "community_ideas" in fresh.extensions["grantflow.workflows"]


def test_a_problem_is_english_as_a_value_and_in_the_readers_language_on_a_page(app):
    """Loaders run outside requests (start-up, the command line): a problem is kept as its
    message id and parameters; its value (logs, tests, `in`) is English, str() in a request is
    in the request's language, the parameters that say where in the file too."""
    import pickle

    from flask_babel import force_locale
    from markupsafe import escape

    from grantflow.core.i18n import Translatable

    problem = problems_of(broken(**{"states.draft.label": {"lv": "Melnraksts", "en": "Draft", "de": "Entwurf"}}))[0]
    english = "state 'draft': label has unknown key(s) 'de'; it must be exactly {lv: ..., en: ...}"
    assert isinstance(problem, Translatable) and problem.startswith(english)
    assert pickle.loads(pickle.dumps(problem)) == problem
    with app.test_request_context("/?lang=lv"):
        latvian = "stāvoklis 'draft': nosaukums satur nezināmas atslēgas 'de'; jābūt tieši {lv: ..., en: ...}"
        assert str(problem).startswith(latvian) and f"{problem}".startswith(latvian)
        assert str(escape(problem)).startswith(latvian.replace("'", "&#39;"))  # as a template shows it
        assert "; ".join([problem]).startswith(english)  # what the log writes stays English
    with app.test_request_context("/?lang=en"), force_locale("en"):  # babel keeps a locale per app context
        assert str(problem).startswith(english)


def test_a_programmes_own_workflows_folder_finds_the_stages_forms_in_forms_dir(tmp_path, make_app):
    """WORKFLOWS_DIR kept elsewhere (a programme's own folder): a two-stage workflow's stage forms
    are looked up in FORMS_DIR, where the app reads them, not beside the workflow file; the
    `workflow check` command looks in the same place."""
    own = tmp_path / "own"
    own.mkdir()
    shutil.copy(ROOT / "workflows" / "concept_proposal.yaml", own / "concept_proposal.yaml")
    started = make_app(WORKFLOWS_DIR=str(own), FORMS_DIR=str(ROOT / "workflows" / "forms"))
    assert "concept_proposal" in started.extensions["grantflow.workflows"]
    assert started.extensions["grantflow.workflow_problems"] == []
    result = started.test_cli_runner().invoke(args=["workflow", "check", str(own / "concept_proposal.yaml")])
    assert result.exit_code == 0, result.output
    # An empty forms folder: the stages' forms are missing, and both say so.
    empty = tmp_path / "forms"
    empty.mkdir()
    refused = make_app(WORKFLOWS_DIR=str(own), FORMS_DIR=str(empty))
    [problem] = refused.extensions["grantflow.workflow_problems"]
    assert "two_stage_concept.yaml" in " ".join(problem.problems)
    result = refused.test_cli_runner().invoke(args=["workflow", "check", str(own / "concept_proposal.yaml")])
    assert result.exit_code == 1 and "two_stage_concept.yaml" in result.output
