"""A Hugging Face ``tokenizers`` pipeline for byte-level BPE: added tokens, normalizer, pre-tokenizers, BPE model.

:class:`PipelineTokenizer` runs a ``tokenizer.json`` the way ``tokenizers`` does:

1. added tokens with ``normalized: false`` are cut out of the original text;
2. each stretch between them is normalized (:mod:`tokviz.normalizers.components`), and added tokens with ``normalized:
true``
   are cut out of the normalized stretch (:mod:`tokviz.pipelines.added_tokens`);
3. the pre-tokenizers cut each remaining stretch in turn (:mod:`tokviz.pre_tokenizers.splits`, and :class:`ByteLevel`,
   which may put a space before each piece, may cut with GPT-2's pattern, and maps bytes to characters);
4. the BPE model turns each piece into ids: with ``ignore_merges`` a piece that is a whole vocabulary token is that
   token, otherwise the merges are applied, lowest rank first.

Ids equal ``tokenizers``' ``encode(text, add_special_tokens=False)``: no post-processor template is applied.

Offsets: ``char_spans`` index the text you passed, through the normalizer's alignment (see
:mod:`tokviz.normalizers.components` for how characters are aligned); a token made only of inserted characters (a
prefix space,
a Prepend) has an empty span where they were inserted. ``byte_spans`` index ``decode_bytes(ids)``, the bytes the
model saw (normalized, with inserted spaces), which are the text's own UTF-8 only when nothing was normalized or
inserted. A token is ``partial`` when it holds only some of a character's bytes, or when another token shares a
character of the text with it (the pieces of one character that normalization split, NFD ``é``): such tokens are
drawn as one group under the character.

Tokenizers that need none of this (no normalizer, ByteLevel alone or after one isolating Split, plain added tokens)
are loaded as the faster :class:`~tokviz.models.bpe.Tokenizer` instead (:func:`tokviz.formats.hf.hf_from_dict`).

Example:
    >>> from tokviz.normalizers.components import Lowercase
    >>> model = Tokenizer({i: bytes([i]) for i in range(256)} | {256: b"hi"}, [(b"h", b"i")])
    >>> tok = PipelineTokenizer(model, normalizer=Lowercase(), pre_tokenizers=[ByteLevel(add_prefix_space=False)])
    >>> tok.encode("HI!"), tok.encode_with_offsets("HI!").char_spans
    ([256, 33], [(0, 2), (2, 3)])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from tokviz.core.encoding import Encoding, EncodingBuilder, Piece, join_token_bytes
from tokviz.models.bpe import Tokenizer
from tokviz.models.piece_cache import PieceCache
from tokviz.normalizers.components import Alignment, Normalizer, normalize_at
from tokviz.pipelines.added_tokens import AddedToken, AddedTokenMatcher
from tokviz.pre_tokenizers.byte_level import ByteLevel, BytePiece, decode_token
from tokviz.pre_tokenizers.splits import PieceSplitter
from tokviz.pre_tokenizers.steps import Span

ByteLevelStep = ByteLevel | PieceSplitter


@dataclass(frozen=True)
class FileVocab:
    """What a ``tokenizer.json``'s model says beyond its merges.

    ``ignore_merges`` with ``whole`` (the bytes of every vocabulary token -> its id): a piece that is a whole token
    is that token. ``extra_vocab``: entries the model cannot produce (an added token's literal text in the
    vocabulary). ``hidden_ids``: ids the loader added for bytes that never occur in UTF-8, left out of ``vocab``.
    """

    ignore_merges: bool = False
    whole: Mapping[bytes, int] = field(default_factory=dict)
    extra_vocab: Mapping[int, bytes] = field(default_factory=dict)
    hidden_ids: tuple[int, ...] = ()


class PipelineTokenizer:
    """A ``tokenizer.json`` pipeline around a byte-level BPE :class:`~tokviz.models.bpe.Tokenizer` (the model).

    ``model`` holds the model's vocabulary and merges (no special tokens); ``added`` the added tokens with their
    ids; ``vocab_facts`` what the file's model says beyond its merges (:class:`FileVocab`); ``file_data`` is the
    ``tokenizer.json`` it was read from, written back as it was when saved in that format.
    """

    def __init__(
        self,
        model: Tokenizer,
        *,
        normalizer: Normalizer | None = None,
        pre_tokenizers: Sequence[ByteLevelStep] = (),
        added: Sequence[AddedToken] = (),
        vocab_facts: FileVocab | None = None,
        name: str = "hf",
        pattern: str = "gpt2",
        file_data: Mapping[str, Any] | None = None,
    ) -> None:
        facts = vocab_facts if vocab_facts is not None else FileVocab()
        self.model = model
        self.normalizer = normalizer
        self.pre_tokenizers = list(pre_tokenizers)
        self.added = list(added)
        self.ignore_merges = facts.ignore_merges
        self.name = name
        self.pattern = pattern
        self.file_data = file_data
        levels = [k for k, s in enumerate(self.pre_tokenizers) if isinstance(s, ByteLevel)]
        # Bytes become characters only if a pre-tokenizer after ByteLevel looks at them.
        self._map_after = levels[-1] if levels and levels[-1] < len(self.pre_tokenizers) - 1 else None
        self._mapped = self._map_after is not None
        hidden = set(facts.hidden_ids)
        vocab = {i: t for i, t in model.vocab.items() if i not in hidden}
        vocab.update(facts.extra_vocab)
        for tok in self.added:
            vocab[tok.id] = tok.content.encode("utf-8")
        self._vocab = vocab
        self._whole = dict(facts.whole)
        self._raw = AddedTokenMatcher([t for t in self.added if not t.normalized])
        norm = [t for t in self.added if t.normalized]
        patterns = {(normalizer.normalize_text(t.content) if normalizer else t.content): t for t in norm}
        self._normed = AddedTokenMatcher(norm, patterns)
        self._special_flag = {t.id: t.special for t in self.added}
        self._cache: PieceCache[tuple[int, ...]] = PieceCache(self._run_model)
        self.training = None

    # -- facts -----------------------------------------------------------------------------------------------------
    @property
    def vocab(self) -> dict[int, bytes]:
        return self._vocab

    @property
    def vocab_size(self) -> int:
        return len(self._vocab)

    @property
    def merges(self) -> list[tuple[bytes, bytes]]:
        return self.model.merges

    @property
    def special_ids(self) -> dict[str, int]:
        """Every added token (special or not): each is cut out of the text and is one id."""
        return {t.content: t.id for t in self.added}

    @property
    def special_tokens(self) -> list[str]:
        return [t.content for t in self.added]

    def token_to_id(self, token: bytes) -> int | None:
        got = self.model.token_to_id(token)
        if got is not None:
            return got
        return next((i for i, t in self._vocab.items() if t == token), None)

    # -- the model -------------------------------------------------------------------------------------------------
    def _run_model(self, piece: str) -> tuple[int, ...]:
        data = decode_token(piece) if self._mapped else piece.encode("utf-8")
        if self.ignore_merges:
            whole = self._whole.get(data)
            if whole is not None:
                return (whole,)
            return self.model._bpe(data)
        return tuple(self.model.merge_path(data)[0])

    # -- pre-tokenizing --------------------------------------------------------------------------------------------
    def _pieces(self, text: str, spans: list[Span] | None) -> list[BytePiece]:
        pieces: list[BytePiece] = [(text, spans)]
        for k, step in enumerate(self.pre_tokenizers):
            out: list[BytePiece] = []
            if isinstance(step, ByteLevel):
                map_bytes = k == self._map_after
                for p in pieces:
                    out.extend(step.apply(p, map_bytes=map_bytes))
            else:
                for t, sp in pieces:
                    out.extend((t[s:e], sp[s:e] if sp is not None else None) for s, e in step.split(t))
            pieces = out
        return [p for p in pieces if p[0]]

    # -- encoding --------------------------------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``, equal to ``tokenizers``' ``encode(text, add_special_tokens=False).ids``."""
        if not isinstance(text, str):
            raise ValueError(f"encode expects str, got {type(text).__name__}; decode bytes as UTF-8 first.")
        text = _repair(text)
        lookup = self._cache.__getitem__
        out: list[int] = []
        normalize = self.normalizer.normalize_text if self.normalizer is not None else None
        for tid, s, e in self._raw.find(text):
            if tid is not None:
                out.append(tid)
                continue
            seg = normalize(text[s:e]) if normalize is not None else text[s:e]
            for tid2, a, b in self._normed.find(seg):
                if tid2 is not None:
                    out.append(tid2)
                else:
                    out.extend(chain.from_iterable(map(lookup, (p for p, _ in self._pieces(seg[a:b], None)))))
        return out

    def encode_iterable(self, chunks: Iterable[str], *, chunk_chars: int = 1 << 16) -> Iterator[int]:
        """Stream ids; equal to ``encode("".join(chunks))``.

        Text is cut only right after an added token matched in the original text (``normalized: false``, such as
        ``<|endoftext|>``), where ``tokenizers`` starts afresh too: a normalizer may depend on where a stretch
        starts and ends (Strip, Prepend). A stream without such tokens is encoded in one piece at its end.
        """
        buf = ""
        for chunk in chunks:
            if not isinstance(chunk, str):
                raise ValueError(f"encode_iterable expects str chunks, got {type(chunk).__name__}.")
            buf += chunk
            if len(buf) < chunk_chars or not self._raw:
                continue
            cut = self._safe_cut(buf)
            if cut:
                yield from self.encode(buf[:cut])
                buf = buf[cut:]
        if buf:
            yield from self.encode(buf)

    def _safe_cut(self, buf: str) -> int:
        """The end of the last added token (original text) whose match cannot change with more text, or 0."""
        limit = len(buf) - self._raw.max_len - 1
        cut = 0
        for tid, _, e in self._raw.find(buf):
            if tid is None or e > limit:
                continue
            # A single-word token after the cut would look at the character before it; keep such cuts out.
            if any(t.single_word for t in self._raw.tokens) and buf[e - 1 : e].isalnum():
                continue
            if e < len(buf) and buf[e].isspace() and any(t.rstrip for t in self._raw.tokens):
                continue
            cut = e
        return cut

    def encode_with_offsets(self, text: str) -> Encoding:
        """Ids with tokens, spans in ``text`` and partial marks (see the module docstring for what spans index)."""
        if not isinstance(text, str):
            raise ValueError(f"encode_with_offsets expects str, got {type(text).__name__}.")
        text = _repair(text)
        out = EncodingBuilder()
        vocab = self._vocab
        for tid, s, e in self._raw.find(text):
            if tid is not None:
                out.add(tid, vocab[tid], (s, e), special=self._special_flag[tid])
                out.add_piece(Piece(text[s:e], s, e, True))
                continue
            seg, align = normalize_at(self.normalizer, text, s, e)
            for tid2, a, b in self._normed.find(seg):
                span = _span_of(align, a, b, s)
                if tid2 is not None:
                    out.add(tid2, vocab[tid2], span, special=self._special_flag[tid2])
                    out.add_piece(Piece(text[span[0]:span[1]], span[0], span[1], True))
                    continue
                for ptext, pspans in self._pieces(seg[a:b], align[a:b]):
                    pspans = pspans or []  # offsets mode always carries spans
                    per_byte = pspans if self._mapped else [
                        sp for ch, sp in zip(ptext, pspans) for _ in range(len(ch.encode("utf-8")))]
                    data = decode_token(ptext) if self._mapped else ptext.encode("utf-8")
                    local = 0
                    for i in self._cache[ptext]:
                        n = len(vocab[i])
                        first, last = per_byte[local], per_byte[local + n - 1]
                        # Cut inside a character's bytes: it starts or ends on a UTF-8 continuation byte.
                        out.add(i, vocab[i], (first[0], max(first[1], last[1])),
                                cut=_continues(data, local) or _continues(data, local + n))
                        local += n
                    p0, p1 = pspans[0][0], max(x[1] for x in pspans)
                    out.add_piece(Piece(text[p0:p1], p0, p1, False))
        return out.build()

    # -- decoding --------------------------------------------------------------------------------------------------
    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The bytes of ``ids`` concatenated (added tokens as their UTF-8 text); ValueError names an unknown id."""
        return join_token_bytes(self._vocab, ids)

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids`` (the normalized text: normalizers are not undone); broken bytes become U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def __repr__(self) -> str:
        return f"PipelineTokenizer(name={self.name!r}, vocab_size={self.vocab_size})"


def _span_of(align: Alignment, a: int, b: int, at: int) -> Span:
    """The original span of normalized characters ``[a, b)``; an empty stretch sits where it would be."""
    if b > a:
        return align[a][0], max(x[1] for x in align[a:b])
    p = align[a][0] if a < len(align) else (align[-1][1] if align else at)
    return p, p


def _continues(data: bytes, k: int) -> bool:
    """Whether byte ``k`` of ``data`` continues a character (so a token boundary there cuts one)."""
    return k < len(data) and 0x80 <= data[k] < 0xC0


def _repair(text: str) -> str:
    """Lone surrogates (which UTF-8 cannot hold) become U+FFFD, one for one, so spans keep their positions."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    return text
