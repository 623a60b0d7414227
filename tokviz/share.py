"""The view's state as URL query parameters, so that a link reproduces what its sender saw.

Three keys: ``view`` (which page), ``text`` (the input, only up to :data:`TEXT_LIMIT` characters: longer texts are
left out of the link rather than cut, so a link never silently shows a different text) and ``tok`` (repeated,
one per chosen tokenizer). Reading is forgiving: an unknown view or tokenizer name falls back to the defaults.

Example:
    >>> s = ShareState(view="tokenize", text="hello", tokenizers=("byte", "word"))
    >>> to_params(s)
    {'view': 'tokenize', 'text': 'hello', 'tok': ['byte', 'word']}
    >>> read_state(to_params(s), views=["tokenize"], tokenizers=["byte", "word"], default_tokenizers=["byte"]) == s
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Longest text kept in a link: URLs of a few kilobytes work in every browser and chat client.
TEXT_LIMIT = 2000


@dataclass(frozen=True, kw_only=True)
class ShareState:
    """What a link holds; ``text`` is None when the link does not carry the text."""

    view: str
    text: str | None
    tokenizers: tuple[str, ...]


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
    views: Sequence[str],
    tokenizers: Sequence[str],
    default_tokenizers: Sequence[str],
    limit: int = TEXT_LIMIT,
) -> ShareState:
    """The state in ``params`` (key -> value or list of values), with unknown names replaced by the defaults.

    A text longer than ``limit`` (a hand-made link) is cut to ``limit`` characters.

    >>> read_state({"view": "nope", "tok": ["byte", "gone"]}, views=["a", "b"], tokenizers=["byte"],
    ...            default_tokenizers=["byte"])
    ShareState(view='a', text=None, tokenizers=('byte',))
    """
    if not views:
        raise ValueError("read_state needs at least one view name to fall back to.")
    view_values = _values(params, "view")
    view = view_values[-1] if view_values and view_values[-1] in views else views[0]
    text_values = _values(params, "text")
    text = text_values[-1][:limit] if text_values else None
    known = set(tokenizers)
    chosen = tuple(dict.fromkeys(t for t in _values(params, "tok") if t in known))
    if not chosen:
        chosen = tuple(t for t in default_tokenizers if t in known)
    return ShareState(view=view, text=text, tokenizers=chosen)


def to_params(state: ShareState) -> dict[str, str | list[str]]:
    """Query parameters for ``state``; ``text`` is left out when it is None or too long for a link."""
    out: dict[str, str | list[str]] = {"view": state.view}
    if state.text is not None and shareable_text(state.text) is not None:
        out["text"] = state.text
    out["tok"] = list(state.tokenizers)
    return out
