"""Pictures of a workflow, drawn by the transitions diagrams extension: Mermaid text for
documentation and the CLI, SVG (Graphviz) for the administrators' page."""

import io

from transitions.extensions.diagrams import GraphMachine


class _Holder:
    """The diagram extension draws a model's machine; this one only holds the state."""


def _graph(workflow, engine: str, locale: str):
    holder = _Holder()
    GraphMachine(
        model=holder,
        states=[
            {"name": s.name, "label": f"{s.label.get(locale, s.name)}\\n({s.name})" if engine == "graphviz" else s.name}
            for s in workflow.states.values()
        ],
        transitions=[
            {"trigger": t.trigger + (" ⚙" if t.automatic else ""), "source": list(t.sources), "dest": t.dest}
            for t in workflow.transitions
        ],
        initial=workflow.initial,
        auto_transitions=False,
        graph_engine=engine,
        title=workflow.label.get(locale, workflow.name),
        show_conditions=False,
    )
    return holder.get_graph()


def mermaid(workflow, locale: str = "lv") -> str:
    return _graph(workflow, "mermaid", locale).draw(None)


_svg_cache: dict = {}


def svg(workflow, locale: str = "lv") -> str:
    """SVG text; needs Graphviz's `dot` (Debian package graphviz). Cached per loaded workflow."""
    key = (workflow.name, id(workflow.machine), locale)
    if key not in _svg_cache:
        buffer = io.BytesIO()
        _graph(workflow, "graphviz", locale).draw(buffer, format="svg", prog="dot")
        _svg_cache[key] = buffer.getvalue().decode("utf-8")
    return _svg_cache[key]
