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

from collections.abc import Mapping, Sequence

from tokviz.models.bpe_rules import merge_by_pairs
from tokviz.normalizers.components import Normalizer
from tokviz.pipelines.added_tokens import AddedToken
from tokviz.pipelines.decoders import ByteFallbackDecoder, DecoderSequence, MetaspaceDecoder, keeps_text
from tokviz.pipelines.vocab_pipeline import Decoder, PreTokenizerStep, TokenCut, VocabPipeline, piece_bytes
from tokviz.pre_tokenizers.metaspace import Metaspace

#: Without a decoder from a file: byte pieces back to characters, ``▁`` to spaces (the first piece's dropped).
_DEFAULT_DECODER = DecoderSequence([ByteFallbackDecoder(), MetaspaceDecoder()])
FAMILY = "bpe-sp"


class CharBPEModel:
    """BPE over characters: ``vocab`` (piece -> id), ``merges`` as pairs of pieces in rank order."""

    def __init__(self, vocab: Mapping[str, int], merges: Sequence[tuple[str, str]], *, byte_fallback: bool = False,
                 unk_id: int | None = None, fuse_unk: bool = False, ignore_merges: bool = False) -> None:
        self.vocab = dict(vocab)
        self.byte_fallback = byte_fallback
        self.unk_id = unk_id
        self.fuse_unk = fuse_unk
        self.ignore_merges = ignore_merges
        self.merge_pieces = [(a, b) for a, b in merges]
        self._rank: dict[tuple[int, int], int] = {}
        self._merged: list[int] = []
        for k, (a, b) in enumerate(self.merge_pieces):
            ia, ib, iab = self.vocab.get(a), self.vocab.get(b), self.vocab.get(a + b)
            if ia is None or ib is None or iab is None:
                missing = next(x for x, i in ((a, ia), (b, ib), (a + b, iab)) if i is None)
                raise ValueError(f"merge {k + 1} ({a!r} {b!r}) names {missing!r}, which is not in the vocabulary.")
            self._rank[(ia, ib)] = len(self._merged)  # a pair given twice: the later rank, as tokenizers keeps it
            self._merged.append(iab)
        self._bytes = {b: self.vocab.get(f"<0x{b:02X}>") for b in range(256)}
        self._length = {i: len(piece_bytes(p)) for p, i in self.vocab.items()}

    def _symbols(self, piece: str) -> tuple[list[int], list[int]]:
        """Initial symbols and the UTF-8 length of each."""
        ids: list[int] = []
        lengths: list[int] = []
        unk = self.unk_id
        pending = 0  # bytes of the unknown run not yet added
        vocab = self.vocab
        for ch in piece:
            tid = vocab.get(ch)
            n = len(ch.encode("utf-8"))
            if tid is not None:
                if pending:
                    ids.append(unk)  # type: ignore[arg-type]  # pending > 0 only when unk is set
                    lengths.append(pending)
                    pending = 0
                ids.append(tid)
                lengths.append(n)
                continue
            if self.byte_fallback:
                byte_ids = [self._bytes[b] for b in ch.encode("utf-8")]
                if all(b is not None for b in byte_ids):
                    ids.extend(byte_ids)  # type: ignore[arg-type]  # checked just above
                    lengths.extend([1] * n)
                    continue
            if unk is None:
                continue  # no unknown token: tokenizers drops the character
            if pending and self.fuse_unk:
                pending += n
            else:
                if pending:
                    ids.append(unk)
                    lengths.append(pending)
                pending = n
        if pending:
            ids.append(unk)  # type: ignore[arg-type]
            lengths.append(pending)
        return ids, lengths

    def tokenize(self, piece: str) -> list[TokenCut]:
        """``(id, start byte, end byte)`` of each token of ``piece``."""
        if self.ignore_merges:
            whole = self.vocab.get(piece)
            if whole is not None:
                return [(whole, 0, len(piece.encode("utf-8")))]
        ids, lengths = self._symbols(piece)
        merged, _ = merge_by_pairs(list(ids), self._rank, self._merged)
        out: list[TokenCut] = []
        pos = k = 0
        for tid in merged:
            # A final token spans the initial symbols whose bytes add up to its own (an unknown token: one symbol).
            if tid == self.unk_id or k < len(ids) and ids[k] == tid:
                n = lengths[k]
                k += 1
            else:
                want, n = self._length[tid], 0
                while n < want and k < len(ids):
                    n += lengths[k]
                    k += 1
            out.append((tid, pos, pos + n))
            pos += n
        return out


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
