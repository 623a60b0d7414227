"""The app's diff of two tokenizers, ready to show: :mod:`tokviz.analysis.diff` for any pair, baselines included, plus
the
sentences, table rows and token marks a view needs.

:func:`compare` runs :func:`tokviz.analysis.diff.diff_tokenizers` when both sides are BPE tokenizers. A baseline (one
token
per character, byte or word) has no merge list, so for it the vocabulary and merge comparison is refused with a
reason, and only the text is compared: the aligned segments work for any tokenizer that encodes with offsets.
When a side is of another family (WordPiece, Unigram, SentencePiece BPE), merges are not compared (the first two
have none, and SentencePiece merges characters, not bytes), but the vocabularies are, as plain text once each
family's marks are mapped (:func:`tokviz.analysis.diff.mapped_overlap`): ``mapped`` says how many tokens are shared.

Example:
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> from tokviz.training.trainer import train_bpe
    >>> bpe = train_bpe(["low lower lowest " * 20], vocab_size=260)
    >>> c = compare(bpe, ByteTokenizer(), name_a="bpe", name_b="byte", text="lowest")
    >>> c.diff is None, c.refusal.split(":")[0]
    (True, 'B is a baseline (one token per byte)')
    >>> sorted(c.marked_a), sorted(c.marked_b)
    ([0], [0, 1, 2])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from tokviz.analysis.diff import (
    HasVocab,
    Pair,
    TextDiff,
    TokenizerDiff,
    VocabOverlap,
    align,
    diff_tokenizers,
    family_kind,
    mapped_overlap,
)
from tokviz.core.encoding import Encoding
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.models.bpe import Tokenizer
from tokviz.viewmodels.defaults import GPT2_NAME
from tokviz.viewmodels.display import token_label

#: A text where common tokenizers part ways: numbers, accents, an emoji with a skin tone, CJK and indented code.
DIFF_SAMPLE = (
    "In 1885, 1234567 people said “héllo wörld” 👋🏽 你好!\n"
    "def tokens(text):\n        return text.split()  # four spaces, then eight\n"
)
#: Pairs offered first in the diff: ours against GPT-2 itself, else our two patterns against each other.
PREFERRED_PAIRS: tuple[tuple[str, str], ...] = (("bpe-gpt2-8k", GPT2_NAME), ("bpe-gpt2-8k", "bpe-gpt4-8k"))
_BASELINES: tuple[tuple[type, str], ...] = (
    (ByteTokenizer, "one token per byte"),
    (CharacterTokenizer, "one token per character"),
    (WordTokenizer, "one token per word"),
)


class OffsetsEncoder(Protocol):
    """What the text comparison needs of a tokenizer: BPE and baselines alike have it."""

    def encode_with_offsets(self, text: str) -> Encoding: ...


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """Two tokenizers compared under the names the user knows them by.

    ``diff`` is None when a side has no merges (``refusal`` says why). ``marked_a``/``marked_b`` are the indices of
    the tokens, in each side's encoding of the text, that lie in a stretch where the two cut differently.
    """

    name_a: str
    name_b: str
    diff: TokenizerDiff | None
    refusal: str | None
    text_diff: TextDiff | None
    marked_a: frozenset[int] = frozenset()
    marked_b: frozenset[int] = frozenset()
    #: Tokenizers of different families: their vocabularies compared as plain text (``▁`` a space, ``##`` dropped,
    #: byte pieces and byte-level tokens as their bytes); None where ``diff`` compares them, or for a baseline.
    mapped: VocabOverlap | None = None


def default_pair(names: Sequence[str], *, preferred: Sequence[tuple[str, str]] = PREFERRED_PAIRS) -> tuple[str, str]:
    """The two tokenizers the diff starts with: the first preferred pair present, else the first two names.

    >>> default_pair(["bpe-gpt2-8k", "bpe-gpt4-8k", "byte"]), default_pair(["byte", "word"])
    (('bpe-gpt2-8k', 'bpe-gpt4-8k'), ('byte', 'word'))
    """
    if not names:
        raise ValueError("default_pair needs at least one tokenizer name.")
    for a, b in preferred:
        if a in names and b in names:
            return a, b
    return names[0], names[1] if len(names) > 1 else names[0]


def baseline_kind(tok: object) -> str | None:
    """What a tokenizer without merges does (``"one token per byte"``…), or None for a BPE tokenizer.

    >>> baseline_kind(ByteTokenizer()), baseline_kind(object())
    ('one token per byte', 'no merge list')
    """
    if isinstance(tok, Tokenizer):
        return None
    for cls, kind in _BASELINES:
        if isinstance(tok, cls):
            return kind
    return "no merge list"


#: What the views call each kind of tokenizer.
KIND_LABELS = {"byte-level": "byte-level BPE", "wordpiece": "WordPiece", "unigram": "Unigram",
               "bpe-sp": "SentencePiece BPE"}


def family_refusal(a: object, b: object) -> str | None:
    """Why merges are not compared when a side is of another family, and how the vocabularies are instead; None
    for two byte-level BPE tokenizers.

    >>> from tokviz.training.trainer import train_bpe
    >>> family_refusal(train_bpe(["ab"], vocab_size=257), train_bpe(["ab"], vocab_size=257)) is None
    True
    """
    ka, kb = family_kind(a), family_kind(b)
    if ka == kb == "byte-level":
        return None
    why = {"wordpiece": "WordPiece has no merges, it takes the longest piece first",
           "unigram": "Unigram has no merges, it scores whole pieces",
           "bpe-sp": "SentencePiece BPE merges characters, not bytes"}
    reasons = list(dict.fromkeys(why[k] for k in (ka, kb) if k in why))
    return (f"A is {KIND_LABELS[ka]} and B is {KIND_LABELS[kb]}, so merges are not compared: {'; '.join(reasons)}. "
            "The vocabularies are compared as plain text: ▁ read as a space, ## dropped, byte pieces and "
            "byte-level tokens as their bytes.")


def _refusal(a: object, b: object) -> str | None:
    # Another family's tokenizer is no baseline: it is named by family_refusal, or by the baseline beside it.
    kinds = [(side, None if family_kind(t) != "byte-level" else baseline_kind(t)) for side, t in (("A", a), ("B", b))]
    missing = [(side, kind) for side, kind in kinds if kind is not None]
    if not missing:
        return None
    who = " and ".join(f"{side} is a baseline ({kind})" for side, kind in missing)
    its = "it has" if len(missing) == 1 else "they have"
    return (f"{who}: {its} no merge list, so vocabularies and merges are compared between BPE tokenizers only. "
            "The text below still shows where the tokens differ.")


def differing_token_indices(text_diff: TextDiff) -> tuple[frozenset[int], frozenset[int]]:
    """Indices of A's and of B's tokens that fall in a segment the two cut differently.

    Segments hold the tokens in order, so a running count gives each token's index in its encoding.

    >>> from tokviz.analysis.diff import Segment
    >>> seg = lambda a, b: Segment(0, 0, 0, 0, "", [0] * len(a), a, [0] * len(b), b)
    >>> differing_token_indices(TextDiff("", [seg([b"a"], [b"a"]), seg([b"bc"], [b"b", b"c"])], 2, 3))
    (frozenset({1}), frozenset({1, 2}))
    """
    marked_a: set[int] = set()
    marked_b: set[int] = set()
    ia = ib = 0
    for s in text_diff.segments:
        if not s.same:
            marked_a.update(range(ia, ia + len(s.a_tokens)))
            marked_b.update(range(ib, ib + len(s.b_tokens)))
        ia += len(s.a_tokens)
        ib += len(s.b_tokens)
    return frozenset(marked_a), frozenset(marked_b)


def compare(
    a: OffsetsEncoder,
    b: OffsetsEncoder,
    *,
    name_a: str,
    name_b: str,
    corpus: str | None = None,
    text: str | None = None,
) -> Comparison:
    """Compare ``a`` and ``b``: vocabularies and merges when both are BPE (pair counts on ``corpus``), and the
    tokens of ``text`` for any two tokenizers.

    >>> from tokviz.training.trainer import train_bpe
    >>> t = train_bpe(["aaab"], vocab_size=258)
    >>> c = compare(t, t, name_a="x", name_b="x", text="aaab")
    >>> c.diff.departure is None, c.marked_a
    (True, frozenset())
    """
    refusal = _refusal(a, b)
    diff = None
    mapped = None
    baseline = any(isinstance(t, cls) for t in (a, b) for cls, _ in _BASELINES)
    if not baseline and (family_kind(a) != "byte-level" or family_kind(b) != "byte-level"):
        # Another family on a side (and no baseline): the vocabularies compare once the marks are mapped.
        refusal = family_refusal(a, b)
        mapped = mapped_overlap(cast(HasVocab, a), cast(HasVocab, b))
    if refusal is None:
        ta, tb = cast(Tokenizer, a), cast(Tokenizer, b)
        diff = dataclasses.replace(diff_tokenizers(ta, tb, corpus=[corpus] if corpus else None),
                                   name_a=name_a, name_b=name_b)
    # align only calls encode_with_offsets, which the baselines have too.
    text_diff = align(cast(Tokenizer, a), cast(Tokenizer, b), text) if text else None
    marked_a, marked_b = differing_token_indices(text_diff) if text_diff else (frozenset(), frozenset())
    return Comparison(name_a=name_a, name_b=name_b, diff=diff, refusal=refusal, text_diff=text_diff,
                      marked_a=marked_a, marked_b=marked_b, mapped=mapped)


def pair_label(pair: Pair | None) -> str:
    """A merge as readable text: both tokens (whitespace visible, partial bytes in hex) joined by ``+``.

    >>> pair_label((b" ", b"t")), pair_label((b"\\xe4", b"\\xbd")), pair_label(None)
    ('· + t', '⟨e4⟩ + ⟨bd⟩', '(none: the list has ended)')
    """
    if pair is None:
        return "(none: the list has ended)"
    return f"{token_label(pair[0])} + {token_label(pair[1])}"


def departure_rows(diff: TokenizerDiff) -> list[dict[str, object]]:
    """Both sides of the first departing merge, one row each: side, tokenizer, merge number, pair, count."""
    dep = diff.departure
    if dep is None:
        return []
    return [
        {"side": side, "tokenizer": name, "merge #": dep.index + 1, "pair": pair_label(pair),
         "count on corpus": "" if count is None else f"{count:,}"}
        for side, name, pair, count in (("A", diff.name_a, dep.pair_a, dep.count_a),
                                        ("B", diff.name_b, dep.pair_b, dep.count_b))
    ]


def departure_summary(diff: TokenizerDiff) -> str:
    """One plain sentence on where the merge lists part, and whether that is a tie broken differently.

    The text names the sides A and B only, so it can go into Markdown as it is.
    """
    dep = diff.departure
    k = diff.shared_merges
    if dep is None:
        return f"The merge lists are identical: all {k:,} merges match."
    if dep.pair_a is None or dep.pair_b is None:
        short, long_ = ("A", "B") if dep.pair_a is None else ("B", "A")
        return (f"{short}'s {k:,} merges are {long_}'s first {k:,}: {short} is {long_} stopped earlier (a smaller "
                "vocabulary from the same training), not a different tokenizer.")
    where = (f"The first {k:,} merges are the same; merge {k + 1:,} differs." if k
             else "The merge lists differ from the very first merge.")
    if dep.count_a is None or dep.count_b is None:
        return f"{where} Choose a corpus to count both pairs there and tell a tie from a real difference."
    if dep.count_a == dep.count_b == 0:
        return (f"{where} Neither pair occurs in this corpus, so the counts cannot tell a tie from a real "
                "difference: choose the text the tokenizers were trained on.")
    if dep.count_a == dep.count_b:
        return (f"{where} **Same count ({dep.count_a:,} each): a tie broken differently.** Both pairs are equally "
                "frequent at this point, and the two trainers picked different ones.")
    counts = f"**Different counts (A's pair {dep.count_a:,}, B's pair {dep.count_b:,}): not a tie.**"
    if not diff.same_pattern:
        # Counted with A's pattern, B's pair may not even occur: the patterns, not the data, can explain it.
        return (f"{where} {counts} Their pre-tokenizer patterns differ, so they count pairs within different "
                "pieces (both pairs are counted here with A's pattern).")
    more = "A" if dep.count_a > dep.count_b else "B"
    return (f"{where} {counts} On this corpus {more}'s pair is the more frequent, so the tokenizers were trained on "
            "different data (or count pairs differently).")


def vocab_examples(overlap: VocabOverlap, *, limit: int = 10) -> list[dict[str, str]]:
    """Rows of readable tokens only in A and only in B (in id order, so the earliest merges first).

    >>> from tokviz.analysis.diff import VocabOverlap
    >>> vocab_examples(VocabOverlap(3, 2, 1, [b" the", b"\\xe4"], [b"x"], 1))
    [{'only in A': '·the', 'only in B': 'x'}, {'only in A': '⟨e4⟩', 'only in B': ''}]
    """
    a = [token_label(t) for t in overlap.only_a[:limit]]
    b = [token_label(t) for t in overlap.only_b[:limit]]
    n = max(len(a), len(b))
    return [{"only in A": a[i] if i < len(a) else "", "only in B": b[i] if i < len(b) else ""} for i in range(n)]


def segment_rows(text_diff: TextDiff, *, limit: int = 200) -> list[dict[str, object]]:
    """The stretches cut differently, one row each: character span, text, and each side's tokens.

    >>> from tokviz.analysis.diff import Segment
    >>> td = TextDiff("ab", [Segment(0, 2, 0, 2, "ab", [1], [b"ab"], [2, 3], [b"a", b"b"])], 1, 2)
    >>> segment_rows(td)
    [{'chars': '0–2', 'text': 'ab', 'A': 'ab', 'B': 'a | b'}]
    """
    return [
        {"chars": f"{s.char_start}–{s.char_end}", "text": token_label(s.text.encode("utf-8")),
         "A": " | ".join(token_label(t) for t in s.a_tokens), "B": " | ".join(token_label(t) for t in s.b_tokens)}
        for s in text_diff.differing[:limit]
    ]


__all__ = [
    "DIFF_SAMPLE",
    "PREFERRED_PAIRS",
    "Comparison",
    "baseline_kind",
    "compare",
    "default_pair",
    "departure_rows",
    "departure_summary",
    "differing_token_indices",
    "family_refusal",
    "pair_label",
    "segment_rows",
    "vocab_examples",
]
