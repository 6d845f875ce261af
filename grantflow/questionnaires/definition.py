"""Form files: the questions of an application or final-report form, as data.

A form file (YAML, `workflows/forms/*.yaml`) declares sections of questions. Loading checks
everything a person or the rest of GrantFlow will rely on, and refuses a file with every
problem named (as workflow files are refused, see grantflow.workflow.definition): unknown keys
and question types, duplicate question keys, label maps that are not exactly Latvian and
English text, conditions and meanings naming missing questions or questions of the wrong
type, limits that do not fit the question. The result is plain, frozen data; `as_json()`
gives the definition a FormVersion stores, and `parse()` reads it back the same way."""

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from grantflow.core.i18n import Translatable, label_map, not_yaml, unreadable

LANGS = ("lv", "en")
KINDS = ("application", "report")

FORM_KEYS = {"name", "kind", "title", "sections", "description"}
SECTION_KEYS = {"key", "title", "help", "questions"}
QUESTION_KEYS = {"key", "type", "label", "help", "required", "shown_when", "limits", "choices", "columns", "meaning"}
CONDITION_KEYS = {"question", "any_of", "equals", "answered"}

TEXT_TYPES = {"short_text", "long_text", "email", "phone"}
# Every question type, with the limits it takes.
TYPES = {
    "short_text": {"max_length", "min_length"},
    "long_text": {"max_length", "min_length"},
    "email": {"max_length"},
    "phone": {"max_length"},
    "number": {"min", "max", "places"},
    "money": {"min", "max", "grant_range"},
    "date": {"min", "max"},
    "single_choice": set(),
    "multiple_choice": {"min_chosen", "max_chosen"},
    "yes_no": set(),
    "file": {"max_files"},
    "rows": {"max_rows", "min_rows", "grant_range"},
    "municipality_parish": set(),
}
CHOICE_TYPES = {"single_choice", "multiple_choice"}
# What a column of repeating rows may be: no rows inside rows, no files, no place pickers.
COLUMN_TYPES = set(TYPES) - {"rows", "file", "municipality_parish"}
DEFAULT_TEXT_LIMIT = {"short_text": 300, "long_text": 5000, "email": 254, "phone": 40}

# The meanings the rest of GrantFlow reads, per kind of form: meaning -> (the types a question
# with it may have, the columns a rows question with it must have).
MEANINGS = {
    "application": {
        "title": (TEXT_TYPES, ()),
        "summary": (TEXT_TYPES, ()),
        "requested_amount": ({"money"}, ()),
        "own_contribution": ({"money"}, ()),
        "budget_lines": ({"rows"}, ("item", "quantity", "unit_cost", "own")),
        "activities": ({"rows"}, ("description", "starts_on", "ends_on")),
        "partners": ({"rows"}, ("name", "kind", "contribution")),
        "municipality": ({"municipality_parish"}, ()),
        "place": (TEXT_TYPES, ()),
        "target_groups": ({"multiple_choice"}, ()),
        "expected_participants": ({"number"}, ()),
        "publish_consent": ({"yes_no"}, ()),
        "contact_name": (TEXT_TYPES, ()),
        "contact_email": ({"email"}, ()),
        "contact_phone": ({"phone", "short_text"}, ()),
        "attachments": ({"file"}, ()),
    },
    "report": {
        "participants": ({"number"}, ()),
        "reach": ({"rows"}, ("target_group", "people")),
        "spending": ({"rows"}, ("item", "planned", "actual")),
        "volunteers": ({"number"}, ()),
        "organisations_count": ({"number"}, ()),
        "organisations_names": (TEXT_TYPES, ()),
        "activities": ({"rows"}, ("held_on", "description", "participants")),
        "attachments": ({"file"}, ()),
    },
}
# What every form of a kind must declare for GrantFlow to work with it.
REQUIRED_MEANINGS = {"application": (("title",), ("budget_lines", "requested_amount")), "report": ()}


class FormError(Exception):
    """A form file that cannot be used; `problems` says every reason."""

    def __init__(self, source: str, problems: list[Translatable]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass(frozen=True)
class Condition:
    """Shown (and required) only when `question` has an answer: any answer, one of `any_of`,
    or exactly `equals`."""

    question: str
    any_of: tuple = ()
    equals: object = None
    answered: bool = False

    def holds(self, answers: dict) -> bool:
        value = answers.get(self.question)
        if self.answered:
            return value not in (None, "", [], False)
        if self.any_of:
            values = value if isinstance(value, list) else [value]
            return any(v in self.any_of for v in values)
        return value == self.equals


@dataclass(frozen=True)
class Choice:
    value: str
    label: dict


@dataclass(frozen=True)
class Question:
    key: str
    type: str
    label: dict
    help: dict | None = None
    required: dict | None = None  # the message when it is left empty, {lv, en}; None: optional
    shown_when: Condition | None = None
    limits: dict = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    columns: tuple["Question", ...] = ()
    meaning: str | None = None

    @property
    def max_length(self) -> int | None:
        return self.limits.get("max_length", DEFAULT_TEXT_LIMIT.get(self.type))

    def column(self, key: str) -> "Question | None":
        return next((c for c in self.columns if c.key == key), None)


@dataclass(frozen=True)
class Section:
    key: str
    title: dict
    questions: tuple[Question, ...]
    help: dict | None = None


@dataclass(frozen=True)
class FormDef:
    name: str
    kind: str
    title: dict
    sections: tuple[Section, ...]
    source: str = field(default="", compare=False)
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def meaning(self, meaning: str) -> Question | None:
        """The question that carries `meaning`, if the form declares one."""
        return next((q for q in self.questions if q.meaning == meaning), None)

    def shown(self, question: Question, answers: dict) -> bool:
        return question.shown_when is None or question.shown_when.holds(answers)

    def as_json(self) -> dict:
        """The definition as a FormVersion keeps it: the file's own data, parsed again on load."""
        return self.raw


# --- reading -------------------------------------------------------------------------------
def _unknown(data: dict, allowed: set, where: Translatable, problems: list) -> None:
    extra = sorted(str(key) for key in data if key not in allowed)
    if extra:
        problems.append(Translatable("%(where)s: unknown key(s) %(keys)s", where=where, keys=", ".join(map(repr, extra))))


def _key(value, where: Translatable, problems: list) -> str:
    if (
        not isinstance(value, str) or not value.isidentifier() or not value.isascii()
        or value != value.lower() or value.startswith("_")
    ):  # fmt: skip
        # Keys starting with _ are GrantFlow's own in an answers document (_saved: the sections saved).
        problems.append(
            Translatable(
                "%(where)s: 'key' must be a lower-case name of letters, digits and _, not starting with _ (got %(value)s)",
                where=where,
                value=repr(value),
            )
        )
        return str(value)
    return value


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _limits(value, qtype: str, where: Translatable, problems: list) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(Translatable("%(where)s: 'limits' must be a mapping", where=where))
        return {}
    allowed = TYPES.get(qtype, set())
    for name, limit in value.items():
        if name not in allowed:
            problems.append(
                Translatable(
                    "%(where)s: limit %(limit)s does not apply to a question of type %(type)s (it takes %(known)s)",
                    where=where,
                    limit=repr(name),
                    type=repr(qtype),
                    known=", ".join(sorted(allowed)),
                )
                if allowed
                else Translatable(
                    "%(where)s: limit %(limit)s does not apply to a question of type %(type)s (it takes none)",
                    where=where,
                    limit=repr(name),
                    type=repr(qtype),
                )
            )
        elif name == "grant_range":
            if not isinstance(limit, bool):
                problems.append(Translatable("%(where)s: limit 'grant_range' must be true or false", where=where))
        elif qtype == "date":
            if not isinstance(limit, str):
                problems.append(
                    Translatable(
                        "%(where)s: date limit %(limit)s must be a date written YYYY-MM-DD",
                        where=where,
                        limit=repr(name),
                    )
                )
        elif not _number(limit):
            problems.append(Translatable("%(where)s: limit %(limit)s must be a number", where=where, limit=repr(name)))
        elif name in ("max_length", "min_length", "max_rows", "min_rows", "places", "max_files", "min_chosen", "max_chosen"):
            if limit != int(limit) or limit < 0:
                problems.append(
                    Translatable(
                        "%(where)s: limit %(limit)s must be a whole number, 0 or more", where=where, limit=repr(name)
                    )
                )
    for low, high in (("min", "max"), ("min_length", "max_length"), ("min_rows", "max_rows"), ("min_chosen", "max_chosen")):
        if _number(value.get(low)) and _number(value.get(high)) and value[low] > value[high]:
            problems.append(Translatable("%(where)s: limit %(low)s is above %(high)s", where=where, low=repr(low), high=repr(high)))
    return dict(value)


def _choices(value, where: Translatable, problems: list) -> tuple[Choice, ...]:
    if not isinstance(value, list) or not value:
        problems.append(
            Translatable(
                "%(where)s: a choice question needs 'choices', a list of {value: ..., label: {lv, en}}", where=where
            )
        )
        return ()
    choices, seen = [], set()
    for i, item in enumerate(value, 1):
        at = Translatable("%(where)s, choice %(number)d", where=where, number=i)
        if not isinstance(item, dict):
            problems.append(Translatable("%(where)s: must be {value: ..., label: {lv, en}}", where=at))
            continue
        _unknown(item, {"value", "label"}, at, problems)
        choice_value = item.get("value")
        if not isinstance(choice_value, str) or not choice_value:
            problems.append(Translatable("%(where)s: 'value' must be text", where=at))
            continue
        if choice_value in seen:
            problems.append(Translatable("%(where)s: the value %(value)s is given twice", where=at, value=repr(choice_value)))
        seen.add(choice_value)
        named = Translatable("%(where)s (%(key)s)", where=at, key=choice_value)
        choices.append(Choice(choice_value, label_map(item.get("label"), named, problems)))
    return tuple(choices)


def _question(data, where: Translatable, problems: list, column: bool = False) -> Question | None:
    if not isinstance(data, dict):
        problems.append(Translatable("%(where)s: a question must be a mapping with 'key', 'type' and 'label'", where=where))
        return None
    key = _key(data.get("key"), where, problems)
    where = Translatable("%(where)s (%(key)s)", where=where, key=key)
    _unknown(data, QUESTION_KEYS - ({"columns", "meaning", "shown_when"} if column else set()), where, problems)
    qtype = data.get("type")
    allowed = COLUMN_TYPES if column else set(TYPES)
    if qtype not in allowed:
        known = ", ".join(sorted(allowed))
        problems.append(
            Translatable(
                "%(where)s: unknown column type %(type)s (one of %(known)s)", where=where, type=repr(qtype), known=known
            )
            if column
            else Translatable(
                "%(where)s: unknown type %(type)s (one of %(known)s)", where=where, type=repr(qtype), known=known
            )
        )
    required = data.get("required")
    if required is True:
        problems.append(
            Translatable(
                "%(where)s: 'required' must be the message shown when it is left empty, {lv: ..., en: ...}", where=where
            )
        )
        required = None
    elif required in (None, False):
        required = None
    else:
        required = label_map(required, where, problems, Translatable("required message"))
    choices = _choices(data.get("choices"), where, problems) if qtype in CHOICE_TYPES else ()
    if qtype not in CHOICE_TYPES and "choices" in data:
        problems.append(Translatable("%(where)s: only a choice question takes 'choices'", where=where))
    columns: tuple[Question, ...] = ()
    if qtype == "rows":
        raw_columns = data.get("columns")
        if not isinstance(raw_columns, list) or not raw_columns:
            problems.append(Translatable("%(where)s: repeating rows need 'columns', a list of questions", where=where))
        else:
            parsed = [
                _question(c, Translatable("%(where)s, column %(number)d", where=where, number=i), problems, column=True)
                for i, c in enumerate(raw_columns, 1)
            ]
            columns = tuple(c for c in parsed if c is not None)
            keys = [c.key for c in columns]
            for duplicate in sorted({k for k in keys if keys.count(k) > 1}):
                problems.append(Translatable("%(where)s: column key %(key)s is used twice", where=where, key=repr(duplicate)))
    elif "columns" in data:
        problems.append(Translatable("%(where)s: only repeating rows take 'columns'", where=where))
    condition = None
    if data.get("shown_when") is not None:
        raw = data["shown_when"]
        if not isinstance(raw, dict) or not isinstance(raw.get("question"), str):
            problems.append(
                Translatable(
                    "%(where)s: 'shown_when' must name a question: {question: ..., any_of: [...]}", where=where
                )
            )
        else:
            _unknown(raw, CONDITION_KEYS, Translatable("%(where)s, shown_when", where=where), problems)
            any_of = raw.get("any_of") or ()
            if not isinstance(any_of, list | tuple):
                problems.append(Translatable("%(where)s: 'shown_when.any_of' must be a list", where=where))
                any_of = ()
            if not any_of and "equals" not in raw and not raw.get("answered"):
                problems.append(Translatable("%(where)s: 'shown_when' needs any_of, equals or answered: true", where=where))
            condition = Condition(raw["question"], tuple(any_of), raw.get("equals"), bool(raw.get("answered")))
    meaning = data.get("meaning")
    if meaning is not None and not isinstance(meaning, str):
        problems.append(Translatable("%(where)s: 'meaning' must be a name", where=where))
        meaning = None
    return Question(
        key=key,
        type=qtype if isinstance(qtype, str) else "",
        label=label_map(data.get("label"), where, problems),
        help=label_map(data["help"], where, problems, Translatable("help")) if data.get("help") is not None else None,
        required=required,
        shown_when=condition,
        limits=_limits(data.get("limits"), qtype, where, problems),
        choices=choices,
        columns=columns,
        meaning=meaning,
    )


def _cross_checks(kind: str, questions: list[Question], problems: list) -> None:
    """Conditions and meanings against the questions they name."""
    by_key = {q.key: q for q in questions}
    order = {q.key: i for i, q in enumerate(questions)}
    meanings = MEANINGS.get(kind, {})
    seen_meanings: dict[str, str] = {}
    for q in questions:
        if q.shown_when is not None:
            target = by_key.get(q.shown_when.question)
            if target is None:
                problems.append(
                    Translatable(
                        "question %(question)s: shown_when names the missing question %(target)s",
                        question=repr(q.key),
                        target=repr(q.shown_when.question),
                    )
                )
            elif target.key == q.key:
                problems.append(Translatable("question %(question)s: shown_when names the question itself", question=repr(q.key)))
            elif order[target.key] > order[q.key]:
                problems.append(
                    Translatable(
                        "question %(question)s: shown_when names %(target)s, which comes after it",
                        question=repr(q.key),
                        target=repr(target.key),
                    )
                )
            elif target.type in CHOICE_TYPES:
                known = {c.value for c in target.choices}
                unknown = [v for v in q.shown_when.any_of if v not in known]
                if q.shown_when.equals is not None and q.shown_when.equals not in known:
                    unknown.append(q.shown_when.equals)
                if unknown:
                    problems.append(
                        Translatable(
                            "question %(question)s: shown_when names value(s) %(values)s that %(target)s does not offer",
                            question=repr(q.key),
                            values=", ".join(map(repr, unknown)),
                            target=repr(target.key),
                        )
                    )
        if q.meaning is None:
            continue
        if q.meaning not in meanings:
            problems.append(
                Translatable(
                    "question %(question)s: unknown meaning %(meaning)s for a %(kind)s form (one of %(known)s)",
                    question=repr(q.key),
                    meaning=repr(q.meaning),
                    kind=kind,
                    known=", ".join(sorted(meanings)),
                )
            )
            continue
        if q.meaning in seen_meanings:
            problems.append(
                Translatable(
                    "question %(question)s: meaning %(meaning)s is already given to %(other)s",
                    question=repr(q.key),
                    meaning=repr(q.meaning),
                    other=repr(seen_meanings[q.meaning]),
                )
            )
        seen_meanings[q.meaning] = q.key
        types, columns = meanings[q.meaning]
        if q.type not in types:
            problems.append(
                Translatable(
                    "question %(question)s: meaning %(meaning)s needs a question of type %(types)s, not %(type)s",
                    question=repr(q.key),
                    meaning=repr(q.meaning),
                    types=" / ".join(sorted(types)),
                    type=repr(q.type),
                )
            )
        missing = [c for c in columns if q.column(c) is None]
        if q.type == "rows" and missing:
            problems.append(
                Translatable(
                    "question %(question)s: meaning %(meaning)s needs the column(s) %(columns)s",
                    question=repr(q.key),
                    meaning=repr(q.meaning),
                    columns=", ".join(missing),
                )
            )
    for needed in REQUIRED_MEANINGS.get(kind, ()):
        if not any(m in seen_meanings for m in needed):
            problems.append(
                Translatable(
                    "a %(kind)s form must have a question with the meaning %(meanings)s",
                    kind=kind,
                    meanings=" / ".join(map(repr, needed)),
                )
            )
    if "budget_lines" in seen_meanings and "requested_amount" in seen_meanings:
        problems.append(
            Translatable("'requested_amount' is the sum of the budget lines: give one or the other meaning, not both")
        )


def parse(data, source: str = "<form>") -> FormDef:
    """Build a FormDef from parsed YAML (or a stored definition), or raise FormError naming
    every problem."""
    problems: list[Translatable] = []
    if not isinstance(data, dict):
        raise FormError(
            source, [Translatable("the file must hold a mapping with 'name', 'kind', 'title' and 'sections'")]
        )
    form_where = Translatable("form")
    _unknown(data, FORM_KEYS, form_where, problems)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        problems.append(Translatable("'name' is missing"))
        name = ""
    kind = data.get("kind")
    if kind not in KINDS:
        problems.append(
            Translatable("'kind' must be one of %(known)s (got %(value)s)", known=", ".join(KINDS), value=repr(kind))
        )
    title = label_map(data.get("title"), form_where, problems, Translatable("title"))
    raw_sections = data.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        raise FormError(source, problems + [Translatable("'sections' must be a non-empty list")])
    sections, section_keys, question_keys = [], [], []
    for i, raw in enumerate(raw_sections, 1):
        where = Translatable("section %(number)d", number=i)
        if not isinstance(raw, dict):
            problems.append(Translatable("%(where)s: must be a mapping with 'key', 'title' and 'questions'", where=where))
            continue
        key = _key(raw.get("key"), where, problems)
        where = Translatable("section %(number)d (%(key)s)", number=i, key=key)
        _unknown(raw, SECTION_KEYS, where, problems)
        section_keys.append(key)
        raw_questions = raw.get("questions")
        if not isinstance(raw_questions, list) or not raw_questions:
            problems.append(Translatable("%(where)s: 'questions' must be a non-empty list", where=where))
            raw_questions = []
        questions = [
            _question(q, Translatable("%(where)s, question %(number)d", where=where, number=j), problems)
            for j, q in enumerate(raw_questions, 1)
        ]
        questions = [q for q in questions if q is not None]
        question_keys += [q.key for q in questions]
        sections.append(
            Section(
                key=key,
                title=label_map(raw.get("title"), where, problems, Translatable("title")),
                questions=tuple(questions),
                help=label_map(raw["help"], where, problems, Translatable("help")) if raw.get("help") is not None else None,
            )
        )
    for duplicate in sorted({k for k in section_keys if section_keys.count(k) > 1}):
        problems.append(Translatable("section key %(key)s is used twice", key=repr(duplicate)))
    for duplicate in sorted({k for k in question_keys if question_keys.count(k) > 1}):
        problems.append(Translatable("question key %(key)s is used twice", key=repr(duplicate)))
    _cross_checks(kind, [q for s in sections for q in s.questions], problems)
    if problems:
        raise FormError(source, problems)
    return FormDef(name=name, kind=kind, title=title, sections=tuple(sections), source=source, raw=data)


def load(path: str | Path) -> FormDef:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FormError(str(path), [unreadable(error)]) from error
    except yaml.YAMLError as error:
        raise FormError(str(path), [not_yaml(error)]) from error
    return parse(data, str(path))


def load_dir(directory: str | Path) -> tuple[dict[str, FormDef], dict[str, list[Translatable]]]:
    """Every form file of a folder by name, and the broken ones (file -> problems): one broken
    file does not stop the others, and two files with one name are both refused."""
    forms: dict[str, FormDef] = {}
    broken: dict[str, list[Translatable]] = {}
    sources: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            form = load(path)
        except FormError as error:
            broken[str(path)] = error.problems
            continue
        if form.name in sources:
            message = Translatable("the name %(name)s is also the name of %(other)s", name=repr(form.name), other=sources[form.name])
            broken[str(path)] = [message]
            broken.setdefault(sources[form.name], []).append(
                Translatable("the name %(name)s is also the name of %(other)s", name=repr(form.name), other=str(path))
            )
            forms.pop(form.name, None)
            continue
        sources[form.name] = str(path)
        forms[form.name] = form
    return forms, broken


def declared_name(path: str | Path) -> str | None:
    """The name a form file declares, when it can be read at all (for naming a broken one)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    return data["name"] if isinstance(data, dict) and isinstance(data.get("name"), str) else None
