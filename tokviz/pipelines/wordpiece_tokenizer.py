"""WordPiece tokenizers (BERT and its descendants): :class:`~tokviz.models.wordpiece.WordPieceModel` behind BERT's
normalizer (:mod:`tokviz.normalizers.bert_normalizer`) and pre-tokenizer (:mod:`tokviz.pre_tokenizers.bert_split`).

:class:`WordPieceTokenizer` has ``family`` ``"wordpiece"``, ``unk_id``, and ``lossless`` False whenever text can be
lost (lowercasing, accents, an unknown word, dropped characters, and always the spaces: the decoder puts one space
between words wherever the text had any). A piece's display name is the vocabulary string (``##ing``); its text is
the part after ``##``.

Example:
    >>> from tokviz.normalizers.bert_normalizer import BertNormalizer
    >>> vocab = {"[UNK]": 0, "un": 1, "##believ": 2, "##able": 3, "!": 4}
    >>> tok = WordPieceTokenizer(WordPieceModel(vocab), normalizer=BertNormalizer())
    >>> tok.encode("Unbelievable!"), tok.encode("Unbelievably")
    ([1, 2, 3, 4], [0])
    >>> [tok.piece(i) for i in tok.encode("unbelievable")], tok.decode(tok.encode("UNBELIEVABLE !"))
    (['un', '##believ', '##able'], 'unbelievable!')
"""

from __future__ import annotations

from collections.abc import Sequence

from tokviz.models.wordpiece import WordPieceModel
from tokviz.normalizers.components import Normalizer
from tokviz.pipelines.added_tokens import AddedToken
from tokviz.pipelines.decoders import Decoder, WordPieceDecoder
from tokviz.pipelines.vocab_pipeline import VocabPipeline
from tokviz.pre_tokenizers.bert_split import BertPreTokenizer
from tokviz.pre_tokenizers.steps import PreTokenizerStep

FAMILY = "wordpiece"


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
