"""What the views say about a token of another family (WordPiece, Unigram, SentencePiece-style BPE): which family
and which rule produced it, its mark (``▁``, ``##``) apart from the user's text, and what decoding loses.

A byte-level BPE token is its bytes; a token of these families is a vocabulary piece over characters, whose ``▁``
stands for a space (or the start of the text) and whose ``##`` says it continues a word: marks, not text. So the
views draw the user's original characters under each token with the mark beside them (:class:`TokenNote`), and say
in the hover card which rule of the family made the token (:class:`FamilyDescriber`). :func:`round_trip` says what
``decode(encode(text))`` gives back, and for a family that loses text (WordPiece lowercases, strips accents and
spaces; an unknown token loses its characters) what exactly was lost.

Example:
    >>> from tokviz.normalizers.bert_normalizer import BertNormalizer
    >>> from tokviz.models.wordpiece import WordPieceModel
    >>> from tokviz.pipelines.wordpiece_tokenizer import WordPieceTokenizer
    >>> tok = WordPieceTokenizer(WordPieceModel({"[UNK]": 0, "un": 1, "##able": 2}), normalizer=BertNormalizer())
    >>> text = "Unable 😀"
    >>> enc = tok.encode_with_offsets(text)
    >>> d = describer(tok)
    >>> notes = [d.note(enc, i, text) for i in range(len(enc))]
    >>> [(n.mark, n.text, n.rule) for n in notes]  # doctest: +NORMALIZE_WHITESPACE
    [('', 'Un', 'WordPiece · start of a word (the longest piece that starts it)'),
     ('##', 'able', 'WordPiece · continuation of a word (##)'),
     ('', '😀', 'WordPiece · unknown word: [UNK] replaces it, its text is lost')]
    >>> round_trip(tok, text, enc).lost
    ("capitals: 'U' became lowercase", "'😀' became [UNK]")
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import regex

from tokviz.core.encoding import Encoding
from tokviz.pre_tokenizers.metaspace import SPACE_MARK

#: The families drawn with marks and rules, and the name a student knows each by.
FAMILY_LABELS: dict[str, str] = {
    "wordpiece": "WordPiece",
    "unigram": "Unigram",
    "bpe-sp": "SentencePiece BPE",
}
BYTE_FALLBACK_RULE = "byte fallback for a character not in the vocabulary"
#: How much of a decoded text a note quotes.
QUOTE_CHARS = 120
#: How many distinct unknown texts a note names (a long text in a small vocabulary can have thousands).
UNKNOWN_NAMED = 5
_BYTE_PIECE = regex.compile(r"<0x[0-9A-Fa-f]{2}>")
_WS = regex.compile(r"\s+")


class FamilyTokenizer(Protocol):
    """What the views read of a tokenizer of another family: its family, pieces and unknown id."""

    name: str
    family: str
    unk_id: int | None

    def piece(self, i: int) -> str: ...

    def decode(self, ids: Sequence[int]) -> str: ...


def family_of(tok: object) -> str | None:
    """The family key (``"wordpiece"``, ``"unigram"``, ``"bpe-sp"``) of a tokenizer of another family, else None
    (byte-level BPE, baselines).

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> family_of(ByteTokenizer())
    """
    family = getattr(tok, "family", None)
    return family if family in FAMILY_LABELS and callable(getattr(tok, "piece", None)) else None


def family_label(tok: object) -> str | None:
    """The family's name to show ("WordPiece"), or None outside these families."""
    family = family_of(tok)
    return None if family is None else FAMILY_LABELS[family]


@dataclass(frozen=True)
class TokenNote:
    """One token as another family's token is drawn: ``mark`` (``▁``, ``##`` or "") drawn apart from ``text`` (the
    user's characters the token covers, without the space its ``▁`` stands for), the family and ``rule`` for the
    hover card, more card rows, and whether it is the unknown token."""

    mark: str
    text: str
    rule: str
    rows: tuple[tuple[str, str], ...] = ()
    unknown: bool = False

    def card_rows(self) -> list[tuple[str, str]]:
        """The hover card's rows: the rule first, then the piece and any other facts."""
        return [("rule", self.rule), *self.rows]


class FamilyDescriber:
    """Names the rule behind each token of one tokenizer of another family (see the module docstring)."""

    def __init__(self, tok: FamilyTokenizer) -> None:
        family = family_of(tok)
        if family is None:
            raise ValueError(f"{getattr(tok, 'name', tok)!r} is not a WordPiece, Unigram or SentencePiece BPE "
                             "tokenizer; byte-level tokens need no describer.")
        self.tok = tok
        self.family = family
        self.label = FAMILY_LABELS[family]
        wordpiece = getattr(tok, "wordpiece", None)
        self.prefix: str = getattr(wordpiece, "prefix", "##")
        unigram = getattr(tok, "unigram", None)
        self._scores: list[float] | None = getattr(unigram, "scores", None)
        # A SentencePiece .model keeps a score per piece (Unigram: its log probability; BPE: the merge order).
        self._model_score: Callable[[int], float] | None = getattr(getattr(tok, "processor", None), "get_score", None)
        bpe = getattr(tok, "bpe", None)
        merges: Sequence[tuple[str, str]] = getattr(bpe, "merge_pieces", ())
        # The rank of the merge that builds each piece (the first one, as the merge loop would reach it).
        self._rank: dict[str, int] = {}
        for k, (a, b) in enumerate(merges):
            self._rank.setdefault(a + b, k)

    def _piece(self, tid: int) -> str:
        try:
            return self.tok.piece(tid)
        except ValueError:
            return ""

    def note(self, enc: Encoding, i: int, text: str) -> TokenNote:
        """The :class:`TokenNote` of token ``i`` of ``enc`` (an encoding of ``text``)."""
        tid = enc.ids[i]
        s, e = enc.char_spans[i]
        covered = text[s:e]
        piece = self._piece(tid)
        rows: list[tuple[str, str]] = [("piece", repr(piece))]
        if enc.special and enc.special[i]:
            return TokenNote("", covered, f"{self.label} · special token, matched before the model runs",
                             tuple(rows))
        if tid == self.tok.unk_id:
            what = "word" if self.family == "wordpiece" else "piece"
            return TokenNote("", covered, f"{self.label} · unknown {what}: {piece} replaces it, its text is lost",
                             tuple(rows), unknown=True)
        if _BYTE_PIECE.fullmatch(piece):
            return TokenNote("", covered, f"{self.label} · {BYTE_FALLBACK_RULE}", tuple(rows))
        mark = ""
        shown = covered
        if self.family == "wordpiece":
            if piece.startswith(self.prefix) and len(piece) > len(self.prefix):
                mark = self.prefix
                rule = f"continuation of a word ({self.prefix})"
            elif self._continued(enc, i):
                rule = "start of a word (the longest piece that starts it)"
            else:
                rule = "a whole word in the vocabulary"
            as_piece = piece[len(mark):]
            if as_piece != covered:
                rows.append(("normalized", f"{covered!r} → {as_piece!r} (BERT's normalizer)"))
        else:
            if piece.startswith(SPACE_MARK):
                mark = SPACE_MARK
                # The ▁ stands for the space it replaced (or for none: put before the text's first word).
                if shown[:1].isspace():
                    shown = shown[1:]
                rows.append(("▁", "a space before it (or the start of the text), as SentencePiece writes it"))
            score = self._score(tid)
            if self.family == "unigram":
                rule = "best-scoring segmentation"
                if score is not None:
                    rows.append(("score", f"{score:.4g} (log probability of the piece)"))
            elif len(piece) == 1:
                rule = "a character in the vocabulary, no merge applied"
            else:
                rank = self._rank.get(piece)
                rule = "merges of characters" + ("" if rank is None else f" (the last is merge #{rank + 1:,})")
                if rank is None and score is not None:
                    # A .model file orders its merges by the merged piece's score, highest first.
                    rule += " (the pair whose merged piece scores highest first)"
                    rows.append(("score", f"{score:.4g}"))
        return TokenNote(mark, shown, f"{self.label} · {rule}", tuple(rows))

    def _score(self, tid: int) -> float | None:
        if self._scores is not None:
            return self._scores[tid] if 0 <= tid < len(self._scores) else None
        if self._model_score is not None:
            try:
                return float(self._model_score(tid))
            except (IndexError, ValueError, TypeError):
                return None
        return None

    def _continued(self, enc: Encoding, i: int) -> bool:
        """Whether the next token continues the same word (a WordPiece ``##`` piece right after this one)."""
        if i + 1 >= len(enc) or (enc.special and enc.special[i + 1]):
            return False
        nxt = self._piece(enc.ids[i + 1])
        return nxt.startswith(self.prefix) and len(nxt) > len(self.prefix)


def describer(tok: object) -> FamilyDescriber | None:
    """A :class:`FamilyDescriber` for a tokenizer of another family, None for byte-level BPE and the baselines."""
    if family_of(tok) is None:
        return None
    return FamilyDescriber(tok)  # type: ignore[arg-type]  # family_of checked what the views read


@dataclass(frozen=True)
class RoundTrip:
    """``decode(encode(text))`` for a tokenizer of another family: the decoded text, whether it equals the text,
    and what was lost, one short phrase each (empty when nothing was)."""

    tokenizer: str
    family: str
    decoded: str
    exact: bool
    lost: tuple[str, ...]

    @property
    def sentence(self) -> str:
        """One plain sentence for the panel."""
        if self.exact:
            return f"{self.family}: decoding the ids gives the text back exactly."
        quoted = self.decoded if len(self.decoded) <= QUOTE_CHARS else self.decoded[:QUOTE_CHARS] + "…"
        lost = "; ".join(self.lost) if self.lost else "the text differs"
        return f"{self.family} does not keep the text: decoding gives {quoted!r}. Lost: {lost}."


def _examples(chars: Sequence[str], *, limit: int = 5) -> str:
    seen = list(dict.fromkeys(chars))
    more = f" and {len(seen) - limit} more" if len(seen) > limit else ""
    return ", ".join(repr(c) for c in seen[:limit]).replace('"', "'") + more


def _has_accent(c: str) -> bool:
    return any(unicodedata.category(x) == "Mn" for x in unicodedata.normalize("NFD", c))


def round_trip(tok: object, text: str, enc: Encoding) -> RoundTrip | None:
    """What decoding ``enc`` (the encoding of ``text``) gives back, with what was lost; None outside the families.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> round_trip(ByteTokenizer(), "a", ByteTokenizer().encode_with_offsets("a")) is None
    True
    """
    label = family_label(tok)
    if label is None:
        return None
    ftok: FamilyTokenizer = tok  # type: ignore[assignment]  # family_label checked it
    decoded = ftok.decode(enc.ids)
    if decoded == text:
        return RoundTrip(ftok.name, label, decoded, True, ())
    unk = ftok.unk_id
    unknown = [text[s:e] for tid, (s, e) in zip(enc.ids, enc.char_spans) if tid == unk and e > s]
    # Sets of characters, so a long text is scanned once (a substring test per character would be quadratic).
    in_unknown = set("".join(unknown))
    chars = list(dict.fromkeys(text))  # distinct characters, in the order they come
    lost = _normalizer_losses(getattr(tok, "normalizer", None), chars, in_unknown)
    if family_of(tok) == "wordpiece":
        # The decoder puts one space between words and none around punctuation, whatever the text had.
        if _spaces(text) != _spaces(decoded):
            lost.append("the spaces: the decoder puts one space between words, whatever the text had")
    else:
        lost += _piece_losses(text, decoded, chars, in_unknown, has_unknown=bool(unknown))
    lost += _unknown_losses(unknown, ftok.piece(unk) if unk is not None else "the unknown token")
    if not lost:
        at = next((k for k, (x, y) in enumerate(zip(text, decoded)) if x != y), min(len(text), len(decoded)))
        lost.append(f"the text differs from character {at} on ({text[at:at + 12]!r} became "
                    f"{decoded[at:at + 12]!r})")
    return RoundTrip(ftok.name, label, decoded, False, tuple(lost))


def _normalizer_losses(norm: object, chars: list[str], in_unknown: set[str]) -> list[str]:
    """What lowercasing and stripping accents (BERT's normalizer) took from the text."""
    lost = []
    if getattr(norm, "lowercase", False):
        upper = [c for c in chars if c.lower() != c and c not in in_unknown]
        if upper:
            lost.append(f"capitals: {_examples(upper)} became lowercase")
    if getattr(norm, "strips_accents", False):
        accented = [c for c in chars if not c.isascii() and _has_accent(c)]
        if accented:
            lost.append(f"accents: {_examples(accented)} lost their marks")
    return lost


def _piece_losses(text: str, decoded: str, chars: list[str], in_unknown: set[str], *, has_unknown: bool) -> list[str]:
    """What a Unigram or SentencePiece-BPE pipeline's normalizer and Metaspace decoder took from the text."""
    lost = []
    kept = set(decoded)
    changed = [c for c in chars if not c.isspace() and c not in kept and c not in in_unknown]
    if changed:
        lost.append(f"characters the normalizer changed: {_examples(changed)}")
    lead = text[:1].isspace() and not decoded[:1].isspace()
    if lead:
        # Metaspace's decoder drops the first ▁: it cannot tell one put before the text from a space of the text.
        lost.append("the leading space: the decoder drops the first ▁")
    before, after = _spaces(text[1:] if lead else text), _spaces(decoded)
    if before != after:
        fewer = len("".join(after)) < len("".join(before))
        lost.append("the spaces: runs squeezed to one, or spaces at the ends dropped" if fewer else
                    "the spaces: decoding adds some" + (" (around an unknown piece)" if has_unknown else ""))
    return lost


def _unknown_losses(unknown: list[str], unk_piece: str) -> list[str]:
    """The texts that became the unknown token, the first few by name."""
    distinct = list(dict.fromkeys(unknown))
    lost = [f"{u!r} became {unk_piece}" for u in distinct[:UNKNOWN_NAMED]]
    if len(distinct) > UNKNOWN_NAMED:
        lost.append(f"{len(distinct) - UNKNOWN_NAMED:,} more texts became unknown")
    return lost


def _spaces(s: str) -> list[str]:
    return _WS.findall(s)


def render_round_trip(rt: RoundTrip) -> str:
    """The panel's note on decoding (``.tv-roundtrip``; ``.tv-lossy`` when text is lost), escaped.

    >>> render_round_trip(RoundTrip("t", "Unigram", "<b>", True, ())).startswith('<div class="tv-roundtrip"')
    True
    """
    cls = "tv-roundtrip" + ("" if rt.exact else " tv-lossy")
    return f'<div class="{cls}" data-tokenizer="{html.escape(rt.tokenizer)}">{html.escape(rt.sentence)}</div>'
