"""Unigram (T5, ALBERT, XLNet, many SentencePiece models): the cut of a piece whose pieces' scores sum highest.

Each vocabulary piece has a score (a log probability). A pre-tokenized piece is cut by Viterbi: for every position,
the best-scoring way to reach it from the start, trying every vocabulary piece that starts at each earlier position.
A character that no piece starts with becomes the unknown token, scored 10 below the lowest score; neighbouring
unknown characters fuse into one unknown token. With ``byte_fallback`` an unknown stretch becomes its UTF-8 bytes as
``<0xNN>`` pieces instead, when the vocabulary has them all. Ties go to the path found first (shorter pieces, from
the left), as in Hugging Face ``tokenizers``, whose ids these equal.

:class:`UnigramTokenizer` has ``family`` ``"unigram"``, ``unk_id``, no merges, and ``lossless`` True only for a
pipeline that keeps text (no normalizer that changes it, Metaspace never prepending, byte fallback so nothing is
unknown); an unknown piece loses its text.

Example:
    >>> model = UnigramModel([("<unk>", 0.0), ("a", -1.0), ("b", -1.0), ("ab", -1.5)], unk_id=0)
    >>> [(i, s, e) for i, s, e in model.tokenize("abc")]
    [(3, 0, 2), (0, 2, 3)]
    >>> tok = UnigramTokenizer(model, pre_tokenizers=[])
    >>> tok.encode("ab"), tok.piece(3)
    ([3], 'ab')
"""

from __future__ import annotations

from collections.abc import Sequence

from tokviz.models.unigram import UnigramModel
from tokviz.normalizers.components import Normalizer
from tokviz.pipelines.added_tokens import AddedToken
from tokviz.pipelines.decoders import ByteFallbackDecoder, Decoder, DecoderSequence, MetaspaceDecoder, keeps_text
from tokviz.pipelines.vocab_pipeline import VocabPipeline
from tokviz.pre_tokenizers.metaspace import Metaspace
from tokviz.pre_tokenizers.steps import PreTokenizerStep

#: Without a decoder from a file: byte pieces back to characters, ``▁`` to spaces (the first piece's dropped).
_DEFAULT_DECODER = DecoderSequence([ByteFallbackDecoder(), MetaspaceDecoder()])
FAMILY = "unigram"


class UnigramTokenizer(VocabPipeline):
    """A Unigram tokenizer: :class:`UnigramModel` behind a normalizer and (by default) Metaspace."""

    family = FAMILY
    #: Unigram has no merges (it scores whole pieces): merge replay and token anatomy refuse it.
    merges: list[tuple[bytes, bytes]] = []

    def __init__(self, model: UnigramModel, *, normalizer: Normalizer | None = None,
                 pre_tokenizers: Sequence[PreTokenizerStep] | None = None, added: Sequence[AddedToken] = (),
                 decoder: Decoder | None = None, name: str = "unigram", lossless: bool | None = None) -> None:
        self.unigram = model
        steps = [Metaspace()] if pre_tokenizers is None else list(pre_tokenizers)
        super().__init__(model, pieces=dict(enumerate(model.pieces)),
                         decoder=decoder if decoder is not None else _DEFAULT_DECODER, name=name,
                         normalizer=normalizer, pre_tokenizers=steps, added=added, unk_id=model.unk_id)
        self._lossless = lossless if lossless is not None else (
            keeps_text(normalizer, steps, self.decoder, byte_fallback=model.byte_fallback))

    @property
    def lossless(self) -> bool:
        """Whether ``decode(encode(text)) == text`` for every text (see the module docstring)."""
        return self._lossless
