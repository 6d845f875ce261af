"""The longest form validated and saved: a form of 200 questions (the default application
form's sections, then long-text questions up to 200 answers), its filled-in POST built into
the generated WTForms form, validated, read into an answers document, checked for what stops
a submission, and stored on an idea (the answers document, one UPDATE). Prints the median.

    PYTHONPATH=. .venv/bin/python bench/forms.py [--runs 50] [--database-url ...]
"""

import argparse
import copy
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import yaml
from werkzeug.datastructures import MultiDict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grantflow import create_app  # noqa: E402
from grantflow.core.extensions import db  # noqa: E402
from grantflow.questionnaires import answers as form_answers  # noqa: E402
from grantflow.questionnaires.definition import parse  # noqa: E402

ANSWERS = 200


def longest_form() -> dict:
    """The default application form, with long-text questions added until 200 answers."""
    data = yaml.safe_load((ROOT / "workflows" / "forms" / "community_idea.yaml").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    count = sum(len(s["questions"]) for s in data["sections"])
    extra = []
    for n in range(ANSWERS - count):
        extra.append({"key": f"extra_{n}", "type": "long_text", "label": {"lv": f"Jautājums {n}", "en": f"Question {n}"},
                      "required": {"lv": "Atbildiet.", "en": "Answer."}, "limits": {"max_length": 2000}})  # fmt: skip
    data["sections"].append({"key": "more", "title": {"lv": "Vēl", "en": "More"}, "questions": extra})
    return data


def filled(form) -> MultiDict:
    post = MultiDict()
    for question in form.questions:
        key = question.key
        if question.type in ("short_text", "long_text"):
            post[key] = ("Atbilde ar garumzīmēm — ūdens, ķirbji, ņaudēt. " * 4)[: question.max_length]
        elif question.type == "phone":
            post[key] = "+371 2000 0000"
        elif question.type == "email":
            post[key] = "anna@example.lv"
        elif question.type == "number":
            post[key] = "40"
        elif question.type == "multiple_choice":
            post.setlist(key, ["youth", "seniors"])
        elif question.type == "yes_no":
            post[key] = "y"
        elif question.type == "municipality_parish":
            post[key] = "1"
        elif question.type == "rows":
            for i in range(5):
                for column in question.columns:
                    value = {"date": "2027-05-01", "money": "123,45", "number": "2", "yes_no": "",
                             "single_choice": "organisation"}.get(column.type, f"Rinda {i}")  # fmt: skip
                    if value:
                        post[f"{key}-{i}-{column.key}"] = value
    return post


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench-forms.sqlite3"
    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "TESTING": True})
    from flask_migrate import upgrade

    from grantflow.ideas.models import Idea
    from grantflow.territory.operations import load_territories
    from tests.factories import Factory

    with app.app_context():
        upgrade()
        load_territories()
        idea = Factory().idea()
        db.session.commit()
        idea_id = idea.id
        data = longest_form()
        form_def = parse(data, "bench")
        answers_count = sum(5 if q.type == "rows" else 1 for q in form_def.questions if q.type != "file")
        post = filled(form_def)
        timings = []
        with app.test_request_context():
            for _ in range(args.runs):
                started = time.perf_counter()
                form_class = form_answers.build_form(form_def, places=([(1, "Ludzas novads")], []))
                form = form_class(formdata=post)
                form.validate()
                answers, kept, messages = form_answers.read(form_def, form)
                missing = form_answers.missing(form_def, answers, (Decimal("100"), Decimal("100000")))
                idea = db.session.get(Idea, idea_id)
                idea.answers = {**answers, "_run": len(timings)}
                db.session.commit()
                timings.append((time.perf_counter() - started) * 1000)
                db.session.expire_all()
        assert not messages and not kept, messages
        assert not missing, missing
    print(f"longest form: {len(form_def.questions)} questions, {answers_count} answers, {len(post)} posted fields")
    print(f"validated, read, checked and saved: median {statistics.median(timings):.1f} ms "
          f"(min {min(timings):.1f}, max {max(timings):.1f}) over {args.runs} runs on {url.split(':')[0]}")  # fmt: skip


if __name__ == "__main__":
    main()
