"""Forms as data (issue #10 part 1): form files checked at load, the answers store, and the
migration that moved every existing idea's and report's answers into it."""

import copy
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from werkzeug.datastructures import MultiDict

from grantflow.questionnaires import answers as form_answers
from grantflow.questionnaires.definition import FormError, load, load_dir, parse

FORMS = Path(__file__).resolve().parents[1] / "workflows" / "forms"


def idea_file() -> dict:
    return yaml.safe_load((FORMS / "community_idea.yaml").read_text(encoding="utf-8"))


def problems_of(data) -> list[str]:
    with pytest.raises(FormError) as raised:
        parse(data, "test.yaml")
    return raised.value.problems


# --- loading --------------------------------------------------------------------------------
def test_the_default_forms_load_with_every_meaning_the_rest_of_grantflow_reads():
    forms, broken = load_dir(FORMS)
    assert broken == {}
    idea, report = forms["community_idea"], forms["community_report"]
    assert idea.kind == "application" and report.kind == "report"
    assert {q.meaning for q in idea.questions} >= {
        "title", "summary", "budget_lines", "activities", "partners", "municipality", "place", "target_groups",
        "expected_participants", "publish_consent", "contact_name", "contact_email", "contact_phone",
    }  # fmt: skip
    assert {q.meaning for q in report.questions} >= {"participants", "reach", "spending", "volunteers", "activities"}
    # The questions without a meaning are the columns the migration moved into the answers.
    assert {q.key for q in idea.questions if q.meaning is None} == {
        "community_need", "goals", "less_active_reach", "coop_premises", "coop_inventory", "coop_upkeep", "sustainability",
    }  # fmt: skip
    assert {q.key for q in report.questions if q.meaning is None} == {"changed", "continues"}


def test_a_broken_file_is_refused_with_every_problem_named():
    data = idea_file()
    questions = data["sections"][0]["questions"]
    questions[0]["type"] = "essay"  # unknown type
    questions[1]["key"] = "title"  # duplicate key
    questions[2]["colour"] = "red"  # unknown key
    questions[3]["label"] = {"lv": "Mērķi", "en": "Goals", "de": "Ziele"}  # not exactly lv+en
    data["sections"][2]["questions"][1]["shown_when"] = {"question": "no_such", "any_of": ["youth"]}
    data["sections"][2]["questions"][2]["meaning"] = "shoe_size"
    data["sections"][1]["questions"][0]["limits"] = {"max_length": 10}  # not a rows limit
    problems = problems_of(data)
    text = "\n".join(problems)
    assert "unknown type 'essay'" in text
    assert "question key 'title' is used twice" in text
    assert "unknown key(s) 'colour'" in text
    assert "label has unknown key(s) 'de'" in text
    assert "shown_when names the missing question 'no_such'" in text
    assert "unknown meaning 'shoe_size'" in text
    assert "limit 'max_length' does not apply to a question of type 'rows'" in text
    assert len(problems) >= 7


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["sections"][5]["questions"][0].pop("columns"), "repeating rows need 'columns'"),
        (lambda d: d["sections"][5]["questions"][0]["columns"].pop(2), "meaning 'budget_lines' needs the column(s) unit_cost"),
        (lambda d: d["sections"][0]["questions"][0].update(meaning="summary"), "meaning 'summary' is already given to"),
        (lambda d: d["sections"][0]["questions"][0].update(type="number"), "meaning 'title' needs a question of type"),
        (lambda d: d["sections"][2]["questions"][1]["shown_when"].update(any_of=["pensioners"]), "does not offer"),
        (lambda d: d["sections"][0]["questions"][0].update(required=True), "'required' must be the message"),
        (lambda d: d["sections"][0]["questions"][0].update(label="Nosaukums"), "must give both languages"),
        (lambda d: d["sections"][0]["questions"][0]["label"].update(en=3), "label 'en' must be text"),
        (lambda d: d["sections"][2]["questions"][0].pop("choices"), "a choice question needs 'choices'"),
        (lambda d: d["sections"][2]["questions"][2].update(limits={"min": 5, "max": 1}), "limit 'min' is above 'max'"),
        (lambda d: d.update(kind="survey"), "'kind' must be one of"),
        (lambda d: [s["questions"].__setitem__(0, {**s["questions"][0], "meaning": None}) for s in d["sections"][:1]],
         "must have a question with the meaning 'title'"),
    ],
)  # fmt: skip
def test_each_kind_of_mistake_is_named(change, expected):
    data = idea_file()
    change(data)
    assert any(expected in problem for problem in problems_of(data)), problems_of(data)


def test_a_comma_in_an_unquoted_label_is_caught(tmp_path):
    text = (FORMS / "community_idea.yaml").read_text(encoding="utf-8")
    text = text.replace("label: {lv: Mērķi, en: Goals}", "label: {lv: Mērķi, uzdevumi, en: Goals}")
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormError) as raised:
        load(path)
    assert any("unknown key(s) 'uzdevumi'" in p for p in raised.value.problems)


def test_one_broken_file_does_not_stop_the_others_and_two_files_with_one_name_are_both_refused(tmp_path):
    good = (FORMS / "community_report.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(good, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(good, encoding="utf-8")
    (tmp_path / "c.yaml").write_text((FORMS / "community_idea.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "d.yaml").write_text("name: [unclosed", encoding="utf-8")
    forms, broken = load_dir(tmp_path)
    assert list(forms) == ["community_idea"]
    assert set(broken) == {str(tmp_path / n) for n in ("a.yaml", "b.yaml", "d.yaml")}
    assert "not valid YAML" in broken[str(tmp_path / "d.yaml")][0]


def test_a_stored_definition_reads_back_as_the_file():
    form = load(FORMS / "community_idea.yaml")
    assert parse(copy.deepcopy(form.as_json()), "stored") == form


# --- the form a definition makes -------------------------------------------------------------
def test_a_versions_form_is_parsed_once_and_again_when_its_definition_differs():
    """FormVersion.form keeps each parsed definition for the process (every request loads the
    version afresh); a definition edited before it froze, or another database's version of the
    same name and number, is parsed again, never served from the cache."""
    from grantflow.questionnaires.models import FormVersion

    first = FormVersion(name="cache_test", number=1, kind="application", definition=idea_file())
    again = FormVersion(name="cache_test", number=1, kind="application", definition=idea_file())
    assert again.form is first.form  # the same content: parsed once
    edited = idea_file()
    edited["sections"][0]["questions"][0]["label"] = {"lv": "Jauns nosaukums", "en": "New title"}
    other = FormVersion(name="cache_test", number=1, kind="application", definition=edited)
    assert other.form is not first.form and other.form.sections[0].questions[0].label["lv"] == "Jauns nosaukums"
    # An edit before it froze gives the version a new definition (a JSON column is replaced, not
    # changed in place): the next ask reads it.
    first.definition = copy.deepcopy(edited)
    assert first.form.sections[0].questions[0].label["lv"] == "Jauns nosaukums"


def test_the_generated_form_keeps_what_was_typed_with_a_message_beside_the_field(app):
    form_def = load(FORMS / "community_idea.yaml")
    with app.test_request_context():
        form_class = form_answers.build_form(form_def, places=([(1, "Ludzas novads")], [(2, "Cirmas pagasts")]))
        form = form_class(
            formdata=MultiDict(
                {
                    "title": "T" * 301,
                    "summary": "Kopsavilkums",
                    "expected_participants": "četrdesmit",
                    "target_groups": ["youth", "men_over_35"],
                    "activities-0-description": "Talka",
                    "activities-0-starts_on": "31.02.2026",
                    "budget_lines-0-item": "Krāsa",
                    "budget_lines-0-quantity": "2",
                    "budget_lines-0-unit_cost": "1 234,50",
                    "municipality": "1",
                    "contact_email": "nav-adrese",
                }
            ),
            meta={"csrf": False},
        )
        assert not form.validate()
        answers, kept, messages = form_answers.read(form_def, form)
        assert kept == {
            "title": "T" * 301,
            "expected_participants": "četrdesmit",
            "activities-0-starts_on": "31.02.2026",
            "contact_email": "nav-adrese",
        }
        assert set(messages) == set(kept)
        assert 'value="četrdesmit"' in form["expected_participants"]()  # shown back as typed
        assert answers["summary"] == "Kopsavilkums"
        assert answers["budget_lines"] == [{"item": "Krāsa", "quantity": "2.00", "unit_cost": "1234.50", "own": False}]
        assert answers["municipality"] == {"municipality": 1, "parish": None}
        assert answers["target_groups"] == ["youth", "men_over_35"]
        missing = form_answers.missing(form_def, answers, (Decimal("100"), Decimal("2000")))
        # less_active_reach is shown (men_over_35 chosen), so required; the grant is out of range.
        assert "less_active_reach" in missing and "goals" in missing
        assert "2469.00" in missing["budget_lines"]
        # Hidden by its condition: neither required nor kept.
        answers["target_groups"] = ["seniors"]
        assert "less_active_reach" not in form_answers.missing(form_def, answers)
        assert "less_active_reach" not in form_answers.visible(form_def, {**answers, "less_active_reach": "x"})


# --- the answers store ----------------------------------------------------------------------
def test_saving_a_draft_keeps_every_answer_in_the_document_and_submission_freezes_the_version(app, factory):
    from grantflow.core.extensions import db
    from grantflow.ideas import operations as ops
    from grantflow.questionnaires.models import FormVersion

    competition = factory.competition()
    org = factory.organisation()
    applicant = factory.applicant(org)
    idea = ops.create_idea(competition, org, applicant, competition.opens_at)
    version = idea.form_version
    assert version is not None and version.name == "community_idea" and not version.frozen
    data = ops.form_data(idea)
    data.update(
        title="Dārzs", summary="Kopā", community_need="Vieta", goals="Satikties", sustainability="Paliek",
        target_groups=["seniors"], expected_participants="40", contact_name="Anna", contact_email="anna@example.lv",
        municipality_id=str(org.municipality_id or ""), parish_id="",
        activities=[{"description": "Talka", "starts_on": "2027-05-01", "ends_on": ""}],
        budget_lines=[{"item": "Dēļi", "quantity": "2", "unit_cost": "250,50", "own": False}],
    )  # fmt: skip
    assert ops.save_idea(idea, data, applicant) == {}
    db.session.expire_all()
    idea = db.session.get(type(idea), idea.id)
    assert idea.goals == "Satikties" and idea.answers["goals"] == "Satikties"
    assert idea.answers["title"] == "Dārzs"
    assert idea.answers["budget_lines"] == [{"item": "Dēļi", "quantity": "2.00", "unit_cost": "250.50", "own": False}]
    assert idea.answers["activities"] == [{"description": "Talka", "starts_on": "2027-05-01", "ends_on": None}]
    assert idea.requested_amount == Decimal("501.00")  # the meaning's typed column
    db.session.commit()
    # Submitted (through the workflow, as the apply page does): the version is frozen.
    applicant.email_confirmed_at = competition.opens_at
    ops.submit_idea(idea, applicant, competition.opens_at)
    db.session.expire_all()
    assert db.session.get(FormVersion, version.id).frozen


def test_the_migration_moves_every_answer_into_the_store(app, factory):
    """A database at 0016_exports filled with ideas and a report, upgraded: every text that
    lived in a dropped column is in the answers, and every answer with a meaning too."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from grantflow.core.extensions import db
    from grantflow.ideas.models import Idea, Partner
    from grantflow.reports.models import Report
    from grantflow.reports.operations import start_report

    funded = factory.funded()
    funded.partners = [Partner(position=1, name="Skola", kind="organisation", contribution="Telpas")]
    applicant = factory.member_of(funded.organisation)
    report = start_report(funded, applicant)
    draft = factory.idea(title="Melnraksts")
    db.session.commit()
    ids = (funded.id, draft.id)
    report_id = report.id
    db.session.remove()
    downgrade(revision="0016_exports")
    texts = {
        "community_need": "Ciemā nav vietas — „kur” satikties.\nOtrā rinda",
        "goals": "Mērķi ✓",
        "less_active_reach": "Uzrunāsim personīgi",
        "coop_premises": "Tautas nams",
        "coop_inventory": "Galdi",
        "coop_upkeep": "Pašvaldība",
        "sustainability": "Paliek kopienai",
    }
    with db.engine.begin() as connection:
        for i, idea_id in enumerate(ids):
            values = {name: f"{value} {i}" for name, value in texts.items()}
            sets = ", ".join(f"{name} = :{name}" for name in values)
            connection.execute(text(f"UPDATE ideas SET {sets} WHERE id = :id"), {**values, "id": idea_id})
        connection.execute(
            text("UPDATE reports SET changed = :c, continues = :n, participants = 41, volunteers = 5 WHERE id = :id"),
            {"c": "Mainījās daudz", "n": "Turpinās talkas", "id": report_id},
        )
        connection.execute(text("INSERT INTO report_activities (report_id, held_on, description, participants) VALUES (:r, :d, 'Talka', 30)"),
                           {"r": report_id, "d": date(2027, 5, 1)})  # fmt: skip
    upgrade()
    for i, idea_id in enumerate(ids):
        idea = db.session.get(Idea, idea_id)
        for name, value in texts.items():
            assert getattr(idea, name) == f"{value} {i}"
            assert idea.answers[name] == f"{value} {i}"
        assert idea.form_version is not None and idea.form_version.name == "community_idea"
        assert idea.answers["title"] == idea.title
        assert idea.answers["municipality"] == {"municipality": idea.municipality_id, "parish": idea.parish_id}
        assert idea.answers["target_groups"] == idea.target_groups
        assert idea.answers["expected_participants"] == idea.expected_participants
        assert [Decimal(l["unit_cost"]) for l in idea.answers["budget_lines"]] == [l.unit_cost for l in idea.budget_lines]
        assert len(idea.answers["activities"]) == len(idea.activities)
    funded = db.session.get(Idea, ids[0])
    assert funded.answers["partners"] == [{"name": "Skola", "kind": "organisation", "contribution": "Telpas"}]
    assert funded.form_version.frozen  # submitted under it
    report = db.session.get(Report, report_id)
    assert (report.changed, report.continues) == ("Mainījās daudz", "Turpinās talkas")
    assert report.answers["participants"] == 41 and report.answers["volunteers"] == 5
    assert report.answers["activities"][-1] == {"held_on": "2027-05-01", "description": "Talka", "participants": 30}
    assert [s["planned"] for s in report.answers["spending"]] == [f"{s.planned:f}" for s in report.spending]
    assert {r["target_group"] for r in report.answers["reach"]} == {r.target_group for r in report.reach}
    assert report.form_version.name == "community_report" and not report.form_version.frozen
    # And back: the columns return with their texts.
    db.session.remove()
    downgrade(revision="0016_exports")
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT goals FROM ideas WHERE id = :id"), {"id": ids[1]}).scalar() == "Mērķi ✓ 1"
        assert connection.execute(text("SELECT changed FROM reports WHERE id = :id"), {"id": report_id}).scalar() == "Mainījās daudz"
    upgrade()


# --- the form as a task list of section pages (issue #14 part 1) ------------------------------
def test_sections_save_a_draft_each_keep_what_was_typed_and_lead_to_checking_and_submitting(client, factory):
    from grantflow.core.extensions import db
    from grantflow.ideas import operations as ops
    from grantflow.ideas.models import Idea
    from tests.conftest import login

    user = factory.applicant()
    org = user.memberships[0].organisation
    competition = factory.competition()
    db.session.commit()
    idea = ops.create_idea(competition, org, user, competition.opens_at)
    idea_id = idea.id
    login(client, user.email)
    page = client.get(f"/apply/{idea_id}/sections").get_data(as_text=True)
    assert page.count('<li class="govuk-task-list__item') == 8
    assert "Nav sākts" in page or "Not started" in page
    page = client.get(f"/apply/{idea_id}/sections/idea").get_data(as_text=True)
    assert 'name="title"' in page and 'name="community_need"' in page and 'name="budget_lines' not in page
    # Nothing complete is required to save: a half-filled section is kept, and on to the next.
    response = client.post(f"/apply/{idea_id}/sections/idea", data={"title": "Dārzs", "goals": "Satikties", "action": "continue"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/apply/{idea_id}/sections/activities")
    idea = db.session.get(Idea, idea_id)
    assert (idea.title, idea.goals, idea.summary) == ("Dārzs", "Satikties", "")
    # A number that is not one: the message beside the field, the text kept, never a 500.
    response = client.post(
        f"/apply/{idea_id}/sections/people",
        data={"target_groups": ["seniors"], "expected_participants": "četrdesmit", "action": "continue"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'value="četrdesmit"' in page and "govuk-error-message" in page
    db.session.expire_all()
    idea = db.session.get(Idea, idea_id)
    assert idea.target_groups == ["seniors"] and idea.draft_raw == {"expected_participants": "četrdesmit"}
    page = client.get(f"/apply/{idea_id}/sections/people").get_data(as_text=True)
    assert 'value="četrdesmit"' in page  # still there on coming back
    # Rows without JavaScript: add saves first, then adds.
    response = client.post(
        f"/apply/{idea_id}/sections/budget",
        data={"budget_lines-0-item": "Dēļi", "budget_lines-0-quantity": "2", "budget_lines-0-unit_cost": "250,50", "action": "add:budget_lines"},
    )
    assert response.status_code == 303 and "#budget_lines-1" in response.headers["Location"]
    db.session.expire_all()
    idea = db.session.get(Idea, idea_id)
    assert len(idea.budget_lines) == 2 and idea.requested_amount == Decimal("501.00")
    states = dict((s.key, state) for s, state in ops.section_states(idea))
    assert states["idea"] == "in_progress" and states["people"] == "in_progress" and states["partners"] == "not_started"
    # The check page names what is missing, with a link to each section.
    page = client.get(f"/apply/{idea_id}/check").get_data(as_text=True)
    assert f"/apply/{idea_id}/sections/contact" in page and "govuk-error-summary" in page
    assert "Dēļi" in page


# --- the editor -----------------------------------------------------------------------------
def test_administrators_copy_and_edit_a_form_until_it_is_frozen_and_every_change_is_logged(client, factory):
    from grantflow.adminlog.models import AdminLogEntry
    from grantflow.core.extensions import db
    from grantflow.questionnaires.models import FormVersion
    from grantflow.questionnaires.operations import default_version, freeze
    from tests.conftest import login

    admin = factory.admin()
    version = default_version("application")
    db.session.commit()
    version_id = version.id
    login(client, admin.email)
    assert "Kopienu ideju pieteikums" in client.get("/admin/forms").get_data(as_text=True)
    response = client.post(f"/admin/forms/{version_id}/copy")
    assert response.status_code == 303
    copy = db.session.scalars(select_versions()).all()[-1]
    assert copy.number == 2 and copy.definition["sections"] == version.definition["sections"]
    url = f"/admin/forms/{copy.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="label_lv-goals"' in page
    # Texts: the label and help of one question.
    data = {f"{part}-{q.key}": q.label[part[-2:]] if part.startswith("label") else "" for q in copy.form.questions
            if q.type != "rows" or True for part in ("label_lv", "label_en", "help_lv", "help_en")}  # fmt: skip
    data.update({"label_lv-goals": "Idejas mērķi", "help_en-goals": "Two or three.", "help_lv-goals": "Divi vai trīs.", "action": "texts"})
    assert client.post(url, data=data).status_code == 303
    # Order, adding, removing.
    assert client.post(url, data={"action": "up:goals"}).status_code == 303
    assert client.post(url, data={"action": "remove:coop_upkeep"}).status_code == 303
    added = {"action": "add", "section": "idea", "key": "volunteers_planned", "kind": "number",
             "label_lv": "Cik brīvprātīgo?", "label_en": "How many volunteers?", "required_lv": "", "required_en": ""}  # fmt: skip
    assert client.post(url, data=added).status_code == 303
    # Removing what GrantFlow needs is refused with the reason.
    response = client.post(url, data={"action": "remove:title"}, follow_redirects=True)
    assert "title" in response.get_data(as_text=True)
    db.session.expire_all()
    form = db.session.get(FormVersion, copy.id).form
    keys = [q.key for q in form.section("idea").questions]
    assert keys == ["title", "summary", "goals", "community_need", "volunteers_planned"]
    assert form.question("goals").label["lv"] == "Idejas mērķi" and form.question("goals").help["en"] == "Two or three."
    assert form.question("coop_upkeep") is None and form.question("title") is not None
    kinds = [e.kind for e in db.session.scalars(sa_select(AdminLogEntry).order_by(AdminLogEntry.id))]
    assert kinds.count("form_edited") == 4 and kinds.count("form_copied") == 1
    # Frozen at the first submission: editing refused with the way out.
    freeze(copy.id)
    db.session.commit()
    page = client.post(url, data={"action": "up:goals"}, follow_redirects=True).get_data(as_text=True)
    assert "vairs nevar mainīt" in page and f"/admin/forms/{copy.id}/copy" in page
    db.session.expire_all()
    assert [q.key for q in db.session.get(FormVersion, copy.id).form.section("idea").questions] == keys


def select_versions():
    from grantflow.questionnaires.models import FormVersion

    return sa_select(FormVersion).order_by(FormVersion.id)


def sa_select(*args):
    from sqlalchemy import select

    return select(*args)


def test_a_competition_asks_its_own_form_version_and_its_new_questions_are_asked_and_required(client, factory):
    from grantflow.core.extensions import db
    from grantflow.ideas import operations as ops
    from grantflow.ideas.models import Idea
    from grantflow.questionnaires import operations as forms_ops
    from tests.conftest import login

    admin = factory.admin()
    copy = forms_ops.copy_version(forms_ops.default_version("application"), admin)
    forms_ops.add_question(copy, "idea", "volunteers_planned", "long_text", {"lv": "Kas palīdzēs?", "en": "Who will help?"},
                           {"lv": "Pastāstiet, kas palīdzēs.", "en": "Say who will help."}, admin)  # fmt: skip
    user = factory.applicant()
    org = user.memberships[0].organisation
    competition = factory.competition()
    db.session.commit()
    login(client, admin.email)
    page = client.get(f"/competitions/{competition.id}/edit").get_data(as_text=True)
    assert f'value="{copy.id}"' in page
    db.session.expire_all()
    competition = db.session.get(type(competition), competition.id)
    competition.application_form_id = copy.id
    db.session.commit()
    idea = ops.create_idea(competition, org, user, competition.opens_at)
    assert idea.form_version_id == copy.id
    assert ops.missing_fields(idea)["volunteers_planned"] == "Pastāstiet, kas palīdzēs."
    client.post("/logout")
    login(client, user.email)
    page = client.get(f"/apply/{idea.id}/sections/idea").get_data(as_text=True)
    assert "Kas palīdzēs?" in page and 'name="volunteers_planned"' in page
    client.post(f"/apply/{idea.id}/sections/idea", data={"volunteers_planned": "Skolēni", "action": "save"})
    db.session.expire_all()
    idea = db.session.get(Idea, idea.id)
    assert idea.answers["volunteers_planned"] == "Skolēni" and "volunteers_planned" not in ops.missing_fields(idea)


def test_the_app_starts_with_a_broken_form_file_and_admins_see_why(tmp_path, make_app, app, client, factory):
    """A broken form file is reported at start-up and on the administrators' pages; the app
    starts, and a competition whose default form file broke keeps its last stored version."""
    import shutil

    import yaml

    from grantflow.core.extensions import db
    from grantflow.questionnaires import operations as forms_ops
    from tests.conftest import login

    forms_dir = tmp_path / "forms"
    shutil.copytree(forms_ops.FORMS_DIR, forms_dir)
    stored = forms_ops.default_version("report")  # the report form as it was stored before the file broke
    db.session.commit()
    broken = yaml.safe_load((forms_dir / "community_report.yaml").read_text(encoding="utf-8"))
    broken["sections"][0]["questions"][0]["type"] = "essay"
    (forms_dir / "community_report.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    started = make_app(FORMS_DIR=str(forms_dir))
    [problem] = started.extensions["grantflow.form_problems"]
    assert problem.source.endswith("community_report.yaml") and problem.name == "community_report"
    assert any("unknown type 'essay'" in p for p in problem.problems), problem.problems
    with started.app_context():
        assert forms_ops.default_form("report") == stored.form  # the last stored version
        assert forms_ops.default_form("application").name == "community_idea"  # the valid file
    # What that app found, served by the test app: administrators see the file and why.
    app.extensions["grantflow.form_problems"] = started.extensions["grantflow.form_problems"]
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    for url in ("/admin/", "/admin/forms"):
        page = client.get(url)
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and 'id="broken-forms"' in text, url
        assert "community_report.yaml" in text and "veidlapas datne netika ielādēta" in text
        latvian = "1. sadaļa (activities), 1. jautājums (activities): nezināms jautājuma veids &#39;essay&#39;"
        assert latvian in text, url
        assert "unknown type" not in text and "section 1" not in text
        text = client.get(url + "?lang=en").get_data(as_text=True)
        assert "section 1 (activities), question 1 (activities): unknown type &#39;essay&#39;" in text, url
        assert "nezināms" not in text
        client.get(url + "?lang=lv")


def test_the_editor_adds_choices_rows_conditions_and_sections_refuses_bad_input_beside_the_field(client, factory):
    from grantflow.adminlog.models import AdminLogEntry
    from grantflow.core.extensions import db
    from grantflow.questionnaires.models import FormVersion
    from grantflow.questionnaires.operations import copy_version, default_version, freeze
    from tests.conftest import login

    admin = factory.admin()
    copy = copy_version(default_version("report"), admin)
    db.session.commit()
    copy_id, url = copy.id, f"/admin/forms/{copy.id}"
    login(client, admin.email)
    base = {"action": "add", "section": "results", "required_lv": "", "required_en": "", "shown_when": "", "shown_value": "",
            "choices": "", "columns": "", "new_section_key": "", "new_section_lv": "", "new_section_en": ""}  # fmt: skip
    choice = {**base, "key": "season", "kind": "single_choice", "label_lv": "Kad?", "label_en": "When?",
              "choices": "spring | Pavasarī | In spring\nautumn | Rudenī | In autumn"}  # fmt: skip
    assert client.post(url, data=choice).status_code == 303
    # Bad input: stays on the page, typed text kept, the message beside the field, nothing stored.
    bad = {**base, "key": "tools", "kind": "rows", "label_lv": "Rīki", "label_en": "Tools", "columns": "name | essay | Nosaukums | Name"}
    page = client.post(url, data=bad).get_data(as_text=True)
    assert 'id="columns-error"' in page and "name | essay | Nosaukums | Name" in page
    page = client.post(url, data={**choice, "key": "season"}).get_data(as_text=True)  # the key is taken: the loader's reason
    assert 'id="key-error"' in page and "jautājuma atslēga &#39;season&#39; izmantota divreiz" in page
    rows = {**bad, "columns": "name | text | Nosaukums | Name\ncount | number | Skaits | How many"}
    assert client.post(url, data=rows).status_code == 303
    conditional = {**base, "key": "season_why", "kind": "long_text", "label_lv": "Kāpēc rudenī?", "label_en": "Why in autumn?",
                   "shown_when": "season", "shown_value": "autumn", "section": "_new", "new_section_key": "more",
                   "new_section_lv": "Vēl", "new_section_en": "More"}  # fmt: skip
    assert client.post(url, data=conditional).status_code == 303
    # Sections: renamed and moved.
    assert client.post(url, data={"action": "texts", "title_lv-more": "Papildu", "title_en-more": "Extra"}).status_code == 303
    assert client.post(url, data={"action": "section-up:more"}).status_code == 303
    db.session.expire_all()
    form = db.session.get(FormVersion, copy_id).form
    assert [c.value for c in form.question("season").choices] == ["spring", "autumn"]
    assert [c.type for c in form.question("tools").columns] == ["short_text", "number"]
    assert form.question("season_why").shown_when.equals == "autumn"
    assert [s.key for s in form.sections][-2:] == ["more", "files"] and form.section("more").title == {"lv": "Papildu", "en": "Extra"}
    assert form.question("season_why").label["lv"] == "Kāpēc rudenī?"
    kinds = [e.kind for e in db.session.scalars(sa_select(AdminLogEntry).order_by(AdminLogEntry.id))]
    assert kinds.count("form_edited") == 5
    page = client.get(url).get_data(as_text=True)
    assert "Pavasarī" in page and "Kāpēc rudenī?" in page and 'name="title_lv-more"' in page
    # Frozen: refused with the way out, nothing changed.
    freeze(copy_id)
    db.session.commit()
    page = client.post(url, data={"action": "section-up:more"}, follow_redirects=True).get_data(as_text=True)
    assert "vairs nevar mainīt" in page and f"/admin/forms/{copy_id}/copy" in page
    page = client.post(url, data={**choice, "key": "other"}, follow_redirects=True).get_data(as_text=True)
    assert "vairs nevar mainīt" in page
    db.session.expire_all()
    assert [s.key for s in db.session.get(FormVersion, copy_id).form.sections][-2:] == ["more", "files"]
    assert db.session.get(FormVersion, copy_id).form.question("other") is None
