"""WordPiece (BERT and its descendants): greedy longest-match-first pieces, ``##`` on every piece but a word's first.

A word (after BERT's normalizer and pre-tokenizer) is cut from the left: the longest vocabulary piece that starts the
rest of the word is taken, with ``continuing_subword_prefix`` (``##``) in front unless it starts the word. If some
rest of the word has no piece, or the word has more than ``max_input_chars_per_word`` characters, the whole word is
the unknown token ``[UNK]``: its text is lost. Ids equal Hugging Face ``tokenizers``' WordPiece.

- :class:`BertNormalizer`: drops control characters and turns whitespace into spaces (``clean_text``), puts spaces
  around CJK ideographs (``handle_chinese_chars``), removes accents (NFD, then no nonspacing marks) and lowercases.
  Characters are classed with Python's Unicode tables (3.11: Unicode 14), the Rust crates with their own, older
  ones: characters assigned in between may be classed differently.
- :class:`BertPreTokenizer`: cut at whitespace (dropped) and around each punctuation character.
- :class:`WordPieceTokenizer`: the pipeline, with ``family`` ``"wordpiece"``, ``unk_id``, and ``lossless`` False
  whenever text can be lost (lowercasing, accents, an unknown word, dropped characters, and always the spaces: the
  decoder puts one space between words wherever the text had any).

A piece's display name is the vocabulary string (``##ing``); its text is the part after ``##``.

Example:
    >>> vocab = {"[UNK]": 0, "un": 1, "##believ": 2, "##able": 3, "!": 4}
    >>> tok = WordPieceTokenizer(WordPieceModel(vocab), normalizer=BertNormalizer())
    >>> tok.encode("Unbelievable!"), tok.encode("Unbelievably")
    ([1, 2, 3, 4], [0])
    >>> [tok.piece(i) for i in tok.encode("unbelievable")], tok.decode(tok.encode("UNBELIEVABLE !"))
    (['un', '##believ', '##able'], 'unbelievable!')
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import regex

from tokviz.core.onig import RUST_SPACE
from tokviz.normalizers.components import Alignment, Lowercase, Normalizer, UnicodeForm, compose, identity_alignment
from tokviz.pipelines.added_tokens import AddedToken
from tokviz.pipelines.decoders import WordPieceDecoder
from tokviz.pipelines.vocab_pipeline import Decoder, PieceState, PreTokenizerStep, SplitStep, TokenCut, VocabPipeline
from tokviz.pre_tokenizers.splits import Punctuation, WhitespaceSplit

FAMILY = "wordpiece"

# CJK ideograph blocks, as BERT's original code and `tokenizers` list them.
_CJK = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
        (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))
_CONTROL = frozenset(("Cc", "Cf", "Co"))
_NFD = UnicodeForm("NFD")
_LOWER = Lowercase()
_SPACE = regex.compile(RUST_SPACE)


def is_chinese_char(c: str) -> bool:
    """Whether ``c`` is a CJK ideograph (BERT puts spaces around each).

    >>> is_chinese_char("中"), is_chinese_char("あ")
    (True, False)
    """
    o = ord(c)
    return any(a <= o <= b for a, b in _CJK)


def _is_whitespace(c: str) -> bool:
    # Rust's char::is_whitespace: the White_Space property (not str.isspace, which also takes U+001C..U+001F).
    return _SPACE.match(c) is not None


def _dropped(c: str) -> bool:
    # NUL, U+FFFD and control characters (categories Cc, Cf, Co, except tab, newline and carriage return).
    return c == "\x00" or c == "\ufffd" or (c not in "\t\n\r" and unicodedata.category(c) in _CONTROL)


@dataclass(frozen=True)
class BertNormalizer:
    """``BertNormalizer``: clean_text, handle_chinese_chars, strip_accents (None: as ``lowercase``), lowercase.

    >>> BertNormalizer().normalize_text("Héllo\\t中文")
    'hello  中  文 '
    >>> BertNormalizer(lowercase=False).normalize("é!")
    ('é!', [(0, 1), (1, 2)])
    """

    clean_text: bool = True
    handle_chinese_chars: bool = True
    strip_accents: bool | None = None
    lowercase: bool = True

    @property
    def strips_accents(self) -> bool:
        return self.lowercase if self.strip_accents is None else self.strip_accents

    def normalize_text(self, text: str) -> str:
        if self.clean_text:
            text = "".join(" " if _is_whitespace(c) else c for c in text if not _dropped(c))
        if self.handle_chinese_chars and not text.isascii():
            text = "".join(f" {c} " if is_chinese_char(c) else c for c in text)
        if self.strips_accents and not text.isascii():
            text = "".join(c for c in _NFD.normalize_text(text) if unicodedata.category(c) != "Mn")
        if self.lowercase:
            text = _LOWER.normalize_text(text)
        return text

    def normalize(self, text: str) -> tuple[str, Alignment]:
        n = len(text)
        align = identity_alignment(n)
        if self.clean_text:
            kept = [(i, " " if _is_whitespace(c) else c) for i, c in enumerate(text) if not _dropped(c)]
            text = "".join(c for _, c in kept)
            align = [(i, i + 1) for i, _ in kept]
        if self.handle_chinese_chars and not text.isascii():
            out: list[str] = []
            inner: Alignment = []
            for i, c in enumerate(text):
                if is_chinese_char(c):
                    out.append(f" {c} ")
                    inner.extend([(i, i + 1)] * 3)
                else:
                    out.append(c)
                    inner.append((i, i + 1))
            align = compose(align, inner, n)
            text = "".join(out)
        if self.strips_accents and not text.isascii():
            decomposed, inner = _NFD.normalize(text)
            keep = [k for k, c in enumerate(decomposed) if unicodedata.category(c) != "Mn"]
            align = compose(align, [inner[k] for k in keep], n)
            text = "".join(decomposed[k] for k in keep)
        if self.lowercase:
            text, inner = _LOWER.normalize(text)
            align = compose(align, inner, n)
        return text, align


@dataclass(frozen=True)
class BertPreTokenizer:
    """``BertPreTokenizer``: whitespace-separated words, each punctuation character a piece of its own.

    >>> [t for t, _, _ in BertPreTokenizer().apply(("Hi, you!", None, True))]
    ['Hi', ',', 'you', '!']
    """

    def apply(self, piece: PieceState) -> list[PieceState]:
        words = SplitStep(WhitespaceSplit()).apply(piece)
        punct = SplitStep(Punctuation("Isolated"))
        return [q for w in words for q in punct.apply(w)]


class WordPieceModel:
    """The WordPiece model: ``vocab`` (piece -> id), the unknown token, the continuation prefix, the word limit."""

    def __init__(self, vocab: Mapping[str, int], *, unk_token: str = "[UNK]", continuing_subword_prefix: str = "##",
                 max_input_chars_per_word: int = 100) -> None:
        self.vocab = dict(vocab)
        self.unk_token = unk_token
        self.prefix = continuing_subword_prefix
        self.max_chars = max_input_chars_per_word
        self.unk_id = self.vocab.get(unk_token)
        self._longest = max((len(p) for p in self.vocab), default=0)

    def _unk(self, word: str) -> list[TokenCut]:
        if self.unk_id is None:
            raise ValueError(f"the word {word!r:.40} needs the unknown token {self.unk_token!r}, which is not in the "
                             "vocabulary; add it to the vocabulary (as tokenizers requires).")
        return [(self.unk_id, 0, len(word.encode("utf-8")))]

    def tokenize(self, word: str) -> list[TokenCut]:
        """``(id, start byte, end byte)`` of each piece of ``word`` (one ``[UNK]`` over all of it if it fails)."""
        if len(word) > self.max_chars:
            return self._unk(word)
        out: list[TokenCut] = []
        vocab = self.vocab
        start, n, pos = 0, len(word), 0
        while start < n:
            found = None
            end = min(n, start + self._longest)
            while end > start:
                sub = word[start:end] if start == 0 else self.prefix + word[start:end]
                tid = vocab.get(sub)
                if tid is not None:
                    found = tid
                    break
                end -= 1
            if found is None:
                return self._unk(word)
            nbytes = len(word[start:end].encode("utf-8"))
            out.append((found, pos, pos + nbytes))
            pos += nbytes
            start = end
        return out


class WordPieceTokenizer(VocabPipeline):
    """A WordPiece tokenizer: :class:`WordPieceModel` behind a normalizer and (by default) BERT's pre-tokenizer."""

    family = FAMILY
    #: WordPiece has no merges (it looks pieces up, longest first): merge replay and token anatomy refuse it.
    merges: list[tuple[bytes, bytes]] = []

    def __init__(self, model: WordPieceModel, *, normalizer: Normalizer | None = None,
                 pre_tokenizers: Sequence[PreTokenizerStep] | None = None, added: Sequence[AddedToken] = (),
                 decoder: Decoder | None = None, name: str = "wordpiece") -> None:
        self.wordpiece = model
        super().__init__(model, pieces={i: p for p, i in model.vocab.items()},
                         decoder=decoder if decoder is not None else WordPieceDecoder(model.prefix), name=name,
                         normalizer=normalizer,
                         pre_tokenizers=[BertPreTokenizer()] if pre_tokenizers is None else pre_tokenizers,
                         added=added, unk_id=model.unk_id)

    @property
    def lossless(self) -> bool:
        """Always False: spaces are not kept (the decoder puts one space between words), and unknown words,
        lowercasing and stripped accents lose more."""
        return False
