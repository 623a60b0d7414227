"""GPT-2 files: ``vocab.json`` + ``merges.txt``, read from two files and written to a directory.

Example:
    >>> import tempfile, pathlib
    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=260)
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "gpt2"
    >>> [p.name for p in save_gpt2(tok, d).paths]
    ['vocab.json', 'merges.txt']
    >>> load_gpt2(d / "vocab.json", d / "merges.txt").encode("lowest") == tok.encode("lowest")
    True
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from tokviz.formats.common import (
    SaveResult,
    SpecialTokens,
    _build,
    _pattern_note,
    _refuse_duplicates,
)
from tokviz.models.bpe import Tokenizer
from tokviz.pre_tokenizers.byte_level import encode_token, read_gpt2_files


def load_gpt2(
    vocab_path: str | os.PathLike[str],
    merges_path: str | os.PathLike[str],
    *,
    pattern: str | None = None,
    special_tokens: SpecialTokens | None = None,
) -> Tokenizer:
    """GPT-2 ``vocab.json`` + ``merges.txt``; special tokens default to the vocabulary entries no merge produces.

    GPT-2's own files thus come with ``<|endoftext|>`` (id 50256) special, as tiktoken's ``gpt2`` encoding has it.
    """
    vocab, merges = read_gpt2_files(vocab_path, merges_path)
    if special_tokens is None:
        made = {a + b for a, b in merges}
        inferred = (_utf8_or_none(t) for i, t in sorted(vocab.items()) if len(t) > 1 and t not in made)
        specials: SpecialTokens = [s for s in inferred if s]
    else:
        specials = special_tokens
    vp = Path(vocab_path)
    # A folder of GPT-2 files is usually named after the model; the file itself is just "vocab.json".
    name = vp.resolve().parent.name if vp.name in ("vocab.json", "encoder.json") else vp.stem
    tok = _build(vocab, merges, specials, pattern or "gpt2", name=name or "gpt2",
                 source=f"{vocab_path} + {merges_path}")
    if special_tokens is None:
        _refuse_missing_merges(tok, specials, vocab_path=vocab_path, merges_path=merges_path)
    return tok


def _refuse_missing_merges(tok: Tokenizer, inferred: SpecialTokens, *, vocab_path: str | os.PathLike[str],
                           merges_path: str | os.PathLike[str]) -> None:
    """Refuse a merges.txt that does not cover vocab.json, rather than make its unmerged tokens special.

    A real special token (``<|endoftext|>``) is text the merges cut into several parts; a token the merges cut into
    exactly two vocabulary entries is what one more merge would make, so its merge is missing (an empty or truncated
    merges.txt), and as a special token it would be matched in any text. Tokens written as specials conventionally
    are (``<s>``, ``</s>``, ``[CLS]``: in brackets) are taken as specials whatever the merges make of them.
    """
    for s in inferred:
        if _BRACKETED.fullmatch(s):
            continue
        parts = tok.merge_path(s.encode("utf-8"))[0]
        if len(parts) == 2:
            a, b = (tok.vocab[i] for i in parts)
            raise ValueError(
                f"{merges_path} does not cover {vocab_path}: no merge makes the token {s!r:.60} (id "
                f"{tok.special_ids[s]}), though merging {a!r:.30} and {b!r:.30} would; the file looks truncated or "
                f"empty ({len(tok.merges)} merges for {len(tok.vocab)} tokens). Give the complete merges.txt, or "
                "name the special tokens (special_tokens=, CLI --special-token) so that no others are guessed."
            )


#: How special tokens are conventionally written: ``<s>``, ``</s>``, ``<|endoftext|>``, ``[CLS]``.
_BRACKETED = re.compile(r"<[^<>\s]+>|\[[^\[\]\s]+\]")


def _utf8_or_none(b: bytes) -> str | None:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return None


def save_gpt2(tok: Tokenizer, directory: str | os.PathLike[str]) -> SaveResult:
    """Write ``vocab.json`` + ``merges.txt`` into ``directory`` (created if needed); ids are kept."""
    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise ValueError(f"{d}: GPT-2 format is written to a directory (vocab.json + merges.txt); give a directory.")
    _refuse_duplicates(tok, "gpt2")
    d.mkdir(parents=True, exist_ok=True)
    # Every token, specials included, goes through the byte table: for ASCII specials such as <|endoftext|> this is
    # the literal text GPT-2 ships, and for any other it reads back to the same bytes.
    vocab = {encode_token(t): i for i, t in sorted(tok.vocab.items())}
    (d / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    lines = "".join(f"{encode_token(a)} {encode_token(b)}\n" for a, b in tok.merges)
    (d / "merges.txt").write_text("#version: 0.2\n" + lines, encoding="utf-8")
    notes = _pattern_note(tok, "gpt2")
    return SaveResult("gpt2", [d / "vocab.json", d / "merges.txt"], notes)
