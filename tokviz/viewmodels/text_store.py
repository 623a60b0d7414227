"""Texts too long to travel in a link, kept on the server by their hash so that the link can name them.

A URL holds a text only up to a few kilobytes: past 64 KB of request line and headers the web server (Tornado)
answers a bare 400 before the app sees the request, and the browser repeats the page's URL in the ``Referer`` of
each request it makes. So a link carries a text itself only while it is short (:func:`fits_in_link`); a longer one
is written here, ``<sha256>.txt`` in UTF-8, and the link carries ``<key>.ref=<sha256>`` instead
(:func:`ref_key`). On this server the link then brings the text back; on another one (or after the store dropped
it) the page says that this server does not have that text.

Like the tokenizer store (:mod:`tokviz.viewmodels.store`), this holds data only, is bounded (least recently used out
first) and lists nothing: a session reaches only the hashes its own texts or its link give. A file whose content
no longer matches its name (truncated, edited) is discarded on reading.

Example:
    >>> import tempfile
    >>> texts = TextStore(tempfile.mkdtemp())
    >>> h = texts.put("a long text " * 1000)
    >>> texts.get(h) == "a long text " * 1000, texts.get("0" * 64)
    (True, None)
    >>> fits_in_link("short"), fits_in_link("🌍" * 1000)
    (True, False)
"""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.parse
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from tokviz.viewmodels.store import is_hash, least_recently_used, sweep_partial, write_atomically

#: Longest text (in URL-encoded bytes) a link carries itself. The link holds a few texts (the page's text and the
#: text settings of the pages); at this bound all of them stay well under the 64 KB a request may take, with the
#: browser's ``Referer`` repeating the URL.
LINK_TEXT_BYTES = 4000
#: Longest text kept here (the text boxes take pastes of a few megabytes); a longer one travels in no link.
MAX_TEXT_BYTES = 16 * 1024 * 1024
#: Default bound of the store on disk, and the environment variable (megabytes) that sets it.
DEFAULT_MAX_BYTES = 128 * 1024 * 1024
MAX_MB_ENV = "TOKVIZ_TEXT_STORE_MAX_MB"
#: Query parameters that name a kept text are the setting's key and this (``text.ref``).
REF_SUFFIX = ".ref"
_lock = threading.Lock()


def fits_in_link(text: str, *, limit: int = LINK_TEXT_BYTES) -> bool:
    """Whether ``text`` goes into a link as it is (its URL-encoded form is at most ``limit`` bytes)."""
    # Cheap bound first: every character encodes to at least one byte.
    return len(text) <= limit and len(urllib.parse.quote_plus(text)) <= limit


def ref_key(key: str) -> str:
    """The query parameter that names the kept text of setting ``key``.

    >>> ref_key("text"), ref_key("sizes_text")
    ('text.ref', 'sizes_text.ref')
    """
    return key + REF_SUFFIX


def text_hash(text: str) -> str:
    """The name of ``text`` in the store: the SHA-256 of its UTF-8 bytes (lone surrogates as U+FFFD)."""
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


class TextStore:
    """Texts on disk under ``directory``, content-addressed and bounded (see the module docstring)."""

    def __init__(self, directory: str | os.PathLike[str], *, max_bytes: int | None = None) -> None:
        self.directory = Path(directory)
        env = os.environ.get(MAX_MB_ENV, "")
        self.max_bytes = max_bytes if max_bytes is not None else (
            int(env) * 1024 * 1024 if env.isdigit() else DEFAULT_MAX_BYTES)
        sweep_partial(self.directory)  # what a server killed mid-write left

    def _path(self, h: str) -> Path:
        return self.directory / f"{h}.txt"

    def put(self, text: str) -> str | None:
        """Keep ``text`` and return its hash; None when it is longer than :data:`MAX_TEXT_BYTES` or the store cannot
        be written (then no link can name it). Keeping a text again only marks it as used."""
        data = text.encode("utf-8", "replace")
        if len(data) > min(MAX_TEXT_BYTES, self.max_bytes):
            return None
        h = hashlib.sha256(data).hexdigest()
        path = self._path(h)
        try:
            with _lock:
                if path.is_file():
                    os.utime(path)  # used now: the last to go
                    return h
                self.directory.mkdir(parents=True, exist_ok=True)
                write_atomically(path, lambda tmp: tmp.write_bytes(data))
                self._evict(keep=h)
        except OSError:
            return None
        return h

    def get(self, h: str) -> str | None:
        """The text named ``h``, or None when it is not here, or was damaged (then it is removed)."""
        if not is_hash(h):
            return None
        path = self._path(h)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != h:
            path.unlink(missing_ok=True)  # truncated or changed: never half-read
            return None
        try:
            os.utime(path)
        except OSError:
            pass  # a read-only store still serves what it holds
        return data.decode("utf-8", "replace")

    def _evict(self, *, keep: str) -> None:
        sweep_partial(self.directory)
        entries = []
        for path in self.directory.glob("*.txt"):
            h = path.name.removesuffix(".txt")
            if is_hash(h):
                st = path.stat()
                entries.append((st.st_mtime, h, st.st_size))
        for h in least_recently_used(entries, max_bytes=self.max_bytes, keep=keep):
            self._path(h).unlink(missing_ok=True)



def link_by_ref(params: dict[str, str | list[str]], texts: Mapping[str, str], store: TextStore
                ) -> tuple[dict[str, str | list[str]], tuple[str, ...]]:
    """``params`` with each text of ``texts`` (setting key -> text) that does not fit in a link replaced by its
    hash in ``store`` (``<key>.ref``), as is each one ``params`` left out, and the keys of those too long to keep at
    all (their link carries the other settings only).

    >>> import tempfile
    >>> s = TextStore(tempfile.mkdtemp())
    >>> out, left = link_by_ref({"text": "🌍" * 999, "tok": ["byte"]}, {"text": "🌍" * 999}, s)
    >>> sorted(out), left, s.get(out["text.ref"]) == "🌍" * 999
    (['text.ref', 'tok'], (), True)
    """
    out = dict(params)
    left: list[str] = []
    for key, text in texts.items():
        # Carried as it is only when ``params`` has it: a text over the link's character bound (left out of
        # ``params``) that would still fit in its bytes goes by hash too, rather than in no link at all.
        if key in params and fits_in_link(text):
            continue
        out.pop(key, None)
        h = store.put(text)
        if h is None:
            left.append(key)
        else:
            out[ref_key(key)] = h
    return out, tuple(left)


def texts_from_refs(params: Mapping[str, str | Sequence[str]], store: TextStore, *, keys: Collection[str]
                    ) -> tuple[dict[str, str], tuple[str, ...]]:
    """The kept texts a link names (setting key -> text, for ``keys`` only, and only where the link does not carry
    the text itself), and the keys whose text this server does not have.

    >>> import tempfile
    >>> s = TextStore(tempfile.mkdtemp())
    >>> texts_from_refs({"text.ref": s.put("kept") or "", "x.ref": "0" * 64}, s, keys={"text", "x"})
    ({'text': 'kept'}, ('x',))
    """
    found: dict[str, str] = {}
    missing: list[str] = []
    for name, value in params.items():
        key = name.removesuffix(REF_SUFFIX)
        if not name.endswith(REF_SUFFIX) or key not in keys or key in params:
            continue
        h = value if isinstance(value, str) else (list(value) or [""])[-1]
        text = store.get(h)
        if text is None:
            missing.append(key)
        else:
            found[key] = text
    return found, tuple(missing)
