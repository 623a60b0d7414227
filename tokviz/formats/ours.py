"""Our own format: one JSON file holding everything a tokviz tokenizer is, lossless for any bytes.

This module is the one reader and the one writer of the format; ``Tokenizer.save``/``load``/``to_dict``/``from_dict``
call into it. The file is a JSON object::

    {"format": "tokviz", "version": 1, "kind": "bpe", "name": "...", "pattern": "gpt2", "rule": "merges",
     "special_tokens": ["<|endoftext|>"], "vocab": [[id, base64 bytes], ...], "merges": [[base64, base64], ...]}

``kind`` is ``"bpe"`` (absent in older files, which are all BPE), ``"byte"``, ``"character"`` or ``"word"`` (the
lecture's baselines; a word tokenizer adds ``"words"``). A tokenizer that adds Hugging Face's prefix space carries
``"add_prefix_space"``, and loads back as a :class:`~tokviz.pipelines.prefix_space.PrefixSpaceTokenizer`. ``rule`` says
how
ranks are applied (``"merges"``: the merge list, CS336's convention; ``"ranks"``: the rank of the concatenation,
tiktoken's); older files have none and mean ``"merges"``.

Example:
    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=260)
    >>> back = tokenizer_from_dict(to_dict(tok))
    >>> back.merges == tok.merges, back.encode("lowest") == tok.encode("lowest")
    (True, True)
    >>> type(from_dict(to_dict(ByteTokenizer()))).__name__
    'ByteTokenizer'
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

from tokviz.core.jsonfile import MAX_ID, parse_json
from tokviz.formats.file_checks import SaveResult, check_id, read_text, type_name
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.models.bpe import Tokenizer
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer

FORMAT_NAME = "tokviz"
FORMAT_VERSION = 1
RULES = ("merges", "ranks")

#: Everything our format can hold.
Saveable = Tokenizer | ByteTokenizer | CharacterTokenizer | WordTokenizer


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def to_dict(tok: Saveable) -> dict[str, Any]:
    """The JSON-able dict of ``tok`` (any tokviz tokenizer or baseline).

    >>> to_dict(CharacterTokenizer())
    {'format': 'tokviz', 'version': 1, 'kind': 'character', 'name': 'character'}
    """
    head: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
    if isinstance(tok, ByteTokenizer):
        return head | {"kind": "byte", "name": tok.name}
    if isinstance(tok, CharacterTokenizer):
        return head | {"kind": "character", "name": tok.name}
    if isinstance(tok, WordTokenizer):
        # words[0] is always <unk>, which the constructor puts back.
        return head | {"kind": "word", "name": tok.name, "words": tok.words[1:]}
    if not isinstance(tok, Tokenizer):
        raise ValueError(f"cannot save a {type(tok).__name__} in the tokviz format; it holds tokviz tokenizers and "
                         "the byte, character and word baselines.")
    out = head | {
        "kind": "bpe",
        "name": tok.name,
        "pattern": tok.pattern,
        "rule": getattr(tok, "rule", "merges"),
        "special_tokens": list(tok.special_tokens or []),
        "vocab": [[i, _b64(t)] for i, t in sorted(tok.vocab.items())],
        "merges": [[_b64(a), _b64(b)] for a, b in tok.merges],
    }
    if isinstance(tok, PrefixSpaceTokenizer):
        out["add_prefix_space"] = tok.add_prefix_space
    return out


def from_dict(data: Any, *, source: str = "<dict>") -> Saveable:
    """The tokenizer a dict written by :func:`to_dict` holds; ValueError naming ``source`` when it is malformed."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT_NAME:
        raise ValueError(f"{source}: not a tokviz tokenizer file (no \"format\": \"{FORMAT_NAME}\").")
    if data.get("version") != FORMAT_VERSION or isinstance(data.get("version"), bool):
        raise ValueError(f"{source}: unsupported tokviz format version {data.get('version')!r}; this version of "
                         f"tokviz reads version {FORMAT_VERSION}.")
    kind = data.get("kind", "bpe")
    name = data.get("name")
    if kind == "byte":
        return ByteTokenizer(name=str(name or "byte"))
    if kind == "character":
        return CharacterTokenizer(name=str(name or "character"))
    if kind == "word":
        words = data.get("words")
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError(f"{source}: malformed tokviz word tokenizer: \"words\" must be a list of strings.")
        return WordTokenizer(words, name=str(name or "word"))
    if kind != "bpe":
        raise ValueError(f"{source}: unknown tokenizer kind {kind!r}; expected bpe, byte, character or word.")
    return _bpe_from_dict(data, source=source)


def _bpe_from_dict(data: Mapping[str, Any], *, source: str) -> Tokenizer:
    rule = data.get("rule", "merges")
    if rule not in RULES:
        raise ValueError(f"{source}: unknown \"rule\" {rule!r}; expected one of {', '.join(RULES)}.")
    if "vocab" not in data or "merges" not in data:
        missing = "vocab" if "vocab" not in data else "merges"
        raise ValueError(f"{source}: malformed tokviz tokenizer file: no \"{missing}\" (a BPE file has \"vocab\" "
                         "and \"merges\").")
    specials = _specials(data.get("special_tokens", []), source=source)
    vocab = _vocab(data["vocab"], specials, source=source)
    merges = _merges(data["merges"], source=source)
    pattern = data.get("pattern", "gpt2")
    if not isinstance(pattern, str):
        raise ValueError(f"{source}: \"pattern\" is {type_name(pattern)}; it must be a string: a pattern name "
                         "(\"gpt2\", \"gpt4\", \"o200k\") or a regex.")
    name = data.get("name", "bpe")
    if not isinstance(name, str):
        raise ValueError(f"{source}: \"name\" is {type_name(name)}; it must be a string.")
    prefix = data.get("add_prefix_space", False)
    if not isinstance(prefix, bool):
        raise ValueError(f"{source}: \"add_prefix_space\" is {type_name(prefix)}; it must be true or false.")
    # Pass rule only when it is not the default, so files stay readable by a Tokenizer without the field.
    extra: dict[str, Any] = {} if rule == "merges" else {"rule": rule}
    try:
        if "add_prefix_space" in data:
            return PrefixSpaceTokenizer(vocab, merges, specials, pattern, name=name, add_prefix_space=prefix, **extra)
        return Tokenizer(vocab, merges, specials, pattern, name=name, **extra)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{source}: malformed tokviz tokenizer file: {e}") from e


#: Strict base64 accepts only what the checked decoder of :func:`_bytes_of` accepts, and decodes it alike.
_STRICT_BASE64 = partial(binascii.a2b_base64, strict_mode=True)


def _plain_pairs(value: list[Any]) -> tuple[list[Any], list[Any]] | None:
    """The two columns of a list of pairs (JSON arrays of two), or None when any entry is not one."""
    if set(map(type, value)) != {list} or set(map(len, value)) != {2}:
        return None
    return list(map(itemgetter(0), value)), list(map(itemgetter(1), value))


def _plain_tokens(column: list[Any]) -> list[bytes] | None:
    """Each entry of ``column`` decoded as strict base64, or None when one is not a string or not strict base64."""
    try:
        return list(map(_STRICT_BASE64, map(str.encode, column)))
    except (TypeError, binascii.Error):  # str.encode of a non-string; a character outside base64's alphabet
        return None


def _bytes_of(value: object, *, what: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{what}: the token is {type_name(value)}, not a base64 string.")
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error) as e:
        raise ValueError(f"{what}: {value!r:.40} is not valid base64 ({e}).") from e


def _specials(value: object, *, source: str) -> list[str]:
    if not isinstance(value, list):
        shown = f"; write [{value!r:.60}]" if isinstance(value, str) else ""
        raise ValueError(f"{source}: \"special_tokens\" is {type_name(value)}; it must be a list of strings"
                         f"{shown}.")
    seen: set[str] = set()
    for k, s in enumerate(value, 1):
        if not isinstance(s, str) or not s:
            raise ValueError(f"{source}: special token {k} is {type_name(s) if s != '' else 'the empty string'}; "
                             "each special token is a non-empty string.")
        if s in seen:
            raise ValueError(f"{source}: special token {k} ({s!r:.60}) is a duplicate of an earlier one; list each "
                             "special token once.")
        seen.add(s)
    return list(value)


def _vocab(value: object, specials: list[str], *, source: str) -> dict[int, bytes]:
    """The ``[[id, base64], ...]`` list as a dict, refusing duplicate ids and duplicate tokens (a token may repeat
    only as a special token's entry: a special such as ``"a"`` has its own id beside the byte ``a``)."""
    if not isinstance(value, list):
        raise ValueError(f"{source}: \"vocab\" is {type_name(value)}; it must be a list of [id, base64 bytes] "
                         "pairs.")
    fast = _plain_vocab(value)
    return fast if fast is not None else _checked_vocab(value, specials, source=source)


def _checked_vocab(value: list[Any], specials: list[str], *, source: str) -> dict[int, bytes]:
    """:func:`_vocab` entry by entry: the same vocabulary, or the error that names the first bad entry."""
    vocab: dict[int, bytes] = {}
    entry_of: dict[int, int] = {}
    first: dict[bytes, int] = {}
    special_bytes = {s.encode("utf-8") for s in specials}
    for k, pair in enumerate(value, 1):
        what = f"{source}: vocab entry {k}"
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(f"{what} is {type_name(pair)}; each entry is a pair [id, base64 bytes].")
        i = check_id(pair[0], what=what)
        token = _bytes_of(pair[1], what=what)
        if i in vocab:
            raise ValueError(f"{what}: duplicate id {i} (entry {entry_of[i]} has it too); give each id once.")
        if token in first and token not in special_bytes:
            raise ValueError(f"{what}: duplicate token {token!r:.60} (id {first[token]} has it too); a token has one "
                             "id, unless it is also a special token: remove one of the entries.")
        vocab[i] = token
        entry_of[i] = k
        first.setdefault(token, i)
    return vocab


def _plain_vocab(value: list[Any]) -> dict[int, bytes] | None:
    """The vocabulary read by C-level calls, when every entry is plainly sound: ``[id, base64]`` with an integer id
    in range, distinct ids and distinct tokens (every file tokviz writes: the built-ins are read at every start).
    None for anything else, which the entry-by-entry reader then reads, or refuses naming the entry."""
    columns = _plain_pairs(value)
    if columns is None:
        return None
    ids, texts = columns
    if set(map(type, ids)) != {int} or min(ids) < 0 or max(ids) > MAX_ID:
        return None  # also refuses JSON true and false, whose type is bool
    tokens = _plain_tokens(texts)
    if tokens is None:
        return None
    vocab = dict(zip(ids, tokens))
    if len(vocab) != len(ids) or len(set(tokens)) != len(tokens):
        return None
    return vocab


def _merges(value: object, *, source: str) -> list[tuple[bytes, bytes]]:
    if not isinstance(value, list):
        raise ValueError(f"{source}: \"merges\" is {type_name(value)}; it must be a list of [base64, base64] "
                         "pairs.")
    columns = _plain_pairs(value)
    if columns is not None:  # every merge a pair: decoded by C-level calls unless one is not strict base64
        lefts, rights = map(_plain_tokens, columns)
        if lefts is not None and rights is not None:
            return list(zip(lefts, rights))
    return _checked_merges(value, source=source)


def _checked_merges(value: list[Any], *, source: str) -> list[tuple[bytes, bytes]]:
    """:func:`_merges` merge by merge: the same list, or the error that names the first bad merge."""
    merges: list[tuple[bytes, bytes]] = []
    for k, pair in enumerate(value, 1):
        what = f"{source}: merge {k}"
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(f"{what} is {type_name(pair)}; each merge is a pair [base64, base64].")
        merges.append((_bytes_of(pair[0], what=what), _bytes_of(pair[1], what=what)))
    return merges


def tokenizer_from_dict(data: Any, *, source: str = "<dict>") -> Tokenizer:
    """Like :func:`from_dict`, for callers that need a BPE :class:`Tokenizer` (a baseline is refused, saying so)."""
    tok = from_dict(data, source=source)
    if not isinstance(tok, Tokenizer):
        raise ValueError(f"{source}: holds the {type(tok).__name__} baseline, not a BPE tokenizer; read it with "
                         "tokviz.formats.load_ours.")
    return tok


#: The name the format package has exported since before this module held the whole format.
tokviz_from_dict = tokenizer_from_dict


def save_ours(tok: Saveable, path: str | os.PathLike[str]) -> SaveResult:
    """Write ``tok`` to ``path`` in our format; everything is kept, so there are no notes."""
    out = Path(path)
    out.write_text(json.dumps(to_dict(tok), ensure_ascii=False), encoding="utf-8")
    return SaveResult("tokviz", [out], [])


def _read(path: str | os.PathLike[str]) -> tuple[Any, str]:
    p = Path(path)
    if not p.exists():
        raise ValueError(f"{p}: no such file.")
    text = read_text(p)
    try:
        return parse_json(text, source=str(p)), str(p)
    except ValueError as e:
        raise ValueError(f"{e} It is not a tokviz tokenizer file: not valid JSON.") from e


def load_ours(path: str | os.PathLike[str]) -> Saveable:
    """Read a file written by :func:`save_ours`: a BPE tokenizer or a baseline, of the class that was saved."""
    data, source = _read(path)
    return from_dict(data, source=source)


def load_ours_tokenizer(path: str | os.PathLike[str]) -> Tokenizer:
    """Read a file written by :func:`save_ours` that holds a BPE tokenizer (a baseline is refused, saying so)."""
    data, source = _read(path)
    return tokenizer_from_dict(data, source=source)
