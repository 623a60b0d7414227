"""The language-cost chart: a plotly grouped bar chart, one bar per tokenizer for each language.

Example:
    >>> from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer
    >>> from tokviz.viewmodels.languages import builtin_parallel_text, language_costs
    >>> costs = language_costs([ByteTokenizer(), CharacterTokenizer()], builtin_parallel_text())
    >>> fig = language_cost_figure(costs)
    >>> [t.name for t in fig.data], fig.layout.barmode, len(fig.data[0].x)
    (['byte', 'character'], 'group', 17)
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from tokviz.viewmodels.languages import LanguageCost
from tokviz.viewmodels.plot_text import plot_text, template_text

#: What the chart can show: field of :class:`LanguageCost` -> (axis title, hover format).
CHART_MEASURES: dict[str, tuple[str, str]] = {
    "premium": ("Tokens relative to the reference language", ".2f"),
    "n_tokens": ("Tokens", ","),
    "bytes_per_token": ("UTF-8 bytes per token", ".2f"),
    "fertility": ("Tokens per word", ".2f"),
}


def language_cost_figure(costs: Sequence[LanguageCost], *, measure: str = "premium") -> go.Figure:
    """Grouped bars of ``measure`` (a key of :data:`CHART_MEASURES`) by language, one trace per tokenizer; for the
    premium a dotted line marks 1 (the reference language), and fertility bars of unspaced scripts are hatched."""
    if measure not in CHART_MEASURES:
        raise ValueError(f"measure must be one of {', '.join(CHART_MEASURES)}; got {measure!r}.")
    title, fmt = CHART_MEASURES[measure]
    fig = go.Figure()
    names = list(dict.fromkeys(c.tokenizer for c in costs))
    for name in names:
        rows = [c for c in costs if c.tokenizer == name]
        ys = [getattr(c, measure) for c in rows]
        hatch = ["/" if measure == "fertility" and not c.spaces else "" for c in rows]
        fig.add_trace(go.Bar(
            name=plot_text(name), x=[plot_text(c.language) for c in rows], y=ys,
            customdata=[[c.n_tokens, plot_text(c.script), plot_text(c.note)] for c in rows],
            marker={"pattern": {"shape": hatch}},
            hovertemplate=(f"%{{x}} (%{{customdata[1]}})<br>{template_text(name)}: %{{y:{fmt}}}"
                           "<br>%{customdata[0]:,} tokens"
                           "<br>%{customdata[2]}<extra></extra>"),
        ))
    if measure == "premium" and costs:
        fig.add_hline(y=1.0, line_dash="dot", line_color="#888")
    fig.update_layout(barmode="group", title=title, xaxis_title="Language", yaxis_title=title,
                      legend_title="Tokenizer", margin={"t": 50, "r": 20, "b": 40, "l": 60}, height=440)
    # The language names are drawn slanted; without room made for them, "Vietnamese" ran into the axis title.
    fig.update_xaxes(tickangle=-35, automargin=True, title_standoff=12)
    return fig
