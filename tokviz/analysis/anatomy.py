"""Inside one token and one pre-token: a token's anatomy (how the merges build it) and a step-by-step encode trace.

:func:`anatomy` says what a token is: its id and rank, its bytes, the merge tree down to single bytes (each node with
its rank and, for a tokenizer trained here, the pair's count when it was merged), the longer tokens built from it,
and, for a tiktoken rank file, whether it lies outside the merges derived from the ranks (the rank rule still makes
such a token, but no merge builds it).

:func:`trace` replays BPE on one pre-token: at each step every adjacent pair that could merge, ranked, and the one
merged (the lowest rank; the leftmost where the same pair occurs twice). Both rules are replayed: the merge-list rule
(the pair's merge rank) and tiktoken's rank rule (the rank of the pair's concatenation). The trace's final ids are
exactly what :meth:`~tokviz.models.bpe.Tokenizer.encode` gives for the piece, the whole-token shortcut included.

Example:
    >>> from tokviz import Tokenizer
    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"he", 257: b"hel"}
    >>> tok = Tokenizer(vocab, [(b"h", b"e"), (b"he", b"l")])
    >>> a = anatomy(tok, 257)
    >>> a.rank, a.text, a.tree.left.token_bytes, a.tree.right.token_bytes
    (1, 'hel', b'he', b'l')
    >>> t = trace(tok, "help")
    >>> [s.chosen.rank for s in t.steps], list(t.ids) == tok.encode("help")
    ([0, 1], True)
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tokviz.core.protocol import TokenizerLike, encode_as_shown
from tokviz.core.surrogates import repair_surrogates
from tokviz.models.bpe import Tokenizer

Rule = Literal["merges", "ranks"]
TokenKind = Literal["byte", "merge", "special", "unbuildable"]


# -- finding the BPE model ------------------------------------------------------------------------------------------
def bpe_model(tokenizer: object) -> Tokenizer:
    """The byte-level BPE :class:`~tokviz.models.bpe.Tokenizer` that cuts pieces for ``tokenizer``.

    A :class:`Tokenizer` (or a subclass) is its own model; a Hugging Face pipeline holds one as ``.model``. Anything
    else (the character, byte and word baselines) has no merges, and gets a ValueError that says so.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> bpe_model(ByteTokenizer())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: byte (ByteTokenizer) has no merges: token anatomy and encode traces need a BPE tokenizer (...).
    """
    if isinstance(tokenizer, Tokenizer):
        return tokenizer
    model = getattr(tokenizer, "model", None)
    if isinstance(model, Tokenizer):
        return model
    name = getattr(tokenizer, "name", "this tokenizer")
    raise ValueError(
        f"{name} ({type(tokenizer).__name__}) has no merges: token anatomy and encode traces need a BPE tokenizer "
        "(trained here, GPT-2 files, a tiktoken rank file or a tokenizer.json)."
    )


def readable(token: bytes) -> str:
    """A token's bytes as readable text: the text where it is whole UTF-8, else valid UTF-8 runs with the other
    bytes as ``\\xNN`` escapes (never "�").

    >>> readable(b" hello"), readable(b"\\xe4\\xbd"), readable(b"a\\xff")
    (' hello', '\\\\xe4\\\\xbd', 'a\\\\xff')
    """
    return token.decode("utf-8", errors="backslashreplace")


def quoted(token: bytes) -> str:
    """A token quoted for tables and the command line: Python's escapes for unprintable characters, ``\\xNN`` for
    bytes that are not whole UTF-8, each escaped once.

    >>> print(quoted(b" hi\\n"), quoted(b"\\xe4\\xbd"), quoted("é".encode()))
    ' hi\\n' '\\xe4\\xbd' 'é'
    """
    parts = []
    for ch in token.decode("utf-8", errors="surrogateescape"):
        if "\udc80" <= ch <= "\udcff":
            parts.append(f"\\x{ord(ch) - 0xDC00:02x}")
        else:
            parts.append(repr(ch)[1:-1])
    return "'" + "".join(parts) + "'"


def whole_text(token: bytes) -> str | None:
    """The token's text, or None when its bytes are not whole UTF-8 on their own.

    >>> whole_text(b"caf\\xc3\\xa9"), whole_text(b"\\xc3")
    ('café', None)
    """
    try:
        return token.decode("utf-8")
    except UnicodeDecodeError:
        return None


# -- the merge index ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MergeIndex:
    """Who makes and who uses each token: ``made_by[id]`` is the index of the merge that builds it, ``parts[id]`` its
    two parts, ``used_by[id]`` the tokens whose merge has it as the left or right part (in merge order)."""

    made_by: dict[int, int]
    parts: dict[int, tuple[int, int]]
    used_by: dict[int, list[int]]


_INDEX_CACHE: dict[int, tuple[weakref.ref[Tokenizer], int, MergeIndex]] = {}


def merge_index(tokenizer: object) -> MergeIndex:
    """The :class:`MergeIndex` of a BPE tokenizer, computed once per tokenizer (O(merges), 0.2 s for o200k).

    >>> from tokviz import Tokenizer
    >>> tok = Tokenizer({i: bytes([i]) for i in range(256)} | {256: b"ab"}, [(b"a", b"b")])
    >>> idx = merge_index(tok)
    >>> idx.made_by[256], idx.parts[256], idx.used_by[97]
    (0, (97, 98), [256])
    """
    model = bpe_model(tokenizer)
    key = id(model)
    hit = _INDEX_CACHE.get(key)
    if hit is not None and hit[0]() is model and hit[1] == len(model.merges):
        return hit[2]
    made_by: dict[int, int] = {}
    parts: dict[int, tuple[int, int]] = {}
    used_by: dict[int, list[int]] = {}
    get = model._encoder.get  # bytes -> id, what token_to_id reads; called directly, 600k times for o200k
    merges = model.merges
    lefts = list(map(get, [a for a, _ in merges]))
    rights = list(map(get, [b for _, b in merges]))
    news = list(map(get, [a + b for a, b in merges]))
    for r, (ia, ib, new) in enumerate(zip(lefts, rights, news)):
        if ia is None or ib is None or new is None or new in made_by:
            continue  # a merge that repeats an earlier one's result changes nothing the tokenizer does
        made_by[new] = r
        parts[new] = (ia, ib)
        used_by.setdefault(ia, []).append(new)
        if ib != ia:
            used_by.setdefault(ib, []).append(new)
    index = MergeIndex(made_by, parts, used_by)
    if len(_INDEX_CACHE) >= 16:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[key] = (weakref.ref(model), len(model.merges), index)
    return index


# -- anatomy --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MergeNode:
    """One node of a token's merge tree: a token, its rank, and the two tokens its merge joined (None for a byte).

    ``rank`` is the merge's index for the merge-list rule and the token's rank (its id) for the rank rule; a single
    byte has no rank under the merge-list rule. ``merge_index`` is the position of the merge that built it in
    ``tokenizer.merges``; ``pair_count`` how often the pair occurred when a training run here merged it.
    """

    id: int
    token_bytes: bytes
    rank: int | None
    merge_index: int | None
    pair_count: int | None
    left: MergeNode | None = None
    right: MergeNode | None = None

    @property
    def text(self) -> str:
        """The node's bytes as readable text (see :func:`readable`)."""
        return readable(self.token_bytes)

    @property
    def is_leaf(self) -> bool:
        return self.left is None

    def walk(self, depth: int = 0) -> Iterator[tuple[int, MergeNode]]:
        """``(depth, node)`` for this node and all below it, parents before children, left before right."""
        yield depth, self
        if self.left is not None and self.right is not None:
            yield from self.left.walk(depth + 1)
            yield from self.right.walk(depth + 1)

    @property
    def height(self) -> int:
        """0 for a byte; one more than the taller part for a merge."""
        if self.left is None or self.right is None:
            return 0
        return 1 + max(self.left.height, self.right.height)


@dataclass(frozen=True)
class TokenAnatomy:
    """What one token is and how it is built.

    - ``kind``: ``"byte"`` (one of the 256), ``"merge"`` (built by a merge), ``"special"`` or ``"unbuildable"`` (a
      regular token no merge builds: a rank file's token outside the derived merges, which the rank rule still
      makes, or a vocabulary entry a merge-list tokenizer never produces);
    - ``rank``: the merge index that created it (merge-list rule; None for bytes and specials), or its rank in the
      rank file (rank rule: the id itself; None for specials);
    - ``tree``: the merge tree down to single bytes (None for specials and unbuildable tokens);
    - ``used_by``: ids of the longer tokens whose merge has this token as the left or right part, in merge order;
    - ``outside_merges``: True for a regular token the merges do not build; ``note`` says what that means.
    """

    id: int
    tokenizer: str
    rule: Rule
    kind: TokenKind
    rank: int | None
    token_bytes: bytes
    text: str | None
    tree: MergeNode | None
    used_by: tuple[int, ...]
    outside_merges: bool
    note: str
    merge_index: int | None = None
    pair_count: int | None = None

    @property
    def hex(self) -> str:
        """The bytes in hex, space-separated: ``"20 68 65"``."""
        return self.token_bytes.hex(" ")

    @property
    def display(self) -> str:
        """Readable text: the text itself where whole UTF-8, else with ``\\xNN`` escapes."""
        return readable(self.token_bytes)

    @property
    def n_bytes(self) -> int:
        return len(self.token_bytes)


def _rank_of(model: Tokenizer, index: MergeIndex, i: int) -> int | None:
    if i in model.special_ids.values():
        return None
    if model.rule == "ranks":
        return i
    return index.made_by.get(i)


def _tree(model: Tokenizer, index: MergeIndex, i: int, counts: Sequence[int] | None) -> MergeNode:
    # Iterative bottom-up construction: merge trees of long tokens (runs of spaces) can be hundreds of levels deep.
    built: dict[int, MergeNode] = {}
    stack = [i]
    while stack:
        j = stack[-1]
        if j in built:
            stack.pop()
            continue
        parts = index.parts.get(j)
        if parts is None:
            built[j] = MergeNode(j, model.vocab[j], _rank_of(model, index, j), None, None)
            stack.pop()
            continue
        a, b = parts
        missing = [p for p in (a, b) if p not in built]
        if missing:
            stack.extend(missing)
            continue
        m = index.made_by[j]
        count = counts[m] if counts is not None and m < len(counts) else None
        built[j] = MergeNode(j, model.vocab[j], _rank_of(model, index, j), m, count, built[a], built[b])
        stack.pop()
    return built[i]


def anatomy(tokenizer: TokenizerLike, token_id: int, *, index: MergeIndex | None = None) -> TokenAnatomy:
    """The anatomy of ``token_id`` in a BPE tokenizer (see :class:`TokenAnatomy`).

    ``index`` (from :func:`merge_index`) may be passed to skip the lookup of the cached one. An id outside the
    vocabulary, or a tokenizer without merges, raises ValueError.

    >>> from tokviz import Tokenizer
    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b"abc"}
    >>> a = anatomy(Tokenizer(vocab, [(b"a", b"b")], rule="ranks"), 257)
    >>> a.kind, a.rank, a.outside_merges, a.tree is None
    ('unbuildable', 257, True, True)
    >>> anatomy(Tokenizer(vocab, [(b"a", b"b")]), 97).used_by
    (256,)
    """
    model = bpe_model(tokenizer)
    if not isinstance(token_id, int) or token_id not in model.vocab:
        size = model.vocab_size
        raise ValueError(f"token id {token_id!r} is not in {model.name}'s vocabulary (ids 0..{size - 1} of {size}).")
    index = index or merge_index(model)
    token = model.vocab[token_id]
    name = getattr(tokenizer, "name", model.name)
    specials = set(model.special_ids.values())
    training = getattr(tokenizer, "training", None) or model.training
    counts = getattr(training, "merge_counts", None)
    used_by = tuple(index.used_by.get(token_id, ()))
    rank = _rank_of(model, index, token_id)
    merge_idx = index.made_by.get(token_id)
    if token_id in specials:
        return TokenAnatomy(token_id, name, model.rule, "special", None, token, whole_text(token), None, used_by,
                            False, "A special token: cut out of the text whole, never built by merges.")
    is_byte = len(token) == 1 and model.token_to_id(token) == token_id
    if is_byte:
        kind: TokenKind = "byte"
        note = "One of the 256 single bytes every byte-level vocabulary starts from."
    elif merge_idx is not None:
        kind = "merge"
        note = f"Built by merge {merge_idx + 1:,} of {len(model.merges):,}."
        if model.rule == "ranks":
            note += " (Merges derived from the rank file; the rank rule makes the token from any two neighbours " \
                    "that join into it.)"
    else:
        kind = "unbuildable"
        if model.rule == "ranks":
            note = ("Outside the merges derived from the rank file: no merge builds this token, but the rank rule "
                    "still makes it when two neighbouring tokens join into it.")
        else:
            note = "No merge builds this token, so encoding never produces it (a vocabulary entry unused by BPE)."
    tree = _tree(model, index, token_id, counts) if kind in ("byte", "merge") else None
    count = counts[merge_idx] if counts is not None and merge_idx is not None and merge_idx < len(counts) else None
    return TokenAnatomy(token_id, name, model.rule, kind, rank, token, whole_text(token), tree, used_by,
                        kind == "unbuildable", note, merge_idx, count)


def occurrences(tokenizer: TokenizerLike, token_id: int, text: str) -> int:
    """How many times ``token_id`` occurs in the encoding of ``text``.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> occurrences(ByteTokenizer(), ord("l"), "hello")
    2
    """
    return encode_as_shown(tokenizer, text).count(token_id)


# -- the encode trace ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PairCandidate:
    """An adjacent pair at one step: its position (index of the left token), the two ids and their bytes, the pair's
    rank under the tokenizer's rule, and the token merging it makes."""

    position: int
    left: int
    right: int
    left_bytes: bytes
    right_bytes: bytes
    rank: int
    result: int

    @property
    def label(self) -> str:
        """``'h' + 'e'``, readable."""
        return f"{quoted(self.left_bytes)} + {quoted(self.right_bytes)}"


@dataclass(frozen=True)
class TraceStep:
    """One merge of the replay: the tokens before it, every candidate pair ranked (lowest rank first, then leftmost;
    at most ``max_candidates`` kept, ``n_candidates`` counts all), the pair merged, and why."""

    index: int
    before: tuple[int, ...]
    candidates: tuple[PairCandidate, ...]
    n_candidates: int
    chosen: PairCandidate
    n_same_pair: int
    reason: str

    @property
    def after(self) -> tuple[int, ...]:
        """The tokens after this step's merge."""
        p = self.chosen.position
        return self.before[:p] + (self.chosen.result,) + self.before[p + 2 :]


@dataclass(frozen=True)
class EncodeTrace:
    """BPE replayed on one pre-token.

    ``start`` are the single-byte ids the piece starts as; ``steps`` the merges in order; ``bpe_ids`` what the
    merges end with; ``ids`` what :meth:`~tokviz.models.bpe.Tokenizer.encode` gives for the piece. They differ only
    when ``whole_token`` is True: a piece that is itself a token is taken whole (tiktoken's shortcut, which our
    encoder follows) even where the merges would cut it otherwise. ``special`` marks a special token (no BPE at
    all). ``stop_reason`` says why BPE stopped.
    """

    tokenizer: str
    rule: Rule
    piece: str
    piece_bytes: bytes
    start: tuple[int, ...]
    steps: tuple[TraceStep, ...]
    bpe_ids: tuple[int, ...]
    ids: tuple[int, ...]
    tokens: tuple[bytes, ...]
    whole_token: bool
    special: bool
    stop_reason: str
    char_start: int = 0
    char_end: int = field(default=0)

    @property
    def n_steps(self) -> int:
        return len(self.steps)


def _trace_merges(model: Tokenizer, data: bytes, max_candidates: int) -> tuple[list[int], list[TraceStep], str]:
    # The merge-list rule as Tokenizer.merge_path applies it: lowest merge rank, leftmost on a repeated pair.
    ranks = model._ranks  # (left id, right id) -> merge rank: the encoder's own table, so the replay cannot drift
    merged = model._merged
    vocab = model.vocab
    ids = [model._byte_ids[b] for b in data]
    steps: list[TraceStep] = []
    while len(ids) > 1:
        cands = []
        for pos in range(len(ids) - 1):
            r = ranks.get((ids[pos], ids[pos + 1]))
            if r is not None:
                cands.append((r, pos))
        if not cands:
            return ids, steps, _stop_reason(len(ids), "merges")
        cands.sort()
        r, pos = cands[0]
        n_same = sum(1 for rr, _ in cands if rr == r)
        kept = tuple(
            PairCandidate(p, ids[p], ids[p + 1], vocab[ids[p]], vocab[ids[p + 1]], rr, merged[rr])
            for rr, p in cands[:max_candidates]
        )
        chosen = kept[0]
        reason = f"lowest merge rank ({r:,}) of {len(cands)} candidate pair{'s' if len(cands) != 1 else ''}"
        if n_same > 1:
            reason += f"; the pair occurs {n_same} times here, so the leftmost is merged"
        steps.append(TraceStep(len(steps), tuple(ids), kept, len(cands), chosen, n_same, reason))
        ids[pos : pos + 2] = [merged[r]]
    return ids, steps, _stop_reason(len(ids), "merges")


def _trace_ranks(model: Tokenizer, data: bytes, max_candidates: int) -> tuple[list[int], list[TraceStep], str]:
    # tiktoken's rule as split_by_ranks applies it: the pair whose concatenation is the lowest-ranked token.
    regular = model._regular  # token bytes -> rank (= id), specials excluded: the encoder's own table
    parts = [data[i : i + 1] for i in range(len(data))]
    steps: list[TraceStep] = []
    while len(parts) > 1:
        cands = []
        for pos in range(len(parts) - 1):
            r = regular.get(parts[pos] + parts[pos + 1])
            if r is not None:
                cands.append((r, pos))
        ids = [regular[p] for p in parts]
        if not cands:
            return ids, steps, _stop_reason(len(ids), "ranks")
        cands.sort()
        r, pos = cands[0]
        n_same = sum(1 for rr, _ in cands if rr == r)
        kept = tuple(PairCandidate(p, ids[p], ids[p + 1], parts[p], parts[p + 1], rr, rr)
                     for rr, p in cands[:max_candidates])
        reason = (f"its concatenation is the lowest-ranked token ({r:,}) of {len(cands)} that neighbouring pairs "
                  "would make")
        if n_same > 1:
            reason += f"; the pair occurs {n_same} times here, so the leftmost is merged"
        steps.append(TraceStep(len(steps), tuple(ids), kept, len(cands), kept[0], n_same, reason))
        parts[pos : pos + 2] = [parts[pos] + parts[pos + 1]]
    return [regular[p] for p in parts], steps, _stop_reason(len(parts), "ranks")


def _stop_reason(n_left: int, rule: Rule) -> str:
    if n_left <= 1:
        return "One token is left: nothing to merge."
    if rule == "merges":
        return f"{n_left} tokens are left and no adjacent pair of them is a merge: BPE stops."
    return f"{n_left} tokens are left and no adjacent pair of them joins into a token: BPE stops."


def trace(tokenizer: TokenizerLike, piece: str, *, max_candidates: int = 50) -> EncodeTrace:
    """Replay BPE on one pre-token ``piece`` (a piece the pre-tokenizer keeps whole, or a special token).

    Each step keeps at most ``max_candidates`` ranked candidates (the chosen one is always first). The final
    ``ids`` equal ``tokenizer.encode(piece)``. Text that the pre-tokenizer cuts into several pieces raises
    ValueError: trace each piece, or call :func:`trace_text` with a character position. Replay costs O(n²) in the
    piece's length (every step re-ranks every pair, which is what it shows).

    >>> from tokviz import Tokenizer
    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"aa"}
    >>> t = trace(Tokenizer(vocab, [(b"a", b"a")]), "aaa")
    >>> t.steps[0].n_candidates, t.steps[0].chosen.position, t.steps[0].reason
    (2, 0, 'lowest merge rank (0) of 2 candidate pairs; the pair occurs 2 times here, so the leftmost is merged')
    >>> t.ids, t.stop_reason
    ((256, 97), '2 tokens are left and no adjacent pair of them is a merge: BPE stops.')
    """
    model = bpe_model(tokenizer)
    if not isinstance(piece, str):
        raise ValueError(f"trace expects the piece as str, got {type(piece).__name__}.")
    name = getattr(tokenizer, "name", model.name)
    special_id = model.special_ids.get(piece)
    if special_id is not None:
        data = model.vocab[special_id]
        return EncodeTrace(name, model.rule, piece, data, (special_id,), (), (special_id,), (special_id,), (data,),
                           False, True, "A special token: cut out of the text before BPE, always one id.", 0,
                           len(piece))
    found = model.pretokenizer.findall(piece) if piece else []
    if len(found) != 1 and piece:
        shown = ", ".join(repr(p) for p in found[:4]) + (", ..." if len(found) > 4 else "")
        raise ValueError(f"{piece[:40]!r} is {len(found)} pre-tokens for {name} ({shown}), not one; trace one of "
                         "them, or use trace_text(tokenizer, text, char_index) to trace the piece at a position.")
    data = repair_surrogates(piece).encode("utf-8")
    if model.rule == "ranks":
        bpe_ids, steps, stop = _trace_ranks(model, data, max_candidates)
        start = tuple(model._regular[data[i : i + 1]] for i in range(len(data)))
    else:
        bpe_ids, steps, stop = _trace_merges(model, data, max_candidates)
        start = tuple(model._byte_ids[b] for b in data)
    whole = model._whole.get(data)
    ids = (whole,) if whole is not None else tuple(bpe_ids)
    took_whole = whole is not None and list(ids) != bpe_ids
    if took_whole:
        stop = (f"The piece is itself token {whole:,}, so the encoder takes it whole (as tiktoken does), although "
                f"the merges alone end in {len(bpe_ids)} tokens.")
    return EncodeTrace(name, model.rule, piece, data, start, tuple(steps), tuple(bpe_ids), ids,
                       tuple(model.vocab[i] for i in ids), took_whole, False, stop, 0, len(piece))


def trace_text(tokenizer: TokenizerLike, text: str, char_index: int, *, max_candidates: int = 50) -> EncodeTrace:
    """Trace the pre-token of ``text`` that holds character ``char_index`` (its span is ``char_start:char_end``).

    >>> from tokviz import Tokenizer
    >>> tok = Tokenizer({i: bytes([i]) for i in range(256)} | {256: b" w"}, [(b" ", b"w")])
    >>> t = trace_text(tok, "hi world", 4)
    >>> t.piece, t.char_start, t.char_end, t.steps[0].chosen.label
    (' world', 2, 8, "' ' + 'w'")
    """
    model = bpe_model(tokenizer)
    if not isinstance(char_index, int) or not 0 <= char_index < len(text):
        raise ValueError(f"char_index must be in 0..{len(text) - 1} (a character of the text), got {char_index!r}.")
    pieces = model.encode_with_offsets(text).pieces
    for p in pieces:
        if p.start <= char_index < p.end:
            t = trace(model, p.text, max_candidates=max_candidates)
            return EncodeTrace(**{**t.__dict__, "tokenizer": getattr(tokenizer, "name", model.name),
                                  "char_start": p.start, "char_end": p.end})
    raise ValueError(f"no pre-token covers character {char_index} of the text.")  # unreachable for a valid index
