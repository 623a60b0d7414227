"""``Engine``: what a native encoder offers a tokenizer, so that models can use one without knowing which.

An engine encodes ordinary text (no special tokens: the tokenizer splits those off first) to the same ids as the
pure-Python engine. It may decline a text by returning ``None`` (it is still loading in the background, or the text
holds a run it handles badly); the tokenizer then encodes that text itself. Engines live in :mod:`tokviz.engines`,
which picks one per tokenizer only after proving that it gives this tokenizer's ids, and registers here the factory
that every new byte-level tokenizer asks for its engine (models sit below engines, so they cannot import them).

Example:
    >>> class Bytes:
    ...     name = "bytes"
    ...     def encode_ordinary(self, text: str) -> list[int] | None:
    ...         return list(text.encode("utf-8"))
    >>> isinstance(Bytes(), Engine), Bytes().encode_ordinary("hi")
    (True, [104, 105])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Engine(Protocol):
    """A name (shown beside timings and in the app) and the ids of a text without special tokens, or ``None``."""

    name: str

    def encode_ordinary(self, text: str) -> list[int] | None: ...


@runtime_checkable
class BatchEngine(Engine, Protocol):
    """An engine that also encodes many texts in one call (on every core): the stretches between special tokens."""

    def encode_ordinary_batch(self, texts: list[str]) -> list[list[int] | None]: ...


def encode_stretches(engine: Engine, texts: list[str]) -> list[list[int] | None]:
    """The engine's ids of each text, or None where it declines one; in one batch where the engine takes batches.

    >>> class Bytes:
    ...     name = "bytes"
    ...     def encode_ordinary(self, text: str) -> list[int] | None:
    ...         return None if "!" in text else list(text.encode("utf-8"))
    >>> encode_stretches(Bytes(), ["hi", "!"])
    [[104, 105], None]
    """
    if len(texts) > 1 and isinstance(engine, BatchEngine):
        return engine.encode_ordinary_batch(texts)
    return [engine.encode_ordinary(t) for t in texts]


EngineFactory = Callable[[Any], "Engine | None"]
_FACTORY: list[EngineFactory] = []


def set_engine_factory(factory: EngineFactory | None) -> None:
    """Register the function that gives a new tokenizer its engine (None: tokenizers encode by themselves)."""
    _FACTORY[:] = [] if factory is None else [factory]


def engine_for(tok: object) -> Engine | None:
    """The registered factory's engine for ``tok``, or None without a factory."""
    return _FACTORY[0](tok) if _FACTORY else None
