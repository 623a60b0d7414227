"""tiktoken rank files (``base64 rank`` per line): read, write, recognise known files, derive merges from ranks.

A rank file stores neither a pattern nor special tokens: files tokviz knows (OpenAI's, Whisper's, Llama 3 and 4's,
Qwen's: :mod:`tokviz.formats.known_rank_files`) are recognised by their SHA-256 and get their own; any other file
loads with the pattern given (``pattern=``), else with the GPT-2 pattern and a :class:`PatternGuessWarning`.
An empty token (Whisper's multilingual file ranks ``=``, the empty string, at 50256) is kept as an id that no text
produces, as tiktoken keeps it.

A rank file has no merge list: :func:`merges_from_ranks` rebuilds it, and a small cache keyed by the content's sha256
spares deriving them again for a file loaded twice.

Example:
    >>> import tempfile, pathlib
    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=260)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tok.tiktoken"
    >>> save_tiktoken(tok, path).notes
    []
    >>> len(read_rank_file(path)), load_tiktoken(path, pattern="gpt2").merges == tok.merges
    (260, True)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

from tokviz.core.jsonfile import MAX_ID, MAX_INT_DIGITS
from tokviz.formats.file_checks import (
    SaveResult,
    SpecialTokens,
    build_tokenizer,
    pattern_note,
    refuse_duplicates,
)
from tokviz.formats.known_rank_files import OPENAI_RANK_FILES, KnownRankFile, identify
from tokviz.models.bpe import DeferredMerges, Tokenizer
from tokviz.models.bpe_rules import SHORT_PIECE, split_by_ranks


class PatternGuessWarning(UserWarning):
    """A rank file was loaded with a guessed pre-tokenizer pattern (it stores none, and tokviz does not know it)."""


def read_rank_file(path: str | os.PathLike[str]) -> dict[bytes, int]:
    """``{token bytes: rank}`` from a tiktoken file (``base64 rank`` per line); errors name the file and line."""
    return parse_rank_file(_read_bytes(Path(path)), source=str(path))


def _read_bytes(p: Path) -> bytes:
    try:
        return p.read_bytes()
    except OSError as e:
        raise ValueError(f"{p}: cannot read ({e.strerror}).") from e


def _parse_canonical(data: bytes) -> dict[bytes, int] | None:
    """The ranks of a file laid out exactly as OpenAI's (``<base64> <rank>\n`` on every line, every token and rank
    once), read by C-level calls; None for anything else, which the line-by-line reader then reads or refuses with
    the line. Both give the same ranks wherever this one answers; this one is about 1.6 times faster.
    """
    fields = data.split()
    tokens, ranks_text = fields[0::2], fields[1::2]
    # Rebuilt from its fields, a canonical file is the file itself: one space and one newline per line, no other
    # whitespace, no empty line, and every line has its two fields.
    if not tokens or b"\n".join(map(b" ".join, zip(tokens, ranks_text, strict=False))) + b"\n" != data:
        return None
    if not all(map(bytes.isdigit, ranks_text)) or max(map(len, ranks_text)) > MAX_INT_DIGITS:
        return None
    try:
        decoded = list(map(binascii.a2b_base64, tokens))
    except binascii.Error:
        return None
    # Lenient decoding skips stray characters; a token that is the canonical encoding of what it decodes to is read
    # the same by the strict decoder (``=``, the empty token, is not: the slow path reads it).
    if b"".join(map(binascii.b2a_base64, decoded)) != b"\n".join(tokens) + b"\n":
        return None
    values = list(map(int, ranks_text))
    ranks = dict(zip(decoded, values, strict=True))
    if len(ranks) != len(decoded) or len(set(values)) != len(values) or max(values) > MAX_ID:
        return None  # a token or rank given twice, or a rank too large: the slow path says which line
    return ranks


#: SHA-256 of the files known to be laid out canonically, with ranks that only rise from line to line: OpenAI's that
#: tokviz ships (the tests read each both ways).
_CANONICAL_FILES = frozenset(k.sha256 for k in OPENAI_RANK_FILES if k.builtin)


def _known_vocab(data: bytes) -> dict[int, bytes]:
    """The vocabulary of one of :data:`_CANONICAL_FILES`, its tokens decoded in file order.

    Nothing is checked (the SHA-256 vouches for the bytes). Where the last rank is the number of lines less one, the
    ranks (which only rise) are 0, 1, 2, ... and are not even parsed: the tokens are numbered as they come, in half
    the time of the checked reader for o200k_base, which every start of the app pays per built-in. p50k_base skips
    a rank, so its ranks are read.

    >>> _known_vocab(b"IQ== 0\\nIg== 1\\n"), _known_vocab(b"IQ== 0\\nIg== 2\\n")
    ({0: b'!', 1: b'"'}, {0: b'!', 2: b'"'})
    """
    fields = data.split()
    tokens = map(binascii.a2b_base64, fields[0::2])
    if int(fields[-1]) == len(fields) // 2 - 1:
        return dict(enumerate(tokens))
    return dict(zip(map(int, fields[1::2]), tokens, strict=True))


def parse_rank_file(data: bytes, *, source: str) -> dict[bytes, int]:
    """``{token bytes: rank}`` from a rank file's content; errors name ``source`` and the line.

    >>> parse_rank_file(b"YQ== 0\\nYg== 1\\n= 2\\n", source="r.tiktoken")
    {b'a': 0, b'b': 1, b'': 2}
    """
    fast = _parse_canonical(data)
    if fast is not None:
        return fast
    p = source
    ranks: dict[bytes, int] = {}
    seen_ranks: set[int] = set()
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            if len(parts) != 2:
                raise ValueError(f"expected '<base64 token> <rank>', got {line[:80]!r}")
            # "=" is the empty token (Whisper's multilingual file has one); tiktoken's lenient decoding reads it so.
            token = b"" if parts[0] in (b"=", b"==") else base64.b64decode(parts[0], validate=True)
            if not parts[1].isdigit():
                raise ValueError(f"the rank {parts[1][:20].decode('utf-8', 'replace')!r} is not an integer 0 or more")
            rank = int(parts[1]) if len(parts[1]) <= MAX_INT_DIGITS else MAX_ID + 1
        except (ValueError, binascii.Error) as e:
            raise ValueError(f"{p}, line {n}: not a tiktoken rank line ({e}).") from e
        if rank > MAX_ID:
            shown = parts[1][:20].decode("ascii") + ("..." if len(parts[1]) > 20 else "")
            raise ValueError(f"{p}, line {n}: the rank {shown} is larger than any "
                             f"vocabulary's (ranks stop at {MAX_ID}); ranks number the tokens from 0.")
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
        n = len(token)
        if n < 2:
            continue
        if n > SHORT_PIECE:
            # The rank rule's buckets cost O(n log n), so one huge token (44 KB in some files) stays cheap.
            bounds = split_by_ranks(token, ranks, limit=rank)
            parts = [token[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        else:
            # Most tokens are short: this plain loop, which may stop at two parts, is faster on them.
            parts = [token[i : i + 1] for i in range(n)]
            while len(parts) > 2:
                best, at = rank, -1
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
    """The known file a rank file is, by the sha256 of its content; else the OpenAI encoding with its exact number
    of ranks (a file saved from OpenAI's tokens by another tool, with other bytes but the same ranks)."""
    known = identify(digest)
    if known is not None:
        return known
    for known in OPENAI_RANK_FILES:
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
    """A tiktoken rank file; ids are the ranks. Known files (OpenAI's, Whisper, Llama, Qwen) get their pattern and
    special tokens.

    For other files give ``pattern`` (else the GPT-2 pattern, with a :class:`PatternGuessWarning`) and
    ``special_tokens`` (a list is appended after the highest rank, tiktoken's convention; a mapping gives explicit
    ids).
    """
    p = Path(path)
    return tiktoken_from_bytes(_read_bytes(p), source=str(p), pattern=pattern, special_tokens=special_tokens,
                               name=name)


def tiktoken_from_bytes(
    data: bytes,
    *,
    source: str,
    pattern: str | None = None,
    special_tokens: SpecialTokens | None = None,
    name: str | None = None,
) -> Tokenizer:
    """:func:`load_tiktoken` on a rank file's content (``source`` names it in messages; its stem names the
    tokenizer when neither ``name`` nor a known file does)."""
    p = Path(source)
    digest = hashlib.sha256(data).hexdigest()
    if digest in _CANONICAL_FILES:
        vocab = _known_vocab(data)
        known = identify(digest)
    else:
        ranks = parse_rank_file(data, source=source)
        known = identify_rank_file(digest, ranks)
        missing = [b for b in range(256) if bytes([b]) not in ranks]
        if missing:
            raise ValueError(
                f"{p}: the rank file lacks {len(missing)} of the 256 single bytes (first: 0x{missing[0]:02x}); "
                "a byte-level BPE rank file ranks every byte."
            )
        vocab = {r: t for t, r in ranks.items()}
    if special_tokens is None:
        specials: SpecialTokens = dict(known.special_tokens) if known else {}
    elif isinstance(special_tokens, Mapping):
        specials = dict(special_tokens)
    else:
        nxt = max(vocab) + 1
        specials = {s: nxt + k for k, s in enumerate(dict.fromkeys(special_tokens))}
    chosen = pattern or (known.pattern if known else "gpt2")
    if not pattern and known is None:
        warnings.warn(
            f"{p}: a rank file tokviz does not recognise, loaded without a pattern: it is pre-tokenized with the "
            "GPT-2 pattern ('gpt2'), which may not be the one it was trained with. Pass pattern= (CLI: --pattern) "
            "with 'gpt2', 'gpt4', 'o200k' or the model's own regex.",
            PatternGuessWarning, stacklevel=3)
    label = name or (known.name if known else p.stem)
    # tiktoken's rule (rank of the concatenation), so tokens outside the derived merges are still produced.
    # Built once with the rule (dataclasses.replace would build the tokenizer twice: seconds for o200k).
    # The merge list is only derived, for the views, and costs seconds on a big file: it is made when first read.
    # ``vocab`` holds the ranks only (the tokenizer adds its special tokens to its own copy).
    merges = DeferredMerges(lambda: _merges_for(digest, {t: r for r, t in vocab.items()})[0])
    return build_tokenizer(vocab, merges, specials, chosen, name=label, source=str(p), rule="ranks")  # type: ignore[arg-type]


def save_tiktoken(tok: Tokenizer, path: str | os.PathLike[str]) -> SaveResult:
    """Write ``base64 rank`` lines (ranks = our ids) for every non-special token.

    A rank file has no merge list: it is rebuilt from the ranks on loading, so the merges' tokens must have ids in
    merge order; that is checked, and a tokenizer whose merges would not come back raises ValueError.
    """
    refuse_duplicates(tok, "tiktoken")
    specials = set(tok.special_ids.values())
    ranks = {t: i for i, t in tok.vocab.items() if i not in specials}
    # The empty token is written "=", as Whisper's file has it (an empty field would leave the line one field).
    lines = b"".join((base64.b64encode(t) or b"=") + b" " + str(i).encode("ascii") + b"\n"
                     for t, i in sorted(ranks.items(), key=lambda kv: kv[1]))
    recovered, _ = _merges_for(hashlib.sha256(lines).hexdigest(), ranks)
    if recovered != tok.merges:
        k = next((i for i, (a, b) in enumerate(zip(recovered, tok.merges, strict=False)) if a != b),
                 min(len(recovered), len(tok.merges)))
        raise ValueError(
            f"this tokenizer's merges cannot be recovered from a rank file (they first differ at merge {k + 1}): "
            "tiktoken ranks merges by the id of the token they make, so ids must follow merge order. Save as tokviz, "
            "hf or gpt2 instead."
        )
    out = Path(path)
    out.write_bytes(lines)
    notes = pattern_note(tok, "tiktoken")
    if specials:
        listed = ", ".join(f"{s!r}: {i}" for s, i in tok.special_ids.items())
        notes.append(f"a rank file stores no special tokens; load it with special_tokens={{{listed}}}.")
    return SaveResult("tiktoken", [out], notes)
