"""Every vocabulary size from one training run: token counts, compression curves, length histograms, side by side.

BPE learns its merges in order, so the tokenizer of size k is the first ``k - 256 - len(specials)`` merges of a bigger
run (:meth:`tokviz.models.bpe.Tokenizer.prefix`). This module turns that into numbers for every size at once.

The key function is :func:`token_count_curve`. Encoding a pre-token applies merges lowest rank first; a merge creates
a token that did not exist before it, so every pair the merge creates has a higher rank than the merge itself and
the ranks a piece goes through never decrease. The tokenizer of size k therefore performs exactly the first steps of
the full tokenizer's path, those with rank < k - base, and stops there. Recording, for each distinct piece, the ranks
of its steps (weighted by how often the piece occurs) and taking a cumulative sum gives the token count of the text at
every size from one pass, with no retraining and no re-encoding.

Example:
    >>> from tokviz.training.trainer import train_bpe
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=262)
    >>> curve = token_count_curve(tok, "low lower", sizes=[256, 258, 262])
    >>> curve.tokens, curve.n_bytes
    ((9, 5, 3), 9)
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Protocol

from tokviz.core.encoding import Encoding
from tokviz.core.protocol import TokenizerLike, encode_as_shown
from tokviz.core.ratios import bytes_per_token
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.models.bpe import Tokenizer
from tokviz.training.holdout import check_text
from tokviz.training.trainer import Corpus, train_bpe


# -- sizes ---------------------------------------------------------------------------------------------------------
def size_range(tok: Tokenizer) -> tuple[int, int]:
    """The smallest and largest vocabulary size ``tok`` can give by :meth:`~tokviz.models.bpe.Tokenizer.prefix`.

    >>> size_range(Tokenizer({i: bytes([i]) for i in range(256)}, [], ["<s>"]))
    (257, 257)
    """
    _require_bpe(tok)
    base = _base(tok)
    return base, base + len(tok.merges)


def log_spaced_sizes(lo: int, hi: int, *, n: int = 200) -> tuple[int, ...]:
    """About ``n`` distinct sizes from ``lo`` to ``hi`` (both included), evenly spaced on a log scale.

    A curve over every size of a big run has thousands of points; these are enough for a smooth line on a log axis
    and keep the figure light (the numbers at each chosen size stay exact).

    >>> log_spaced_sizes(256, 8192, n=6)
    (256, 512, 1024, 2048, 4096, 8192)
    """
    if isinstance(lo, bool) or isinstance(hi, bool) or not isinstance(lo, int) or not isinstance(hi, int):
        raise ValueError(f"lo and hi must be integers, got {lo!r} and {hi!r}.")
    if not 0 < lo <= hi:
        raise ValueError(f"Need 0 < lo <= hi, got lo={lo}, hi={hi}.")
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}.")
    step = (hi / lo) ** (1 / (n - 1))
    return tuple(sorted({lo, hi, *(min(hi, round(lo * step**i)) for i in range(n))}))


def _base(tok: Tokenizer) -> int:
    return 256 + len(tok.special_tokens or [])


def _require_bpe(tok: TokenizerLike) -> None:
    if not isinstance(tok, Tokenizer):
        raise ValueError(
            f"Expected a trained BPE Tokenizer, got {type(tok).__name__}; baselines have a single size, so pass them "
            "to compression_curves(baselines=...) instead."
        )


def _check_sizes(tok: Tokenizer, sizes: Iterable[int] | None) -> tuple[int, ...]:
    """Sorted distinct sizes, all within :func:`size_range`; None means every size."""
    lo, hi = size_range(tok)
    if sizes is None:
        return tuple(range(lo, hi + 1))
    out = set()
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, int):
            raise ValueError(f"sizes must be integers, got {s!r}.")
        if not lo <= s <= hi:
            raise ValueError(
                f"vocab size {s} is outside what {tok.name!r} can give ({lo}..{hi}: 256 bytes + "
                f"{lo - 256} special tokens + up to {hi - lo} merges); train a bigger run or pick sizes in range."
            )
        out.add(s)
    if not out:
        raise ValueError("sizes is empty; give at least one vocabulary size (or None for every size).")
    return tuple(sorted(out))


# -- CSV -----------------------------------------------------------------------------------------------------------
def rows_to_csv(rows: Sequence[Mapping[str, object]]) -> str:
    """CSV text (header from the first row's keys) for rows of dicts, as the charts' downloads use.

    >>> rows_to_csv([{"vocab_size": 256, "tokens": 9}])
    'vocab_size,tokens\\r\\n256,9\\r\\n'
    """
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


# -- token counts at every size ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SizeCurve:
    """Token counts of one text at several vocabulary sizes of one tokenizer; ``ratios`` are UTF-8 bytes per token."""

    label: str
    pattern: str
    sizes: tuple[int, ...]
    tokens: tuple[int, ...]
    n_bytes: int

    @property
    def ratios(self) -> tuple[float, ...]:
        return tuple(bytes_per_token(self.n_bytes, t) for t in self.tokens)

    def at(self, size: int) -> int:
        """The token count at ``size``; ValueError if that size was not computed."""
        try:
            return self.tokens[self.sizes.index(size)]
        except ValueError:
            raise ValueError(f"size {size} is not on this curve (it has {self.sizes[0]}..{self.sizes[-1]}).") from None

    def rows(self) -> list[dict[str, object]]:
        """One dict per size: series, pattern, vocab_size, tokens, bytes, bytes_per_token."""
        return [
            {"series": self.label, "kind": "bpe", "pattern": self.pattern, "vocab_size": s, "tokens": t,
             "bytes": self.n_bytes, "bytes_per_token": r}
            for s, t, r in zip(self.sizes, self.tokens, self.ratios)
        ]

    def to_csv(self) -> str:
        return rows_to_csv(self.rows())


def merge_steps(tok: Tokenizer, piece: bytes) -> list[int]:
    """For each merge BPE applies to ``piece``, the highest rank applied so far (0-based merge ranks).

    This is pure merge application, without the encoder's whole-token shortcut (see :func:`token_count_curve`).
    The ranks of a path never decrease when merges create new tokens, so the running maximum is the rank itself; it
    is kept as a maximum so the count stays exact even for a vocabulary where two merges give the same bytes.
    The prefix tokenizer with ``m`` merges applies exactly the steps whose value is below ``m``.

    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"he", 257: b"hel"}
    >>> merge_steps(Tokenizer(vocab, [(b"h", b"e"), (b"he", b"l")]), b"hello")
    [0, 1]
    """
    steps: list[int] = []
    hi = -1
    for r in tok.merge_path(piece)[1]:
        hi = max(hi, r)
        steps.append(hi)
    return steps


def piece_counts(tok: Tokenizer, text: str) -> tuple[Counter[bytes], int]:
    """The text's pre-token pieces (as UTF-8 bytes) with their counts, and how many special tokens it holds.

    >>> tok = Tokenizer({i: bytes([i]) for i in range(256)}, [], ["<s>"])
    >>> pieces, n_special = piece_counts(tok, "hi hi<s>hi")
    >>> sorted(pieces.items()), n_special
    ([(b' hi', 1), (b'hi', 2)], 1)
    """
    pieces: Counter[str] = Counter()
    n_special = 0
    pt = tok.pretokenizer
    for seg, is_special in pt.segments(text):
        if is_special:
            n_special += 1
        else:
            pieces.update(pt.findall(seg))
    return Counter({p.encode("utf-8"): c for p, c in pieces.items()}), n_special


def token_count_curve(tok: Tokenizer, text: str, *, sizes: Iterable[int] | None = None) -> SizeCurve:
    """Token count of ``text`` at every vocabulary size of ``tok`` (or at ``sizes``), from one pass.

    Each distinct piece is run through BPE once with all merges; a piece of ``n`` bytes whose path has ``j`` steps
    below ``m`` merges is ``n - j`` tokens at size ``base + m``. A histogram of steps over ranks, weighted by piece
    frequency, summed cumulatively, gives every size. Special tokens count one token each at every size.

    The encoder's whole-token shortcut (a piece equal to a vocabulary token maps straight to it, as in tiktoken) is
    deliberately not applied: it is a speed-up that agrees with BPE whenever each token is reachable by merging its own
    bytes, which holds for every run of :func:`tokviz.training.trainer.train_bpe` (a token is made by merges that
    happened
    inside it in some training word) and, measured, for GPT-2's 50,000 merges. For a hand-made vocabulary with an
    unreachable token, ``tok.prefix(k).encode`` gives that token where this curve follows the merges (the tests show
    such a case). Following the merges is what makes the path monotone in size, so one pass gives all sizes.

    >>> from tokviz.training.trainer import train_bpe
    >>> tok = train_bpe(["aaab " * 10], vocab_size=258)
    >>> token_count_curve(tok, "aaab aaab").tokens
    (9, 7, 5)
    """
    _require_bpe(tok)
    check_text(text)
    wanted = _check_sizes(tok, sizes)
    pieces, n_special = piece_counts(tok, text)
    base = _base(tok)
    n_merges = len(tok.merges)
    # merged_at[r]: how many merges happen across the text once rank r is available (r is the path's running max)
    merged_at = [0] * (n_merges + 1)
    piece_bytes = 0
    for piece, count in pieces.items():
        piece_bytes += len(piece) * count
        for hi in merge_steps(tok, piece):
            merged_at[hi] += count
    # done[m]: merges applied with the first m merges available
    done = [0, *accumulate(merged_at)]
    tokens = tuple(piece_bytes + n_special - done[s - base] for s in wanted)
    return SizeCurve(tok.name, tok.pretokenizer.label, wanted, tokens, len(text.encode("utf-8")))


# -- several tokenizers on one text --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SizePoint:
    """A tokenizer with one size (a baseline or a pretrained tokenizer) measured on the same text."""

    label: str
    kind: str  # "baseline" or "pretrained"
    vocab_size: int
    tokens: int
    n_bytes: int

    @property
    def ratio(self) -> float:
        return bytes_per_token(self.n_bytes, self.tokens)

    def row(self) -> dict[str, object]:
        return {"series": self.label, "kind": self.kind, "pattern": "", "vocab_size": self.vocab_size,
                "tokens": self.tokens, "bytes": self.n_bytes, "bytes_per_token": self.ratio}


@dataclass(frozen=True)
class SizeComparison:
    """Curves of BPE runs (e.g. one per pre-tokenizer pattern) and single-size points, all on one text."""

    curves: tuple[SizeCurve, ...]
    points: tuple[SizePoint, ...]

    def rows(self) -> list[dict[str, object]]:
        """Long format, one row per (series, size): what both the compression and token-count charts show."""
        return [row for c in self.curves for row in c.rows()] + [p.row() for p in self.points]

    def to_csv(self) -> str:
        return rows_to_csv(self.rows())


def default_baselines(train_text: str) -> tuple[Any, ...]:
    """The lecture's baselines: bytes, characters, and words with a vocabulary built from ``train_text``.

    >>> [(b.name, b.vocab_size) for b in default_baselines("the cat the")]
    [('byte', 256), ('character', 1114112), ('word', 4)]
    """
    check_text(train_text, "train_text")
    return (ByteTokenizer(), CharacterTokenizer(), WordTokenizer.from_corpus([train_text]))


class Countable(Protocol):
    """What :func:`measure_point` needs of a tokenizer: a name, a vocabulary size and ``encode``."""

    name: str

    @property
    def vocab_size(self) -> int: ...

    def encode(self, text: str) -> list[int]: ...


def measure_point(tokenizer: Countable, text: str, *, kind: str) -> SizePoint:
    """Token count of ``text`` under a single-size tokenizer (anything with ``encode``, ``vocab_size``, ``name``)."""
    for attr in ("encode", "vocab_size", "name"):
        if not hasattr(tokenizer, attr):
            raise ValueError(f"{type(tokenizer).__name__} has no {attr!r}; pass a tokenizer such as ByteTokenizer().")
    return SizePoint(str(tokenizer.name), kind, int(tokenizer.vocab_size), len(encode_as_shown(tokenizer, text)),
                     len(text.encode("utf-8")))


def compression_curves(
    text: str,
    tokenizers: Sequence[Tokenizer],
    *,
    sizes: Iterable[int] | None = None,
    baselines: Sequence[Any] = (),
    pretrained: Sequence[Any] = (),
) -> SizeComparison:
    """Curves for several BPE runs (every size, or ``sizes``) plus baseline and pretrained points, on ``text``.

    Give the runs distinct names (as :func:`train_patterns` does). With explicit ``sizes``, each run keeps those it
    can give, so runs of different sizes share one list.

    >>> from tokviz.training.trainer import train_bpe
    >>> runs = train_patterns(["the cat sat on the mat " * 5], vocab_size=268, patterns=("gpt2", "gpt4"))
    >>> cmp = compression_curves("the cat", runs, sizes=[256, 268], baselines=[ByteTokenizer()])
    >>> [(c.label, c.tokens) for c in cmp.curves], cmp.points[0].ratio
    ([('bpe gpt2', (7, 2)), ('bpe gpt4', (7, 2))], 1.0)
    """
    check_text(text)
    if isinstance(tokenizers, Tokenizer):
        tokenizers = [tokenizers]
    names = [t.name for t in tokenizers]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise ValueError(
            f"Two tokenizers are both named {dup!r}; give each a distinct name so the curves can be told apart."
        )
    wanted = None if sizes is None else list(sizes)
    bad = next((s for s in wanted or () if isinstance(s, bool) or not isinstance(s, int)), None)
    if bad is not None:
        raise ValueError(f"sizes must be integers, got {bad!r}.")
    curves = []
    for tok in tokenizers:
        own = None
        if wanted is not None:
            lo, hi = size_range(tok)
            own = [s for s in wanted if lo <= s <= hi]
            if not own:
                raise ValueError(f"None of the sizes {wanted} is within {tok.name!r}'s range {lo}..{hi}.")
        curves.append(token_count_curve(tok, text, sizes=own))
    points = [measure_point(b, text, kind="baseline") for b in baselines]
    points += [measure_point(p, text, kind="pretrained") for p in pretrained]
    return SizeComparison(tuple(curves), tuple(points))


def train_patterns(
    corpus: Corpus,
    *,
    vocab_size: int,
    patterns: Sequence[str] = ("gpt2", "gpt4", "o200k"),
    special_tokens: Sequence[str] | None = None,
) -> list[Tokenizer]:
    """One training run per pre-tokenizer pattern on the same corpus, named ``"bpe <pattern>"``.

    ``corpus`` is what :func:`tokviz.training.trainer.train_bpe` takes; an iterator is read once and reused for every
    run.

    >>> [t.name for t in train_patterns(["it's 2024!"], vocab_size=257, patterns=("gpt2", "o200k"))]
    ['bpe gpt2', 'bpe o200k']
    """
    if isinstance(corpus, Iterable) and not isinstance(corpus, (str, bytes, list, tuple)):
        corpus = list(corpus)  # type: ignore[assignment]  # an iterator of texts or paths, read once into a list
    if not patterns:
        raise ValueError("patterns is empty; name at least one, e.g. ('gpt2', 'gpt4').")
    return [
        train_bpe(corpus, vocab_size=vocab_size, pattern=p, special_tokens=special_tokens, name=f"bpe {p}")
        for p in patterns
    ]


# -- token lengths -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LengthDistribution:
    """Token lengths in bytes at several sizes: ``counts[i][j]`` tokens of ``lengths[j]`` bytes at ``sizes[i]``.

    ``kind`` is "vocabulary" (each token of the vocabulary once, special tokens left out) or "usage" (each token of
    the encoded text, specials left out).
    """

    label: str
    kind: str
    sizes: tuple[int, ...]
    lengths: tuple[int, ...]
    counts: tuple[tuple[int, ...], ...]

    def histogram(self, size: int) -> dict[int, int]:
        """``{length: count}`` at ``size`` (lengths with count 0 left out)."""
        if size not in self.sizes:
            raise ValueError(f"size {size} is not in this distribution (sizes: {list(self.sizes)}).")
        row = self.counts[self.sizes.index(size)]
        return {n: c for n, c in zip(self.lengths, row) if c}

    def shares(self, size: int) -> tuple[float, ...]:
        """Fractions aligned with ``lengths`` at ``size`` (they sum to 1 unless there are no tokens)."""
        row = self.counts[self.sizes.index(size)]
        total = sum(row)
        return tuple(c / total if total else 0.0 for c in row)

    def rows(self) -> list[dict[str, object]]:
        return [
            {"series": self.label, "kind": self.kind, "vocab_size": s, "length_bytes": n, "count": c, "share": sh}
            for s, row in zip(self.sizes, self.counts)
            for n, c, sh in zip(self.lengths, row, self.shares(s))
        ]

    def to_csv(self) -> str:
        return rows_to_csv(self.rows())


def length_distribution(tok: Tokenizer, sizes: Iterable[int], *, text: str | None = None) -> LengthDistribution:
    """Histograms of token lengths (bytes) in the vocabulary at each size, or, given ``text``, in its encoding.

    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"he", 257: b"hel"}
    >>> tok = Tokenizer(vocab, [(b"h", b"e"), (b"he", b"l")])
    >>> d = length_distribution(tok, [257, 258]); d.lengths, d.counts
    ((1, 2, 3), ((256, 1, 0), (256, 1, 1)))
    """
    _require_bpe(tok)
    wanted = _check_sizes(tok, sizes)
    special_ids = set(tok.special_ids.values())
    hists: list[Counter[int]] = []
    for s in wanted:
        sub = tok.prefix(s)
        if text is None:
            hists.append(Counter(len(b) for i, b in sub.vocab.items() if i not in special_ids))
        else:
            ids = encode_as_shown(sub, check_text(text))
            hists.append(Counter(len(sub.vocab[i]) for i in ids if i not in special_ids))
    lengths = tuple(sorted(set().union(*hists)))
    counts = tuple(tuple(h.get(n, 0) for n in lengths) for h in hists)
    return LengthDistribution(tok.name, "vocabulary" if text is None else "usage", wanted, lengths, counts)


# -- side by side --------------------------------------------------------------------------------------------------
def changed_tokens(enc_prev: Encoding, enc_next: Encoding) -> list[bool]:
    """Per token of ``enc_next``: True when its byte span is not a token of ``enc_prev`` (the same text encoded).

    >>> a = Encoding([1, 2, 3], [b"a", b"b", b"c"], [(0, 1), (1, 2), (2, 3)], [(0, 1), (1, 2), (2, 3)], [False] * 3)
    >>> b = Encoding([4, 3], [b"ab", b"c"], [(0, 2), (2, 3)], [(0, 2), (2, 3)], [False] * 2)
    >>> changed_tokens(a, b)
    [True, False]
    """
    if enc_prev.n_bytes != enc_next.n_bytes:
        raise ValueError(
            f"The encodings cover different texts ({enc_prev.n_bytes} vs {enc_next.n_bytes} bytes); compare "
            "encodings of the same text."
        )
    before = set(enc_prev.byte_spans)
    return [span not in before for span in enc_next.byte_spans]


@dataclass(frozen=True)
class SizeView:
    """The text encoded at one size; ``changed[i]`` marks tokens that differ from the previous (smaller) size."""

    vocab_size: int
    encoding: Encoding
    changed: tuple[bool, ...]

    @property
    def n_tokens(self) -> int:
        return len(self.encoding)

    @property
    def n_changed(self) -> int:
        return sum(self.changed)


def sizes_side_by_side(tok: Tokenizer, text: str, sizes: Iterable[int]) -> list[SizeView]:
    """The same text encoded at each size (ascending), each token flagged if new relative to the size before.

    The smallest size has nothing to compare with, so none of its tokens is flagged.

    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"he", 257: b"hel"}
    >>> views = sizes_side_by_side(Tokenizer(vocab, [(b"h", b"e"), (b"he", b"l")]), "help", [256, 258])
    >>> [(v.vocab_size, v.n_tokens, v.changed) for v in views]
    [(256, 4, (False, False, False, False)), (258, 2, (True, False))]
    """
    _require_bpe(tok)
    check_text(text)
    views: list[SizeView] = []
    prev: Encoding | None = None
    for s in _check_sizes(tok, sizes):
        enc = tok.prefix(s).encode_with_offsets(text)
        flags = [False] * len(enc) if prev is None else changed_tokens(prev, enc)
        views.append(SizeView(s, enc, tuple(flags)))
        prev = enc
    return views


def side_by_side_rows(views: Sequence[SizeView]) -> list[dict[str, object]]:
    """One row per token per size (for a CSV download): size, position, id, bytes as hex, spans, changed.

    >>> views = sizes_side_by_side(Tokenizer({i: bytes([i]) for i in range(256)}, []), "hi", [256])
    >>> side_by_side_rows(views)[0]
    {'vocab_size': 256, 'index': 0, 'id': 104, 'token_hex': '68', 'byte_start': 0, 'byte_end': 1, 'changed': False}
    """
    return [
        {"vocab_size": v.vocab_size, "index": i, "id": v.encoding.ids[i], "token_hex": v.encoding.tokens[i].hex(),
         "byte_start": v.encoding.byte_spans[i][0], "byte_end": v.encoding.byte_spans[i][1],
         "changed": v.changed[i]}
        for v in views
        for i in range(len(v.encoding))
    ]
