"""Tokenizer files of other tools: recognise, load and save GPT-2, tiktoken, Hugging Face, minbpe and our own.

| format     | files                                    | carries                             | written as           |
|------------|------------------------------------------|-------------------------------------|----------------------|
| ``tokviz`` | one JSON file                            | everything                          | the given file       |
| ``gpt2``   | ``vocab.json`` + ``merges.txt``          | ids, merges, special tokens' ids    | a **directory**      |
| ``tiktoken``| ``base64 rank`` per line                | ids of non-special tokens only      | the given file       |
| ``hf``     | Hugging Face ``tokenizer.json`` (BPE)    | everything                          | the given file       |
| ``minbpe`` | karpathy/minbpe ``.model``               | merges, pattern, special tokens     | the given file       |

GPT-2 files are saved to a directory (created if needed) holding ``vocab.json`` and ``merges.txt``, the layout
``Tokenizer.from_files`` and Hugging Face's ``GPT2Tokenizer`` read; a directory rather than a zip keeps both files
readable and diffable. Load it back from the directory or from the two files.

What a format cannot carry is filled in on loading: a GPT-2 or tiktoken file has no pre-tokenizer pattern
(``pattern=`` keyword, default ``"gpt2"``), and a rank file has no special tokens (``special_tokens=``, a list or
``{token: id}``). For OpenAI's own rank files (r50k/p50k, cl100k, o200k), recognised by their content hash or their
size, both are inferred. A rank file also has no merge list: merges are derived from the ranks, as Hugging Face
converts tiktoken files (:func:`merges_from_ranks`).

Example:
    >>> import tempfile, pathlib
    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=260)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tok.tiktoken"
    >>> save(tok, path, format="tiktoken").format
    'tiktoken'
    >>> load_tokenizer(path).encode("lowest") == tok.encode("lowest")
    True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokviz.gpt2_files import decode_token, encode_token, read_gpt2_files
from tokviz.jsonfile import parse_json
from tokviz.prefix_space import PrefixSpaceTokenizer
from tokviz.pretokenize import NAMED_PATTERNS
from tokviz.tokenizer import Tokenizer

FORMATS: tuple[str, ...] = ("tokviz", "gpt2", "tiktoken", "hf", "minbpe")
#: The pattern that leaves each stretch between special tokens whole (HF ``use_regex=false``, minbpe's empty pattern).
WHOLE_TEXT_PATTERN = r"[\s\S]+"
ENDOFTEXT = "<|endoftext|>"

SpecialTokens = Sequence[str] | Mapping[str, int]


@dataclass(frozen=True)
class KnownRankFile:
    """An OpenAI rank file: its tiktoken name, pattern name, special tokens with ids, and content sha256."""

    name: str
    pattern: str
    special_tokens: dict[str, int]
    n_ranks: int
    sha256: str


# From tiktoken_ext/openai_public.py (hashes of the published files; counts of their lines).
KNOWN_RANK_FILES: tuple[KnownRankFile, ...] = (
    KnownRankFile("r50k_base", "gpt2", {ENDOFTEXT: 50256}, 50256,
                  "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"),
    KnownRankFile("p50k_base", "gpt2", {ENDOFTEXT: 50256}, 50280,
                  "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069"),
    KnownRankFile("cl100k_base", "gpt4",
                  {ENDOFTEXT: 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260,
                   "<|endofprompt|>": 100276}, 100256,
                  "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"),
    KnownRankFile("o200k_base", "o200k", {ENDOFTEXT: 199999, "<|endofprompt|>": 200018}, 199998,
                  "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"),
)


@dataclass(frozen=True)
class SaveResult:
    """What :func:`save` wrote, and what the format could not carry (to tell the user)."""

    format: str
    paths: list[Path]
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------------
# Loading: recognise the format, then parse
# ---------------------------------------------------------------------------------------------------------------
def load_tokenizer(
    *paths: str | os.PathLike[str],
    pattern: str | None = None,
    special_tokens: SpecialTokens | None = None,
    name: str | None = None,
) -> Tokenizer:
    """Load a tokenizer from one file, a pair of GPT-2 files, or a directory, recognising the format by content.

    ``pattern`` and ``special_tokens`` fill in what GPT-2 and tiktoken files lack (given for a format that carries
    its own, they raise ValueError). Malformed files raise ValueError naming the file and line.

    >>> load_tokenizer("no/such/tokenizer.json")
    Traceback (most recent call last):
    ...
    ValueError: no/such/tokenizer.json: no such file or directory.
    """
    kind, files, payload = detect_format(*paths)
    if kind in ("tokviz", "hf", "minbpe") and (pattern is not None or special_tokens is not None):
        raise ValueError(
            f"{files[0]}: a {kind} file carries its own pattern and special tokens; drop the pattern/special-token "
            "options (they are for GPT-2 and tiktoken files)."
        )
    if kind == "tokviz":
        tok = tokviz_from_dict(payload, source=str(files[0]))
    elif kind == "hf":
        tok = hf_from_dict(payload, source=str(files[0]), text=_read_text(files[0]))
    elif kind == "minbpe":
        tok = load_minbpe(files[0])
    elif kind == "tiktoken":
        tok = load_tiktoken(files[0], pattern=pattern, special_tokens=special_tokens)
    else:
        tok = load_gpt2(files[0], files[1], pattern=pattern, special_tokens=special_tokens)
    if name is not None:
        tok.name = name
    return tok


_HELP = ("pass a tokviz .json, tokenizer.json, a .tiktoken rank file, a minbpe .model, GPT-2 vocab.json + merges.txt, "
         "or a directory holding them")


def detect_format(*paths: str | os.PathLike[str]) -> tuple[str, list[Path], Any]:
    """``(format, files, parsed JSON or None)`` for the given paths; raises ValueError saying what was expected.

    GPT-2 files come back as ``[vocab.json, merges.txt]`` whatever order they were given in.
    """
    if not paths:
        raise ValueError(f"No tokenizer file given: {_HELP}.")
    ps = [Path(p) for p in paths]
    for p in ps:
        if not p.exists():
            raise ValueError(f"{p}: no such file or directory.")
    if len(ps) == 1 and ps[0].is_dir():
        return _detect_dir(ps[0])
    for p in ps:
        if p.is_dir():
            raise ValueError(f"{p}: is a directory; give it alone, or give files only.")
    if len(ps) > 2:
        raise ValueError(f"Too many tokenizer files ({len(ps)}): {_HELP}.")
    kinds = [_sniff(p) for p in ps]
    if len(ps) == 2:
        by_kind = {k: (p, data) for p, (k, data) in zip(ps, kinds)}
        if set(by_kind) == {"gpt2-vocab", "gpt2-merges"}:
            return "gpt2", [by_kind["gpt2-vocab"][0], by_kind["gpt2-merges"][0]], None
        raise ValueError(
            f"{ps[0]}, {ps[1]}: two files must be a GPT-2 vocab.json and merges.txt; got "
            f"{_describe(kinds[0][0])} and {_describe(kinds[1][0])}."
        )
    kind, data = kinds[0]
    if kind == "gpt2-vocab":
        raise ValueError(f"{ps[0]}: a GPT-2 vocab.json needs its merges.txt too: give both files (or their directory).")
    if kind == "gpt2-merges":
        raise ValueError(f"{ps[0]}: a GPT-2 merges.txt needs its vocab.json too: give both files (or their directory).")
    if kind == "unknown":
        raise ValueError(f"{ps[0]}: not a tokenizer file this version recognises; {_HELP}.")
    return kind, ps, data


def _describe(kind: str) -> str:
    return {"gpt2-vocab": "a GPT-2 vocab.json", "gpt2-merges": "a GPT-2 merges.txt"}.get(kind, f"a {kind} file")


def _detect_dir(d: Path) -> tuple[str, list[Path], Any]:
    # tokenizer.json first: where a model folder holds both, it is the complete description (specials, pattern).
    if (d / "tokenizer.json").is_file():
        return detect_format(d / "tokenizer.json")
    for vocab, merges in (("vocab.json", "merges.txt"), ("encoder.json", "vocab.bpe")):
        if (d / vocab).is_file() and (d / merges).is_file():
            return "gpt2", [d / vocab, d / merges], None
    # Other names (gpt2_vocab.json + gpt2_merges.txt): accept them when each is unambiguous.
    vocabs, merges = sorted(d.glob("*vocab.json")), sorted(d.glob("*merges.txt"))
    if len(vocabs) == 1 and len(merges) == 1:
        return "gpt2", [vocabs[0], merges[0]], None
    for pattern in ("*.tiktoken", "*.model"):
        found = sorted(d.glob(pattern))
        if len(found) == 1:
            return detect_format(found[0])
    if len(vocabs) > 1 or len(merges) > 1:
        raise ValueError(f"{d}: several *vocab.json / *merges.txt files; give the two files of one tokenizer instead.")
    raise ValueError(f"{d}: no tokenizer.json, vocab.json + merges.txt, single .tiktoken or single .model in it.")


# One base64 token (whole 4-character groups, as b64encode writes) and a rank.
_RANK_LINE = re.compile(rb"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4}) \d+\s*$")


def _sniff(path: Path) -> tuple[str, Any]:
    """Recognise one file by its content (never by its name alone)."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise ValueError(f"{path}: cannot read ({e.strerror}).") from e
    stripped = head.lstrip()
    if stripped.startswith(b"{"):
        text = _read_text(path)
        data = parse_json(text, source=str(path))
        if not isinstance(data, dict):
            return "unknown", None
        if data.get("format") == "tokviz":
            return "tokviz", data
        if isinstance(data.get("model"), dict):
            return "hf", data
        if data and all(isinstance(v, int) for v in data.values()):
            return "gpt2-vocab", None
        return "unknown", None
    lines = [ln.rstrip(b"\r") for ln in stripped.split(b"\n")[:6]][:5]
    first = lines[0]
    if first.strip() == b"minbpe v1":
        return "minbpe", None
    if _RANK_LINE.match(first):
        return "tiktoken", None
    # merges.txt: "#version" first, or (as some copies have it) straight to lines of two tokens
    if first.startswith(b"#version") or all(len(ln.split(b" ")) == 2 for ln in lines if ln):
        return "gpt2-merges", None
    return "unknown", None


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ValueError(f"{path}: cannot read ({e.strerror}).") from e
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ValueError(f"{path}, line {line}: not UTF-8 text (bad byte at offset {e.start}).") from e


def _line_of(text: str, fragment: str) -> int | None:
    """1-based line of the first occurrence of ``fragment`` in ``text``, to point at a bad JSON value."""
    i = text.find(fragment)
    return None if i < 0 else text.count("\n", 0, i) + 1


def _where(source: str, text: str | None, fragment: str) -> str:
    line = _line_of(text, fragment) if text is not None else None
    return f"{source}, line {line}" if line is not None else source


# -- tokviz -------------------------------------------------------------------------------------------------------
def tokviz_from_dict(data: Mapping[str, Any], *, source: str = "<dict>") -> Tokenizer:
    """Our own format (see :meth:`Tokenizer.to_dict`), plus the ``add_prefix_space`` flag a HF import may carry."""
    tok = Tokenizer.from_dict(data, source=source)
    if data.get("add_prefix_space"):
        return PrefixSpaceTokenizer(tok.vocab, tok.merges, tok.special_tokens, tok.pattern, name=tok.name)
    return tok


# -- GPT-2 ----------------------------------------------------------------------------------------------------------
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
    return _build(vocab, merges, specials, pattern or "gpt2", name=name or "gpt2",
                  source=f"{vocab_path} + {merges_path}")


def _utf8_or_none(b: bytes) -> str | None:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _build(
    vocab: dict[int, bytes],
    merges: list[tuple[bytes, bytes]],
    special_tokens: SpecialTokens,
    pattern: str,
    *,
    name: str,
    source: str,
    add_prefix_space: bool = False,
) -> Tokenizer:
    """Make the Tokenizer, placing specials at their given ids, and name the source in any error."""
    vocab = dict(vocab)
    if isinstance(special_tokens, Mapping):
        for s, i in special_tokens.items():
            if not isinstance(i, int) or isinstance(i, bool) or i < 0:
                raise ValueError(f"{source}: special token {s!r} has id {i!r}; ids are integers >= 0.")
            have = vocab.get(i)
            if have is not None and have != s.encode("utf-8"):
                raise ValueError(
                    f"{source}: special token {s!r} wants id {i}, which is already the token {have!r}; "
                    "choose a free id or pass the special tokens as a list to append them."
                )
            vocab[i] = s.encode("utf-8")
        specials = list(special_tokens)
    else:
        specials = [str(s) for s in special_tokens]
    try:
        if add_prefix_space:
            return PrefixSpaceTokenizer(vocab, merges, specials, pattern, name=name)
        return Tokenizer(vocab, merges, specials, pattern, name=name)
    except ValueError as e:
        raise ValueError(f"{source}: {e}") from e


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


def _pattern_note(tok: Tokenizer, fmt: str) -> list[str]:
    if tok.pretokenizer.name == "gpt2":
        return []
    return [f"the {fmt} format stores no pre-tokenizer pattern; load it with pattern={tok.pattern!r:.80} "
            f"(--pattern) to get the same ids."]


def _refuse_duplicates(tok: Tokenizer, fmt: str) -> None:
    seen: dict[bytes, int] = {}
    for i, t in sorted(tok.vocab.items()):
        if t in seen:
            raise ValueError(
                f"token {t!r} has two ids ({seen[t]} and {i}), which the {fmt} format cannot hold (it maps each "
                "token to one id); save as tokviz or minbpe instead."
            )
        seen[t] = i


# -- tiktoken rank files ------------------------------------------------------------------------------------------
def read_rank_file(path: str | os.PathLike[str]) -> dict[bytes, int]:
    """``{token bytes: rank}`` from a tiktoken file (``base64 rank`` per line); errors name the file and line."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ValueError(f"{p}: cannot read ({e.strerror}).") from e
    ranks: dict[bytes, int] = {}
    seen_ranks: set[int] = set()
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            if len(parts) != 2:
                raise ValueError(f"expected '<base64 token> <rank>', got {line[:80]!r}")
            token = base64.b64decode(parts[0], validate=True)
            rank = int(parts[1])
        except (ValueError, binascii.Error) as e:
            raise ValueError(f"{p}, line {n}: not a tiktoken rank line ({e}).") from e
        if token in ranks:
            raise ValueError(f"{p}, line {n}: token {token!r} appears twice (first with rank {ranks[token]}).")
        if rank in seen_ranks:
            raise ValueError(f"{p}, line {n}: rank {rank} is given to two tokens.")
        ranks[token] = rank
        seen_ranks.add(rank)
    if not ranks:
        raise ValueError(f"{p}: empty rank file.")
    return ranks


def merges_from_ranks(ranks: Mapping[bytes, int]) -> tuple[list[tuple[bytes, bytes]], list[bytes]]:
    """Recover the merge list of a rank file: ``(merges in rank order, tokens no merge can build)``.

    The token of rank r is the merge of the two parts that BPE with ranks below r leaves when applied to its bytes
    (tiktoken's rule: the adjacent pair whose concatenation has the lowest rank merges first). This is how Hugging
    Face converts tiktoken files. A token that BPE leaves in three or more parts cannot come from one merge; it is
    returned in the second list (OpenAI's files have none that we know of).

    >>> merges_from_ranks({b"a": 0, b"b": 1, b"ab": 2, b"abb": 3})
    ([(b'a', b'b'), (b'ab', b'b')], [])
    """
    merges: list[tuple[bytes, bytes]] = []
    unreachable: list[bytes] = []
    get = ranks.get
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) < 2:
            continue
        parts = [token[i : i + 1] for i in range(len(token))]
        while len(parts) > 2:
            best = rank
            at = -1
            for i in range(len(parts) - 1):
                r = get(parts[i] + parts[i + 1])
                if r is not None and r < best:
                    best, at = r, i
            if at < 0:
                break
            parts[at : at + 2] = [parts[at] + parts[at + 1]]
        if len(parts) == 2:
            merges.append((parts[0], parts[1]))
        else:
            unreachable.append(token)
    return merges, unreachable


def identify_rank_file(digest: str, ranks: Mapping[bytes, int]) -> KnownRankFile | None:
    """The OpenAI encoding a rank file is, by the sha256 of its content, else by its exact number of ranks."""
    for known in KNOWN_RANK_FILES:
        if known.sha256 == digest:
            return known
    for known in KNOWN_RANK_FILES:
        if len(ranks) == known.n_ranks and not set(known.special_tokens.values()) & set(ranks.values()):
            return known
    return None


# Deriving merges costs about a second per 100k ranks; a file loaded again (the app reloading cl100k, a file
# saved then loaded) reuses them, keyed by the content's sha256. A few entries bound the memory.
_MERGES_CACHE: OrderedDict[str, tuple[list[tuple[bytes, bytes]], list[bytes]]] = OrderedDict()
_MERGES_CACHE_SIZE = 4


def _merges_for(digest: str, ranks: Mapping[bytes, int]) -> tuple[list[tuple[bytes, bytes]], list[bytes]]:
    hit = _MERGES_CACHE.get(digest)
    if hit is None:
        hit = merges_from_ranks(ranks)
        _MERGES_CACHE[digest] = hit
        while len(_MERGES_CACHE) > _MERGES_CACHE_SIZE:
            _MERGES_CACHE.popitem(last=False)
    else:
        _MERGES_CACHE.move_to_end(digest)
    return list(hit[0]), list(hit[1])


def load_tiktoken(
    path: str | os.PathLike[str],
    *,
    pattern: str | None = None,
    special_tokens: SpecialTokens | None = None,
    name: str | None = None,
) -> Tokenizer:
    """A tiktoken rank file; ids are the ranks. OpenAI's own files get their pattern and special tokens.

    For other files give ``pattern`` (default ``"gpt2"``) and ``special_tokens`` (a list is appended after the
    highest rank, tiktoken's convention; a mapping gives explicit ids).
    """
    p = Path(path)
    ranks = read_rank_file(p)
    digest = hashlib.sha256(p.read_bytes()).hexdigest()
    known = identify_rank_file(digest, ranks)
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:
        raise ValueError(
            f"{p}: the rank file lacks {len(missing)} of the 256 single bytes (first: 0x{missing[0]:02x}); "
            "a byte-level BPE rank file ranks every byte."
        )
    merges, _unreachable = _merges_for(digest, ranks)
    vocab = {r: t for t, r in ranks.items()}
    if special_tokens is None:
        specials: SpecialTokens = dict(known.special_tokens) if known else {}
    elif isinstance(special_tokens, Mapping):
        specials = dict(special_tokens)
    else:
        nxt = max(ranks.values()) + 1
        specials = {s: nxt + k for k, s in enumerate(dict.fromkeys(special_tokens))}
    chosen = pattern or (known.pattern if known else "gpt2")
    label = name or (known.name if known else p.stem)
    return _build(vocab, merges, specials, chosen, name=label, source=str(p))


def save_tiktoken(tok: Tokenizer, path: str | os.PathLike[str]) -> SaveResult:
    """Write ``base64 rank`` lines (ranks = our ids) for every non-special token.

    A rank file has no merge list: it is rebuilt from the ranks on loading, so the merges' tokens must have ids in
    merge order; that is checked, and a tokenizer whose merges would not come back raises ValueError.
    """
    _refuse_duplicates(tok, "tiktoken")
    specials = set(tok.special_ids.values())
    ranks = {t: i for i, t in tok.vocab.items() if i not in specials}
    lines = b"".join(base64.b64encode(t) + b" " + str(i).encode("ascii") + b"\n"
                     for t, i in sorted(ranks.items(), key=lambda kv: kv[1]))
    recovered, _ = _merges_for(hashlib.sha256(lines).hexdigest(), ranks)
    if recovered != tok.merges:
        k = next((i for i, (a, b) in enumerate(zip(recovered, tok.merges)) if a != b),
                 min(len(recovered), len(tok.merges)))
        raise ValueError(
            f"this tokenizer's merges cannot be recovered from a rank file (they first differ at merge {k + 1}): "
            "tiktoken ranks merges by the id of the token they make, so ids must follow merge order. Save as tokviz, "
            "hf or gpt2 instead."
        )
    out = Path(path)
    out.write_bytes(lines)
    notes = _pattern_note(tok, "tiktoken")
    if specials:
        listed = ", ".join(f"{s!r}: {i}" for s, i in tok.special_ids.items())
        notes.append(f"a rank file stores no special tokens; load it with special_tokens={{{listed}}}.")
    return SaveResult("tiktoken", [out], notes)


# -- Hugging Face tokenizer.json ----------------------------------------------------------------------------------
# JSON keys to point at in error messages (f-string expressions cannot hold backslashes before Python 3.12).
_PRE, _SPLIT, _TYPE = '"pre_tokenizer"', '"Split"', '"type": "'
_BYTE_FALLBACK, _DROPOUT, _NORMALIZER = '"byte_fallback"', '"dropout"', '"normalizer"'
# Oniguruma (which `tokenizers` uses) reads "X{n,m}+" as "(X{n,m})+", a repetition, where Python's `regex` reads a
# possessive interval; rewriting keeps the meaning `tokenizers` gives a file's pattern.
_ONIG_REPEATED_INTERVAL = re.compile(r"(\\p\{\w+\}|\\[A-Za-z]|\[(?:\\.|[^\]\\])*\]|\((?:\\.|[^()\\])*\)|[^\\()\[\]{}])"
                                     r"(\{\d+(?:,\d*)?\})\+")


def onig_to_python(pattern: str) -> str:
    """A `tokenizers` (Oniguruma) regex in Python ``regex`` terms: ``X{n,m}+`` becomes ``(?:X{n,m})+``.

    >>> onig_to_python(r"\\p{N}{1,3}+|\\s+")
    '(?:\\\\p{N}{1,3})+|\\\\s+'
    """
    return _ONIG_REPEATED_INTERVAL.sub(r"(?:\1\2)+", pattern)


def python_to_onig(pattern: str) -> str:
    """The reverse for patterns we write: a possessive ``{n,m}+`` at the end of a branch is plain greedy ``{n,m}``.

    >>> python_to_onig(r"\\p{N}{1,3}+|\\s")
    '\\\\p{N}{1,3}|\\\\s'
    """
    return re.sub(r"(\{\d+(?:,\d*)?\})\+(?=\||\)|$)", r"\1", pattern)


def _hf_pretokenizer(pre: Any, source: str, text: str | None) -> tuple[str, bool]:
    """``(pattern, add_prefix_space)`` of a byte-level pre-tokenizer, or ValueError saying what is unsupported."""
    if pre is None:
        raise ValueError(f"{source}: no pre-tokenizer, so the model is not byte-level; only byte-level BPE "
                         "(a ByteLevel pre-tokenizer) is supported.")
    if not isinstance(pre, dict):
        raise ValueError(f"{_where(source, text, _PRE)}: pre_tokenizer must be an object, got {pre!r:.60}.")
    steps = pre.get("pretokenizers") if pre.get("type") == "Sequence" else [pre]
    if not isinstance(steps, list) or not steps:
        raise ValueError(f"{_where(source, text, _PRE)}: an empty pre-tokenizer Sequence is not supported.")
    kinds = [s.get("type") if isinstance(s, dict) else None for s in steps]
    if kinds[-1] != "ByteLevel" or any(k not in ("Split", "ByteLevel") for k in kinds) or len(steps) > 2 or (
        len(steps) == 2 and kinds[0] != "Split"
    ):
        raise ValueError(
            f"{_where(source, text, _PRE)}: pre-tokenizer {' + '.join(map(str, kinds))} is not supported; "
            "tokviz reads byte-level BPE: ByteLevel alone, or Split (regex, Isolated) followed by ByteLevel."
        )
    byte_level = steps[-1]
    prefix = bool(byte_level.get("add_prefix_space", True))
    use_regex = bool(byte_level.get("use_regex", True))
    if len(steps) == 1:
        return ("gpt2" if use_regex else WHOLE_TEXT_PATTERN), prefix
    split = steps[0]
    where = _where(source, text, _SPLIT)
    if use_regex:
        raise ValueError(f"{where}: Split followed by ByteLevel(use_regex=true) splits twice; not supported.")
    if prefix:
        raise ValueError(f"{where}: Split followed by ByteLevel(add_prefix_space=true) adds a space to every piece; "
                         "not supported.")
    if split.get("behavior") != "Isolated" or split.get("invert"):
        raise ValueError(f"{where}: Split with behavior {split.get('behavior')!r} (invert={split.get('invert')}) is "
                         "not supported; only Isolated, not inverted.")
    pat = split.get("pattern")
    if isinstance(pat, dict) and isinstance(pat.get("Regex"), str):
        for named, src in NAMED_PATTERNS.items():
            if pat["Regex"] in (src, python_to_onig(src)):
                return named, False  # one of ours (as we write it): keep its name and its fast ASCII path
        return onig_to_python(pat["Regex"]), False
    if isinstance(pat, dict) and isinstance(pat.get("String"), str):
        return re.escape(pat["String"]), False
    raise ValueError(f"{where}: Split pattern must be {{\"Regex\": ...}} or {{\"String\": ...}}, got {pat!r:.80}.")


def hf_from_dict(data: Mapping[str, Any], *, source: str = "<dict>", text: str | None = None) -> Tokenizer:
    """A Hugging Face ``tokenizer.json`` for a byte-level BPE model; other models are refused saying why.

    ``text`` (the file's text) lets errors name the line of the offending entry. Ids equal `tokenizers`'
    ``encode(text, add_special_tokens=False)``: a post-processor's template (BOS/EOS around the text) is not applied.
    All added tokens, special or not, split the text first, as in `tokenizers`.
    """
    try:
        return _hf_from_dict(data, source=source, text=text)
    except (AttributeError, TypeError, KeyError) as e:  # a value of the wrong JSON type somewhere
        raise ValueError(f"{source}: malformed tokenizer.json ({type(e).__name__}: {e}).") from e


def _hf_from_dict(data: Mapping[str, Any], *, source: str, text: str | None) -> Tokenizer:
    model = data.get("model")
    if not isinstance(model, dict):
        raise ValueError(f"{source}: no \"model\" object; not a Hugging Face tokenizer.json.")
    mtype = model.get("type", "BPE")
    if mtype != "BPE":
        raise ValueError(f"{_where(source, text, _TYPE + str(mtype))}: model type {mtype} is not supported; "
                         "tokviz reads byte-level BPE models only (not WordPiece, Unigram or WordLevel).")
    if model.get("byte_fallback"):
        raise ValueError(f"{_where(source, text, _BYTE_FALLBACK)}: a byte_fallback BPE (SentencePiece style) works "
                         "on characters, not bytes; only byte-level BPE (ByteLevel pre-tokenizer) is supported.")
    for key in ("continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(key):
            raise ValueError(f"{_where(source, text, key)}: BPE with {key}={model[key]!r} is not supported.")
    if model.get("dropout"):
        raise ValueError(f"{_where(source, text, _DROPOUT)}: BPE dropout makes encoding random; set it to null.")
    normalizer = data.get("normalizer")
    if normalizer is not None and not (isinstance(normalizer, dict) and normalizer.get("type") == "Sequence"
                                       and not normalizer.get("normalizers")):
        kind = normalizer.get("type") if isinstance(normalizer, dict) else normalizer
        raise ValueError(f"{_where(source, text, _NORMALIZER)}: normalizer {kind} is not "
                         "supported (tokviz does not normalize text); only a null normalizer is.")
    pattern, add_prefix_space = _hf_pretokenizer(data.get("pre_tokenizer"), source, text)

    added = data.get("added_tokens") or []
    specials: dict[str, int] = {}
    for entry in added:
        if not (isinstance(entry, dict) and isinstance(entry.get("content"), str) and isinstance(entry.get("id"), int)):
            raise ValueError(f"{source}: malformed added_tokens entry {entry!r:.80}.")
        for flag in ("lstrip", "rstrip", "single_word"):
            if entry.get(flag):
                raise ValueError(f"{_where(source, text, json.dumps(entry['content']))}: added token "
                                 f"{entry['content']!r} has {flag}=true, which tokviz does not support.")
        specials[entry["content"]] = entry["id"]

    raw_vocab = model.get("vocab")
    if not isinstance(raw_vocab, dict):
        raise ValueError(f"{source}: model.vocab must be an object {{token: id}}.")
    vocab: dict[int, bytes] = {}
    for tok_str, i in raw_vocab.items():
        if not isinstance(i, int) or isinstance(i, bool):
            where = _where(source, text, json.dumps(tok_str, ensure_ascii=False))
            raise ValueError(f"{where}: id of {tok_str!r} is {i!r}, not an integer.")
        if specials.get(tok_str) == i:
            b = tok_str.encode("utf-8")  # an added token sits in the vocabulary as its literal text
        else:
            try:
                b = decode_token(tok_str)
            except ValueError as e:
                raise ValueError(
                    f"{_where(source, text, json.dumps(tok_str, ensure_ascii=False))}: token {tok_str!r} is not "
                    "written with GPT-2's byte-to-unicode table, so the model is not byte-level."
                ) from e
        if i in vocab:
            raise ValueError(f"{_where(source, text, json.dumps(tok_str, ensure_ascii=False))}: id {i} is given twice.")
        vocab[i] = b

    merges: list[tuple[bytes, bytes]] = []
    for k, m in enumerate(model.get("merges") or []):
        if isinstance(m, str):
            parts = m.split(" ")
        elif isinstance(m, list):
            parts = m
        else:
            parts = []
        if len(parts) != 2 or not all(isinstance(x, str) and x for x in parts):
            raise ValueError(f"{_where(source, text, json.dumps(m, ensure_ascii=False))}: merge {k + 1} must be "
                             f"\"a b\" or [\"a\", \"b\"], got {m!r:.80}.")
        try:
            merges.append((decode_token(parts[0]), decode_token(parts[1])))
        except ValueError as e:
            raise ValueError(f"{_where(source, text, json.dumps(m, ensure_ascii=False))}: merge {k + 1}: {e}.") from e
    name = Path(source).parent.name if Path(source).name == "tokenizer.json" else Path(source).stem
    return _build(vocab, merges, specials, pattern, name=name or "hf", source=source,
                  add_prefix_space=add_prefix_space)


def load_hf(path: str | os.PathLike[str]) -> Tokenizer:
    """Read a Hugging Face ``tokenizer.json`` (see :func:`hf_from_dict`)."""
    p = Path(path)
    text = _read_text(p)
    data = parse_json(text, source=str(p))
    if not isinstance(data, dict):
        raise ValueError(f"{p}: not a Hugging Face tokenizer.json (not a JSON object).")
    return hf_from_dict(data, source=str(p), text=text)


def hf_to_dict(tok: Tokenizer) -> dict[str, Any]:
    """The ``tokenizer.json`` of a tokenizer: ByteLevel BPE with ``ignore_merges`` (a piece that is a whole token
    is that token, our rule), the pattern as a Split pre-tokenizer unless it is GPT-2's, and the special tokens as
    added tokens with their ids."""
    _refuse_duplicates(tok, "hf")
    prefix = bool(getattr(tok, "add_prefix_space", False))
    name = tok.pretokenizer.name
    if name == "gpt2" or tok.pretokenizer.source == WHOLE_TEXT_PATTERN:
        pre: dict[str, Any] = {"type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": True,
                               "use_regex": name == "gpt2"}
    else:
        if prefix:
            raise ValueError("tokenizer.json cannot combine a custom pattern with add_prefix_space (Hugging Face "
                             "would add a space to every piece); save as tokviz instead.")
        pre = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": python_to_onig(tok.pretokenizer.source)}, "behavior": "Isolated",
             "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        ]}
    special_ids = tok.special_ids
    specials_set = set(special_ids.values())
    vocab = {encode_token(t): i for i, t in sorted(tok.vocab.items()) if i not in specials_set}
    # Special tokens also go in the model's vocabulary as their literal text, as `tokenizers`' trainer writes them:
    # an added token found there keeps its id, one missing from it would be given a new id.
    for s, i in special_ids.items():
        if vocab.setdefault(s, i) != i:
            raise ValueError(f"special token {s!r} reads as another token in GPT-2's byte table, so tokenizer.json "
                             "cannot hold both; rename the special token.")
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for s, i in special_ids.items()],
        "normalizer": None,
        "pre_tokenizer": pre,
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
            "vocab": vocab,
            "merges": [f"{encode_token(a)} {encode_token(b)}" for a, b in tok.merges],
        },
    }


def save_hf(tok: Tokenizer, path: str | os.PathLike[str]) -> SaveResult:
    """Write a Hugging Face ``tokenizer.json`` (see :func:`hf_to_dict`)."""
    out = Path(path)
    out.write_text(json.dumps(hf_to_dict(tok), ensure_ascii=False, indent=2), encoding="utf-8")
    return SaveResult("hf", [out], [])


# -- minbpe -------------------------------------------------------------------------------------------------------
def load_minbpe(path: str | os.PathLike[str]) -> Tokenizer:
    """A karpathy/minbpe ``.model``: version line, pattern line, special count and ``token id`` lines, then one merge
    a line as a pair of ids; byte b is id b and merge k makes id 256 + k. An empty pattern (``BasicTokenizer``)
    leaves each stretch between special tokens whole.
    """
    p = Path(path)
    lines = _read_text(p).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0].strip() != "minbpe v1":
        raise ValueError(f"{p}, line 1: expected 'minbpe v1', got {lines[0][:40] if lines else ''!r}.")
    if len(lines) < 3:
        raise ValueError(f"{p}: truncated minbpe model (needs version, pattern and special-count lines).")
    # minbpe strips the pattern line the same way when it reads it back.
    pattern = lines[1].strip() or WHOLE_TEXT_PATTERN
    try:
        n_special = int(lines[2].strip())
    except ValueError as e:
        raise ValueError(f"{p}, line 3: expected the number of special tokens, got {lines[2][:40]!r}.") from e
    specials: dict[str, int] = {}
    for n in range(4, 4 + n_special):
        if n > len(lines):
            raise ValueError(f"{p}, line {n}: expected {n_special} special-token lines, the file ends first.")
        parts = lines[n - 1].strip().rsplit(maxsplit=1)
        if len(parts) != 2 or not parts[1].isdigit():
            raise ValueError(f"{p}, line {n}: expected '<special token> <id>', got {lines[n - 1][:80]!r}.")
        specials[parts[0]] = int(parts[1])
    vocab: dict[int, bytes] = {i: bytes([i]) for i in range(256)}
    merges: list[tuple[bytes, bytes]] = []
    for n in range(4 + n_special, len(lines) + 1):
        line = lines[n - 1]
        try:
            a, b = map(int, line.split())
        except ValueError as e:
            raise ValueError(f"{p}, line {n}: expected a merge as two ids '<id> <id>', got {line[:80]!r}.") from e
        if a not in vocab or b not in vocab:
            raise ValueError(f"{p}, line {n}: merge uses id {a if a not in vocab else b}, which no earlier line makes.")
        vocab[256 + len(merges)] = vocab[a] + vocab[b]
        merges.append((vocab[a], vocab[b]))
    return _build(vocab, merges, specials, pattern, name=p.stem, source=str(p))


def save_minbpe(tok: Tokenizer, path: str | os.PathLike[str]) -> SaveResult:
    """Write a minbpe ``.model``. minbpe fixes ids (byte b is b, merge k is 256 + k), so a tokenizer laid out
    otherwise is renumbered (the notes say so); special tokens keep their ids where those are free."""
    if "\n" in tok.pretokenizer.source or "\r" in tok.pretokenizer.source:
        raise ValueError("the pattern holds a line break, which a minbpe .model (one pattern line) cannot store.")
    for s in tok.special_tokens or []:
        if not s.strip() or s != s.strip() or any(c.isspace() for c in s):
            raise ValueError(f"special token {s!r} holds whitespace, which a minbpe .model cannot store.")
    ids: dict[bytes, int] = {bytes([b]): b for b in range(256)}
    lines: list[str] = []
    for k, (a, b) in enumerate(tok.merges):
        lines.append(f"{ids[a]} {ids[b]}")
        ids.setdefault(a + b, 256 + k)
    n_fixed = 256 + len(tok.merges)
    renumbered = any(tok.token_to_id(bytes([b])) != b for b in range(256)) or any(
        tok.token_to_id(a + b) != 256 + k for k, (a, b) in enumerate(tok.merges))
    specials: dict[str, int] = {}
    nxt = n_fixed
    for s, i in tok.special_ids.items():
        if i >= n_fixed and i not in specials.values():
            specials[s] = i
        else:
            while nxt in specials.values() or nxt in tok.special_ids.values():
                nxt += 1
            specials[s] = nxt
            nxt += 1
            renumbered = True
    source = tok.pretokenizer.source
    pattern_line = "" if source == WHOLE_TEXT_PATTERN else source
    text = "minbpe v1\n" + pattern_line + "\n" + f"{len(specials)}\n"
    text += "".join(f"{s} {i}\n" for s, i in specials.items()) + "".join(line + "\n" for line in lines)
    out = Path(path)
    out.write_text(text, encoding="utf-8")
    notes = ["ids were renumbered to minbpe's layout (byte b = id b, merge k = id 256+k); the tokens and splits are "
             "the same."] if renumbered else []
    if isinstance(tok, PrefixSpaceTokenizer) and tok.add_prefix_space:
        notes.append("minbpe has no add_prefix_space; the saved model does not add the prefix space.")
    return SaveResult("minbpe", [out], notes)


# -- dispatch -----------------------------------------------------------------------------------------------------
def save(tok: Tokenizer, path: str | os.PathLike[str], *, format: str = "tokviz") -> SaveResult:  # noqa: A002
    """Write ``tok`` in ``format`` (one of :data:`FORMATS`); ``gpt2`` writes a directory, the others one file.

    The result's ``notes`` say what the format could not carry (a pattern, special tokens, ids).
    """
    fmt = {"huggingface": "hf", "tokenizer.json": "hf", "tiktoken_bpe": "tiktoken"}.get(format, format)
    if fmt == "tokviz":
        out = Path(path)
        out.write_text(json.dumps(tok.to_dict(), ensure_ascii=False), encoding="utf-8")
        return SaveResult("tokviz", [out], [])
    if fmt == "gpt2":
        return save_gpt2(tok, path)
    if fmt == "tiktoken":
        result = save_tiktoken(tok, path)
    elif fmt == "hf":
        return save_hf(tok, path)
    elif fmt == "minbpe":
        return save_minbpe(tok, path)
    else:
        raise ValueError(f"unknown format {format!r}; choose one of: {', '.join(FORMATS)}.")
    if isinstance(tok, PrefixSpaceTokenizer) and tok.add_prefix_space:
        result.notes.append("a rank file has no add_prefix_space; the saved file does not add the prefix space.")
    return result


__all__ = [
    "FORMATS", "KNOWN_RANK_FILES", "KnownRankFile", "SaveResult", "WHOLE_TEXT_PATTERN", "detect_format",
    "hf_from_dict", "hf_to_dict", "identify_rank_file", "load_gpt2", "load_hf", "load_minbpe", "load_tiktoken",
    "load_tokenizer", "merges_from_ranks", "onig_to_python", "python_to_onig", "read_rank_file", "save",
    "save_gpt2", "save_hf", "save_minbpe", "save_tiktoken", "tokviz_from_dict",
]
