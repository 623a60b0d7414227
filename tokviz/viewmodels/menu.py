"""The tokenizers a user can pick, as one mapping: ready ones and built-in encodings loaded on first use.

GPT-4o's rank file takes seconds to read, so listing it in the sidebar must not load it: the menu knows each
built-in encoding's name and size up front and loads it (once per process, shared by every session) only when a
page asks for that tokenizer. The session's own tokenizers come after the built-ins and win on a name clash.

Example:
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> m = TokenizerMenu({"byte": ByteTokenizer()}, lazy={"GPT-2 (menu example)": "gpt2"})
    >>> list(m), "GPT-2 (menu example)" in m, m.is_loaded("GPT-2 (menu example)")
    (['byte', 'GPT-2 (menu example)'], True, False)
    >>> m["GPT-2 (menu example)"].encode("hello world"), m.is_loaded("GPT-2 (menu example)")
    ([31373, 995], True)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from functools import partial

from tokviz.core.protocol import TokenizerLike
from tokviz.formats.pretrained import load_encoding

#: The built-in encodings the app offers, by the names people know them by.
BUILTIN_ENCODINGS: dict[str, str] = {
    "GPT-2 · r50k_base": "gpt2",
    "GPT-4 · cl100k_base": "cl100k_base",
    "GPT-4o · o200k_base": "o200k_base",
}

class Deferred:
    """A tokenizer made on first use by ``make`` (once, even when two sessions ask at once), for a menu entry that
    costs time to build and is seldom picked.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> d = Deferred(ByteTokenizer)
    >>> d.ready, d.get().encode("hi"), d.ready
    (False, [104, 105], True)
    """

    def __init__(self, make: Callable[[], TokenizerLike]) -> None:
        self._make = make
        self._made: TokenizerLike | None = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._made is not None

    def get(self) -> TokenizerLike:
        with self._lock:
            if self._made is None:
                self._made = self._make()
            return self._made


#: The built-in encodings of this process by display name, each read once and shared by every session's menu.
_builtins: dict[str, Deferred] = {}
_guard = threading.Lock()


def _read_builtin(encoding: str, name: str) -> TokenizerLike:
    tok = load_encoding(encoding)
    tok.name = name
    return tok


def _builtin(encoding: str, name: str) -> Deferred:
    with _guard:
        entry = _builtins.get(name)
        if entry is None:
            entry = _builtins[name] = Deferred(partial(_read_builtin, encoding, name))
    return entry


def builtin_is_loaded(name: str) -> bool:
    """Whether this process has read the built-in encoding shown as ``name``."""
    entry = _builtins.get(name)
    return entry is not None and entry.ready


class TokenizerMenu(Mapping[str, TokenizerLike]):
    """Name -> tokenizer: ``ready`` ones (a :class:`Deferred` entry is made on first use), then ``lazy`` built-in
    encodings (display name -> encoding name, each a :class:`Deferred` shared by the whole process), then the
    session's ``own`` (which replace a built-in of the same name)."""

    def __init__(self, ready: Mapping[str, TokenizerLike | Deferred], *, lazy: Mapping[str, str] | None = None,
                 own: Mapping[str, TokenizerLike] | None = None) -> None:
        entries = dict(ready)
        for name, encoding in (lazy or {}).items():
            entries.setdefault(name, _builtin(encoding, name))  # a ready tokenizer of the same name wins
        self._entries = entries
        self._own = dict(own or {})

    def __getitem__(self, name: str) -> TokenizerLike:
        if name in self._own:
            return self._own[name]
        entry = self._entries[name]
        return entry.get() if isinstance(entry, Deferred) else entry

    def __contains__(self, name: object) -> bool:
        # Mapping's own test would read the tokenizer (it looks the name up): asking whether a link's or the
        # sidebar's name is offered must not read GPT-4o's rank file.
        return name in self._own or name in self._entries

    def __iter__(self) -> Iterator[str]:
        yield from self._entries
        yield from (name for name in self._own if name not in self._entries)

    def __len__(self) -> int:
        return len({*self._entries, *self._own})

    def is_loaded(self, name: str) -> bool:
        """False for a built-in encoding not read yet, or a deferred entry not made yet (asking for it would)."""
        entry = self._entries.get(name)
        return name in self._own or not isinstance(entry, Deferred) or entry.ready

    def with_own(self, own: Mapping[str, TokenizerLike]) -> TokenizerMenu:
        """The same menu with a session's own tokenizers added."""
        return TokenizerMenu(self._entries, own={**self._own, **own})
