"""The Files page: token counts of whole uploaded files (text, Markdown, code; JSONL and CSV by a chosen column) for
the tokenizers chosen in the sidebar, with bytes, characters and words per token, the share of a context window
(a Hub model's own where its files state one, else the one typed here), totals and a CSV.

Only widgets and layout live here: the counting is :mod:`tokviz.analysis.file_tokens`, the table
:mod:`tokviz.viewmodels.file_table`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from tokviz.analysis.file_tokens import columns, detect_kind
from tokviz.core.protocol import TokenizerLike
from tokviz.pages.registry import model_context
from tokviz.pages.state import PERSIST, keep
from tokviz.viewmodels import state_keys
from tokviz.viewmodels.file_table import CountTable, FileInput, count_table_in_child
from tokviz.viewmodels.markdown import escape_markdown

RESULT = state_keys.FILES_RESULT


def _rewound(f: Any) -> Any:
    f.seek(0)
    return f


def view(tokenizers: Mapping[str, TokenizerLike], chosen: list[str]) -> None:
    st.subheader("Token counts of whole files")
    bound = int(st.get_option("server.maxUploadSize"))
    uploads = st.file_uploader(
        "Files (UTF-8 text, Markdown, code, .jsonl, .csv, .tsv)", accept_multiple_files=True,
        key=state_keys.FILES_UPLOAD,
        help=f"Up to {bound:,} MB each (the server's upload bound). Each file is read as a stream from its upload, "
             "once per tokenizer; a text file counts as one document, each JSONL/CSV record as one.")
    if not chosen:
        st.info("Pick tokenizers in the sidebar: the table has one row per file and tokenizer.", icon="👈")
        return
    keep(state_keys.FILES_CONTEXT, 8192)
    st.number_input("Context window (tokens), for tokenizers whose model does not state one", min_value=1,
                    step=1024, key=state_keys.FILES_CONTEXT, persist_state=PERSIST,
                    help="Hub models bring their own (model_max_length in tokenizer_config.json, else "
                         "max_position_embeddings in config.json).")
    if not uploads:
        st.info("Upload one or more files to count their tokens with each chosen tokenizer.", icon="📄")
        return
    inputs: list[FileInput] = []
    ids: list[tuple[str, str | None]] = []
    for i, f in enumerate(uploads):
        kind = detect_kind(f.name)
        column = None
        if kind != "text":
            try:
                offered = columns(_rewound(f), kind=kind, name=f.name)
            except ValueError as e:
                st.error(escape_markdown(str(e)), icon="⚠️")
                continue
            if not offered:
                st.error(escape_markdown(f"{f.name}: no columns found in its first line."), icon="⚠️")
                continue
            guess = next((c for c in offered if c.lower() in ("text", "content", "body", "prompt")), offered[0])
            # A widget label is Markdown: the file's name is escaped (a name can hold an image link).
            column = st.selectbox(escape_markdown(f"Column of {f.name} that holds the text"), offered,
                                  index=offered.index(guess), key=f"{state_keys.FILES_COLUMN_PREFIX}{i}")
        inputs.append(FileInput(f.name, lambda f=f: _rewound(f), f.size, column))
        ids.append((f.file_id, column))
    typed = int(st.session_state[state_keys.FILES_CONTEXT])
    contexts = {n: model_context(n) or typed for n in chosen}
    # Counted again only when a file, a column, the tokenizers or a context change (an upload's id names its content).
    signature = (tuple(ids), tuple(chosen), tuple(contexts.items()))
    kept = st.session_state.get(RESULT)
    if kept is None or kept[0] != signature:
        bar = st.progress(0.0, text="Counting…")

        def progress(share: float, what: str) -> None:
            bar.progress(share, text=f"Counting {what}")

        try:
            # In a child process: encoding megabytes in Python would hold the GIL every session shares.
            table = count_table_in_child(inputs, {n: tokenizers[n] for n in chosen if n in tokenizers},
                                         contexts=contexts, on_progress=progress)
        except ValueError as e:
            bar.empty()
            st.error(escape_markdown(str(e)), icon="⚠️")
            return
        bar.empty()
        st.session_state[RESULT] = (signature, table)
    else:
        table = kept[1]
    _draw(table, several=len(inputs) > 1)


def _draw(table: CountTable, *, several: bool) -> None:
    st.dataframe(table.rows(with_totals=several), hide_index=True, use_container_width=True)
    for cell in table.cells:
        if cell.error:
            st.warning(escape_markdown(cell.error), icon="⚠️")
    st.download_button("Download CSV", table.csv(), file_name="token_counts.csv", mime="text/csv",
                       icon=":material/download:")


if __name__ == "__main__":
    # Streamlit runs this file as the page's script. Draw with the imported module, not this copy, so that its
    # caches and fragments are the ones the rest of the app (and the tests) see.
    from tokviz.pages import files as page
    from tokviz.pages.registry import run_page

    run_page(page.view)
