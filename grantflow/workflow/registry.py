"""Named roles, guards, effects, state tags and audit kinds that workflow files and the engine
refer to.

Areas register them with the decorators below (in their models and operations modules); the
engine knows no area, and the loader refuses a workflow that names anything not registered
here."""

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from grantflow.core.i18n import Translatable


@dataclass
class Named:
    name: str
    func: Callable
    message: str = ""  # why a guard failed, shown to the user (a lazy translatable string)
    description: str = ""  # what it checks or does, in plain words (lazy), for the workflow page
    # Roles only: `scope(user)` -> an SQL condition on ideas selecting those where `user` holds
    # the role (None: none), so lists ask the same question as `func` without a query per idea.
    scope: Callable | None = None


@dataclass(frozen=True)
class PartDef:
    """A part some page plays through a transition (the applicant's submit, screening's
    outcomes, the funding decision...). The workflow file says which trigger plays it
    (`parts:`); the code asks `workflow.part(name)`, never a trigger name.

    `tag`: the part is needed in a workflow that has a state carrying that tag, and its
    transition must leave such a state; without a tag the part is needed always (`required`)
    or only where the feature is used (not `required`)."""

    name: str
    description: str  # plain words (lazy), for the workflow page and the loader's messages
    tag: str | None = None
    required: bool = True
    # The staff-role capability (CAPABILITIES) that lets a staff role play the part even where
    # the transition's `roles:` names only built-in roles: programme staff who may screen fire
    # screening's outcomes without the workflow file naming their deployment's role.
    capability: str | None = None


@dataclass
class Registry:
    roles: dict[str, Named] = field(default_factory=dict)
    guards: dict[str, Named] = field(default_factory=dict)
    effects: dict[str, Named] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # audited acts other than transitions
    private_kinds: set[str] = field(default_factory=set)  # not shown to applicants
    parts: dict[str, PartDef] = field(default_factory=dict)
    role_labels: dict[str, str] = field(default_factory=dict)  # built-in roles' labels (lazy)


registry = Registry()


def role(name: str, label="", scope: Callable | None = None):
    """Register `func(idea, user) -> bool`: whether `user` holds the role `name` with respect
    to `idea` (an applicant for their own organisation's ideas, an evaluator where assigned).
    `label` names the role to people (a lazy translatable string). `scope(user)` says the same
    of many ideas at once, as an SQL condition (see Named.scope), written beside `func` so the
    two are read together."""

    def decorate(func):
        registry.roles[name] = Named(name, func, description=label, scope=scope)
        registry.role_labels[name] = label or name
        return func

    return decorate


def role_scopes(user) -> list:
    """The SQL conditions selecting the ideas on which `user` holds some role (any of them);
    empty for nobody or the anonymous user. A role registered without a scope cannot be
    listed: a LookupError, never a list that silently leaves ideas out or lets others in."""
    if getattr(user, "id", None) is None:
        return []
    conditions = []
    for name, named in registry.roles.items():
        if named.scope is None:
            raise LookupError(f"role {name!r} has no scope: register one with role({name!r}, scope=...)")
        condition = named.scope(user)
        if condition is not None:
            conditions.append(condition)
    return conditions


def loaded_workflows() -> list:
    """Every workflow the current application loaded."""
    return list(current_app.extensions["grantflow.workflows"].values())


def roles_of(idea, user) -> frozenset[str]:
    """Every role `user` holds on `idea`: the registered ones, and the deployment's staff roles
    (which hold on every filed idea, like the administrator's, but with their capabilities
    only); none for nobody or the anonymous user."""
    if getattr(user, "id", None) is None:
        return frozenset()
    held = {name for name, named in registry.roles.items() if named.func(idea, user)}
    staff = staff_roles()
    if staff and user.roles & staff.keys() and idea.has_tag("filed"):
        held |= user.roles & staff.keys()
    return frozenset(held)


# --- staff roles a deployment declares ---------------------------------------------------

# What a staff role may do or see, beyond viewing the filed ideas. Administrators may do all.
CAPABILITIES = {
    "screen": _l("Checks eligibility (screening)"),
    "assign": _l("Assigns evaluators"),
    "moderate": _l("Moderates evaluation: conflicts of interest, removing evaluators"),
    "fund": _l("Decides on funding"),
    "see_reviews": _l("Sees the evaluators' reviews and scores"),
    "see_documents": _l("Sees the decision letters and agreements"),
    "report": _l("Accepts or returns final reports and closes projects"),
}


@dataclass(frozen=True)
class StaffRole:
    """A role a deployment declares beyond the built-in four (config `STAFF_ROLES`), e.g.
    programme staff who screen, assign and moderate but do not fund. Users hold it like any
    role (a `user_roles` row with its name); workflow files may name it in `roles:`."""

    name: str
    label: dict  # {lv: ..., en: ...}
    capabilities: frozenset


def parse_staff_roles(value, builtin=()) -> tuple[dict[str, StaffRole], list[str]]:
    """`STAFF_ROLES` as configured: {name: {label: {lv, en}, capabilities: [...]}}. Returns the
    roles and every problem (an unknown capability, a missing label, a clash with a built-in)."""
    roles, problems = {}, []
    if not isinstance(value, dict):
        return {}, [Translatable("STAFF_ROLES must map role names to {label: {lv, en}, capabilities: [...]}")]
    for name, spec in value.items():
        where = Translatable("staff role %(role)s", role=repr(name))
        if not isinstance(name, str) or not name.isidentifier() or len(name) > 20:
            problems.append(
                Translatable("%(where)s: the name must be a word of letters, digits and _ (at most 20)", where=where)
            )
            continue
        if name in builtin or name == "system":
            problems.append(Translatable("%(where)s: the name is taken by a built-in role", where=where))
            continue
        spec = spec if isinstance(spec, dict) else {}
        label = spec.get("label")
        if not isinstance(label, dict) or set(label) != {"lv", "en"} or not all(
            isinstance(v, str) and v for v in label.values()
        ):
            problems.append(Translatable("%(where)s: label must be exactly {lv: ..., en: ...}", where=where))
            label = {"lv": name, "en": name}
        capabilities = spec.get("capabilities", [])
        if not isinstance(capabilities, list | tuple):
            problems.append(Translatable("%(where)s: capabilities must be a list", where=where))
            capabilities = []
        for capability in capabilities:
            if capability not in CAPABILITIES:
                problems.append(
                    Translatable(
                        "%(where)s: unknown capability %(capability)s (known: %(known)s)",
                        where=where,
                        capability=repr(capability),
                        known=", ".join(CAPABILITIES),
                    )
                )
        roles[name] = StaffRole(name, dict(label), frozenset(c for c in capabilities if c in CAPABILITIES))
    return roles, problems


def staff_roles() -> dict[str, StaffRole]:
    """The current application's staff roles, by name (none outside an application)."""
    if not has_app_context():
        return {}
    return current_app.extensions.get("grantflow.staff_roles", {})


def role_catalogue() -> list[tuple[str, object, frozenset | None]]:
    """Every role a user may be given, for role pickers: (name, label, capabilities), the
    built-in ones first (capabilities None: their rights are written in the code), then the
    deployment's staff roles (label a {lv, en} map)."""
    builtin = [(name, label, None) for name, label in registry.role_labels.items()]
    return builtin + [(r.name, r.label, r.capabilities) for r in staff_roles().values()]


def guard(name: str, message: str = "", description: str = ""):
    """Register `func(idea, ctx) -> bool | str` as a guard. False fails with `message`,
    a string fails with that string, anything else passes. `description` says in plain words
    what must hold (the workflow page shows it; a lazy translatable string)."""

    def decorate(func):
        registry.guards[name] = Named(name, func, message, description)
        return func

    return decorate


def effect(name: str, description: str = ""):
    """Register `func(idea, ctx)` as an effect, run in the transition's database transaction.
    `description` says in plain words what it does (a lazy translatable string)."""

    def decorate(func):
        registry.effects[name] = Named(name, func, description=description)
        return func

    return decorate


def part(name: str, description, tag: str | None = None, required: bool = True, capability: str | None = None) -> None:
    """Declare a part the caller's pages play through a transition (see PartDef). Declared by
    the area whose code fires it, next to that code."""
    registry.parts[name] = PartDef(name, description, tag, required, capability)


def capable(user, capability: str) -> bool:
    """Whether `user` may do what `capability` names (CAPABILITIES): administrators may do
    all; a deployment's staff role grants the capabilities it declares. The one answer every
    permission method on the models asks, for the web pages and the API alike."""
    if getattr(user, "id", None) is None:
        return False
    roles = user.roles
    if "administrator" in roles:
        return True
    staff = staff_roles()
    return any(capability in staff[name].capabilities for name in roles if name in staff)


def tag(name: str, meaning: str) -> None:
    """Declare a state tag: a property of states that code asks about instead of state names."""
    registry.tags[name] = meaning


def audit_kind(name: str, label, applicant_sees: bool = True) -> None:
    """Declare an act audited with engine.record, with the label history pages show;
    `applicant_sees=False` keeps it off the applicant's view (e.g. evaluation steps)."""
    registry.kinds[name] = label
    if not applicant_sees:
        registry.private_kinds.add(name)


def audit_label(kind: str) -> str:
    return str(registry.kinds.get(kind, kind))


class WorkflowUnavailable(LookupError):
    """A competition names a workflow that did not load (its file is broken or missing); the
    pages show it as unavailable, and administrators see why (`broken_workflows`)."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"workflow {name!r} is not loaded")


def workflow_for(name: str):
    """The loaded workflow called `name`, from the current application; WorkflowUnavailable
    when no such workflow loaded."""
    try:
        return current_app.extensions["grantflow.workflows"][name]
    except KeyError:
        raise WorkflowUnavailable(name) from None


def broken_workflows(name: str | None = None) -> list:
    """The workflow files that failed to load (definition.Broken), those declaring `name` when
    given."""
    broken = current_app.extensions.get("grantflow.workflow_problems", [])
    return [b for b in broken if name is None or b.name == name]


tag("editable", "the applicant may change the idea")
tag("filed", "the idea has been submitted and counts in the competition")
tag("screening", "the administrator checks eligibility")
tag("scoring", "assigned evaluators score the idea")
tag("decidable", "a funding decision may be made")
tag("funded", "money is committed to the idea")
tag("reporting", "the applicant files the final report")
tag("withdrawn", "the applicant took the idea back")
