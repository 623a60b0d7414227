"""Layout pieces more than one page draws the same way.

A row of metrics is a horizontal container that wraps, not a set of columns: in fixed columns a laptop window cut
the labels and numbers short ("Not round-…", "45,4…"); wrapped, a card that does not fit moves to the next line.
"""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

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
