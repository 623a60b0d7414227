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

from tokviz.core.jsonfile import MAX_ID, parse_json
from tokviz.core.textfile import read_utf8
from tokviz.formats.file_checks import (
    SaveResult,
    SpecialTokens,
    build_tokenizer,
    pattern_note,
    refuse_duplicates,
)
from tokviz.models.bpe import Tokenizer
from tokviz.pre_tokenizers.byte_level import decode_token, encode_token, lone_surrogate


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
    tok = build_tokenizer(vocab, merges, specials, pattern or "gpt2", name=name or "gpt2",
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
    refuse_duplicates(tok, "gpt2")
    d.mkdir(parents=True, exist_ok=True)
    # Every token, specials included, goes through the byte table: for ASCII specials such as <|endoftext|> this is
    # the literal text GPT-2 ships, and for any other it reads back to the same bytes.
    vocab = {encode_token(t): i for i, t in sorted(tok.vocab.items())}
    (d / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    lines = "".join(f"{encode_token(a)} {encode_token(b)}\n" for a, b in tok.merges)
    (d / "merges.txt").write_text("#version: 0.2\n" + lines, encoding="utf-8")
    notes = pattern_note(tok, "gpt2")
    return SaveResult("gpt2", [d / "vocab.json", d / "merges.txt"], notes)


def _where(path: str | os.PathLike[str], text: str, token: str) -> str:
    """``vocab.json, line 3`` where the token's key is found in the file (escaped or not), else the file alone."""
    for fragment in (json.dumps(token, ensure_ascii=False), json.dumps(token)):
        at = text.find(fragment + ":")
        if at == -1:
            at = text.find(fragment)
        if at != -1:
            return f"{path}, line {text.count(chr(10), 0, at) + 1}"
    return str(path)


def read_gpt2_files(
    vocab_path: str | os.PathLike[str], merges_path: str | os.PathLike[str]
) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    """Parse ``vocab.json`` and ``merges.txt``; malformed content raises ValueError naming the file and line.

    Tokens of vocab.json that are not in the byte table (such as ``<|endoftext|>`` written literally) are taken as
    their UTF-8 bytes.
    """
    text = read_utf8(vocab_path)
    # A key given twice would silently keep one id of the two: refused like any other duplicate.
    raw = parse_json(text, source=f"{vocab_path} (GPT-2 vocab.json)", unique_keys=True)
    if not isinstance(raw, dict):
        raise ValueError(f"{vocab_path}: a GPT-2 vocab.json is a JSON object {{token: id}}, not "
                         f"{'a list' if isinstance(raw, list) else 'a ' + type(raw).__name__}; give the model's "
                         "vocab.json.")
    vocab: dict[int, bytes] = {}
    for tok, i in raw.items():
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i <= MAX_ID:
            numeric = isinstance(i, int) and not isinstance(i, bool)
            why = (f"{i!r:.40}, not an integer" if not numeric else f"{i}, which is negative" if i < 0
                   else f"{i}, larger than any vocabulary's (ids stop at {MAX_ID})")
            raise ValueError(f"{_where(vocab_path, text, tok)}: the id of token {tok!r:.60} is {why}; ids are "
                             "plain integers 0 and up.")
        try:
            b = decode_token(tok)
        except ValueError:
            surrogate = lone_surrogate(tok)
            if surrogate is not None:
                raise ValueError(f"{_where(vocab_path, text, tok)}: token {tok!r:.60} holds a lone surrogate "
                                 f"{surrogate}, which is not text (UTF-8 cannot hold it); fix or remove that "
                                 "entry.") from None
            b = tok.encode("utf-8")
        if i in vocab:
            other = next(t for t, j in raw.items() if j == i)
            raise ValueError(f"{_where(vocab_path, text, tok)}: id {i} is given to two tokens ({other!r:.60} and "
                             f"{tok!r:.60}); give each token its own id.")
        vocab[i] = b
    merges: list[tuple[bytes, bytes]] = []
    try:
        lines = Path(merges_path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as e:
        raise ValueError(f"{merges_path}: no such file.") from e
    except UnicodeDecodeError as e:
        raise ValueError(f"{merges_path}: not UTF-8 text ({e}).") from e
    for n, line in enumerate(lines, 1):
        if (n == 1 and line.startswith("#version")) or not line.strip():
            continue
        parts = line.split(" ")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise ValueError(f"{merges_path}, line {n}: expected two tokens separated by one space, got {line!r}.")
        try:
            merges.append((decode_token(parts[0]), decode_token(parts[1])))
        except ValueError as e:
            raise ValueError(f"{merges_path}, line {n}: {e}.") from e
    return vocab, merges
