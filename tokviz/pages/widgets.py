"""Layout pieces more than one page draws the same way.

A row of metrics is a horizontal container that wraps, not a set of columns: in fixed columns a laptop window cut
the labels and numbers short ("Not round-…", "45,4…"); wrapped, a card that does not fit moves to the next line.
Two charts side by side sit one above the other when their place is narrow (a CSS container query on a keyed
container: Streamlit's own columns stack only below 640 px of window, and two charts of 260 px read poorly).
"""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

#: One metric card: its label, its value, and the help shown on its (?) mark (None: no mark).
Metric = tuple[str, str, str | None]


def metric_row(metrics: Iterable[Metric]) -> None:
    """Draw the cards side by side, as many to a line as fit.

    Example (inside a page)::

        metric_row([("Merges", "7,743", None), ("Time", "6.7 s", "Wall time from start to result.")])
    """
    with st.container(horizontal=True):
        for label, value, help_ in metrics:
            st.metric(label, value, help=help_, border=True)


#: Below this width of the place for both, two charts go one above the other (each would be under ~390 px).
STACK_BELOW_PX = 800


def stacking_pair(key: str, *, below_px: int = STACK_BELOW_PX) -> tuple[DeltaGenerator, DeltaGenerator]:
    """Two equal columns that stack when the place for both is narrower than ``below_px``.

    ``key`` names the container (Streamlit gives it the class ``st-key-<key>``, which the rule selects).

    Example (inside a page)::

        left, right = stacking_pair("sizes_charts")
        left.plotly_chart(fig_a)
        right.plotly_chart(fig_b)
    """
    scope = f".st-key-{key}"
    st.html(f"<style>{scope}{{container-type:inline-size}}"
            f"@container (max-width:{below_px}px){{{scope} [data-testid='stHorizontalBlock']{{flex-direction:column}}"
            f"{scope} [data-testid='stColumn']{{width:100% !important;flex:1 1 auto !important}}}}</style>")
    with st.container(key=key):
        left, right = st.columns(2, gap="medium")
    return left, right
