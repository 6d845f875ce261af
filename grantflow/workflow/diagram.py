"""Pictures of a workflow, drawn by the `transitions` library's diagrams extension (the one
use of that library): Mermaid text for documentation and the CLI, SVG (Graphviz) for the
administrators' page. The machine is built only to be drawn; firing is engine.py's."""

import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from transitions.extensions.diagrams import GraphMachine

from grantflow.workflow.registry import registry, staff_roles

FONT = "DejaVu Sans"  # installed with the PDF documents' fonts; has Latvian letters


class _Holder:
    """The diagram extension draws a model's machine; this one only holds the state."""


def _edge(t, engine: str, locale: str) -> str:
    """Edges carry the trigger (Mermaid, for developers) or its label (the picture, for people)."""
    name = t.trigger if engine == "mermaid" else t.label.get(locale, t.trigger)
    return name + (" ⚙" if t.automatic else "")


def _graph(workflow, engine: str, locale: str):
    holder = _Holder()
    GraphMachine(
        model=holder,
        states=list(workflow.states),
        transitions=[
            {"trigger": _edge(t, engine, locale), "source": list(t.sources), "dest": t.dest}
            for t in workflow.transitions
        ],
        initial=workflow.initial,
        auto_transitions=False,
        graph_engine=engine,
        title=workflow.label.get(locale, workflow.name),
        show_conditions=False,
    )
    graph = holder.get_graph()
    if engine == "graphviz":
        # Legible at its natural size (the page scrolls and zooms it): top to bottom, so a long
        # workflow grows downwards, not off the side of a phone; a readable font; the states
        # and steps named in the reader's language only, final states drawn double.
        graph.graph_attr.update(rankdir="TB", concentrate="true", fontname=FONT, fontsize="16", nodesep="0.4", ranksep="0.5")
        graph.node_attr.update(fontname=FONT, fontsize="14", margin="0.2,0.1")
        graph.edge_attr.update(fontname=FONT, fontsize="12", color="#555555", fontcolor="#222222")
        for state in workflow.states.values():
            graph.node(state.name, label=state.label.get(locale, state.name), peripheries="2" if state.final else "1")
    return graph


def mermaid(workflow, locale: str = "lv") -> str:
    return _graph(workflow, "mermaid", locale).draw(None)


_svg_cache: dict = {}


def svg(workflow, locale: str = "lv") -> str:
    """SVG text; needs Graphviz's `dot` (Debian package graphviz). Cached per loaded workflow."""
    key = (workflow.name, id(workflow), locale)
    if key not in _svg_cache:
        buffer = io.BytesIO()
        _graph(workflow, "graphviz", locale).draw(buffer, format="svg", prog="dot")
        _svg_cache[key] = buffer.getvalue().decode("utf-8")
    return _svg_cache[key]


# --- the steps in plain words, for the table under the picture ------------------------------

COMMENT_WORDS = {
    ("none", "applicant"): _l("no comment"),
    ("none", "internal"): _l("no comment"),
    ("optional", "applicant"): _l("optional, the applicant sees it"),
    ("optional", "internal"): _l("optional, staff only"),
    ("required", "applicant"): _l("required, the applicant sees it"),
    ("required", "internal"): _l("required, staff only"),
}


@dataclass(frozen=True)
class Step:
    """One transition as people read it: every name replaced by its label or description."""

    label: str
    sources: list[str]
    dest: str
    who: list[str]  # empty: it happens by itself
    conditions: list[str]
    effects: list[str]
    comment: str
    parts: list[str]  # what GrantFlow's pages use it for (registry.PartDef descriptions)


def role_label(name: str, locale: str) -> str:
    staff = staff_roles().get(name)
    return staff.label.get(locale, name) if staff else str(registry.role_labels.get(name, name))


def steps(workflow, locale: str) -> list[Step]:
    def described(table, name):
        named = table.get(name)
        return str(named.description) if named is not None and named.description else name

    state = lambda name: workflow.states[name].label.get(locale, name)  # noqa: E731
    rows = []
    for t in workflow.transitions:
        parts = [registry.parts[p].description for p, trigger in workflow.parts.items() if trigger == t.trigger and p in registry.parts]
        rows.append(
            Step(
                label=t.label.get(locale, t.trigger),
                sources=[state(s) for s in t.sources],
                dest=state(t.dest),
                who=sorted(role_label(r, locale) for r in t.roles),
                conditions=[described(registry.guards, g) for g in t.guards],
                effects=[described(registry.effects, e) for e in t.effects],
                comment=str(COMMENT_WORDS[(t.comment, t.comment_to)]),
                parts=[str(p) for p in parts],
            )
        )
    return rows
