"""The view's state as URL query parameters, so that a link reproduces what its sender saw.

The page is the URL's path (``/observations``); the query holds ``text`` (the input, only up to
:data:`TEXT_LIMIT` characters: longer texts are left out of the link rather than cut, so a link never silently shows
a different text; the app then names it by its hash in the server's text store, see
:mod:`tokviz.viewmodels.text_store`), ``tok`` (repeated, one per chosen tokenizer), ``own`` (the store hashes of
the session's own tokenizers, so a link brings them back on this server) and ``model`` (tokenizers loaded by model
name or Hub id, loaded again from that name). Reading is forgiving: an unknown
tokenizer name falls back to the defaults. Links from before pages had paths carried the page as ``?view=``:
:func:`legacy_view` reads it.

Example:
    >>> s = ShareState(text="hello", tokenizers=("byte", "word"))
    >>> to_params(s)
    {'text': 'hello', 'tok': ['byte', 'word']}
    >>> read_state(to_params(s), tokenizers=["byte", "word"], default_tokenizers=["byte"]) == s
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tokviz.viewmodels import state_keys

_HASH = re.compile(r"[0-9a-f]{64}")
# A model name or Hub id as a link may carry it (checked again when loaded): no spaces, no markup, bounded.
_MODEL = re.compile(r"[A-Za-z0-9:._/@-]{1,300}(?:#[0-9a-f]{40})?")
#: Longest text kept in a link: URLs of a few kilobytes work in every browser and chat client.
TEXT_LIMIT = 2000


@dataclass(frozen=True, kw_only=True)
class ShareState:
    """What a link holds; ``text`` is None when the link does not carry the text."""

    text: str | None
    tokenizers: tuple[str, ...]
    #: Hashes of the session's own tokenizers in the server's store (see :mod:`tokviz.viewmodels.store`).
    own: tuple[str, ...] = ()
    #: Tokenizers loaded by model name or Hub id (``hf:owner/name@revision``, with ``#commit`` pinning the commit the
    #: sender's copy was read at): loaded again from the name, on any server that can reach the Hub or has the files
    #: cached.
    models: tuple[str, ...] = ()


def shareable_text(text: str, *, limit: int = TEXT_LIMIT) -> str | None:
    """``text`` if it fits in a link, else None.

    >>> shareable_text("hi"), shareable_text("x" * 3000)
    ('hi', None)
    """
    return text if len(text) <= limit else None


def _values(params: Mapping[str, str | Sequence[str]], key: str) -> list[str]:
    v = params.get(key)
    if v is None:
        return []
    return [v] if isinstance(v, str) else [str(x) for x in v]


def read_state(
    params: Mapping[str, str | Sequence[str]],
    *,
    tokenizers: Sequence[str],
    default_tokenizers: Sequence[str],
    limit: int = TEXT_LIMIT,
) -> ShareState:
    """The state in ``params`` (key -> value or list of values), with unknown names replaced by the defaults.

    A text longer than ``limit`` (a hand-made link) is cut to ``limit`` characters.

    >>> read_state({"tok": ["byte", "gone"]}, tokenizers=["byte"], default_tokenizers=["byte"])
    ShareState(text=None, tokenizers=('byte',), own=(), models=())
    """
    text_values = _values(params, "text")
    text = text_values[-1][:limit] if text_values else None
    known = set(tokenizers)
    chosen = tuple(dict.fromkeys(t for t in _values(params, "tok") if t in known))
    if not chosen:
        chosen = tuple(t for t in default_tokenizers if t in known)
    own = tuple(dict.fromkeys(h for h in _values(params, "own") if _HASH.fullmatch(h)))
    models = tuple(dict.fromkeys(m for m in _values(params, "model") if _MODEL.fullmatch(m)))
    return ShareState(text=text, tokenizers=chosen, own=own, models=models)


def to_params(state: ShareState) -> dict[str, str | list[str]]:
    """Query parameters for ``state``; ``text`` is left out when it is None or too long for a link."""
    out: dict[str, str | list[str]] = {}
    if state.text is not None and shareable_text(state.text) is not None:
        out["text"] = state.text
    out["tok"] = list(state.tokenizers)
    if state.own:
        out["own"] = list(state.own)
    if state.models:
        out["model"] = list(state.models)
    return out


def legacy_view(params: Mapping[str, str | Sequence[str]], *, views: Sequence[str]) -> str | None:
    """The page an old ``?view=`` link names, if it is one of ``views``.

    >>> legacy_view({"view": "observations"}, views=["tokenize", "observations"]), legacy_view({}, views=["a"])
    ('observations', None)
    """
    values = _values(params, "view")
    return values[-1] if values and values[-1] in views else None


#: The settings a link carries besides the text and tokenizers: widget key -> kind of value. Every setting a user
#: can change on a page is here, so a link reproduces the whole view.
SETTINGS: dict[str, str] = {
    # Tokenize: Text or Chat; the generation prompt; the messages
    state_keys.COLOR_BY: "str", state_keys.SHOW_WS: "bool", state_keys.SHOW_CHUNKS: "bool",
    state_keys.SHOW_TABLE: "bool",
    state_keys.TOK_PAGE: "int", state_keys.TOK_MODE: "str", state_keys.CHAT_GEN: "bool", state_keys.CHAT_MSGS: "str",
    # Observations (the four examples)
    state_keys.OBS_LEADING_SPACE: "str", state_keys.OBS_REPETITION: "str", state_keys.OBS_DIGITS: "str",
    state_keys.OBS_BYTE_FALLBACK: "str",
    # Vocab sizes
    state_keys.SIZES_MAX: "int", state_keys.SIZES_PATTERNS: "strs", state_keys.SIZES_RUN: "str",
    state_keys.SIZES_PICK: "ints",
    state_keys.SIZES_LENGTHS: "str", state_keys.SIZES_EXTRAS: "strs", state_keys.SIZES_TEXT: "str",
    # Train
    state_keys.TRAIN_SOURCE: "str", state_keys.TRAIN_VOCAB: "int", state_keys.TRAIN_SPECIALS: "str",
    state_keys.TRAIN_PATTERN: "str",
    state_keys.TRAIN_REGEX: "str", state_keys.TRAIN_HOLDOUT: "bool", state_keys.TRAIN_SAMPLE_KIND: "str",
    state_keys.TRAIN_SAMPLE: "str", state_keys.TRAIN_RUN: "str",
    # Load & diff
    state_keys.CMP_A: "str", state_keys.CMP_B: "str", state_keys.CMP_CORPUS: "str", state_keys.CMP_TEXT: "str",
    # Inspect
    state_keys.INSPECT_TAB: "str", state_keys.INSPECT_HEALTH_TOK: "str", state_keys.INSPECT_HEALTH_CHECK: "str",
    state_keys.INSPECT_LANG_SOURCE: "str", state_keys.INSPECT_LANG_MEASURE: "str", state_keys.INSPECT_BUDGET_TOK: "str",
    state_keys.INSPECT_BUDGET_N: "int", state_keys.INSPECT_BUDGET_AT: "str",
    # Files
    state_keys.FILES_CONTEXT: "int",
}
#: Keys whose name starts with one of these carry the replay step and the open tab of a training run (one key per
#: run).
SETTING_PREFIXES: dict[str, str] = {state_keys.TRAIN_STEP_PREFIX: "int", state_keys.TRAIN_TAB_PREFIX: "str"}


def _kind(key: str) -> str | None:
    if key in SETTINGS:
        return SETTINGS[key]
    return next((k for p, k in SETTING_PREFIXES.items() if key.startswith(p) and key[len(p):].isdigit()), None)


def settings_to_params(values: Mapping[str, object], *, limit: int = TEXT_LIMIT) -> dict[str, str | list[str]]:
    """Query parameters for the settings in ``values`` (other keys are ignored; texts longer than ``limit`` are left
    out, as the main text is).

    >>> settings_to_params({"show_ws": True, "sizes_pick": [512, 2048], "color_by": "id", "other": 1})
    {'show_ws': '1', 'sizes_pick': ['512', '2048'], 'color_by': 'id'}
    """
    out: dict[str, str | list[str]] = {}
    for key, value in values.items():
        kind = _kind(key)
        if kind is None or value is None:
            continue
        if kind == "bool":
            out[key] = "1" if value else "0"
        elif kind in ("strs", "ints") and isinstance(value, (list, tuple)):
            out[key] = [str(v) for v in value]
        elif kind in ("str", "int") and (kind == "int" or len(str(value)) <= limit):
            out[key] = str(value)
    return out


def settings_from_params(params: Mapping[str, str | Sequence[str]], *, limit: int = TEXT_LIMIT) -> dict[str, object]:
    """The settings a link carries, typed; values of the wrong shape are dropped (each page then uses its default,
    and refuses a value it does not offer).

    >>> settings_from_params({"show_ws": "1", "sizes_pick": ["512", "x"], "train_vocab": "900", "tok": "byte"})
    {'show_ws': True, 'sizes_pick': [512], 'train_vocab': 900}
    """
    out: dict[str, object] = {}
    for key in params:
        kind = _kind(key)
        values = _values(params, key)
        if kind is None or not values:
            continue
        if kind == "bool" and values[-1] in ("0", "1"):
            out[key] = values[-1] == "1"
        elif kind == "int" and values[-1].isdigit() and len(values[-1]) <= 9:
            out[key] = int(values[-1])
        elif kind == "str":
            out[key] = values[-1][:limit]
        elif kind == "strs":
            out[key] = [v[:limit] for v in values]
        elif kind == "ints":
            out[key] = [int(v) for v in values if v.isdigit() and len(v) <= 9]
    return out
