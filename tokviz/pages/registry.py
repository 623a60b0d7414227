"""The tokenizers every page can pick: the built-ins (shared by all sessions) and the session's own.

Pages never build tokenizers themselves: they call :func:`all_tokenizers`, and the Train and Load pages add to
``st.session_state[USER]``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

import streamlit as st

from tokviz.core.protocol import TokenizerLike
from tokviz.models.bpe import Tokenizer
from tokviz.pages.runs import forget_run, restore_run
from tokviz.viewmodels import state_keys
from tokviz.viewmodels.defaults import Defaults, build_defaults, cache_dir
from tokviz.viewmodels.hub_picker import LoadedModel, from_link_value, link_value, load_model
from tokviz.viewmodels.menu import TokenizerMenu
from tokviz.viewmodels.run_store import RunKept, RunStore
from tokviz.viewmodels.store import TokenizerStore
from tokviz.viewmodels.text_store import TextStore
from tokviz.viewmodels.training_summary import TrainedRun

#: Session state key of the session's own tokenizers (name -> tokenizer), which win over built-ins on a name clash.
USER = state_keys.USER_TOKENIZERS


@st.cache_resource(show_spinner="Preparing the built-in tokenizers (trained once, then cached on disk)…")
def load_defaults() -> Defaults:
    """The built-in tokenizers, shared by all sessions of this process (and cached on disk across restarts)."""
    return build_defaults()


def user_tokenizers() -> dict[str, TokenizerLike]:
    """The session's own tokenizers (trained or loaded), a dict the pages may add to."""
    user: dict[str, TokenizerLike] = st.session_state.setdefault(USER, {})
    return user


def all_tokenizers() -> TokenizerMenu:
    """Every tokenizer a user can pick: the built-ins, then the session's own (the OpenAI encodings are read only
    when a page asks for one)."""
    return load_defaults().tokenizers.with_own(user_tokenizers())


def chosen() -> list[str]:
    """The tokenizers picked in the sidebar, in order."""
    return list(st.session_state.get(state_keys.CHOSEN, []))


def run_page(view: Callable[[Mapping[str, TokenizerLike], list[str]], None]) -> None:
    """Draw one page's body: what every page module does when Streamlit runs it as a script."""
    view(all_tokenizers(), chosen())


#: Session state key: name -> store hash of the session's own tokenizers that are kept on the server.
OWN_HASHES = state_keys.OWN_HASHES


@st.cache_resource(show_spinner=False)
def store() -> TokenizerStore:
    """The server's tokenizer store, under the cache folder (shared by every session; each sees only its own)."""
    return TokenizerStore(cache_dir() / "store")


@st.cache_resource(show_spinner=False)
def run_store() -> RunStore:
    """The server's records of finished Train runs, beside their tokenizers (the corpus texts go to the same text
    store the links use)."""
    return RunStore(cache_dir() / "runs", texts=TextStore(cache_dir() / "texts"))


def keep_own(tok: TokenizerLike, name: str, *, source: str) -> str:
    """Add a session tokenizer and keep it in the store, so a refresh or a link brings it back: "" when kept, else
    why it is kept for this session only (our file format cannot hold it, or the server's disk refused it), for the
    page to say with :func:`session_only`."""
    user_tokenizers()[name] = tok
    try:
        h = store().put(tok, name=name, source=source, notice=note_cache)
    except ValueError as e:
        return f"tokviz's file format cannot hold it: {e}"
    except OSError as e:  # a full disk, a read-only cache, a cache path that is a file: said without the path
        return f"the server could not write it: {e.strerror or type(e).__name__}"
    st.session_state.setdefault(OWN_HASHES, {})[name] = h
    return ""


def session_only(name: str, why: str) -> str:
    """What a page says when :func:`keep_own` could not keep ``name`` (plain text: escape it for Markdown)."""
    return (f" {name} is kept for this session only ({why}): a refresh loses it, and a link to this view carries "
            "the settings only.")


def keep_run(name: str, run: TrainedRun, *, holdout: float) -> RunKept:
    """Keep the record of the Train run that made the session tokenizer ``name`` beside it in the store, so that
    wherever the tokenizer comes back its summary, merges and replay do too."""
    h = st.session_state.get(OWN_HASHES, {}).get(name)
    if h is None:
        return RunKept(False, False)
    return run_store().put(h, run, holdout=holdout)


def forget_own(name: str) -> None:
    """Remove a session tokenizer from the list and from the store, with the record of the run that made it."""
    user_tokenizers().pop(name, None)
    forget_run(name)
    h = st.session_state.get(OWN_HASHES, {}).pop(name, None)
    if h:
        store().remove(h)
        run_store().remove(h)


def restore_own(hashes: tuple[str, ...]) -> list[str]:
    """Bring back the session's own tokenizers a link names, with the Train runs that made them (the Train page shows
    their summary, merges and replay); the hashes this server does not have."""
    missing = []
    known = st.session_state.setdefault(OWN_HASHES, {})
    for h in hashes:
        if h in known.values():
            continue
        got = store().get(h, notice=note_cache)
        if got is None:
            missing.append(h)
            continue
        name = got.name
        n = 2
        while name in user_tokenizers() or name in load_defaults().tokenizers:
            name, n = f"{got.name} ({n})", n + 1
        got.tokenizer.name = name  # type: ignore[misc]
        user_tokenizers()[name] = got.tokenizer
        known[name] = h
        if isinstance(got.tokenizer, Tokenizer):
            record = run_store().get(h, tokenizer=got.tokenizer, notice=note_cache)
            if record is not None:
                restore_run(name, record, got.tokenizer)
    return missing


#: Session state key: what was found damaged in the cache folder or the store and repaired, not yet shown.
CACHE_NOTICES = state_keys.CACHE_NOTICES


def note_cache(text: str) -> None:
    """Keep a notice about a damaged cache entry for the page to show (the store and the caches report, never raise)."""
    st.session_state.setdefault(CACHE_NOTICES, []).append(text)


def cache_notices() -> list[str]:
    """The notices to show now: the session's own, and those of the built-ins' cache files to the one session that
    met them (the first after a start): the files were rebuilt then, and later sessions have nothing to be told."""
    notes = list(st.session_state.pop(CACHE_NOTICES, []))
    if not st.session_state.get(state_keys.DEFAULTS_NOTICED):
        st.session_state[state_keys.DEFAULTS_NOTICED] = True
        told = _told_default_notices()
        with _NOTICE_LOCK:
            fresh = [n for n in load_defaults().notices if n not in told]
            told.update(fresh)
        notes += fresh
    return notes


_NOTICE_LOCK = threading.Lock()


@st.cache_resource(show_spinner=False)
def _told_default_notices() -> set[str]:
    """The built-ins' cache notices some session has been shown since the server started."""
    return set()


def own_hashes() -> tuple[str, ...]:
    """The store hashes of the session's own tokenizers still in its list, in order."""
    user = user_tokenizers()
    return tuple(h for n, h in st.session_state.get(OWN_HASHES, {}).items() if n in user)


# -- tokenizers loaded by model name or Hub id: kept by that name, loaded again from it (links, refresh) -----------
MODELS = state_keys.MODELS


def keep_model(loaded: LoadedModel) -> None:
    """Add a tokenizer loaded by model name or Hub id to the session's list; the link carries its name (and the
    commit of a Hub model)."""
    user_tokenizers()[loaded.name] = loaded.tokenizer
    st.session_state.setdefault(MODELS, {})[loaded.name] = (loaded.context, link_value(loaded))


def restore_models(values: tuple[str, ...]) -> list[str]:
    """Load again the models a link names, a Hub model at the commit the link pins (from the Hub client's cache when
    it has it); one line per failure."""
    failed = []
    for value in values:
        name, commit = from_link_value(value)
        if name in st.session_state.get(MODELS, {}) and name in user_tokenizers():
            continue
        try:
            keep_model(load_model(name, commit=commit))
        except ValueError as e:
            failed.append(str(e))
    return failed


def model_specs() -> tuple[str, ...]:
    """What the link carries for the session's tokenizers loaded by name or Hub id (still in its list), in the
    order they were loaded: each name, with ``#commit`` for a Hub model."""
    user = user_tokenizers()
    return tuple(v[1] for n, v in st.session_state.get(MODELS, {}).items() if n in user)


def model_context(name: str) -> int | None:
    """The context length a loaded model's files state (Hub models), None when unknown."""
    value = st.session_state.get(MODELS, {}).get(name)
    return value[0] if value is not None and isinstance(value[0], int) else None
