"""The ``normalizer`` and ``pre_tokenizer`` objects of a ``tokenizer.json``, read into tokviz's components.

Readable: normalizers NFC, NFD, NFKC, NFKD, Lowercase, Strip, Replace, Prepend and Sequence; pre-tokenizers Split
(every behaviour, inverted or not), ByteLevel, Digits, Punctuation, Whitespace, WhitespaceSplit and Sequence. Any other
component (a ``Precompiled`` normalizer, ``Metaspace``, ``BertPreTokenizer``...) is refused with its name and why.
Oniguruma regexes are translated with :func:`onig_to_python`.

Example:
    >>> normalizer_from_json({"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]},
    ...                      where="t.json").normalize_text("ﬁX")
    'fix'
    >>> [type(s).__name__ for s in pre_tokenizers_from_json({"type": "Digits", "individual_digits": True},
    ...                                                     where="t.json")]
    ['PatternSplit']
"""

from __future__ import annotations

import re
from typing import Any

from tokviz import hf_pretokenizers as hp
from tokviz import normalizers as nz
from tokviz.hf_pipeline import ByteLevel, PreTokenizerStep

# Oniguruma (which `tokenizers` uses) reads "X{n,m}+" as "(X{n,m})+", a repetition, where Python's `regex` reads a
# possessive interval; rewriting keeps the meaning `tokenizers` gives a file's pattern.
_ONIG_REPEATED_INTERVAL = re.compile(r"(\\p\{\w+\}|\\[A-Za-z]|\[(?:\\.|[^\]\\])*\]|\((?:\\.|[^()\\])*\)|[^\\()\[\]{}])"
                                     r"(\{\d+(?:,\d*)?\})\+")

_UNSUPPORTED_NORMALIZER = {
    "Precompiled": "it is SentencePiece's compiled character map, which tokviz cannot run yet",
    "BertNormalizer": "it belongs to WordPiece (BERT) models, which tokviz does not read",
    "StripAccents": "tokviz does not run it yet",
    "Nmt": "tokviz does not run it yet",
    "ByteLevel": "a ByteLevel normalizer is not run yet; files put ByteLevel in the pre-tokenizer",
}
_UNSUPPORTED_PRE = {
    "Metaspace": "it belongs to SentencePiece-style models (▁ for spaces), which tokviz does not read yet",
    "BertPreTokenizer": "it belongs to WordPiece (BERT) models, which tokviz does not read",
}


def onig_to_python(pattern: str) -> str:
    """A `tokenizers` (Oniguruma) regex in Python ``regex`` terms: ``X{n,m}+`` becomes ``(?:X{n,m})+``.

    >>> onig_to_python(r"\\p{N}{1,3}+|\\s+")
    '(?:\\\\p{N}{1,3})+|\\\\s+'
    """
    return _ONIG_REPEATED_INTERVAL.sub(r"(?:\1\2)+", pattern)


def _pattern(obj: Any, what: str, where: str) -> tuple[str, bool]:
    """``(source, is_regex)`` of a ``{"Regex": ...}`` / ``{"String": ...}`` pattern."""
    if isinstance(obj, dict) and isinstance(obj.get("Regex"), str):
        return onig_to_python(obj["Regex"]), True
    if isinstance(obj, dict) and isinstance(obj.get("String"), str):
        return obj["String"], False
    raise ValueError(f"{where}: {what} pattern must be {{\"Regex\": ...}} or {{\"String\": ...}}, got {obj!r:.80}.")


def normalizer_from_json(obj: Any, *, where: str) -> nz.Normalizer | None:
    """The normalizer of a ``"normalizer"`` value; None for null or an empty Sequence."""
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: normalizer must be an object or null, got {obj!r:.60}.")
    kind = obj.get("type")
    if kind == "Sequence":
        steps = [n for n in (normalizer_from_json(x, where=where) for x in obj.get("normalizers") or []) if n]
        if not steps:
            return None
        return steps[0] if len(steps) == 1 else nz.Sequence(steps)
    if kind in ("NFC", "NFD", "NFKC", "NFKD"):
        return nz.UnicodeForm(kind)
    if kind == "Lowercase":
        return nz.Lowercase()
    if kind == "Strip":
        return nz.Strip(left=bool(obj.get("strip_left", True)), right=bool(obj.get("strip_right", True)))
    if kind == "Prepend":
        if not isinstance(obj.get("prepend"), str):
            raise ValueError(f"{where}: Prepend normalizer needs a string \"prepend\".")
        return nz.Prepend(obj["prepend"])
    if kind == "Replace":
        source, is_regex = _pattern(obj.get("pattern"), "Replace", where)
        if not isinstance(obj.get("content"), str):
            raise ValueError(f"{where}: Replace normalizer needs a string \"content\".")
        return nz.Replace(source, obj["content"], is_regex=is_regex)
    why = _UNSUPPORTED_NORMALIZER.get(str(kind)) or "tokviz does not know it"
    raise ValueError(f"{where}: normalizer {kind} is not supported ({why}); tokviz runs NFC, NFD, NFKC, NFKD, "
                     "Lowercase, Strip, Replace, Prepend and Sequences of them.")


def _behavior(obj: dict[str, Any], where: str, default: str | None = None) -> hp.Behavior:
    b = obj.get("behavior", default)
    if b not in hp.BEHAVIORS:
        raise ValueError(f"{where}: {obj.get('type')} behavior {b!r} is not one of {', '.join(hp.BEHAVIORS)}.")
    return b


def pre_tokenizers_from_json(obj: Any, *, where: str) -> list[PreTokenizerStep]:
    """The pre-tokenizer steps of a ``"pre_tokenizer"`` value, Sequences flattened, in order."""
    if obj is None:
        return []
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: pre_tokenizer must be an object, got {obj!r:.60}.")
    kind = obj.get("type")
    if kind == "Sequence":
        steps = obj.get("pretokenizers")
        if not isinstance(steps, list):
            raise ValueError(f"{where}: a pre-tokenizer Sequence needs a list \"pretokenizers\".")
        return [s for x in steps for s in pre_tokenizers_from_json(x, where=where)]
    if kind == "ByteLevel":
        return [ByteLevel(add_prefix_space=bool(obj.get("add_prefix_space", True)),
                          use_regex=bool(obj.get("use_regex", True)))]
    if kind == "Split":
        source, is_regex = _pattern(obj.get("pattern"), "Split", where)
        return [hp.Split(source, is_regex=is_regex, behavior=_behavior(obj, where), invert=bool(obj.get("invert")))]
    if kind == "Digits":
        return [hp.Digits(individual_digits=bool(obj.get("individual_digits")))]
    if kind == "Punctuation":
        return [hp.Punctuation(_behavior(obj, where, "Isolated"))]
    if kind == "Whitespace":
        return [hp.Whitespace()]
    if kind == "WhitespaceSplit":
        return [hp.WhitespaceSplit()]
    why = _UNSUPPORTED_PRE.get(str(kind)) or "tokviz does not run it yet"
    raise ValueError(f"{where}: pre-tokenizer {kind} is not supported ({why}); tokviz runs ByteLevel, Split, "
                     "Digits, Punctuation, Whitespace, WhitespaceSplit and Sequences of them.")
