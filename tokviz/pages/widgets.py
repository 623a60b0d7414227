"""Layout pieces more than one page draws the same way.

A row of metrics is a horizontal container that wraps, not a set of columns: in fixed columns a laptop window cut
the labels and numbers short ("Not round-…", "45,4…"); wrapped, a card that does not fit moves to the next line.
Two charts side by side sit one above the other when their place is narrow (a CSS container query on a keyed
container: Streamlit's own columns stack only below 640 px of window, and two charts of 260 px read poorly); panels
side by side wrap to rows of two, then one, so that none is narrower than a line of tokens reads.

Big markup (the token panels of a long text) is drawn by a small component instead of ``st.html``, which ran the
string through DOMPurify and React on every rerun: for four panels of about 100 KB of markup each (a 2,000-character
page of a text) that was a third of the browser's time between a keystroke and its tokens (Chromium traces of
``bench/bigtext.py``'s typed key: 717 ms of the renderer's CPU before, 419 ms with this and the stylesheet's
hover-only positioning). The markup comes from :mod:`tokviz.viewmodels.render`, which escapes every character of
the user's text and every name; ``tests/browser/test_browser.py`` types hostile text and checks that none of it runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

_markup = st.components.v2.component(
    "tokviz_markup", js=Path(__file__).with_name("markup.js").read_text(encoding="utf-8"), isolate_styles=False)


def draw_markup(markup: str, *, key: str) -> None:
    """Draw ``markup`` (made by the view models, every user string in it already escaped) where the page is.

    ``key`` must be unique on the page and hold no user text (Streamlit makes it a CSS class).

    Example (inside a page)::

        draw_markup(render_tokens(enc, text, tokenizer="gpt2"), key="tv_tokens_0")
    """
    _markup(data={"html": markup}, key=key)


#: One metric card: its label, its value, and the help shown on its (?) mark (None: no mark).
Metric = tuple[str, str, str | None]


#: Width of a metric card: the longest label drawn ("Held-out compression" and its help mark) fits.
METRIC_PX = 200


def metric_row(metrics: Iterable[Metric]) -> None:
    """Draw the cards side by side, as many to a line as fit.

    Example (inside a page)::

        metric_row([("Merges", "7,743", None), ("Time", "6.7 s", "Wall time from start to result.")])
    """
    # One width for every card: a card alone on the last line would stretch over the whole row otherwise.
    with st.container(horizontal=True):
        for label, value, help_ in metrics:
            st.metric(label, value, help=help_, border=True, width=METRIC_PX)


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


#: The most columns :func:`wrapping_columns` lays out (the rules for each count are in ``tokviz.css``).
MAX_WRAPPING = 4


def wrapping_columns(n: int, key: str, *, border: bool = False) -> list[DeltaGenerator]:
    """``n`` equal columns (1 to 4) in one row while each is at least ~280 px wide; else in rows of two, and one
    below two such widths.

    The rules are container queries in the page-wide ``tokviz.css`` on containers keyed ``tvwrap<n>_...``: a
    ``<style>`` drawn here would be gone for a moment on each rerun (a token click's), and the panels with it.

    Example (inside a page)::

        for col, name in zip(wrapping_columns(len(names), "tok_panels"), names):
            col.markdown(name)
    """
    if not 1 <= n <= MAX_WRAPPING:
        raise ValueError(f"wrapping_columns lays out 1 to {MAX_WRAPPING} columns, got {n}; draw more in rows.")
    with st.container(key=f"tvwrap{n}_{key}"):
        return list(st.columns(n, gap="small", border=border))
