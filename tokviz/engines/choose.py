"""Attach the fastest installed engine that runs a tokenizer exactly; without one, the tokenizer stays pure Python.

The check (:func:`tokviz.engines.plan.rank_plan`) and the engine's build take from a fraction of a second to a few
seconds, so by default they run in a background thread, once the tokenizer has been asked for enough text, and the
tokenizer encodes by itself until the engine is ready: start-up and the first page are never slower.

Example:
    >>> from tokviz import Tokenizer
    >>> tok = accelerate(Tokenizer({i: bytes([i]) for i in range(256)}, [], pattern=r"\\w+|\\W"), background=False)
    >>> tok.engine is None, why_pure(tok)
    (True, 'a custom pattern: another regex engine may cut it otherwise')
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
import weakref
from typing import Any

from tokviz.core.engine import encode_stretches, set_engine_factory
from tokviz.engines.native import ENGINES, LOAD_ORDER, PREFERENCE
from tokviz.engines.plan import rank_plan
from tokviz.models.bpe import Tokenizer

# Characters a tokenizer must be asked for before its engine is built (in the background).
START_AT = 1 << 16


@functools.cache
def installed_engines() -> list[str]:
    """Names of the engines whose package is installed, fastest first."""
    return [n for n in PREFERENCE if importlib.util.find_spec(n) is not None]


def wanted_engines() -> list[str] | None:
    """The engine names ``$TOKVIZ_ENGINE`` lists (``pure``: none), comma-separated; None when it is not set.

    >>> import os; os.environ["TOKVIZ_ENGINE"] = "tiktoken, pure"; wanted_engines()
    ['tiktoken', 'pure']
    >>> del os.environ["TOKVIZ_ENGINE"]; wanted_engines() is None
    True
    """
    wanted = os.environ.get("TOKVIZ_ENGINE", "").strip()
    return [w.strip() for w in wanted.split(",")] if wanted else None


def chosen_engines() -> list[str]:
    """The installed engines, or only those ``$TOKVIZ_ENGINE`` names (:func:`wanted_engines`)."""
    names = wanted_engines()
    return installed_engines() if names is None else [n for n in installed_engines() if n in names]


class BackgroundEngine:
    """Engines built in a daemon thread, the quickest to load first (tiktoken, then fastokens, which replaces it):
    until one is ready every text is declined and the tokenizer encodes it itself.

    The build starts once ``start_at`` characters have been asked for (0: at once), so tokenizers that only ever
    see short texts (a test, a typed sentence) never pay for it; a text of ``wait_at`` characters or more waits
    (at most ``max_wait`` seconds) for the first engine, which then pays for itself on that text.
    """

    def __init__(self, tok: Tokenizer, names: list[str], *, start_at: int = 0, wait_at: int = 1 << 20,
                 max_wait: float = 10.0) -> None:
        self.name = "pure"
        self.note = ""
        self._engine: Any = None
        # The tokenizer is held weakly: it holds this engine, and a cycle would keep a dropped one alive.
        self._pending: tuple[weakref.ref[Tokenizer], list[str]] | None = (weakref.ref(tok), names)
        self._asked = 0
        self.start_at, self.wait_at, self.max_wait = start_at, wait_at, max_wait
        self.first = threading.Event()  # one engine runs (or none will)
        self.ready = threading.Event()  # every engine is built, or failed
        self._lock = threading.Lock()
        self._pid = os.getpid()
        if start_at <= 0:
            self.start()

    def start(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
        tok = None if pending is None else pending[0]()
        if pending is not None and tok is not None:
            names = pending[1]
            # Not a daemon: a process ending while a native engine is being built (its code running without the
            # GIL) was killed by the interpreter's exit ("FATAL: exception not rethrown", exit code 134); exit now
            # waits for the build, a few seconds at most.
            threading.Thread(target=self._build, args=(tok, names), name=f"tokviz-engine-{tok.name}").start()

    def _build(self, tok: Tokenizer, names: list[str]) -> None:
        try:
            plan = rank_plan(tok)
            if not plan.ok:
                self.note = plan.reason
                return
            for name in sorted(names, key=LOAD_ORDER.index):
                try:
                    self._engine, self.name = ENGINES[name](plan), name
                    self.first.set()
                except Exception as e:  # a failed engine leaves the one before it (or pure Python) running
                    self.note = f"{name} failed to load: {e}"
                if self._engine is not None:
                    tok.prepare_offsets()
        finally:
            self.first.set()
            self.ready.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Start the build if it has not started, wait until it ends; True if an engine runs now."""
        self.start()
        self.ready.wait(timeout)
        return self._engine is not None

    def _running(self, n_chars: int) -> Any:
        """The engine that runs now, after waiting for it if ``n_chars`` is long enough (None: encode it pure)."""
        engine = self._engine
        if engine is None:
            if self.ready.is_set() or os.getpid() != self._pid:  # a forked child has no build thread to wait for
                return None
            self._asked += n_chars
            if self._asked >= self.start_at:
                self.start()
            if n_chars < self.wait_at or not self.first.wait(self.max_wait) or self._engine is None:
                return None
            engine = self._engine
        return engine

    def encode_ordinary(self, text: str) -> list[int] | None:
        engine = self._running(len(text))
        return None if engine is None else engine.encode_ordinary(text)

    def encode_ordinary_batch(self, texts: list[str]) -> list[list[int] | None]:
        engine = self._running(sum(map(len, texts)))
        return [None] * len(texts) if engine is None else encode_stretches(engine, texts)


def _build(tok: Tokenizer, names: list[str]) -> tuple[Any, str]:
    """Synchronously: the first of ``names`` that builds, after the plan's check."""
    plan = rank_plan(tok)
    if not plan.ok:
        tok.engine_note = plan.reason
        return None, "pure"
    for name in names:
        try:
            engine = ENGINES[name](plan)
            tok.prepare_offsets()
            return engine, name
        except Exception as e:  # an engine that fails to build leaves the next one (or pure Python) to run
            tok.engine_note = f"{name} failed to load: {e}"
    return None, "pure"


def accelerate(tok: Tokenizer, *, engines: list[str] | None = None, background: bool = True,
               start_at: int = START_AT) -> Tokenizer:
    """Attach to ``tok`` (in place; returned for chaining) the first of ``engines`` (default: every installed one,
    fastest first) that runs it exactly; ``engines=[]`` detaches. A tokenizer no engine runs exactly keeps
    ``tok.engine`` None (or, in the background, an engine that declines every text), and :func:`why_pure` says why.
    In the background the build starts once ``start_at`` characters have been encoded (see
    :class:`BackgroundEngine`)."""
    names = chosen_engines() if engines is None else [n for n in engines if n in ENGINES]
    tok.engine, tok.engine_note = None, ""
    if not names:
        tok.engine_note = "no engine installed"
        return tok
    if background:
        tok.engine = BackgroundEngine(tok, names, start_at=start_at)
    else:
        engine, _ = _build(tok, names)
        tok.engine = engine
    return tok


def why_pure(tok: Tokenizer) -> str:
    """Why ``tok`` runs without an engine ('' when it has one, or its check has not finished)."""
    engine = getattr(tok, "engine", None)
    if isinstance(engine, BackgroundEngine):
        return engine.note
    return str(getattr(tok, "engine_note", ""))


def engine_name(tok: Any) -> str:
    """The engine running ``tok`` now: 'fastokens', 'tiktoken', or 'pure' (also while an engine is loading)."""
    engine = getattr(tok, "engine", None)
    return "pure" if engine is None else str(engine.name)


def _default_engine(tok: object) -> BackgroundEngine | None:
    # Every new byte-level tokenizer gets one, built only once it has been asked for START_AT characters.
    if not isinstance(tok, Tokenizer):
        return None
    names = chosen_engines()
    return BackgroundEngine(tok, names, start_at=START_AT) if names else None


set_engine_factory(_default_engine)
