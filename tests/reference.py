"""Plain, obviously-correct references the tests compare the library with (not part of the package)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from tokviz.pre_tokenizers.byte_level import encode_token


def length_histogram(tokens: Iterable[bytes]) -> dict[int, int]:
    """How many tokens have each length in bytes, sorted by length.

    >>> length_histogram([b"abc", b"a", b"b"])
    {1: 2, 3: 1}
    """
    return dict(sorted(Counter(map(len, tokens)).items()))


def write_gpt2_files(
    vocab: dict[int, bytes], merges: list[tuple[bytes, bytes]], vocab_path: str | os.PathLike[str],
    merges_path: str | os.PathLike[str], *, special_tokens: list[str] | None = None,
) -> None:
    """Write ``vocab.json`` and ``merges.txt`` (with the ``#version`` line, as GPT-2 ships it).

    Special tokens are written literally (``<|endoftext|>``), as in GPT-2's own file.
    """
    specials = {s.encode("utf-8") for s in special_tokens or []}
    out = {(t.decode("utf-8") if t in specials else encode_token(t)): i for i, t in sorted(vocab.items())}
    Path(vocab_path).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    text = "#version: 0.2\n" + "".join(f"{encode_token(a)} {encode_token(b)}\n" for a, b in merges)
    Path(merges_path).write_text(text, encoding="utf-8")
