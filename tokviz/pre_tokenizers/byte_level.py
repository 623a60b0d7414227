"""GPT-2's file format: ``vocab.json`` (token string -> id) and ``merges.txt`` (one merge a line).

Both write bytes through GPT-2's byte-to-unicode table, which maps each of the 256 bytes to a printable character
(a space byte is ``Ġ``), so that every token is a readable string.

Example:
    >>> BYTE_TO_UNICODE[ord(" ")], decode_token("Ġworld")
    ('Ġ', b' world')
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tokviz.core.jsonfile import MAX_ID, parse_json
from tokviz.core.textfile import read_utf8


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's table: printable latin-1 bytes map to themselves, the rest to code points from 256 up."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_TO_UNICODE: dict[int, str] = bytes_to_unicode()
UNICODE_TO_BYTE: dict[str, int] = {c: b for b, c in BYTE_TO_UNICODE.items()}


def encode_token(token: bytes) -> str:
    """Bytes to GPT-2's printable string."""
    return "".join(BYTE_TO_UNICODE[b] for b in token)


def decode_token(text: str) -> bytes:
    """GPT-2's printable string back to bytes; raises ValueError on a character outside the table."""
    try:
        return bytes(UNICODE_TO_BYTE[c] for c in text)
    except KeyError as e:
        raise ValueError(f"character {e.args[0]!r} is not in GPT-2's byte-to-unicode table") from e


def _where(path: str | os.PathLike[str], text: str, token: str) -> str:
    """``vocab.json, line 3`` where the token's key is found in the file (escaped or not), else the file alone."""
    for fragment in (json.dumps(token, ensure_ascii=False), json.dumps(token)):
        at = text.find(fragment + ":")
        if at == -1:
            at = text.find(fragment)
        if at != -1:
            return f"{path}, line {text.count(chr(10), 0, at) + 1}"
    return str(path)


def lone_surrogate(text: str) -> str | None:
    """``U+D800`` for the first lone surrogate in ``text`` (JSON can write one as ``\\ud800``), else None.

    >>> lone_surrogate("a\\ud800"), lone_surrogate("ab")
    ('U+D800', None)
    """
    for c in text:
        if 0xD800 <= ord(c) <= 0xDFFF:
            return f"U+{ord(c):04X}"
    return None


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
