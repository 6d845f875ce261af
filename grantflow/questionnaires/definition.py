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

    def __init__(self, source: str, problems: list[str]):
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
def _labels(value, where: str, problems: list[str], what: str = "label") -> dict:
    """A label map: exactly Latvian and English text (an unquoted comma in YAML makes a map
    with an extra key, refused here)."""
    if isinstance(value, str):
        problems.append(f"{where}: {what} must give both languages, e.g. {{lv: ..., en: ...}}")
        return {lang: value for lang in LANGS}
    if not isinstance(value, dict):
        problems.append(f"{where}: {what} is missing" if value is None else f"{where}: {what} must be {{lv: ..., en: ...}}")
        return {lang: "" for lang in LANGS}
    extra = sorted(str(key) for key in value if key not in LANGS)
    if extra:
        problems.append(
            f"{where}: {what} has unknown key(s) {', '.join(map(repr, extra))}; it must be exactly "
            "{lv: ..., en: ...} (quote text that holds a comma or a colon)"
        )
    for lang in LANGS:
        text = value.get(lang)
        if text is not None and not isinstance(text, str):
            problems.append(f"{where}: {what} {lang!r} must be text, not {type(text).__name__}")
        elif not text:
            problems.append(f"{where}: {what} has no {lang!r} text")
    return {lang: str(value.get(lang, "")) for lang in LANGS}


def _unknown(data: dict, allowed: set, where: str, problems: list[str]) -> None:
    extra = sorted(str(key) for key in data if key not in allowed)
    if extra:
        problems.append(f"{where}: unknown key(s) {', '.join(map(repr, extra))}")


def _key(value, where: str, problems: list[str]) -> str:
    if (
        not isinstance(value, str) or not value.isidentifier() or not value.isascii()
        or value != value.lower() or value.startswith("_")
    ):  # fmt: skip
        # Keys starting with _ are GrantFlow's own in an answers document (_saved: the sections saved).
        problems.append(f"{where}: 'key' must be a lower-case name of letters, digits and _, not starting with _ (got {value!r})")
        return str(value)
    return value


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _limits(value, qtype: str, where: str, problems: list[str]) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: 'limits' must be a mapping")
        return {}
    allowed = TYPES.get(qtype, set())
    for name, limit in value.items():
        if name not in allowed:
            problems.append(
                f"{where}: limit {name!r} does not apply to a {qtype} question"
                + (f" (it takes {', '.join(sorted(allowed))})" if allowed else " (it takes none)")
            )
        elif name == "grant_range":
            if not isinstance(limit, bool):
                problems.append(f"{where}: limit 'grant_range' must be true or false")
        elif qtype == "date":
            if not isinstance(limit, str):
                problems.append(f"{where}: date limit {name!r} must be a date written YYYY-MM-DD")
        elif not _number(limit):
            problems.append(f"{where}: limit {name!r} must be a number")
        elif name in ("max_length", "min_length", "max_rows", "min_rows", "places", "max_files", "min_chosen", "max_chosen"):
            if limit != int(limit) or limit < 0:
                problems.append(f"{where}: limit {name!r} must be a whole number, 0 or more")
    for low, high in (("min", "max"), ("min_length", "max_length"), ("min_rows", "max_rows"), ("min_chosen", "max_chosen")):
        if _number(value.get(low)) and _number(value.get(high)) and value[low] > value[high]:
            problems.append(f"{where}: limit {low!r} is above {high!r}")
    return dict(value)


def _choices(value, where: str, problems: list[str]) -> tuple[Choice, ...]:
    if not isinstance(value, list) or not value:
        problems.append(f"{where}: a choice question needs 'choices', a list of {{value: ..., label: {{lv, en}}}}")
        return ()
    choices, seen = [], set()
    for i, item in enumerate(value, 1):
        at = f"{where}, choice {i}"
        if not isinstance(item, dict):
            problems.append(f"{at}: must be {{value: ..., label: {{lv, en}}}}")
            continue
        _unknown(item, {"value", "label"}, at, problems)
        choice_value = item.get("value")
        if not isinstance(choice_value, str) or not choice_value:
            problems.append(f"{at}: 'value' must be text")
            continue
        if choice_value in seen:
            problems.append(f"{at}: the value {choice_value!r} is given twice")
        seen.add(choice_value)
        choices.append(Choice(choice_value, _labels(item.get("label"), f"{at} ({choice_value})", problems)))
    return tuple(choices)


def _question(data, where: str, problems: list[str], column: bool = False) -> Question | None:
    if not isinstance(data, dict):
        problems.append(f"{where}: a question must be a mapping with 'key', 'type' and 'label'")
        return None
    key = _key(data.get("key"), where, problems)
    where = f"{where} ({key})"
    _unknown(data, QUESTION_KEYS - ({"columns", "meaning", "shown_when"} if column else set()), where, problems)
    qtype = data.get("type")
    allowed = COLUMN_TYPES if column else set(TYPES)
    if qtype not in allowed:
        problems.append(
            f"{where}: unknown {'column ' if column else ''}type {qtype!r} (one of {', '.join(sorted(allowed))})"
        )
    required = data.get("required")
    if required is True:
        problems.append(f"{where}: 'required' must be the message shown when it is left empty, {{lv: ..., en: ...}}")
        required = None
    elif required in (None, False):
        required = None
    else:
        required = _labels(required, where, problems, "required message")
    choices = _choices(data.get("choices"), where, problems) if qtype in CHOICE_TYPES else ()
    if qtype not in CHOICE_TYPES and "choices" in data:
        problems.append(f"{where}: only a choice question takes 'choices'")
    columns: tuple[Question, ...] = ()
    if qtype == "rows":
        raw_columns = data.get("columns")
        if not isinstance(raw_columns, list) or not raw_columns:
            problems.append(f"{where}: repeating rows need 'columns', a list of questions")
        else:
            parsed = [_question(c, f"{where}, column {i}", problems, column=True) for i, c in enumerate(raw_columns, 1)]
            columns = tuple(c for c in parsed if c is not None)
            keys = [c.key for c in columns]
            for duplicate in sorted({k for k in keys if keys.count(k) > 1}):
                problems.append(f"{where}: column key {duplicate!r} is used twice")
    elif "columns" in data:
        problems.append(f"{where}: only repeating rows take 'columns'")
    condition = None
    if data.get("shown_when") is not None:
        raw = data["shown_when"]
        if not isinstance(raw, dict) or not isinstance(raw.get("question"), str):
            problems.append(f"{where}: 'shown_when' must name a question: {{question: ..., any_of: [...]}}")
        else:
            _unknown(raw, CONDITION_KEYS, f"{where}, shown_when", problems)
            any_of = raw.get("any_of") or ()
            if not isinstance(any_of, list | tuple):
                problems.append(f"{where}: 'shown_when.any_of' must be a list")
                any_of = ()
            if not any_of and "equals" not in raw and not raw.get("answered"):
                problems.append(f"{where}: 'shown_when' needs any_of, equals or answered: true")
            condition = Condition(raw["question"], tuple(any_of), raw.get("equals"), bool(raw.get("answered")))
    meaning = data.get("meaning")
    if meaning is not None and not isinstance(meaning, str):
        problems.append(f"{where}: 'meaning' must be a name")
        meaning = None
    return Question(
        key=key,
        type=qtype if isinstance(qtype, str) else "",
        label=_labels(data.get("label"), where, problems),
        help=_labels(data["help"], where, problems, "help") if data.get("help") is not None else None,
        required=required,
        shown_when=condition,
        limits=_limits(data.get("limits"), qtype, where, problems),
        choices=choices,
        columns=columns,
        meaning=meaning,
    )


def _cross_checks(kind: str, questions: list[Question], problems: list[str]) -> None:
    """Conditions and meanings against the questions they name."""
    by_key = {q.key: q for q in questions}
    order = {q.key: i for i, q in enumerate(questions)}
    meanings = MEANINGS.get(kind, {})
    seen_meanings: dict[str, str] = {}
    for q in questions:
        if q.shown_when is not None:
            target = by_key.get(q.shown_when.question)
            if target is None:
                problems.append(f"question {q.key!r}: shown_when names the missing question {q.shown_when.question!r}")
            elif target.key == q.key:
                problems.append(f"question {q.key!r}: shown_when names the question itself")
            elif order[target.key] > order[q.key]:
                problems.append(f"question {q.key!r}: shown_when names {target.key!r}, which comes after it")
            elif target.type in CHOICE_TYPES:
                known = {c.value for c in target.choices}
                unknown = [v for v in q.shown_when.any_of if v not in known]
                if q.shown_when.equals is not None and q.shown_when.equals not in known:
                    unknown.append(q.shown_when.equals)
                if unknown:
                    problems.append(
                        f"question {q.key!r}: shown_when names value(s) {', '.join(map(repr, unknown))} "
                        f"that {target.key!r} does not offer"
                    )
        if q.meaning is None:
            continue
        if q.meaning not in meanings:
            problems.append(
                f"question {q.key!r}: unknown meaning {q.meaning!r} for a {kind} form "
                f"(one of {', '.join(sorted(meanings))})"
            )
            continue
        if q.meaning in seen_meanings:
            problems.append(f"question {q.key!r}: meaning {q.meaning!r} is already given to {seen_meanings[q.meaning]!r}")
        seen_meanings[q.meaning] = q.key
        types, columns = meanings[q.meaning]
        if q.type not in types:
            problems.append(
                f"question {q.key!r}: meaning {q.meaning!r} needs a question of type {' or '.join(sorted(types))}, "
                f"not {q.type!r}"
            )
        missing = [c for c in columns if q.column(c) is None]
        if q.type == "rows" and missing:
            problems.append(f"question {q.key!r}: meaning {q.meaning!r} needs the column(s) {', '.join(missing)}")
    for needed in REQUIRED_MEANINGS.get(kind, ()):
        if not any(m in seen_meanings for m in needed):
            problems.append(f"a {kind} form must have a question with the meaning {' or '.join(map(repr, needed))}")
    if "budget_lines" in seen_meanings and "requested_amount" in seen_meanings:
        problems.append("'requested_amount' is the sum of the budget lines: give one or the other meaning, not both")


def parse(data, source: str = "<form>") -> FormDef:
    """Build a FormDef from parsed YAML (or a stored definition), or raise FormError naming
    every problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise FormError(source, ["the file must hold a mapping with 'name', 'kind', 'title' and 'sections'"])
    _unknown(data, FORM_KEYS, "form", problems)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        problems.append("'name' is missing")
        name = ""
    kind = data.get("kind")
    if kind not in KINDS:
        problems.append(f"'kind' must be one of {', '.join(KINDS)} (got {kind!r})")
    title = _labels(data.get("title"), "form", problems, "title")
    raw_sections = data.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        raise FormError(source, problems + ["'sections' must be a non-empty list"])
    sections, section_keys, question_keys = [], [], []
    for i, raw in enumerate(raw_sections, 1):
        where = f"section {i}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be a mapping with 'key', 'title' and 'questions'")
            continue
        key = _key(raw.get("key"), where, problems)
        where = f"section {i} ({key})"
        _unknown(raw, SECTION_KEYS, where, problems)
        section_keys.append(key)
        raw_questions = raw.get("questions")
        if not isinstance(raw_questions, list) or not raw_questions:
            problems.append(f"{where}: 'questions' must be a non-empty list")
            raw_questions = []
        questions = [_question(q, f"{where}, question {j}", problems) for j, q in enumerate(raw_questions, 1)]
        questions = [q for q in questions if q is not None]
        question_keys += [q.key for q in questions]
        sections.append(
            Section(
                key=key,
                title=_labels(raw.get("title"), where, problems, "title"),
                questions=tuple(questions),
                help=_labels(raw["help"], where, problems, "help") if raw.get("help") is not None else None,
            )
        )
    for duplicate in sorted({k for k in section_keys if section_keys.count(k) > 1}):
        problems.append(f"section key {duplicate!r} is used twice")
    for duplicate in sorted({k for k in question_keys if question_keys.count(k) > 1}):
        problems.append(f"question key {duplicate!r} is used twice")
    _cross_checks(kind, [q for s in sections for q in s.questions], problems)
    if problems:
        raise FormError(source, problems)
    return FormDef(name=name, kind=kind, title=title, sections=tuple(sections), source=source, raw=data)


def load(path: str | Path) -> FormDef:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FormError(str(path), [f"cannot read the file: {error.strerror}"]) from error
    except yaml.YAMLError as error:
        raise FormError(str(path), [f"not valid YAML: {error}"]) from error
    return parse(data, str(path))


def load_dir(directory: str | Path) -> tuple[dict[str, FormDef], dict[str, list[str]]]:
    """Every form file of a folder by name, and the broken ones (file -> problems): one broken
    file does not stop the others, and two files with one name are both refused."""
    forms: dict[str, FormDef] = {}
    broken: dict[str, list[str]] = {}
    sources: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            form = load(path)
        except FormError as error:
            broken[str(path)] = error.problems
            continue
        if form.name in sources:
            message = f"the name {form.name!r} is also the name of {sources[form.name]}"
            broken[str(path)] = [message]
            broken.setdefault(sources[form.name], []).append(f"the name {form.name!r} is also the name of {path}")
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
