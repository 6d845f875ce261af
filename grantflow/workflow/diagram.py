"""Pictures of a workflow, drawn by the `transitions` library's diagrams extension (the one
use of that library): Mermaid text for documentation and the CLI, SVG (Graphviz) for the
administrators' page. The machine is built only to be drawn; firing is engine.py's."""

import io

from transitions.extensions.diagrams import GraphMachine


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
    if engine == "graphviz":  # name the states in the reader's language, keeping the key
        for state in workflow.states.values():
            graph.node(state.name, label=f"{state.label.get(locale, state.name)}\n({state.name})")
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
