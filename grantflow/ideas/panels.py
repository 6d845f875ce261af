"""The idea page's panels: each area says what it shows on the shared idea page.

An area registers a function `panel(idea, user, roles) -> Panel | None` under a name and an
order (in its own views.py); the idea page's view asks every registered panel, in order, for
its data, and renders each panel's template with exactly that data. `roles` is
`idea.roles_of(user)`, already worked out by the page. None means the panel has nothing to
show this user.

The ideas area's own panel lists the idea's files; areas above it add theirs (the documents'
PDFs) with `files(name)`, so the ideas area does not need to know them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import render_template
from markupsafe import Markup


@dataclass(frozen=True)
class Panel:
    """A template under templates/<area>/ and the context it is rendered with."""

    template: str
    context: dict = field(default_factory=dict)

    def render(self) -> Markup:
        return Markup(render_template(self.template, **self.context))


@dataclass(frozen=True)
class FileLink:
    """A file another area lists among the idea's files: where to get it, its name, a note."""

    url: str
    name: str
    note: str


PanelFunction = Callable[..., Panel | None]
FilesFunction = Callable[..., list[FileLink]]


@dataclass(frozen=True)
class _Registered:
    name: str
    order: int
    func: Callable


_panels: dict[str, _Registered] = {}
_files: dict[str, _Registered] = {}


def panel(name: str, order: int):
    """Register `func(idea, user, roles) -> Panel | None` as the idea page's panel `name`;
    panels are shown by ascending `order`."""

    def decorate(func: PanelFunction) -> PanelFunction:
        _panels[name] = _Registered(name, order, func)
        return func

    return decorate


def files(name: str, order: int = 0):
    """Register `func(idea, user) -> list[FileLink]`: files listed with the idea's own."""

    def decorate(func: FilesFunction) -> FilesFunction:
        _files[name] = _Registered(name, order, func)
        return func

    return decorate


def _in_order(registered: dict[str, _Registered]) -> list[_Registered]:
    return sorted(registered.values(), key=lambda entry: (entry.order, entry.name))


def gather(idea, user, roles) -> list[Panel]:
    """Every registered panel's data for this user, in order; those with nothing to show left out."""
    found = (entry.func(idea, user, roles) for entry in _in_order(_panels))
    return [one for one in found if one is not None]


def render(idea, user, roles) -> list[Markup]:
    """The idea page's panels, each rendered with the data its function gathered."""
    return [one.render() for one in gather(idea, user, roles)]


def files_of(idea, user) -> list[FileLink]:
    """The files other areas list with the idea's own (the ideas panel shows them first)."""
    return [link for entry in _in_order(_files) for link in entry.func(idea, user)]


def registered() -> list[str]:
    """The registered panels' names, in order (for tests and the system check)."""
    return [entry.name for entry in _in_order(_panels)]
