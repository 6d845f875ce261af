"""Workflow files: loading and validation, into plain definitions the engine fires from.

A workflow file (YAML) declares states and transitions; see README "Workflow files". Loading
checks every name against the registry and the graph itself (every state reachable, a way out
of every state not final), so the engine never meets a transition it cannot take. The result
is plain data: `Workflow.transition(trigger, state)` and `Workflow.leaving[state]` are the
graph the engine (engine.py) and the buttons use; diagram.py draws it."""

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from grantflow.core.i18n import Translatable, label_map, not_yaml, unreadable
from grantflow.workflow.registry import Registry
from grantflow.workflow.registry import registry as default_registry

LANGS = ("lv", "en")
STATE_KEYS = {"label", "applicant_label", "final", "tags", "description"}
TRANSITION_KEYS = {
    "trigger", "source", "dest", "label", "roles", "guards", "effects", "comment", "comment_to", "automatic",
}  # fmt: skip
COMMENT_MODES = {"none", "optional", "required"}
# Who reads a transition's comment: the applicant too (history, mails, documents) or staff only.
COMMENT_AUDIENCES = {"applicant", "internal"}


class WorkflowError(Exception):
    """A workflow file that cannot be used; `problems` says every reason."""

    def __init__(self, source: str, problems: list[Translatable]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass(frozen=True)
class StateDef:
    name: str
    label: dict
    applicant_label: dict
    final: bool
    tags: frozenset


@dataclass(frozen=True)
class TransitionDef:
    trigger: str
    sources: tuple
    dest: str
    label: dict
    roles: frozenset
    guards: tuple
    effects: tuple
    comment: str  # none | optional | required
    automatic: bool
    comment_to: str = "applicant"  # applicant | internal (staff only; never the applicant's)

    @property
    def comment_required(self) -> bool:
        return self.comment == "required"

    @property
    def comment_internal(self) -> bool:
        return self.comment_to == "internal"


@dataclass(frozen=True)
class RoundDef:
    """A review round the workflow declares: its key (a competition's ReviewRound has it),
    labels, and the states that open it (entering one makes it the idea's current round)."""

    key: str
    label: dict
    opens: tuple
    position: int
    criteria: tuple = ()  # CriterionSpec: what the round starts with; empty: GrantFlow's defaults


@dataclass(frozen=True)
class CriterionSpec:
    """A criterion a review round starts with in a new competition, as the workflow file gives
    it (administrators change a competition's criteria until its scoring starts): a concept is
    not judged on a budget it does not have yet."""

    name: dict
    guidance: dict
    max_points: int
    weight: Decimal


ROUND_KEYS = {"label", "opens", "criteria"}
CRITERION_KEYS = {"name", "guidance", "max_points", "weight"}


@dataclass(frozen=True)
class StageDef:
    """A stage of the application the workflow declares (a concept, then a full proposal): its
    key (a competition's submission window for it has it), labels, the form file the applicant
    fills in at it, the editable states where that form is filled in, and the trigger that
    submits it (the stage's own submit part)."""

    key: str
    label: dict
    form: str
    states: tuple
    submit: str
    position: int


STAGE_KEYS = {"label", "form", "states", "submit"}


@dataclass
class Workflow:
    name: str
    label: dict
    initial: str
    states: dict[str, StateDef]
    transitions: list[TransitionDef]
    # (trigger, source) -> TransitionDef, and source -> transitions leaving it
    by_key: dict = field(default_factory=dict, repr=False)
    leaving: dict = field(default_factory=dict, repr=False)
    source: str = ""  # the file it was loaded from
    # part name -> trigger (registry.PartDef): which transition plays what the pages need
    parts: dict[str, str] = field(default_factory=dict)
    # round key -> RoundDef, in the order of the file; state -> the key of its current round
    rounds: dict[str, RoundDef] = field(default_factory=dict)
    round_at: dict[str, str] = field(default_factory=dict)
    # stage key -> StageDef, in the order of the file; state -> the key of its current stage
    stages: dict[str, StageDef] = field(default_factory=dict)
    stage_at: dict[str, str] = field(default_factory=dict)

    def stage_of(self, state: str) -> "StageDef | None":
        """The application stage current in `state`: the latest stage (in the file's order)
        whose states a path to it passes, the first before any; None without stages."""
        key = self.stage_at.get(state)
        return self.stages[key] if key else None

    def submit_trigger(self, state: str) -> str | None:
        """The trigger the applicant's submit button fires in `state`: its stage's, else the
        workflow's `submit` part."""
        stage = self.stage_of(state)
        return stage.submit if stage is not None else self.part("submit")

    def round_of(self, state: str) -> str | None:
        """The key of the review round current in `state`: the latest round (in the file's
        order) that a path to it may have opened, the first round before any opened; None in a
        workflow without rounds."""
        return self.round_at.get(state)

    def transition(self, trigger: str, source: str) -> TransitionDef | None:
        return self.by_key.get((trigger, source))

    def part(self, name: str) -> str | None:
        """The trigger that plays the part `name` here (e.g. "submit", "screen_accept"), or
        None where the file declares no such part (an optional feature it does not use)."""
        return self.parts.get(name)

    def states_tagged(self, tag: str) -> list[str]:
        return [s.name for s in self.states.values() if tag in s.tags]


def _names(value, where: Translatable, what: str, problems: list) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(Translatable("%(where)s: %(what)s must be a list of names", where=where, what=what))
        return []
    return value


def parse(
    data, source: str = "<workflow>", registry: Registry = default_registry, staff_roles=(), forms_dir=None
) -> Workflow:
    """Build a Workflow from parsed YAML, or raise WorkflowError naming every problem.
    `staff_roles`: the role names a deployment declares beyond the registered ones; `forms_dir`:
    where the stages' form files are (default: `forms/` beside the workflow file)."""
    problems: list[Translatable] = []
    if not isinstance(data, dict):
        raise WorkflowError(source, [Translatable("the file must hold a mapping with 'states' and 'transitions'")])
    known_roles = set(registry.roles) | set(staff_roles)
    for key in set(data) - {"name", "label", "description", "initial", "states", "transitions", "parts", "rounds", "stages"}:
        problems.append(Translatable("unknown key %(key)s at top level", key=repr(key)))
    name = data.get("name") or Path(source).stem
    if not isinstance(name, str):
        problems.append(Translatable("'name' must be text"))
    workflow_label = label_map(data["label"], Translatable("workflow"), problems) if "label" in data else {"lv": name, "en": name}
    raw_states = data.get("states")
    raw_transitions = data.get("transitions")
    if not isinstance(raw_states, dict) or not raw_states:
        raise WorkflowError(source, problems + [Translatable("'states' must be a non-empty mapping")])
    if not isinstance(raw_transitions, list) or not raw_transitions:
        raise WorkflowError(source, problems + [Translatable("'transitions' must be a non-empty list")])

    states: dict[str, StateDef] = {}
    for state_name, spec in raw_states.items():
        where = Translatable("state %(state)s", state=repr(state_name))
        spec = spec or {}
        if not isinstance(spec, dict):
            problems.append(Translatable("%(where)s: must be a mapping", where=where))
            continue
        for key in set(spec) - STATE_KEYS:
            problems.append(Translatable("%(where)s: unknown key %(key)s", where=where, key=repr(key)))
        label = label_map(spec.get("label"), where, problems)
        applicant_label = (
            label_map(spec["applicant_label"], Translatable("state %(state)s applicant_label", state=repr(state_name)), problems)
            if "applicant_label" in spec
            else label
        )
        tags = _names(spec.get("tags"), where, "tags", problems)
        for tag in tags:
            if tag not in registry.tags:
                problems.append(
                    Translatable(
                        "%(where)s: unknown tag %(tag)s (known: %(known)s)",
                        where=where,
                        tag=repr(tag),
                        known=", ".join(sorted(registry.tags)),
                    )
                )
        states[state_name] = StateDef(
            str(state_name), label, applicant_label, bool(spec.get("final", False)), frozenset(tags)
        )

    initial = data.get("initial")
    if initial is None:
        problems.append(Translatable("'initial' is missing: name the state a new idea starts in"))
    elif initial not in states:
        problems.append(Translatable("initial state %(state)s is not a declared state", state=repr(initial)))

    transitions: list[TransitionDef] = []
    seen: set = set()
    for index, spec in enumerate(raw_transitions, 1):
        if not isinstance(spec, dict):
            problems.append(Translatable("transition #%(index)d: must be a mapping", index=index))
            continue
        trigger = spec.get("trigger")
        where = (
            Translatable("transition #%(index)d %(trigger)s", index=index, trigger=repr(trigger))
            if trigger
            else Translatable("transition #%(index)d", index=index)
        )
        if not trigger or not isinstance(trigger, str) or not trigger.isidentifier():
            problems.append(Translatable("%(where)s: 'trigger' must be a name such as 'submit'", where=where))
            continue
        for key in set(spec) - TRANSITION_KEYS:
            problems.append(Translatable("%(where)s: unknown key %(key)s", where=where, key=repr(key)))
        sources = _names(spec.get("source"), where, "source", problems)
        if not sources:
            problems.append(Translatable("%(where)s: no source state", where=where))
        for src in sources:
            if src not in states:
                problems.append(Translatable("%(where)s: unknown source state %(state)s", where=where, state=repr(src)))
            if (trigger, src) in seen:
                problems.append(
                    Translatable(
                        "%(where)s: trigger %(trigger)s is declared twice from state %(state)s",
                        where=where,
                        trigger=repr(trigger),
                        state=repr(src),
                    )
                )
            seen.add((trigger, src))
        dest = spec.get("dest")
        if dest not in states:
            problems.append(Translatable("%(where)s: unknown destination state %(state)s", where=where, state=repr(dest)))
        roles = _names(spec.get("roles"), where, "roles", problems)
        for role in roles:
            if role not in known_roles:
                problems.append(
                    Translatable(
                        "%(where)s: unknown role %(role)s (known: %(known)s)",
                        where=where,
                        role=repr(role),
                        known=", ".join(sorted(known_roles)),
                    )
                )
        automatic = bool(spec.get("automatic", False))
        if not roles and not automatic:
            problems.append(Translatable("%(where)s: no role may fire it and it is not automatic", where=where))
        guards = _names(spec.get("guards"), where, "guards", problems)
        for guard_name in guards:
            if guard_name not in registry.guards:
                problems.append(Translatable("%(where)s: unknown guard %(guard)s", where=where, guard=repr(guard_name)))
        effects = _names(spec.get("effects"), where, "effects", problems)
        for effect_name in effects:
            if effect_name not in registry.effects:
                problems.append(Translatable("%(where)s: unknown effect %(effect)s", where=where, effect=repr(effect_name)))
        comment = spec.get("comment", "optional")
        if comment not in COMMENT_MODES:
            problems.append(
                Translatable(
                    "%(where)s: comment must be one of %(known)s", where=where, known=", ".join(sorted(COMMENT_MODES))
                )
            )
        comment_to = spec.get("comment_to", "applicant")
        if comment_to not in COMMENT_AUDIENCES:
            problems.append(
                Translatable(
                    "%(where)s: comment_to must be one of %(known)s",
                    where=where,
                    known=", ".join(sorted(COMMENT_AUDIENCES)),
                )
            )
        transitions.append(
            TransitionDef(
                trigger=trigger,
                sources=tuple(sources),
                dest=dest,
                label=label_map(spec.get("label"), where, problems),
                roles=frozenset(roles),
                guards=tuple(guards),
                effects=tuple(effects),
                comment=comment,
                automatic=automatic,
                comment_to=comment_to,
            )
        )

    problems += _graph_problems(initial, states, transitions)
    parts = _parts(data.get("parts"), states, transitions, registry, problems)
    rounds = _rounds(data.get("rounds"), states, problems)
    if forms_dir is None:
        forms_dir = Path(source).parent / "forms"
    stages = _stages(data.get("stages"), states, transitions, Path(forms_dir), problems)
    stage_at = _round_at(initial, states, transitions, {k: _as_round(s) for k, s in stages.items()})
    if stages:
        # Entering a later stage switches the idea to that stage's form: the transition must say so.
        stage_states = {state for stage in stages.values() for state in stage.states}
        for t in transitions:
            if t.dest in stage_states and "open_stage" not in t.effects and any(
                stage_at.get(src) != stage_at.get(t.dest) for src in t.sources
            ):
                problems.append(
                    Translatable(
                        "transition %(trigger)s enters stage %(stage)s from another stage but lacks the effect "
                        "'open_stage' (which gives the idea that stage's form)",
                        trigger=repr(t.trigger),
                        stage=repr(stage_at.get(t.dest)),
                    )
                )
    if problems:
        raise WorkflowError(source, problems)

    workflow = Workflow(
        str(name), workflow_label, initial, states, transitions, source=source, parts=parts, rounds=rounds,
        round_at=_round_at(initial, states, transitions, rounds),
        stages=stages, stage_at=stage_at,
    )
    for t in transitions:
        for src in t.sources:
            workflow.by_key[(t.trigger, src)] = t
            workflow.leaving.setdefault(src, []).append(t)
    return workflow


def _parts(value, states, transitions, registry: Registry, problems: list) -> dict[str, str]:
    """`parts:` maps a part the pages play (registry.parts) to the trigger that plays it here.
    Refused: an unknown part, a trigger no transition has, a part's transition that leaves no
    state carrying the part's tag, and a part the workflow needs but does not declare."""
    if value is None:
        value = {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        problems.append(Translatable("'parts' must map part names to triggers, e.g. {submit: submit}"))
        return {}
    triggers = {t.trigger for t in transitions}
    leaving = {}
    for t in transitions:
        leaving.setdefault(t.trigger, set()).update(t.sources)
    for name, trigger in sorted(value.items()):
        spec = registry.parts.get(name)
        if spec is None:
            problems.append(
                Translatable(
                    "part %(part)s is unknown (known: %(known)s)",
                    part=repr(name),
                    known=", ".join(sorted(registry.parts)) or Translatable("none"),
                )
            )
        elif trigger not in triggers:
            problems.append(
                Translatable(
                    "part %(part)s names trigger %(trigger)s, which no transition has",
                    part=repr(name),
                    trigger=repr(trigger),
                )
            )
        elif spec.tag and not any(spec.tag in states[s].tags for s in leaving[trigger] if s in states):
            problems.append(
                Translatable(
                    "part %(part)s: trigger %(trigger)s leaves no state tagged %(tag)s",
                    part=repr(name),
                    trigger=repr(trigger),
                    tag=repr(spec.tag),
                )
            )
    for name, spec in sorted(registry.parts.items()):
        if name in value:
            continue
        needed = spec.required and (spec.tag is None or any(spec.tag in s.tags for s in states.values()))
        if needed:
            problems.append(
                Translatable(
                    "part %(part)s is missing (a state is tagged %(tag)s): say which trigger plays it under 'parts'",
                    part=repr(name),
                    tag=repr(spec.tag),
                )
                if spec.tag
                else Translatable("part %(part)s is missing: say which trigger plays it under 'parts'", part=repr(name))
            )
    return dict(value)


def _keyed(value: dict, where_of, shape_of, allowed: set, problems: list):
    """Each (position, key, spec, where) of a mapping of named parts (`rounds:`, `stages:`)
    whose key is a name and whose spec is a mapping; a key that is not a name, a spec that is
    not a mapping (`shape_of(where)` says what it must be) and unknown keys are refused here."""
    for position, (key, spec) in enumerate(value.items(), 1):
        where = where_of(key)
        if not isinstance(key, str) or not key.isidentifier() or len(key) > 40:
            problems.append(Translatable("%(where)s: the key must be a name of letters, digits and _ (at most 40)", where=where))
            continue
        if not isinstance(spec, dict):
            problems.append(shape_of(where))
            continue
        for extra in sorted(set(map(str, spec)) - allowed):
            problems.append(Translatable("%(where)s: unknown key %(key)s", where=where, key=repr(extra)))
        yield position, key, spec, where


def _rounds(value, states, problems: list) -> dict[str, RoundDef]:
    """`rounds:` maps a round key to {label: {lv, en}, opens: state or [states], criteria
    (optional, see `_criteria`)}. Refused: a key that is not a name, unknown keys, an unknown
    state, a state opening two rounds, a state tagged 'scoring' that opens no round."""
    rounds: dict[str, RoundDef] = {}
    if value is None:
        value = {}
    if not isinstance(value, dict):
        problems.append(Translatable("'rounds' must map round keys to {label: {lv, en}, opens: [states]}"))
        return {}
    opened_by: dict[str, str] = {}
    for position, key, spec, where in _keyed(
        value,
        lambda key: Translatable("round %(round)s", round=repr(key)),
        lambda where: Translatable("%(where)s: must be a mapping with 'label' and 'opens'", where=where),
        ROUND_KEYS,
        problems,
    ):
        label = label_map(spec.get("label"), where, problems)
        opens = _names(spec.get("opens"), where, "opens", problems)
        if not opens:
            problems.append(Translatable("%(where)s: 'opens' names no state", where=where))
        for state in opens:
            if state not in states:
                problems.append(Translatable("%(where)s: opens unknown state %(state)s", where=where, state=repr(state)))
            elif state in opened_by:
                problems.append(
                    Translatable(
                        "%(where)s: state %(state)s already opens round %(round)s",
                        where=where,
                        state=repr(state),
                        round=repr(opened_by[state]),
                    )
                )
            else:
                opened_by[state] = key
        criteria = _criteria(spec.get("criteria"), where, problems)
        rounds[key] = RoundDef(key, label, tuple(opens), position, criteria)
    for name, state in states.items():
        if "scoring" in state.tags and name not in opened_by:
            problems.append(
                Translatable(
                    "state %(state)s is tagged 'scoring' but opens no review round: name it under a round's 'opens' in "
                    "'rounds'",
                    state=repr(name),
                )
            )
    return rounds


def _criteria(value, where: Translatable, problems: list) -> tuple[CriterionSpec, ...]:
    """A round's `criteria:`, a list of {name: {lv, en}, guidance: {lv, en} (optional),
    max_points (a whole number, 1 to 100; default 10), weight (0.1 to 10, in hundredths; default
    1)}, the limits of the criteria form. Absent: GrantFlow's default criteria."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        problems.append(
            Translatable("%(where)s: 'criteria' must be a list of {name, guidance, max_points, weight}", where=where)
        )
        return ()
    found = []
    for number, spec in enumerate(value, 1):
        at = Translatable("%(where)s, criterion %(number)d", where=where, number=number)
        if not isinstance(spec, dict):
            problems.append(Translatable("%(where)s: must be a mapping with 'name', 'max_points' and 'weight'", where=at))
            continue
        for extra in sorted(set(map(str, spec)) - CRITERION_KEYS):
            problems.append(Translatable("%(where)s: unknown key %(key)s", where=at, key=repr(extra)))
        name = label_map(spec.get("name"), Translatable("%(where)s, name", where=at), problems)
        guidance = {"lv": "", "en": ""}
        if spec.get("guidance") is not None:
            guidance = label_map(spec["guidance"], Translatable("%(where)s, guidance", where=at), problems)
        points = spec.get("max_points", 10)
        if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= 100:
            problems.append(Translatable("%(where)s: 'max_points' must be a whole number from 1 to 100", where=at))
            points = 10
        weight = _weight(spec.get("weight", 1))
        if weight is None:
            problems.append(Translatable("%(where)s: 'weight' must be a number from 0.1 to 10, in hundredths", where=at))
            weight = Decimal("1")
        found.append(CriterionSpec(name, guidance, points, weight))
    return tuple(found)


def _weight(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        weight = Decimal(str(value))
    except InvalidOperation:
        return None
    if not weight.is_finite() or not Decimal("0.1") <= weight <= 10 or weight != weight.quantize(Decimal("0.01")):
        return None
    return weight.quantize(Decimal("0.01"))


def _stages(value, states, transitions, forms_dir: Path, problems: list) -> dict[str, StageDef]:
    """`stages:` maps a stage key to {label, form (a file in the forms folder), states (the
    editable states where its form is filled in), submit (the trigger that submits it)}.
    Refused, each named: a key that is not a name, unknown keys, a missing form file, an unknown
    state or one not tagged 'editable', a state in two stages, a submit trigger no transition
    has or that leaves none of the stage's states, an editable state in no stage."""
    stages: dict[str, StageDef] = {}
    if value is None:
        return stages
    if not isinstance(value, dict) or not value:
        problems.append(Translatable("'stages' must map stage keys to {label, form, states, submit}"))
        return stages
    leaving: dict[str, set] = {}
    for t in transitions:
        leaving.setdefault(t.trigger, set()).update(t.sources)
    in_stage: dict[str, str] = {}
    for position, key, spec, where in _keyed(
        value,
        lambda key: Translatable("stage %(stage)s", stage=repr(key)),
        lambda where: Translatable("%(where)s: must be a mapping with 'label', 'form', 'states' and 'submit'", where=where),
        STAGE_KEYS,
        problems,
    ):
        label = label_map(spec.get("label"), where, problems)
        form = spec.get("form")
        if not isinstance(form, str) or not form:
            problems.append(Translatable("%(where)s: 'form' must name a form file, e.g. concept.yaml", where=where))
            form = ""
        elif "/" in form or "\\" in form or not form.endswith(".yaml"):
            problems.append(
                Translatable(
                    "%(where)s: form %(form)s must be the name of a .yaml file in %(folder)s",
                    where=where,
                    form=repr(form),
                    folder=str(forms_dir),
                )
            )
        elif not (forms_dir / form).is_file():
            problems.append(
                Translatable(
                    "%(where)s: form file %(form)s is not in %(folder)s",
                    where=where,
                    form=repr(form),
                    folder=str(forms_dir),
                )
            )
        stage_states = _names(spec.get("states"), where, "states", problems)
        if not stage_states:
            problems.append(Translatable("%(where)s: 'states' names no state", where=where))
        for state in stage_states:
            if state not in states:
                problems.append(Translatable("%(where)s: unknown state %(state)s", where=where, state=repr(state)))
            elif "editable" not in states[state].tags:
                problems.append(
                    Translatable(
                        "%(where)s: state %(state)s is not tagged 'editable', so nobody could fill in its form",
                        where=where,
                        state=repr(state),
                    )
                )
            elif state in in_stage:
                problems.append(
                    Translatable(
                        "%(where)s: state %(state)s is already in stage %(stage)s",
                        where=where,
                        state=repr(state),
                        stage=repr(in_stage[state]),
                    )
                )
            else:
                in_stage[state] = key
        submit = spec.get("submit")
        if not isinstance(submit, str) or not submit:
            problems.append(Translatable("%(where)s: 'submit' is missing: name the trigger that submits this stage", where=where))
            submit = ""
        elif submit not in leaving:
            problems.append(
                Translatable(
                    "%(where)s: submit trigger %(trigger)s is not a transition's trigger",
                    where=where,
                    trigger=repr(submit),
                )
            )
        elif not leaving[submit] & set(stage_states):
            problems.append(
                Translatable(
                    "%(where)s: submit trigger %(trigger)s leaves none of the stage's states",
                    where=where,
                    trigger=repr(submit),
                )
            )
        stages[key] = StageDef(key, label, form, tuple(stage_states), submit, position)
    for name, state in states.items():
        if "editable" in state.tags and name not in in_stage:
            problems.append(
                Translatable(
                    "state %(state)s is tagged 'editable' but is in no stage: name it under a stage's 'states'",
                    state=repr(name),
                )
            )
    return stages


def _as_round(stage: StageDef) -> RoundDef:
    """A stage as _round_at reads it: entering one of its states makes it current."""
    return RoundDef(stage.key, stage.label, stage.states, stage.position)


def _round_at(initial, states, transitions, rounds: dict[str, RoundDef]) -> dict[str, str]:
    """Per state, the key of its current round: the latest (in the file's order) that any
    path from the initial state to it opens, the first round where none does. Computed once,
    as a fixed point over the graph (positions only grow, so it ends)."""
    if not rounds:
        return {}
    first = next(iter(rounds.values()))
    opens = {state: spec for spec in rounds.values() for state in spec.opens}
    into: dict[str, set] = {name: set() for name in states}
    for t in transitions:
        for src in t.sources:
            if t.dest in into:
                into[t.dest].add(src)
    position = {name: (opens[name].position if name in opens else 0) for name in states}
    changed = True
    while changed:
        changed = False
        for name in states:
            if name in opens:
                continue
            best = max((position[p] for p in into[name] if p in position), default=0)
            if best > position[name]:
                position[name], changed = best, True
    by_position = {spec.position: spec.key for spec in rounds.values()}
    return {name: by_position.get(position[name], first.key) for name in states}


def _graph_problems(initial, states, transitions) -> list[str]:
    problems = []
    if initial not in states:
        return problems
    edges: dict[str, set] = {name: set() for name in states}
    for t in transitions:
        for src in t.sources:
            if src in edges and t.dest in states:
                edges[src].add(t.dest)
    reached, queue = {initial}, deque([initial])
    while queue:
        for nxt in edges[queue.popleft()]:
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    # Backwards from the final states: every state must have a path to one of them.
    into: dict[str, set] = {name: set() for name in states}
    for src, dests in edges.items():
        for dest in dests:
            into[dest].add(src)
    finishing = {name for name, state in states.items() if state.final}
    queue = deque(finishing)
    while queue:
        for prev in into[queue.popleft()]:
            if prev not in finishing:
                finishing.add(prev)
                queue.append(prev)
    for name, state in states.items():
        if name not in reached:
            problems.append(
                Translatable(
                    "state %(state)s cannot be reached from %(initial)s", state=repr(name), initial=repr(initial)
                )
            )
        if not state.final and not edges[name]:
            problems.append(Translatable("state %(state)s has no way out and is not marked final", state=repr(name)))
        elif name not in finishing:
            problems.append(
                Translatable(
                    "state %(state)s cannot reach a final state (its ways out lead only in a circle)", state=repr(name)
                )
            )
        if state.final and edges[name]:
            problems.append(Translatable("state %(state)s is final but has transitions leaving it", state=repr(name)))
    return problems


def load(path: str | Path, registry: Registry = default_registry, staff_roles=(), forms_dir=None) -> Workflow:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise WorkflowError(str(path), [unreadable(error)]) from error
    except yaml.YAMLError as error:
        raise WorkflowError(str(path), [not_yaml(error)]) from error
    return parse(data, str(path), registry, staff_roles, forms_dir)


@dataclass(frozen=True)
class Broken:
    """A workflow file that failed to load: where, the name it declares (when it can be read),
    and every problem."""

    source: str
    name: str | None
    problems: tuple


def _declared_name(path: Path) -> str | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    if isinstance(data, dict) and isinstance(data.get("name"), str):
        return data["name"]
    return path.stem


def load_files(
    paths, registry: Registry = default_registry, staff_roles=(), forms_dir=None
) -> tuple[dict[str, Workflow], list[Broken]]:
    """Every file in `paths` that loads, by name, and every one that does not, with its problems.
    Two files declaring the same name are both refused: which one is meant cannot be told.
    `forms_dir`: where the stages' form files are (the app's FORMS_DIR; default: `forms/`
    beside each workflow file)."""
    loaded: dict[str, list[tuple[Path, Workflow]]] = {}
    broken: list[Broken] = []
    for path in map(Path, paths):
        try:
            workflow = load(path, registry, staff_roles, forms_dir)
        except WorkflowError as error:
            broken.append(Broken(str(path), _declared_name(path), tuple(error.problems)))
        else:
            loaded.setdefault(workflow.name, []).append((path, workflow))
    workflows = {}
    for name, found in loaded.items():
        if len(found) == 1:
            workflows[name] = found[0][1]
            continue
        for path, _ in found:
            others = ", ".join(str(p) for p, _ in found if p != path)
            broken.append(
                Broken(
                    str(path),
                    name,
                    (Translatable("the name %(name)s is also used by %(others)s", name=repr(name), others=others),),
                )
            )
    broken.sort(key=lambda b: b.source)
    return workflows, broken


def load_dir(
    directory: str | Path, registry: Registry = default_registry, staff_roles=(), forms_dir=None
) -> tuple[dict[str, Workflow], list[Broken]]:
    """Every workflow file in `directory`: those that load, by name, and those that do not. A
    broken file does not stop start-up; competitions on it say their workflow is unavailable."""
    return load_files(sorted(Path(directory).glob("*.yaml")), registry, staff_roles, forms_dir)
