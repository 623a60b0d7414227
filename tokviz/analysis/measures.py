"""Cheap measures of how well a tokenizer fits a text, each defined once, with its one-line help text as data.

- **compression**: UTF-8 bytes per token (:func:`tokviz.core.ratios.bytes_per_token`);
- **fertility**: tokens per word, words being the text's whitespace-separated runs;
- **split share**: the share of words that two or more tokens cover;
- **Rényi efficiency**: the Rényi entropy of order α = 2.5 of the token distribution over log |V| (Zouhar et al.
  2023), with its caveat;
- **vocabulary share used**: distinct token ids in the text over the vocabulary size;
- **Zipf data**: token frequencies by rank, for a log-log plot.

:data:`MEASURES` holds each measure's name, definition and formula so the app shows the same words as
``docs/measures.md``.

Example:
    >>> from tokviz.models.baselines import CharacterTokenizer
    >>> m = measure_text(CharacterTokenizer(), "ab ab")
    >>> m.n_tokens, m.n_words, m.fertility, m.split_share
    (5, 2, 2.5, 1.0)
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tokviz.core.protocol import TokenizerLike
from tokviz.core.ratios import bytes_per_token

#: The order of the Rényi entropy Zouhar et al. (2023) found to correlate best with downstream BLEU.
RENYI_ALPHA = 2.5
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class MeasureInfo:
    """A measure's help text: ``name``, a one-line ``definition``, its ``formula`` (plain text), which direction
    is usually read as better (``"higher"``, ``"lower"`` or ``""`` when neither), and a ``caveat``."""

    key: str
    name: str
    definition: str
    formula: str
    better: str = ""
    caveat: str = ""
    reference: str = ""

    @property
    def help(self) -> str:
        """One paragraph for a tooltip: definition, formula, caveat."""
        parts = [self.definition, f"Formula: {self.formula}."]
        if self.caveat:
            parts.append(self.caveat)
        return " ".join(parts)


MEASURES: dict[str, MeasureInfo] = {m.key: m for m in (
    MeasureInfo(
        "bytes_per_token", "Compression (bytes per token)",
        "How many UTF-8 bytes of text one token carries on average.",
        "bytes per token = UTF-8 bytes of the text / tokens", "higher",
        "Depends on the text as much as on the tokenizer: compare tokenizers on the same text."),
    MeasureInfo(
        "fertility", "Fertility (tokens per word)",
        "How many tokens a word costs on average; words are the text's runs of non-whitespace characters.",
        "fertility = tokens / words", "lower",
        "Scripts written without spaces between words (Thai, Chinese, Japanese) have few 'words', so their "
        "fertility is not comparable with that of spaced scripts.",
        "Rust et al. 2021"),
    MeasureInfo(
        "split_share", "Words split",
        "The share of words that two or more tokens cover (a word's tokens are those overlapping its characters "
        "in the encoding of the whole text).",
        "split share = words covered by >= 2 tokens / words", "lower",
        "Same caveat as fertility for scripts without spaces."),
    MeasureInfo(
        "renyi_efficiency", "Rényi efficiency (α = 2.5)",
        "How evenly the text's tokens use the vocabulary: the Rényi entropy of the token frequencies over the "
        "largest entropy the vocabulary allows.",
        "H_a(p) / log |V|, with H_a(p) = log(sum_t p(t)^a) / (1 - a), a = 2.5, p(t) = count(t) / tokens, |V| the "
        "vocabulary size", "higher",
        "Zouhar et al. (2023) found it to track translation quality across tokenizers of one family; Cognetta et "
        "al. (2024) built tokenizers that raise it while downstream quality drops. On a short text it mostly "
        "measures the text's length (few distinct tokens), so compare on the same, long text.",
        "Zouhar et al. 2023, Tokenization and the Noiseless Channel"),
    MeasureInfo(
        "vocab_share", "Vocabulary used",
        "The share of the vocabulary's tokens that occur at least once in the text.",
        "vocabulary used = distinct token ids in the text / vocabulary size", "",
        "Grows with the text's length; a low share on a large in-domain text points at tokens that are never used."),
    MeasureInfo(
        "zipf", "Zipf plot",
        "Each distinct token's frequency against its frequency rank, on log-log axes.",
        "point (r, f_r): f_r = count of the r-th most frequent token", "",
        "Natural-language words follow roughly f_r ~ 1/r (a straight line of slope -1); tokens bend away from it "
        "at both ends."),
)}


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the text's words: runs of non-whitespace characters (``str.split()``'s words).

    >>> word_spans(" ab  c\\n")
    [(1, 3), (5, 6)]
    """
    return [m.span() for m in _WORD.finditer(text)]


def fertility(n_tokens: int, n_words: int) -> float:
    """Tokens per word; 0.0 for a text without words.

    >>> fertility(6, 4)
    1.5
    """
    return n_tokens / n_words if n_words else 0.0


def tokens_per_word(char_spans: Iterable[tuple[int, int]], words: Iterable[tuple[int, int]]) -> list[int]:
    """For each word span, how many token character spans overlap it (both lists in text order; empty spans, as
    an inserted space has, overlap nothing).

    >>> tokens_per_word([(0, 2), (2, 3), (3, 5), (5, 6)], [(0, 3), (4, 6)])
    [2, 2]
    """
    spans = [s for s in char_spans if s[1] > s[0]]
    out: list[int] = []
    k = 0
    for ws, we in words:
        while k < len(spans) and spans[k][1] <= ws:
            k += 1
        n, j = 0, k
        while j < len(spans) and spans[j][0] < we:
            n += 1
            j += 1
        out.append(n)
    return out


def split_share(per_word: Iterable[int]) -> float:
    """The share of words with two or more tokens; 0.0 without words.

    >>> split_share([1, 2, 3, 1])
    0.5
    """
    counts = list(per_word)
    return sum(1 for n in counts if n >= 2) / len(counts) if counts else 0.0


def renyi_entropy(counts: Iterable[int], *, alpha: float = RENYI_ALPHA) -> float:
    """Rényi entropy of order ``alpha`` (natural log) of the distribution the counts give; Shannon's at alpha 1.

    >>> round(renyi_entropy([1, 1, 1, 1]), 6) == round(math.log(4), 6)
    True
    """
    values = [c for c in counts if c > 0]
    total = sum(values)
    if total == 0:
        return 0.0
    if alpha == 1:
        return -sum(c / total * math.log(c / total) for c in values)
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha}.")
    return math.log(sum((c / total) ** alpha for c in values)) / (1 - alpha)


def renyi_efficiency(counts: Iterable[int], vocab_size: int, *, alpha: float = RENYI_ALPHA) -> float:
    """Rényi entropy of the token counts over ``log(vocab_size)``: 1.0 when every token of the vocabulary is
    equally frequent; 0.0 for an empty text or a one-token vocabulary.

    >>> renyi_efficiency([5, 5, 5, 5], 16)
    0.5
    """
    if vocab_size < 2:
        return 0.0
    return renyi_entropy(counts, alpha=alpha) / math.log(vocab_size)


def vocabulary_share(ids: Iterable[int], vocab_size: int) -> float:
    """Distinct ids over the vocabulary size (0.0 for an empty vocabulary).

    >>> vocabulary_share([3, 3, 7], 8)
    0.25
    """
    return len(set(ids)) / vocab_size if vocab_size else 0.0


@dataclass(frozen=True)
class ZipfData:
    """Token frequencies by rank: ``ranks[k] = k + 1``, ``frequencies`` descending, ``ids`` the tokens (ties in
    frequency are ordered by id)."""

    ranks: list[int]
    frequencies: list[int]
    ids: list[int]

    def __len__(self) -> int:
        return len(self.ranks)


def zipf(ids: Iterable[int]) -> ZipfData:
    """The Zipf data of a sequence of token ids.

    >>> z = zipf([5, 2, 5, 9, 5, 2])
    >>> z.ranks, z.frequencies, z.ids
    ([1, 2, 3], [3, 2, 1], [5, 2, 9])
    """
    ordered = sorted(Counter(ids).items(), key=lambda kv: (-kv[1], kv[0]))
    return ZipfData(list(range(1, len(ordered) + 1)), [c for _, c in ordered], [i for i, _ in ordered])


@dataclass(frozen=True)
class TextMeasures:
    """Every measure of one tokenizer on one text (see :data:`MEASURES` for definitions)."""

    tokenizer: str
    n_bytes: int
    n_tokens: int
    n_words: int
    n_distinct: int
    vocab_size: int
    bytes_per_token: float
    fertility: float
    split_share: float
    renyi_efficiency: float
    vocab_share: float


def measure_text(tokenizer: TokenizerLike, text: str, *, alpha: float = RENYI_ALPHA) -> TextMeasures:
    """All measures of ``tokenizer`` on ``text`` from one encoding of it.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> m = measure_text(ByteTokenizer(), "hé hé")
    >>> m.n_bytes, m.n_tokens, m.bytes_per_token, m.n_distinct, m.vocab_share
    (7, 7, 1.0, 4, 0.015625)
    """
    if not isinstance(text, str):
        raise ValueError(f"measure_text expects the text as str, got {type(text).__name__}.")
    enc = tokenizer.encode_with_offsets(text)
    words = word_spans(text)
    counts = Counter(enc.ids)
    n_bytes = len(text.encode("utf-8", errors="replace"))
    return TextMeasures(
        tokenizer.name, n_bytes, len(enc), len(words), len(counts), tokenizer.vocab_size,
        bytes_per_token(n_bytes, len(enc)), fertility(len(enc), len(words)),
        split_share(tokens_per_word(enc.char_spans, words)),
        renyi_efficiency(counts.values(), tokenizer.vocab_size, alpha=alpha),
        vocabulary_share(counts, tokenizer.vocab_size),
    )


def zipf_by_tokenizer(ids_by_name: Mapping[str, list[int]]) -> dict[str, ZipfData]:
    """Zipf data for several tokenizers' ids at once (the chart's input).

    >>> zipf_by_tokenizer({"a": [1, 1, 2]})["a"].frequencies
    [2, 1]
    """
    return {name: zipf(ids) for name, ids in ids_by_name.items()}
