"""Every size of a rank file at once: GPT-2, GPT-4 and GPT-4o as compression curves, not points.

A tiktoken rank file is its own family of smaller tokenizers: keep the tokens of rank below ``k`` and the rank rule
(merge the adjacent pair whose concatenation has the lowest rank; a piece that is itself a token is that token) is
a valid BPE tokenizer of ``k`` tokens, exactly what ``tiktoken.Encoding(..., mergeable_ranks={b: r for b, r in
ranks.items() if r < k})`` encodes. This module measures every such ``k`` from one loaded tokenizer, without
building a copy per size:

- the rank rule with ranks below ``k`` takes the same steps as the full rule until the first step whose rank is
  ``k`` or more, and stops there; so the full path of each distinct piece, recorded once with the running maximum of
  its ranks, gives its token count at every ``k`` (as :func:`tokviz.analysis.sweep.token_count_curve` does for merge
  lists);
- the whole-piece shortcut (a piece that is a token of rank below ``k`` is one token) is a second step in the same
  count.

The counts go into one difference array over every ``k``; a cumulative sum gives them all, so a curve of 200 sizes
costs one pass over the text's distinct pieces.

Example:
    >>> from tokviz.models.bpe import Tokenizer
    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b"abc"}
    >>> tok = Tokenizer(vocab, [(b"a", b"b")], rule="ranks")
    >>> prefix_curve(tok, "abc abc").tokens  # sizes 256, 257, 258
    (7, 5, 3)
    >>> prefix_encode(tok, "abc", size=257), prefix_encode(tok, "abc", size=258)
    ([256, 99], [257])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import accumulate

from tokviz.analysis.sweep import SizeCurve, log_spaced_sizes, piece_counts
from tokviz.models.bpe import Tokenizer
from tokviz.models.bpe_rules import NO_RANK, split_by_ranks
from tokviz.training.holdout import check_text

#: Pieces up to this many bytes have their path recorded by a plain loop (quadratic in the length, fastest on the
#: short pieces text is made of); a longer piece (a run of spaces in code) is cut once per size by the O(n log n)
#: rule instead.
LONG_PIECE = 256


def _require_rank_rule(tok: object) -> None:
    if not isinstance(tok, Tokenizer) or tok.rule != "ranks":
        kind = type(tok).__name__ if not isinstance(tok, Tokenizer) else f"a Tokenizer with rule={tok.rule!r}"
        raise ValueError(f"Expected a rank-rule Tokenizer (a tiktoken rank file, e.g. load_encoding('gpt2')), got "
                         f"{kind}; a trained BPE's sizes come from tokviz.analysis.sweep.token_count_curve.")


def rank_table(tok: Tokenizer) -> dict[bytes, int]:
    """A rank-rule tokenizer's regular (non-special) tokens and their ranks (its ids), as tiktoken's
    ``mergeable_ranks``; ValueError for any other tokenizer.

    >>> from tokviz.models.bpe import Tokenizer
    >>> table = rank_table(Tokenizer({i: bytes([i]) for i in range(256)}, [], ["<s>"], rule="ranks"))
    >>> len(table), b"<s>" in table
    (256, False)
    """
    _require_rank_rule(tok)
    special = set(tok.special_ids.values())
    return {b: i for i, b in tok.vocab.items() if i not in special}


def prefix_range(tok: Tokenizer, *, ranks: Mapping[bytes, int] | None = None) -> tuple[int, int]:
    """The smallest and largest ``k`` a rank-rule tokenizer gives: every single byte must be among the first ``k``
    ranks, and ``k`` runs up to the number of regular (non-special) tokens.

    >>> from tokviz.models.bpe import Tokenizer
    >>> prefix_range(Tokenizer({i: bytes([i]) for i in range(256)} | {256: b"ab"}, [], rule="ranks"))
    (256, 257)

    ``ranks`` is :func:`rank_table`'s answer when the caller has it already.
    """
    _require_rank_rule(tok)
    ranks = rank_table(tok) if ranks is None else ranks
    lo = 1 + max(ranks[bytes([b])] for b in range(256))
    return lo, 1 + max(ranks.values())


def _check_size(tok: Tokenizer, size: object, ranks: Mapping[bytes, int]) -> int:
    lo, hi = prefix_range(tok, ranks=ranks)
    if isinstance(size, bool) or not isinstance(size, int) or not lo <= size <= hi:
        raise ValueError(f"size must be an integer from {lo:,} (every byte a token) to {hi:,} ({tok.name!r}'s regular "
                         f"tokens), got {size!r}.")
    return size


def prefix_encode(tok: Tokenizer, text: str, *, size: int) -> list[int]:
    """``text`` encoded by the tokenizer of ``tok``'s first ``size`` ranks (the ids are the ranks, as in tiktoken);
    special tokens in the text are their one id each, as the app draws them.

    >>> from tokviz.models.bpe import Tokenizer
    >>> tok = Tokenizer({i: bytes([i]) for i in range(256)} | {256: b"aa"}, [], rule="ranks")
    >>> prefix_encode(tok, "aaa", size=256), prefix_encode(tok, "aaa", size=257)
    ([97, 97, 97], [256, 97])
    """
    ranks = rank_table(tok)
    k = _check_size(tok, size, ranks)
    check_text(text)
    special = tok.special_ids
    pt = tok.pretokenizer
    ids: list[int] = []
    for seg, is_special in pt.segments(text):
        if is_special:
            ids.append(special[seg])
            continue
        for piece in pt.findall(seg):
            b = piece.encode("utf-8")
            whole = ranks.get(b, NO_RANK)
            if whole < k:
                ids.append(whole)
                continue
            bounds = split_by_ranks(b, ranks, limit=k)
            ids.extend(ranks[b[s:e]] for s, e in zip(bounds, bounds[1:]))
    return ids


def rank_steps(piece: bytes, ranks: Mapping[bytes, int]) -> list[int]:
    """The rank rule on ``piece`` with every rank: for each merge, the highest rank applied so far.

    With the ranks below ``k`` only, the rule takes exactly the steps whose value is below ``k``.

    >>> rank_steps(b"abc", {b"a": 0, b"b": 1, b"c": 2, b"bc": 3, b"abc": 4})
    [3, 4]
    """
    tokens = [piece[i : i + 1] for i in range(len(piece))]
    get = ranks.get
    pr = [get(a + b, NO_RANK) for a, b in zip(tokens, tokens[1:])]
    steps: list[int] = []
    hi = -1
    while pr:
        r = min(pr)
        if r == NO_RANK:
            break
        i = pr.index(r)  # leftmost occurrence of the best pair, as tiktoken
        tokens[i] = new = tokens[i] + tokens[i + 1]
        del tokens[i + 1]
        del pr[i]
        if i:
            pr[i - 1] = get(tokens[i - 1] + new, NO_RANK)
        if i < len(pr):
            pr[i] = get(new + tokens[i + 1], NO_RANK)
        hi = max(hi, r)
        steps.append(hi)
    return steps


def prefix_curve(tok: Tokenizer, text: str, *, sizes: Iterable[int] | None = None, n_points: int = 200,
                 label: str | None = None, ranks: Mapping[bytes, int] | None = None) -> SizeCurve:
    """Token counts of ``text`` under ``tok``'s first ``k`` ranks, for each ``k`` in ``sizes`` (about ``n_points``
    log-spaced sizes over :func:`prefix_range` by default), from one pass; each equals ``len(prefix_encode(...))``.

    Special tokens in the text count one token at every size. ``label`` names the curve (``tok.name`` by default);
    ``ranks`` is :func:`rank_table`'s answer when the caller keeps it (building it takes a moment on o200k).

    >>> from tokviz.models.bpe import Tokenizer
    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"aa", 257: b"aaaa"}
    >>> curve = prefix_curve(Tokenizer(vocab, [], rule="ranks"), "aaaa")
    >>> curve.sizes, curve.tokens
    ((256, 257, 258), (4, 2, 1))
    """
    ranks = rank_table(tok) if ranks is None else ranks
    lo, hi = prefix_range(tok, ranks=ranks)
    check_text(text)
    wanted = (log_spaced_sizes(lo, hi, n=n_points) if sizes is None
              else tuple(sorted({_check_size(tok, s, ranks) for s in sizes})))
    if not wanted:
        raise ValueError("sizes is empty; give at least one size (or None for log-spaced sizes over the whole range).")
    pieces, n_special = piece_counts(tok, text)
    # delta[k]: how the text's token count changes from k - 1 ranks to k ranks (k from 0; the start is every byte).
    delta = [0] * (hi + 2)
    delta[0] = n_special
    long_counts = [0] * len(wanted)
    for piece, count in pieces.items():
        n = len(piece)
        if n > LONG_PIECE:  # cut at each size by the O(n log n) rule (rare: one cut per size costs little)
            whole = ranks.get(piece, NO_RANK)
            for j, k in enumerate(wanted):
                long_counts[j] += count * (1 if whole < k else len(split_by_ranks(piece, ranks, limit=k)) - 1)
            continue
        delta[0] += count * n
        whole = ranks.get(piece, NO_RANK)
        done = 0  # steps taken before the whole-piece shortcut applies
        for h in rank_steps(piece, ranks) if n > 1 else ():
            if h >= whole:
                break
            delta[h + 1] -= count
            done += 1
        if whole < NO_RANK:
            delta[whole + 1] += count * (1 - (n - done))
    at = list(accumulate(delta))
    tokens = tuple(at[k] + extra for k, extra in zip(wanted, long_counts))
    return SizeCurve(label or tok.name, tok.pretokenizer.label, wanted, tokens, len(text.encode("utf-8")))
