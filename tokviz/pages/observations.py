"""The Observations page: the lecture's four observations, each computed live for every chosen tokenizer.

The observations and their verdicts come from :mod:`tokviz.viewmodels.observations`, the markup from
:mod:`tokviz.viewmodels.render`.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from tokviz.core.protocol import TokenizerLike
from tokviz.pages.state import PERSIST, keep
from tokviz.pages.widgets import wrapping_columns
from tokviz.viewmodels import state_keys
from tokviz.viewmodels.family_views import family_label
from tokviz.viewmodels.keys import tokenizer_key
from tokviz.viewmodels.markdown import escape_markdown
from tokviz.viewmodels.observations import OBSERVATIONS, DigitChunking, ObservationResult
from tokviz.viewmodels.render import render_observation, render_pattern_chunks


@st.cache_data(max_entries=256, show_spinner=False)
def observe(_tok: TokenizerLike, key: str, observation: str, example: str, name: str) -> ObservationResult:
    obs = next(o for o in OBSERVATIONS if o.key == observation)
    return obs.run(_tok, example, name=name)


def view(tokenizers: Mapping[str, TokenizerLike], chosen: list[str]) -> None:
    """One card per observation, each with an example the user can edit."""
    st.subheader("Observations", anchor=False)
    st.caption("Each card runs the chosen tokenizers on its example; edit the example to test your own. "
               "✓ the lecture's observation shows for that tokenizer · ✗ it does not · ! the text is lost.")
    if not chosen:
        st.info("Pick at least one tokenizer in the sidebar.", icon="👈")
        return
    families = [(n, family_label(tokenizers[n])) for n in chosen]
    others = ", ".join(f"{escape_markdown(n)} is {f}" for n, f in families if f is not None)
    if others:
        st.caption(f"Other families than byte-level BPE: {others}. Their verdicts say what the family does: "
                   "SentencePiece's ▁ for a space, WordPiece's dropped spaces and ## continuations, byte fallback "
                   "(`<0xNN>` pieces) or an unknown token for a character outside the vocabulary.")
    # Rows of two where four cards would be under ~280 px (at 1024 px they were 95-px walls of text).
    for obs, col in zip(OBSERVATIONS, wrapping_columns(len(OBSERVATIONS), "observations", border=True)):
        with col:
            st.markdown(f"**{obs.title}**")
            st.caption(obs.question)
            keep(f"{state_keys.OBS_PREFIX}{obs.key}", obs.default_example)
            example = st.text_input("Example", key=f"{state_keys.OBS_PREFIX}{obs.key}", persist_state=PERSIST)
            try:
                results = [observe(tokenizers[n], tokenizer_key(n, tokenizers[n]), obs.key, example, n)
                           for n in chosen]
            except ValueError as e:
                st.warning(escape_markdown(str(e)))
                continue
            parts = []
            first = results[0] if results else None
            if isinstance(first, DigitChunking):
                parts.append("".join(render_pattern_chunks(f"{p} pattern", chunks)
                                     for p, chunks in first.pattern_chunks))
            parts += [render_observation(r.tokenizer, r.tokens, r.verdict, mark=r.mark) for r in results]
            st.html("".join(parts))


if __name__ == "__main__":
    # Streamlit runs this file as the page's script. Draw with the imported module, not this copy, so that its
    # caches and fragments are the ones the rest of the app (and the tests) see.
    from tokviz.pages import observations as page
    from tokviz.pages.registry import run_page

    run_page(page.view)
