"""CLIP's BPE files: a ``tokenizer.json`` whose BPE model has an ``end_of_word_suffix`` (``</w>``), and OpenCLIP's
merges file read alone (``bpe_simple_vocab_16e6.txt.gz``, or the same text uncompressed).

**tokenizer.json.** The model's vocabulary, merges, ``end_of_word_suffix`` and unknown token; the normalizer (any
tokviz reads); the pre-tokenizer as CLIP writes it: Split steps (whose pieces are the words) and a ByteLevel step
without its own regex and without a prefix space (it only spells bytes as characters); the added tokens as special
tokens. See :class:`tokviz.pipelines.clip_bpe.ClipBPETokenizer` for how it encodes.

**A merges file alone**, as OpenCLIP's ``SimpleTokenizer`` builds its tokenizer from it: the first line (``#version``)
skipped, the next 49152 - 256 - 2 merges used; the vocabulary is the 256 byte characters, the same with ``</w>``,
one token per merge (its two parts joined), then ``<start_of_text>`` and ``<end_of_text>``; the pipeline is CLIP's:
NFC, whitespace runs to one space, lowercase, and CLIP's word pattern.

Example:
    >>> looks_like_clip_merges(b"#version: 0.2\\ni n\\nt h\\na n\\nr e\\nt i\\ne r</w>\\n")
    True
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokviz.formats.hf_components import normalizer_from_json, pre_tokenizers_from_json
from tokviz.normalizers import components as nz
from tokviz.pipelines.clip_bpe import ClipBPETokenizer
from tokviz.pre_tokenizers import splits as hp
from tokviz.pre_tokenizers.byte_level import BYTE_TO_UNICODE, ByteLevel

#: CLIP's word pattern (its tokenizer.json's Split, and OpenCLIP's SimpleTokenizer), with OpenCLIP's special names.
CLIP_WORDS = (r"<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+")
#: Merges OpenCLIP reads from its file.
OPENCLIP_MERGES = 49152 - 256 - 2
#: Bigger than any merges file (OpenCLIP's is 1.4 MB compressed, 262k lines): a bound on what is decompressed.
MAX_MERGES_BYTES = 64 << 20
_GZIP = b"\x1f\x8b"


class _Splits:
    """Split steps applied one after the other (each cuts the pieces the one before kept)."""

    def __init__(self, steps: list[hp.PatternSplit]) -> None:
        self.steps = steps
        #: No piece kept holds whitespace (CLIP's word pattern), so a stream may be cut before a space.
        self.keeps_no_space = bool(steps) and all(map(_words_hold_no_space, steps))

    def split(self, text: str) -> list[tuple[int, int]]:
        spans = [(0, len(text))]
        for step in self.steps:
            spans = [(a + x, a + y) for a, b in spans for x, y in step.split(text[a:b])]
        return spans


#: CLIP's word alternatives after its special names: none can match whitespace, none looks around.
_CLIP_TAIL = frozenset(CLIP_WORDS.split("|")[2:])


def _words_hold_no_space(split: hp.PatternSplit) -> bool:
    """Whether ``split`` keeps CLIP's words and drops what lies between (whitespace): its pattern is CLIP's, with
    special names that are plain literals without whitespace, so a stream can be cut before a space.

    >>> _words_hold_no_space(hp.Split(CLIP_WORDS, behavior="Removed", invert=True))
    True
    >>> _words_hold_no_space(hp.Split("[a-z]+(?= )", behavior="Removed", invert=True))
    False
    """
    if split.behavior != "Removed" or not split.invert:
        return False
    alternatives = re.split(r"(?<!\\)\|", split.source)
    return all(a in _CLIP_TAIL or re.fullmatch(r"(?:[A-Za-z0-9_<>/]|\\[|.])+", a) for a in alternatives)


def is_clip_json(data: Mapping[str, Any]) -> bool:
    """Whether a parsed tokenizer.json is a BPE with an end-of-word suffix."""
    model = data.get("model")
    return isinstance(model, dict) and model.get("type", "BPE") == "BPE" and bool(model.get("end_of_word_suffix"))


def clip_from_dict(data: Mapping[str, Any], *, source: str) -> ClipBPETokenizer:
    """The tokenizer of a CLIP-style ``tokenizer.json`` (ValueError naming ``source`` and what it cannot read)."""
    model = data["model"]
    suffix, vocab = _checked_model(model, source)
    merges = _merges(model.get("merges") or [], source)
    normalizer = normalizer_from_json(data.get("normalizer"), where=source)
    splits = _splits(data.get("pre_tokenizer"), source)
    specials = {}
    for e in data.get("added_tokens") or []:
        if isinstance(e, dict) and isinstance(e.get("content"), str) and isinstance(e.get("id"), int):
            specials[e["content"]] = e["id"]
    unk = model.get("unk_token")
    unk_id = vocab.get(unk) if isinstance(unk, str) else None
    name = Path(source).parent.name if Path(source).name == "tokenizer.json" else Path(source).stem
    try:
        return ClipBPETokenizer(vocab, merges, suffix=suffix, normalizer=normalizer,
                                splitter=_Splits(splits) if splits else None, special_tokens=specials,
                                unk_id=unk_id, name=name or "clip")
    except ValueError as e:
        raise ValueError(f"{source}: {e}") from e


def _checked_model(model: Mapping[str, Any], source: str) -> tuple[str, dict[str, int]]:
    """The BPE model's suffix and vocabulary, after refusing what tokviz does not read with a suffix."""
    suffix = model.get("end_of_word_suffix")
    if not isinstance(suffix, str):
        raise ValueError(f"{source}: end_of_word_suffix must be a string.")
    if model.get("continuing_subword_prefix"):
        raise ValueError(f"{source}: BPE with both an end_of_word_suffix and a continuing_subword_prefix is not "
                         "supported.")
    if model.get("dropout"):
        raise ValueError(f"{source}: BPE dropout makes encoding random; set \"dropout\" to null.")
    vocab = model.get("vocab")
    if not isinstance(vocab, dict) or not all(isinstance(i, int) for i in vocab.values()):
        raise ValueError(f"{source}: the BPE model's \"vocab\" must be an object {{token: id}}.")
    return suffix, vocab


def _merges(entries: list[Any], source: str) -> list[tuple[str, str]]:
    """The merges, from "a b" strings or ["a", "b"] pairs."""
    merges = []
    for k, m in enumerate(entries):
        parts = m.split(" ") if isinstance(m, str) else m
        if not isinstance(parts, list) or len(parts) != 2 or not all(isinstance(x, str) and x for x in parts):
            raise ValueError(f"{source}: merge {k + 1} must be \"a b\" or [\"a\", \"b\"], got {m!r:.80}.")
        merges.append((parts[0], parts[1]))
    return merges


def _splits(pre_tokenizer: Any, source: str) -> list[hp.PatternSplit]:
    """The Split steps of the pre-tokenizer (a ByteLevel without regex or prefix space is read as no step)."""
    splits: list[hp.PatternSplit] = []
    for step in pre_tokenizers_from_json(pre_tokenizer, where=source):
        if isinstance(step, ByteLevel):
            if step.use_regex or step.add_prefix_space:
                raise ValueError(f"{source}: with an end_of_word_suffix, tokviz reads a ByteLevel pre-tokenizer "
                                 "without its regex and prefix space (use_regex and add_prefix_space false), as "
                                 "CLIP writes it.")
        elif isinstance(step, hp.PatternSplit):
            splits.append(step)
        else:
            raise ValueError(f"{source}: pre-tokenizer {type(step).__name__} is not supported with an "
                             "end_of_word_suffix; tokviz reads Split and ByteLevel there.")
    return splits


def looks_like_clip_merges(head: bytes) -> bool:
    """Whether the first bytes of a file (gzip-compressed or not) read as a merges file with ``</w>`` tokens."""
    if head.startswith(_GZIP):
        try:
            head = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, 4096)
        except zlib.error:
            return False
    lines = head.split(b"\n")[:-1]
    if not lines or b"#version" not in lines[0]:  # OpenCLIP's first line is '"bpe_simple_vocab_16e6.txt#version: 0.2'
        return False
    body = [ln for ln in lines[1:] if ln]
    return bool(body) and all(len(ln.split(b" ")) == 2 for ln in body) and b"</w>" in head


def _merges_text(path: Path) -> str:
    with path.open("rb") as f:
        compressed = f.read(2) == _GZIP
    data = None if compressed else path.read_bytes()
    if data is None:
        with gzip.open(path, "rb") as f:
            data = f.read(MAX_MERGES_BYTES + 1)
        if len(data) > MAX_MERGES_BYTES:
            raise ValueError(f"{path}: decompresses to more than {MAX_MERGES_BYTES >> 20} MB; not a merges file.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text ({e}).") from e


def load_clip_merges(path: str | os.PathLike[str], *, name: str | None = None) -> ClipBPETokenizer:
    """OpenCLIP's tokenizer from its merges file alone (see the module docstring)."""
    p = Path(path)
    lines = _merges_text(p).split("\n")[1:OPENCLIP_MERGES + 1]
    merges: list[tuple[str, str]] = []
    for k, line in enumerate(lines):
        parts = line.split()
        if len(parts) != 2:
            if not line.strip() and all(not x.strip() for x in lines[k:]):
                break
            raise ValueError(f"{p}: line {k + 2} must be two tokens separated by a space, got {line!r:.60}.")
        merges.append((parts[0], parts[1]))
    chars = list(BYTE_TO_UNICODE.values())
    tokens = chars + [c + "</w>" for c in chars] + ["".join(m) for m in merges]
    vocab: dict[str, int] = {}
    for t in tokens:
        vocab.setdefault(t, len(vocab))
    specials = {"<start_of_text>": len(vocab), "<end_of_text>": len(vocab) + 1}
    normalizer = nz.Sequence([nz.NFC(), nz.Replace(r"\s+", " ", is_regex=True), nz.Lowercase()])
    splitter = _Splits([hp.Split(CLIP_WORDS, behavior="Removed", invert=True)])
    stem = p.name.removesuffix(".gz").removesuffix(".txt")
    try:
        return ClipBPETokenizer(vocab, merges, normalizer=normalizer, splitter=splitter, special_tokens=specials,
                                name=name or stem)
    except ValueError as e:
        raise ValueError(f"{p}: {e}") from e
