"""Workflow files: loading and validation, into plain definitions the engine fires from.

A workflow file (YAML) declares states and transitions; see README "Workflow files". Loading
checks every name against the registry and the graph itself (every state reachable, a way out
of every state not final), so the engine never meets a transition it cannot take. The result
is plain data: `Workflow.transition(trigger, state)` and `Workflow.leaving[state]` are the
graph the engine (engine.py) and the buttons use; diagram.py draws it."""

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import yaml

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

    def __init__(self, source: str, problems: list[str]):
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


ROUND_KEYS = {"label", "opens"}


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


def _labels(value, where: str, problems: list[str]) -> dict:
    """A label map: exactly Latvian and English text. An unquoted comma in YAML
    (`{lv: Jā, nē, en: Yes}`) makes a map with an extra key, refused here."""
    if isinstance(value, str):
        problems.append(f"{where}: label must give both languages, e.g. {{lv: ..., en: ...}}")
        return {lang: value for lang in LANGS}
    if not isinstance(value, dict):
        problems.append(f"{where}: label is missing")
        return {lang: "" for lang in LANGS}
    extra = sorted(str(key) for key in value if key not in LANGS)
    if extra:
        problems.append(
            f"{where}: label has unknown key(s) {', '.join(map(repr, extra))}; it must be exactly "
            "{lv: ..., en: ...} (quote text that holds a comma or a colon)"
        )
    for lang in LANGS:
        text = value.get(lang)
        if text is not None and not isinstance(text, str):
            problems.append(f"{where}: label {lang!r} must be text, not {type(text).__name__}")
        elif not text:
            problems.append(f"{where}: label has no {lang!r} text")
    return {lang: str(value.get(lang, "")) for lang in LANGS}


def _names(value, where: str, what: str, problems: list[str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: {what} must be a list of names")
        return []
    return value


def parse(
    data, source: str = "<workflow>", registry: Registry = default_registry, staff_roles=(), forms_dir=None
) -> Workflow:
    """Build a Workflow from parsed YAML, or raise WorkflowError naming every problem.
    `staff_roles`: the role names a deployment declares beyond the registered ones; `forms_dir`:
    where the stages' form files are (default: `forms/` beside the workflow file)."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise WorkflowError(source, ["the file must hold a mapping with 'states' and 'transitions'"])
    known_roles = set(registry.roles) | set(staff_roles)
    for key in set(data) - {"name", "label", "description", "initial", "states", "transitions", "parts", "rounds", "stages"}:
        problems.append(f"unknown key {key!r} at top level")
    name = data.get("name") or Path(source).stem
    if not isinstance(name, str):
        problems.append("'name' must be text")
    workflow_label = _labels(data["label"], "workflow", problems) if "label" in data else {"lv": name, "en": name}
    raw_states = data.get("states")
    raw_transitions = data.get("transitions")
    if not isinstance(raw_states, dict) or not raw_states:
        raise WorkflowError(source, problems + ["'states' must be a non-empty mapping"])
    if not isinstance(raw_transitions, list) or not raw_transitions:
        raise WorkflowError(source, problems + ["'transitions' must be a non-empty list"])

    states: dict[str, StateDef] = {}
    for state_name, spec in raw_states.items():
        where = f"state {state_name!r}"
        spec = spec or {}
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        for key in set(spec) - STATE_KEYS:
            problems.append(f"{where}: unknown key {key!r}")
        label = _labels(spec.get("label"), where, problems)
        applicant_label = (
            _labels(spec["applicant_label"], f"{where} applicant_label", problems)
            if "applicant_label" in spec
            else label
        )
        tags = _names(spec.get("tags"), where, "tags", problems)
        for tag in tags:
            if tag not in registry.tags:
                problems.append(f"{where}: unknown tag {tag!r} (known: {', '.join(sorted(registry.tags))})")
        states[state_name] = StateDef(
            str(state_name), label, applicant_label, bool(spec.get("final", False)), frozenset(tags)
        )

    initial = data.get("initial")
    if initial not in states:
        problems.append(f"initial state {initial!r} is not a declared state")

    transitions: list[TransitionDef] = []
    seen: set = set()
    for index, spec in enumerate(raw_transitions, 1):
        if not isinstance(spec, dict):
            problems.append(f"transition #{index}: must be a mapping")
            continue
        trigger = spec.get("trigger")
        where = f"transition #{index} {trigger!r}" if trigger else f"transition #{index}"
        if not trigger or not isinstance(trigger, str) or not trigger.isidentifier():
            problems.append(f"{where}: 'trigger' must be a name such as 'submit'")
            continue
        for key in set(spec) - TRANSITION_KEYS:
            problems.append(f"{where}: unknown key {key!r}")
        sources = _names(spec.get("source"), where, "source", problems)
        if not sources:
            problems.append(f"{where}: no source state")
        for src in sources:
            if src not in states:
                problems.append(f"{where}: unknown source state {src!r}")
            if (trigger, src) in seen:
                problems.append(f"{where}: trigger {trigger!r} is declared twice from state {src!r}")
            seen.add((trigger, src))
        dest = spec.get("dest")
        if dest not in states:
            problems.append(f"{where}: unknown destination state {dest!r}")
        roles = _names(spec.get("roles"), where, "roles", problems)
        for role in roles:
            if role not in known_roles:
                problems.append(f"{where}: unknown role {role!r} (known: {', '.join(sorted(known_roles))})")
        automatic = bool(spec.get("automatic", False))
        if not roles and not automatic:
            problems.append(f"{where}: no role may fire it and it is not automatic")
        guards = _names(spec.get("guards"), where, "guards", problems)
        for guard_name in guards:
            if guard_name not in registry.guards:
                problems.append(f"{where}: unknown guard {guard_name!r}")
        effects = _names(spec.get("effects"), where, "effects", problems)
        for effect_name in effects:
            if effect_name not in registry.effects:
                problems.append(f"{where}: unknown effect {effect_name!r}")
        comment = spec.get("comment", "optional")
        if comment not in COMMENT_MODES:
            problems.append(f"{where}: comment must be one of {', '.join(sorted(COMMENT_MODES))}")
        comment_to = spec.get("comment_to", "applicant")
        if comment_to not in COMMENT_AUDIENCES:
            problems.append(f"{where}: comment_to must be one of {', '.join(sorted(COMMENT_AUDIENCES))}")
        transitions.append(
            TransitionDef(
                trigger=trigger,
                sources=tuple(sources),
                dest=dest,
                label=_labels(spec.get("label"), where, problems),
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
                    f"transition {t.trigger!r} enters stage {stage_at.get(t.dest)!r} from another stage "
                    "but lacks the effect 'open_stage' (which gives the idea that stage's form)"
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


def _parts(value, states, transitions, registry: Registry, problems: list[str]) -> dict[str, str]:
    """`parts:` maps a part the pages play (registry.parts) to the trigger that plays it here.
    Refused: an unknown part, a trigger no transition has, a part's transition that leaves no
    state carrying the part's tag, and a part the workflow needs but does not declare."""
    if value is None:
        value = {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        problems.append("'parts' must map part names to triggers, e.g. {submit: submit}")
        return {}
    triggers = {t.trigger for t in transitions}
    leaving = {}
    for t in transitions:
        leaving.setdefault(t.trigger, set()).update(t.sources)
    for name, trigger in sorted(value.items()):
        spec = registry.parts.get(name)
        if spec is None:
            problems.append(f"part {name!r} is unknown (known: {', '.join(sorted(registry.parts)) or 'none'})")
        elif trigger not in triggers:
            problems.append(f"part {name!r} names trigger {trigger!r}, which no transition has")
        elif spec.tag and not any(spec.tag in states[s].tags for s in leaving[trigger] if s in states):
            problems.append(f"part {name!r}: trigger {trigger!r} leaves no state tagged {spec.tag!r}")
    for name, spec in sorted(registry.parts.items()):
        if name in value:
            continue
        needed = spec.required and (spec.tag is None or any(spec.tag in s.tags for s in states.values()))
        if needed:
            why = f" (a state is tagged {spec.tag!r})" if spec.tag else ""
            problems.append(f"part {name!r} is missing{why}: say which trigger plays it under 'parts'")
    return dict(value)


def _rounds(value, states, problems: list[str]) -> dict[str, RoundDef]:
    """`rounds:` maps a round key to {label: {lv, en}, opens: state or [states]}. Refused: a
    key that is not a name, unknown keys, an unknown state, a state opening two rounds, a state
    tagged 'scoring' that opens no round."""
    rounds: dict[str, RoundDef] = {}
    if value is None:
        value = {}
    if not isinstance(value, dict):
        problems.append("'rounds' must map round keys to {label: {lv, en}, opens: [states]}")
        return {}
    opened_by: dict[str, str] = {}
    for position, (key, spec) in enumerate(value.items(), 1):
        where = f"round {key!r}"
        if not isinstance(key, str) or not key.isidentifier() or len(key) > 40:
            problems.append(f"{where}: the key must be a name of letters, digits and _ (at most 40)")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be a mapping with 'label' and 'opens'")
            continue
        for extra in sorted(set(map(str, spec)) - ROUND_KEYS):
            problems.append(f"{where}: unknown key {extra!r}")
        label = _labels(spec.get("label"), where, problems)
        opens = _names(spec.get("opens"), where, "opens", problems)
        if not opens:
            problems.append(f"{where}: 'opens' names no state")
        for state in opens:
            if state not in states:
                problems.append(f"{where}: opens unknown state {state!r}")
            elif state in opened_by:
                problems.append(f"{where}: state {state!r} already opens round {opened_by[state]!r}")
            else:
                opened_by[state] = key
        rounds[key] = RoundDef(key, label, tuple(opens), position)
    for name, state in states.items():
        if "scoring" in state.tags and name not in opened_by:
            problems.append(
                f"state {name!r} is tagged 'scoring' but opens no review round: name it under a round's 'opens' in 'rounds'"
            )
    return rounds


def _stages(value, states, transitions, forms_dir: Path, problems: list[str]) -> dict[str, StageDef]:
    """`stages:` maps a stage key to {label, form (a file in the forms folder), states (the
    editable states where its form is filled in), submit (the trigger that submits it)}.
    Refused, each named: a key that is not a name, unknown keys, a missing form file, an unknown
    state or one not tagged 'editable', a state in two stages, a submit trigger no transition
    has or that leaves none of the stage's states, an editable state in no stage."""
    stages: dict[str, StageDef] = {}
    if value is None:
        return stages
    if not isinstance(value, dict) or not value:
        problems.append("'stages' must map stage keys to {label, form, states, submit}")
        return stages
    leaving: dict[str, set] = {}
    for t in transitions:
        leaving.setdefault(t.trigger, set()).update(t.sources)
    in_stage: dict[str, str] = {}
    for position, (key, spec) in enumerate(value.items(), 1):
        where = f"stage {key!r}"
        if not isinstance(key, str) or not key.isidentifier() or len(key) > 40:
            problems.append(f"{where}: the key must be a name of letters, digits and _ (at most 40)")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be a mapping with 'label', 'form', 'states' and 'submit'")
            continue
        for extra in sorted(set(map(str, spec)) - STAGE_KEYS):
            problems.append(f"{where}: unknown key {extra!r}")
        label = _labels(spec.get("label"), where, problems)
        form = spec.get("form")
        if not isinstance(form, str) or not form:
            problems.append(f"{where}: 'form' must name a form file, e.g. concept.yaml")
            form = ""
        elif "/" in form or "\\" in form or not form.endswith(".yaml"):
            problems.append(f"{where}: form {form!r} must be the name of a .yaml file in {forms_dir}")
        elif not (forms_dir / form).is_file():
            problems.append(f"{where}: form file {form!r} is not in {forms_dir}")
        stage_states = _names(spec.get("states"), where, "states", problems)
        if not stage_states:
            problems.append(f"{where}: 'states' names no state")
        for state in stage_states:
            if state not in states:
                problems.append(f"{where}: unknown state {state!r}")
            elif "editable" not in states[state].tags:
                problems.append(f"{where}: state {state!r} is not tagged 'editable', so nobody could fill in its form")
            elif state in in_stage:
                problems.append(f"{where}: state {state!r} is already in stage {in_stage[state]!r}")
            else:
                in_stage[state] = key
        submit = spec.get("submit")
        if not isinstance(submit, str) or not submit:
            problems.append(f"{where}: 'submit' is missing: name the trigger that submits this stage")
            submit = ""
        elif submit not in leaving:
            problems.append(f"{where}: submit trigger {submit!r} is not a transition's trigger")
        elif not leaving[submit] & set(stage_states):
            problems.append(f"{where}: submit trigger {submit!r} leaves none of the stage's states")
        stages[key] = StageDef(key, label, form, tuple(stage_states), submit, position)
    for name, state in states.items():
        if "editable" in state.tags and name not in in_stage:
            problems.append(f"state {name!r} is tagged 'editable' but is in no stage: name it under a stage's 'states'")
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
            problems.append(f"state {name!r} cannot be reached from {initial!r}")
        if not state.final and not edges[name]:
            problems.append(f"state {name!r} has no way out and is not marked final")
        elif name not in finishing:
            problems.append(f"state {name!r} cannot reach a final state (its ways out lead only in a circle)")
        if state.final and edges[name]:
            problems.append(f"state {name!r} is final but has transitions leaving it")
    return problems


def load(path: str | Path, registry: Registry = default_registry, staff_roles=(), forms_dir=None) -> Workflow:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise WorkflowError(str(path), [f"cannot read the file: {error.strerror}"]) from error
    except yaml.YAMLError as error:
        raise WorkflowError(str(path), [f"not valid YAML: {error}"]) from error
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


def load_files(paths, registry: Registry = default_registry, staff_roles=()) -> tuple[dict[str, Workflow], list[Broken]]:
    """Every file in `paths` that loads, by name, and every one that does not, with its problems.
    Two files declaring the same name are both refused: which one is meant cannot be told."""
    loaded: dict[str, list[tuple[Path, Workflow]]] = {}
    broken: list[Broken] = []
    for path in map(Path, paths):
        try:
            workflow = load(path, registry, staff_roles)
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
            broken.append(Broken(str(path), name, (f"the name {name!r} is also used by {others}",)))
    broken.sort(key=lambda b: b.source)
    return workflows, broken


def load_dir(
    directory: str | Path, registry: Registry = default_registry, staff_roles=()
) -> tuple[dict[str, Workflow], list[Broken]]:
    """Every workflow file in `directory`: those that load, by name, and those that do not. A
    broken file does not stop start-up; competitions on it say their workflow is unavailable."""
    return load_files(sorted(Path(directory).glob("*.yaml")), registry, staff_roles)
