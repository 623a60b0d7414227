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

from tokviz.normalizers.components import Normalizer
from tokviz.pipelines.added_tokens import AddedToken
from tokviz.pipelines.decoders import ByteFallbackDecoder, DecoderSequence, MetaspaceDecoder, keeps_text
from tokviz.pipelines.vocab_pipeline import Decoder, PreTokenizerStep, TokenCut, VocabPipeline
from tokviz.pre_tokenizers.metaspace import Metaspace

#: Without a decoder from a file: byte pieces back to characters, ``▁`` to spaces (the first piece's dropped).
_DEFAULT_DECODER = DecoderSequence([ByteFallbackDecoder(), MetaspaceDecoder()])
FAMILY = "unigram"
#: How far below the lowest piece score an unknown character is scored (``tokenizers``' and SentencePiece's 10).
UNK_PENALTY = 10.0


class UnigramModel:
    """Pieces with scores (``vocab[i] = (piece, score)``, id = position), an unknown id, optional byte fallback."""

    def __init__(self, vocab: Sequence[tuple[str, float]], *, unk_id: int | None = None,
                 byte_fallback: bool = False) -> None:
        if not vocab:
            raise ValueError("a Unigram vocabulary needs at least one piece.")
        if unk_id is not None and not 0 <= unk_id < len(vocab):
            raise ValueError(f"unk_id {unk_id} is outside the vocabulary (0..{len(vocab) - 1}).")
        self.pieces = [p for p, _ in vocab]
        self.scores = [float(s) for _, s in vocab]
        self.unk_id = unk_id
        self.byte_fallback = byte_fallback
        self.ids: dict[str, int] = {}
        for i, p in enumerate(self.pieces):
            self.ids[p] = i  # a piece given twice: the last id, as tokenizers' map keeps it
        # Every prefix of a piece, so the search from a position stops as soon as no piece can continue.
        self._prefixes = {p[:k] for p in self.pieces for k in range(1, len(p) + 1)}
        self.min_score = min(self.scores)

    def _viterbi(self, text: str) -> list[tuple[int, int, int]]:
        """``(id, start char, end char)`` of the best path (unknown runs not yet fused)."""
        n = len(text)
        ids, scores, prefixes = self.ids, self.scores, self._prefixes
        unk_score = self.min_score - UNK_PENALTY
        best = [0.0] * (n + 1)
        start = [-1] * (n + 1)
        token = [-1] * (n + 1)
        start[0] = 0
        for i in range(n):
            here = best[i]
            single = False
            j = i + 1
            while j <= n:
                sub = text[i:j]
                if sub not in prefixes:
                    break
                tid = ids.get(sub)
                if tid is not None:
                    cand = scores[tid] + here
                    if start[j] < 0 or cand > best[j]:
                        best[j], start[j], token[j] = cand, i, tid
                    if j == i + 1:
                        single = True
                j += 1
            if not single:
                cand = unk_score + here
                if start[i + 1] < 0 or cand > best[i + 1]:
                    best[i + 1], start[i + 1], token[i + 1] = cand, i, -1  # -1: unknown
        out = []
        end = n
        while end > 0:
            s = start[end]
            out.append((token[end], s, end))
            end = s
        out.reverse()
        return out

    def tokenize(self, piece: str) -> list[TokenCut]:
        """``(id, start byte, end byte)`` of each token of ``piece``."""
        path = self._viterbi(piece)
        # Fuse neighbouring unknown characters, then look each piece up (an unknown run may still be a piece).
        fused: list[tuple[int, int, int]] = []
        unk = self.unk_id
        for tid, s, e in path:
            if tid == -1 and unk is None:
                raise ValueError(f"{piece[s:e]!r} has no piece and the Unigram model has no unknown token; give "
                                 "the model an unk_id.")
            if tid == unk:
                tid = -1  # the unknown piece matched as text fuses with its unknown neighbours, as in tokenizers
            if tid == -1 and fused and fused[-1][0] == -1:
                fused[-1] = (-1, fused[-1][1], e)
            else:
                fused.append((tid, s, e))
        out: list[TokenCut] = []
        pos = 0
        for tid, s, e in fused:
            text = piece[s:e]
            data = text.encode("utf-8")
            if tid == -1:
                got = self.ids.get(text)
                if got is not None:
                    tid = got
                elif self.byte_fallback and all(f"<0x{b:02X}>" in self.ids for b in data):
                    for k, b in enumerate(data):
                        out.append((self.ids[f"<0x{b:02X}>"], pos + k, pos + k + 1))
                    pos += len(data)
                    continue
                else:
                    tid = unk if unk is not None else -1
            out.append((tid, pos, pos + len(data)))
            pos += len(data)
        return out


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
