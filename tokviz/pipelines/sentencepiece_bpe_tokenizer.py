"""SentencePiece-style BPE (Llama 2, Mistral, Gemma...): BPE over characters, ``▁`` for spaces, byte fallback.

A piece starts as one symbol per character: the character's vocabulary id; with ``byte_fallback``, a character
that is not in the vocabulary becomes its UTF-8 bytes as ``<0xNN>`` pieces (when the vocabulary has them all);
otherwise the unknown token (neighbouring unknown characters fused into one when ``fuse_unk``), or nothing at all
when there is no unknown token (as in Hugging Face ``tokenizers``). Then merges apply, the lowest-ranked adjacent
pair first and leftmost among equals (:func:`tokviz.models.bpe_rules.merge_by_pairs`). With ``ignore_merges`` a piece
that
is a vocabulary token is that token. Ids equal ``tokenizers``' BPE model.

:class:`SentencePieceBPETokenizer` has ``family`` ``"bpe-sp"``, ``unk_id``, ``merges`` (as pairs of the pieces'
UTF-8, byte-fallback pieces as their byte), and ``lossless`` True when nothing is lost: byte fallback, no
normalizer other than Llama 2's Prepend("▁") + Replace(" ", "▁") (undone by its decoder), or Metaspace never
prepending.

Example:
    >>> vocab = {"<unk>": 0, "<0xC3>": 1, "<0xA9>": 2, "▁": 3, "h": 4, "i": 5, "▁h": 6, "▁hi": 7}
    >>> model = CharBPEModel(vocab, [("▁", "h"), ("▁h", "i")], byte_fallback=True, unk_id=0)
    >>> tok = SentencePieceBPETokenizer(model)
    >>> tok.encode("hi é"), [tok.piece(i) for i in tok.encode("hi é")]
    ([7, 3, 1, 2], ['▁hi', '▁', '<0xC3>', '<0xA9>'])
    >>> tok.encode_with_offsets("hi é").partial, tok.decode(tok.encode("hi é"))
    ([False, False, True, True], 'hi é')
"""

from __future__ import annotations

from collections.abc import Sequence

from tokviz.models.piece_model import piece_bytes
from tokviz.models.sentencepiece_bpe import CharBPEModel
from tokviz.normalizers.components import Normalizer
from tokviz.pipelines.added_tokens import AddedToken
from tokviz.pipelines.decoders import ByteFallbackDecoder, Decoder, DecoderSequence, MetaspaceDecoder, keeps_text
from tokviz.pipelines.vocab_pipeline import VocabPipeline
from tokviz.pre_tokenizers.metaspace import Metaspace
from tokviz.pre_tokenizers.steps import PreTokenizerStep

#: Without a decoder from a file: byte pieces back to characters, ``▁`` to spaces (the first piece's dropped).
_DEFAULT_DECODER = DecoderSequence([ByteFallbackDecoder(), MetaspaceDecoder()])
FAMILY = "bpe-sp"


class SentencePieceBPETokenizer(VocabPipeline):
    """A SentencePiece-style BPE tokenizer: :class:`CharBPEModel` behind a normalizer and (by default) Metaspace."""

    family = FAMILY

    def __init__(self, model: CharBPEModel, *, normalizer: Normalizer | None = None,
                 pre_tokenizers: Sequence[PreTokenizerStep] | None = None, added: Sequence[AddedToken] = (),
                 decoder: Decoder | None = None, name: str = "bpe-sp", lossless: bool | None = None) -> None:
        self.bpe = model
        steps = [Metaspace()] if pre_tokenizers is None and normalizer is None else list(pre_tokenizers or [])
        super().__init__(model, pieces={i: p for p, i in model.vocab.items()},
                         decoder=decoder if decoder is not None else _DEFAULT_DECODER, name=name,
                         normalizer=normalizer, pre_tokenizers=steps, added=added, unk_id=model.unk_id)
        self._lossless = lossless if lossless is not None else (
            keeps_text(normalizer, steps, self.decoder, byte_fallback=model.byte_fallback))

    @property
    def merges(self) -> list[tuple[bytes, bytes]]:
        """The merges in rank order, as pairs of the pieces' bytes (``▁`` as its UTF-8)."""
        return [(piece_bytes(a), piece_bytes(b)) for a, b in self.bpe.merge_pieces]

    @property
    def lossless(self) -> bool:
        """Whether ``decode(encode(text)) == text`` for every text (see the module docstring)."""
        return self._lossless
