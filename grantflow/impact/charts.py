"""Charts of the impact figures as SVG, drawn by Matplotlib: the same markup goes into the
web page and into the PDF programme summary (WeasyPrint draws SVG), so both show the same.

Each chart is a horizontal bar chart (labels such as municipality names are long) with the
value written at each bar; the page puts the figures beside it as a table, which is what
screen readers and the links to the reports use."""

import hashlib
import io
import re
import textwrap
from xml.sax.saxutils import quoteattr

from flask_babel import gettext as _

from grantflow.core.i18n import format_money
from grantflow.ideas.forms import TARGET_GROUP_LABELS
from grantflow.ideas.models import TARGET_GROUPS
from grantflow.impact.operations import LESS_ACTIVE_GROUPS

BRAND = "#1d70b8"
ACCENT = "#d4351c"
INK = "#0b0c0c"


def bar_chart(rows: list[tuple[str, float, bool]], title: str, number_format=str) -> str:
    """`rows`: (label, value, highlighted); highlighted bars get the accent colour. Returns an
    <svg> element that scales to its container."""
    from matplotlib import rc_context  # noqa: PLC0415 - a second to import, and only the impact pages draw
    from matplotlib.figure import Figure  # noqa: PLC0415 - (the same)

    height = 1.1 + 0.42 * max(len(rows), 1)
    figure = Figure(figsize=(7.2, height), dpi=72)
    axes = figure.add_subplot()
    labels = [label for label, _v, _h in rows][::-1]
    values = [float(value) for _l, value, _h in rows][::-1]
    colours = [ACCENT if highlighted else BRAND for _l, _v, highlighted in rows][::-1]
    bars = axes.barh(range(len(values)), values, color=colours, height=0.7)
    axes.set_yticks(range(len(values)), labels, fontsize=12, color=INK)
    axes.bar_label(bars, labels=[number_format(v) for v in [value for _l, value, _h in rows][::-1]], padding=3, fontsize=11, color=INK)
    # A long title wraps rather than running off the picture.
    axes.set_title(textwrap.fill(title, 48), loc="left", fontsize=13, color=INK)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(axis="x", labelsize=11, colors=INK)
    axes.margins(x=0.18)
    figure.tight_layout()
    buffer = io.StringIO()
    # Text stays text (selectable, searchable, the page's font), not paths; no date, so the
    # same figures give the same bytes.
    with rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans", "svg.hashsalt": "grantflow"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # Scale with the page: keep the viewBox, drop the fixed size; name it for screen readers.
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", svg, count=1)
    # Matplotlib numbers its ids (patch_5, text_11) the same way in every chart: prefix them
    # with the chart's own, so the page and the PDF, which hold several, have each id once.
    prefix = "c" + hashlib.sha1(title.encode()).hexdigest()[:8] + "-"
    for name in set(re.findall(r'id="([^"]+)"', svg)):
        svg = svg.replace(f'id="{name}"', f'id="{prefix}{name}"').replace(f"#{name})", f"#{prefix}{name})")
        svg = svg.replace(f'"#{name}"', f'"#{prefix}{name}"')
    return svg.replace("<svg", f'<svg role="img" aria-label={quoteattr(title)} class="chart"', 1)


def target_groups(data) -> list[tuple[str, str, int, bool]]:
    """(code, label, people reached, less active) of every target group, in the form's order."""
    return [(g, TARGET_GROUP_LABELS.get(g, g), data.total.reach.get(g, 0), g in LESS_ACTIVE_GROUPS) for g in TARGET_GROUPS]


def drawn(data, locale: str, which=("reach", "money", "years")) -> dict[str, str]:
    """The impact charts of `data` (an impact.operations.Impact) by name, as SVG: the same for
    the administrators' dashboard, the public impact page and the PDF summary."""
    makers = {
        "reach": lambda: bar_chart(
            [(str(label), people, less_active) for _code, label, people, less_active in target_groups(data)],
            _("People reached by target group (less active groups in red)"),
        ),
        "money": lambda: bar_chart(
            [(m.name if m else _("Municipality not given"), float(f.granted), False) for m, f in data.by_municipality],
            _("Money granted per municipality, EUR"),
            number_format=lambda v: format_money(v, locale),
        ),
        "years": lambda: bar_chart([(str(year), f.people, False) for year, f in data.by_year], _("People reached per year")),
    }
    return {name: makers[name]() for name in which}
