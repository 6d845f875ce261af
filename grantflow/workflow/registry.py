"""Named roles, guards, effects, state tags and audit kinds that workflow files and the engine
refer to.

Areas register them with the decorators below (in their models and operations modules); the
engine knows no area, and the loader refuses a workflow that names anything not registered
here."""

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app


@dataclass
class Named:
    name: str
    func: Callable
    message: str = ""  # why a guard failed, shown to the user (a lazy translatable string)
    # Roles only: `scope(user)` -> an SQL condition on ideas selecting those where `user` holds
    # the role (None: none), so lists ask the same question as `func` without a query per idea.
    scope: Callable | None = None


@dataclass
class Registry:
    roles: dict[str, Named] = field(default_factory=dict)
    guards: dict[str, Named] = field(default_factory=dict)
    effects: dict[str, Named] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # audited acts other than transitions
    private_kinds: set[str] = field(default_factory=set)  # not shown to applicants


registry = Registry()


def role(name: str, scope: Callable | None = None):
    """Register `func(idea, user) -> bool`: whether `user` holds the role `name` with respect
    to `idea` (an applicant for their own organisation's ideas, an evaluator where assigned).
    `scope(user)` says the same of many ideas at once, as an SQL condition (see Named.scope),
    written beside `func` so the two are read together."""

    def decorate(func):
        registry.roles[name] = Named(name, func, scope=scope)
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
    """Every registered role `user` holds on `idea`; none for nobody or the anonymous user."""
    if getattr(user, "id", None) is None:
        return frozenset()
    return frozenset(name for name, named in registry.roles.items() if named.func(idea, user))


def guard(name: str, message: str = ""):
    """Register `func(idea, ctx) -> bool | str` as a guard. False fails with `message`,
    a string fails with that string, anything else passes."""

    def decorate(func):
        registry.guards[name] = Named(name, func, message)
        return func

    return decorate


def effect(name: str):
    """Register `func(idea, ctx)` as an effect, run in the transition's database transaction."""

    def decorate(func):
        registry.effects[name] = Named(name, func)
        return func

    return decorate


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
