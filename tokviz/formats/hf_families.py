"""``tokenizer.json`` files of the character-level families: WordPiece, Unigram and SentencePiece-style BPE.

:func:`family_from_dict` reads a parsed file whose model is ``WordPiece``, ``Unigram``, or ``BPE`` over characters
(``byte_fallback``, or no ByteLevel step), into :class:`~tokviz.pipelines.wordpiece_tokenizer.WordPieceTokenizer`,
:class:`~tokviz.pipelines.unigram_tokenizer.UnigramTokenizer` or
:class:`~tokviz.pipelines.sentencepiece_bpe_tokenizer.SentencePieceBPETokenizer`; it returns None for
byte-level BPE (a ByteLevel step, or GPT-2's 256 byte characters in the vocabulary) and for models it does not
read (WordLevel), which :mod:`tokviz.formats.hf` handles.

Components read besides those of :mod:`tokviz.formats.hf_components`: the normalizers ``BertNormalizer``,
``StripAccents`` and ``Precompiled`` with an empty character map (which changes nothing), the pre-tokenizers
``Metaspace`` and ``BertPreTokenizer``, and the decoders of :mod:`tokviz.pipelines.decoders`. Anything else is refused
naming the file, the component and why.

Example:
    >>> data = {"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
    ...                   "max_input_chars_per_word": 100, "vocab": {"[UNK]": 0, "hi": 1, "##s": 2}},
    ...         "normalizer": {"type": "BertNormalizer", "lowercase": True}, "pre_tokenizer": {"type":
    ...         "BertPreTokenizer"}, "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True}}
    >>> tok = family_from_dict(data, source="bert/tokenizer.json")
    >>> tok.family, tok.encode("His hi"), tok.name
    ('wordpiece', [1, 2, 1], 'bert')
    >>> family_from_dict({"model": {"type": "BPE", "vocab": {}, "merges": []},
    ...                   "pre_tokenizer": {"type": "ByteLevel"}}, source="t.json") is None
    True
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokviz.engines.tokenizers_engine import attach
from tokviz.formats.hf_components import components, compose_normalizers, normalizer_step, pre_tokenizer_step
from tokviz.formats.json_floats import score_as_tokenizers_reads_it
from tokviz.models.sentencepiece_bpe import CharBPEModel
from tokviz.models.unigram import UnigramModel
from tokviz.models.wordpiece import WordPieceModel
from tokviz.normalizers import components as nz
from tokviz.normalizers.bert_normalizer import BertNormalizer
from tokviz.pipelines.added_tokens import AddedToken, assign_ids
from tokviz.pipelines.decoders import decoder_from_json
from tokviz.pipelines.sentencepiece_bpe_tokenizer import SentencePieceBPETokenizer
from tokviz.pipelines.unigram_tokenizer import UnigramTokenizer
from tokviz.pipelines.wordpiece_tokenizer import WordPieceTokenizer
from tokviz.pre_tokenizers.bert_split import BertPreTokenizer
from tokviz.pre_tokenizers.byte_level import ByteLevel, encode_token
from tokviz.pre_tokenizers.metaspace import PREPEND_SCHEMES, SPACE_MARK, Metaspace
from tokviz.pre_tokenizers.steps import PreTokenizerStep, SplitStep

__all__ = ["FamilyTokenizer", "family_from_dict"]

#: What :func:`family_from_dict` returns.
FamilyTokenizer = WordPieceTokenizer | UnigramTokenizer | SentencePieceBPETokenizer


@dataclass(frozen=True)
class StripAccents:
    """``StripAccents``: nonspacing marks (category Mn) removed; the other characters keep their places.

    >>> StripAccents().normalize_text("e\\u0301")
    'e'
    """

    def normalize_text(self, text: str) -> str:
        return "".join(c for c in text if unicodedata.category(c) != "Mn")

    def normalize(self, text: str) -> tuple[str, nz.Alignment]:
        keep = [i for i, c in enumerate(text) if unicodedata.category(c) != "Mn"]
        return "".join(text[i] for i in keep), [(i, i + 1) for i in keep]


def family_from_dict(data: Mapping[str, Any], *, source: str = "<dict>") -> FamilyTokenizer | None:
    """The tokenizer of a parsed ``tokenizer.json`` of a character-level family, or None when the file is for
    :mod:`tokviz.formats.hf` (byte-level BPE, or a model type not read here). Refusals raise ValueError naming
    ``source``."""
    model = data.get("model")
    if not isinstance(model, dict):
        return None
    kind = model.get("type", "BPE")
    if kind == "BPE" and not model.get("byte_fallback") and (_mentions_byte_level(data) or _byte_alphabet(model)):
        return None
    if kind not in ("WordPiece", "Unigram", "BPE"):
        return None
    try:
        tok = _build(data, model, str(kind), source)
    except (AttributeError, TypeError, KeyError) as e:  # a value of the wrong JSON type somewhere
        raise ValueError(f"{source}: malformed tokenizer.json ({type(e).__name__}: {e}).") from e
    # ids through `tokenizers` where it is proven to give these (tokviz.engines.tokenizers_engine)
    return attach(tok, data)


def _mentions_byte_level(data: Mapping[str, Any]) -> bool:
    def walk(obj: Any) -> bool:
        if isinstance(obj, dict):
            return obj.get("type") == "ByteLevel" or any(walk(v) for v in obj.values())
        if isinstance(obj, list):
            return any(walk(v) for v in obj)
        return False
    return walk(data.get("pre_tokenizer")) or walk(data.get("decoder"))


_GPT2_BYTES = tuple(encode_token(bytes([b])) for b in range(256))


def _byte_alphabet(model: Mapping[str, Any]) -> bool:
    """Whether a BPE vocabulary holds GPT-2's 256 byte characters (``Ġ`` for a space...): a byte-level model,
    whatever its pre-tokenizer says."""
    vocab = model.get("vocab")
    return isinstance(vocab, dict) and all(c in vocab for c in _GPT2_BYTES)


def _name(source: str) -> str:
    p = Path(source)
    return (p.parent.name if p.name == "tokenizer.json" else p.stem) or "hf"


def _build(data: Mapping[str, Any], model: dict[str, Any], kind: str, source: str) -> FamilyTokenizer:
    where = f"{source}: {kind} model"
    if model.get("dropout"):
        raise ValueError(f"{source}: BPE dropout makes encoding random; set \"dropout\" to null.")
    normalizer = _normalizer(data.get("normalizer"), where=source)
    steps = _pre_tokenizers(data.get("pre_tokenizer"), where=source)
    decoder = decoder_from_json(data.get("decoder"), where=source)
    name = _name(source)
    if kind == "WordPiece":
        vocab = _str_int_vocab(model.get("vocab"), where)
        wp = WordPieceModel(vocab, unk_token=str(model.get("unk_token", "[UNK]")),
                            continuing_subword_prefix=str(model.get("continuing_subword_prefix", "##")),
                            max_input_chars_per_word=int(model.get("max_input_chars_per_word", 100)))
        added = _added(data, vocab, normalizer, source)
        return WordPieceTokenizer(wp, normalizer=normalizer, pre_tokenizers=steps, added=added, decoder=decoder,
                                  name=name)
    if kind == "Unigram":
        raw = model.get("vocab")
        if not isinstance(raw, list) or not all(
                isinstance(x, list) and len(x) == 2 and isinstance(x[0], str) and isinstance(x[1], (int, float))
                for x in raw):
            raise ValueError(f"{where}: \"vocab\" must be a list of [piece, score] pairs.")
        unk_id = model.get("unk_id")
        if unk_id is not None and not isinstance(unk_id, int):
            raise ValueError(f"{where}: \"unk_id\" must be an integer or null, got {unk_id!r:.40}.")
        try:
            # Scores as tokenizers reads them (not correctly rounded), so Viterbi's ties fall the same way.
            um = UnigramModel([(p, score_as_tokenizers_reads_it(s)) for p, s in raw], unk_id=unk_id,
                              byte_fallback=bool(model.get("byte_fallback")))
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from e
        ids = {p: i for i, (p, _) in enumerate(raw)}
        added = _added(data, ids, normalizer, source)
        return UnigramTokenizer(um, normalizer=normalizer, pre_tokenizers=steps, added=added, decoder=decoder,
                                name=name)
    for key in ("continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(key):
            raise ValueError(f"{source}: BPE with {key}={model[key]!r} is not supported (tokviz reads "
                             "SentencePiece-style character BPE and byte-level BPE).")
    vocab = _str_int_vocab(model.get("vocab"), where)
    unk = model.get("unk_token")
    unk_id = vocab.get(unk) if isinstance(unk, str) else None
    if isinstance(unk, str) and unk_id is None:
        raise ValueError(f"{where}: the unknown token {unk!r} is not in the vocabulary; add it or set "
                         "\"unk_token\" to null.")
    try:
        bpe = CharBPEModel(vocab, _merges(model.get("merges"), where),
                           byte_fallback=bool(model.get("byte_fallback")), unk_id=unk_id,
                           fuse_unk=bool(model.get("fuse_unk")), ignore_merges=bool(model.get("ignore_merges")))
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from e
    added = _added(data, vocab, normalizer, source)
    return SentencePieceBPETokenizer(bpe, normalizer=normalizer, pre_tokenizers=steps, added=added, decoder=decoder,
                                     name=name)


def _str_int_vocab(raw: Any, where: str) -> dict[str, int]:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: \"vocab\" must be an object {{piece: id}}.")
    seen: dict[int, str] = {}
    for p, i in raw.items():
        if not isinstance(i, int) or isinstance(i, bool):
            raise ValueError(f"{where}: id of {p!r:.40} is {i!r:.40}, not an integer.")
        if i in seen:
            raise ValueError(f"{where}: id {i} is given to both {seen[i]!r:.40} and {p!r:.40}.")
        seen[i] = p
    return dict(raw)


def _merges(raw: Any, where: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k, m in enumerate(raw or []):
        parts = m.split(" ") if isinstance(m, str) else m
        if not isinstance(parts, list) or len(parts) != 2 or not all(isinstance(x, str) and x for x in parts):
            raise ValueError(f"{where}: merge {k + 1} must be \"a b\" or [\"a\", \"b\"], got {m!r:.80}.")
        out.append((parts[0], parts[1]))
    return out


def _added(data: Mapping[str, Any], vocab: Mapping[str, int], normalizer: nz.Normalizer | None,
           source: str) -> list[AddedToken]:
    entries = []
    for e in data.get("added_tokens") or []:
        if not (isinstance(e, dict) and isinstance(e.get("content"), str) and isinstance(e.get("id"), int)):
            raise ValueError(f"{source}: malformed added_tokens entry {e!r:.80}.")
        entries.append(e)
    ids = assign_ids([(e["content"], e["id"]) for e in entries], vocab)
    tokens = [AddedToken(ids[e["content"]], e["content"], special=bool(e.get("special")),
                         single_word=bool(e.get("single_word")), lstrip=bool(e.get("lstrip")),
                         rstrip=bool(e.get("rstrip")), normalized=bool(e.get("normalized", not e.get("special"))))
              for e in entries if e["content"]]
    return list({t.content: t for t in tokens}.values())  # a content given twice: the last entry's options


def _normalizer(obj: Any, *, where: str) -> nz.Normalizer | None:
    return compose_normalizers(components(obj, where=where, what="normalizer",
                                          one=lambda o: [_normalizer_step(o, where=where)]))


def _normalizer_step(obj: dict[str, Any], *, where: str) -> nz.Normalizer | None:
    kind = obj.get("type")
    if kind == "BertNormalizer":
        accents = obj.get("strip_accents")
        return BertNormalizer(clean_text=bool(obj.get("clean_text", True)),
                              handle_chinese_chars=bool(obj.get("handle_chinese_chars", True)),
                              strip_accents=None if accents is None else bool(accents),
                              lowercase=bool(obj.get("lowercase", True)))
    if kind == "StripAccents":
        return StripAccents()
    if kind == "Precompiled" and not obj.get("precompiled_charsmap"):
        return None  # an empty map replaces nothing
    return normalizer_step(obj, where=where)


def _pre_tokenizers(obj: Any, *, where: str) -> list[PreTokenizerStep]:
    return components(obj, where=where, what="pre_tokenizer", one=lambda o: [_pre_tokenizer_step(o, where=where)])


def _pre_tokenizer_step(obj: dict[str, Any], *, where: str) -> PreTokenizerStep:
    kind = obj.get("type")
    if kind == "Metaspace":
        replacement = obj.get("replacement", SPACE_MARK)
        scheme = obj.get("prepend_scheme")
        if scheme is None:  # files written before prepend_scheme existed
            scheme = "always" if obj.get("add_prefix_space", True) else "never"
        if scheme not in PREPEND_SCHEMES:
            raise ValueError(f"{where}: pre-tokenizer Metaspace prepend_scheme {scheme!r} is not one of "
                             f"{', '.join(PREPEND_SCHEMES)}.")
        try:
            return Metaspace(str(replacement), scheme, bool(obj.get("split", True)))
        except ValueError as e:
            raise ValueError(f"{where}: pre-tokenizer {e}") from e
    if kind == "BertPreTokenizer":
        return BertPreTokenizer()
    step = pre_tokenizer_step(obj, where=where)
    if isinstance(step, ByteLevel):
        raise ValueError(f"{where}: pre-tokenizer ByteLevel with a character-level model (WordPiece, Unigram, "
                         "byte_fallback BPE) is not supported.")
    return SplitStep(step)
