"""The ``normalizer`` and ``pre_tokenizer`` objects of a ``tokenizer.json``, read into tokviz's components.

Readable: normalizers NFC, NFD, NFKC, NFKD, Lowercase, Strip, Replace, Prepend, Nmt, Precompiled (SentencePiece's
compiled character map) and Sequence; pre-tokenizers Split (every behaviour, inverted or not), ByteLevel, Digits,
Punctuation, Whitespace, WhitespaceSplit and Sequence. Any other component (``Metaspace``, ``BertPreTokenizer``...) is
refused with its name and why.
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

from collections.abc import Callable
from typing import Any, TypeVar

from tokviz.core.onig import onig_to_python
from tokviz.normalizers import components as nz
from tokviz.normalizers.nmt import Nmt
from tokviz.normalizers.precompiled import Precompiled
from tokviz.pipelines.byte_level_tokenizer import ByteLevelStep
from tokviz.pre_tokenizers import splits as hp
from tokviz.pre_tokenizers.byte_level import ByteLevel

C = TypeVar("C")
#: The key of a Sequence's list of components.
_ITEMS = {"normalizer": "normalizers", "pre_tokenizer": "pretokenizers"}

_UNSUPPORTED_NORMALIZER = {
    "BertNormalizer": "it belongs to WordPiece (BERT) models, which tokviz does not read",
    "StripAccents": "tokviz does not run it yet",
    "ByteLevel": "a ByteLevel normalizer is not run yet; files put ByteLevel in the pre-tokenizer",
}
_UNSUPPORTED_PRE = {
    "Metaspace": "it belongs to SentencePiece-style models (▁ for spaces), which tokviz does not read yet",
    "BertPreTokenizer": "it belongs to WordPiece (BERT) models, which tokviz does not read",
}


def _pattern(obj: Any, what: str, where: str) -> tuple[str, bool]:
    """``(source, is_regex)`` of a ``{"Regex": ...}`` / ``{"String": ...}`` pattern."""
    if isinstance(obj, dict) and isinstance(obj.get("Regex"), str):
        return onig_to_python(obj["Regex"]), True
    if isinstance(obj, dict) and isinstance(obj.get("String"), str):
        return obj["String"], False
    raise ValueError(f"{where}: {what} pattern must be {{\"Regex\": ...}} or {{\"String\": ...}}, got {obj!r:.80}.")


def components(obj: Any, *, where: str, what: str, one: Callable[[dict[str, Any]], list[C]]) -> list[C]:
    """The components of a ``"normalizer"`` or ``"pre_tokenizer"`` value (``what``), in order: none for null, the
    items of a ``Sequence`` (nested ones flattened), else what ``one`` reads from the object.

    A reader of another family passes its own ``one``, which reads the kinds it adds and hands the rest to
    :func:`normalizer_step` or :func:`pre_tokenizer_step`.

    >>> components({"type": "Sequence", "normalizers": [{"type": "NFC"}, None]}, where="t.json",
    ...            what="normalizer", one=lambda o: [o["type"]])
    ['NFC']
    """
    items_key = _ITEMS[what]
    if obj is None:
        return []
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: {what} must be an object or null, got {obj!r:.60}.")
    if obj.get("type") != "Sequence":
        return one(obj)
    items = obj.get(items_key)
    if what == "normalizer" and not items:
        items = []  # a normalizer Sequence without its list is read as an empty one
    if not isinstance(items, list):
        raise ValueError(f"{where}: a {what.replace('_', '-')} Sequence needs a list \"{items_key}\".")
    return [c for x in items for c in components(x, where=where, what=what, one=one)]


def compose_normalizers(steps: list[nz.Normalizer | None]) -> nz.Normalizer | None:
    """One normalizer running ``steps`` in order (None for none, and for the steps that change nothing)."""
    kept = [n for n in steps if n is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else nz.Sequence(kept)


def normalizer_from_json(obj: Any, *, where: str) -> nz.Normalizer | None:
    """The normalizer of a ``"normalizer"`` value; None for null or an empty Sequence."""
    return compose_normalizers(components(obj, where=where, what="normalizer",
                                          one=lambda o: [normalizer_step(o, where=where)]))


def normalizer_step(obj: dict[str, Any], *, where: str) -> nz.Normalizer:
    """One normalizer object that is not a Sequence (ValueError naming a kind tokviz does not run)."""
    kind = obj.get("type")
    if kind == "Nmt":
        return Nmt()
    if kind == "Precompiled":
        charsmap = obj.get("precompiled_charsmap")
        if not isinstance(charsmap, str) or not charsmap:
            raise ValueError(f"{where}: Precompiled normalizer needs a non-empty base64 \"precompiled_charsmap\".")
        try:
            return Precompiled.from_base64(charsmap)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from e
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
        return _at(where, lambda: nz.Replace(source, obj["content"], is_regex=is_regex))
    why = _UNSUPPORTED_NORMALIZER.get(str(kind)) or "tokviz does not know it"
    raise ValueError(f"{where}: normalizer {kind} is not supported ({why}); tokviz runs NFC, NFD, NFKC, NFKD, "
                     "Lowercase, Strip, Replace, Prepend, Nmt, Precompiled and Sequences of them.")


def _at(where: str, build: Callable[[], C]) -> C:
    """``build()``, its ValueError (a pattern that does not compile or is too costly to) prefixed with the file."""
    try:
        return build()
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from e


def _behavior(obj: dict[str, Any], where: str, default: str | None = None) -> hp.Behavior:
    b = obj.get("behavior", default)
    if b not in hp.BEHAVIORS:
        raise ValueError(f"{where}: {obj.get('type')} behavior {b!r} is not one of {', '.join(hp.BEHAVIORS)}.")
    return b


def pre_tokenizers_from_json(obj: Any, *, where: str) -> list[ByteLevelStep]:
    """The pre-tokenizer steps of a ``"pre_tokenizer"`` value, Sequences flattened, in order."""
    return components(obj, where=where, what="pre_tokenizer", one=lambda o: [pre_tokenizer_step(o, where=where)])


def pre_tokenizer_step(obj: dict[str, Any], *, where: str) -> ByteLevelStep:
    """One pre-tokenizer object that is not a Sequence (ValueError naming a kind tokviz does not run)."""
    kind = obj.get("type")
    if kind == "ByteLevel":
        return ByteLevel(add_prefix_space=bool(obj.get("add_prefix_space", True)),
                         use_regex=bool(obj.get("use_regex", True)))
    if kind == "Split":
        source, is_regex = _pattern(obj.get("pattern"), "Split", where)
        behavior = _behavior(obj, where)
        invert = bool(obj.get("invert"))
        return _at(where, lambda: hp.Split(source, is_regex=is_regex, behavior=behavior, invert=invert))
    if kind == "Digits":
        return hp.Digits(individual_digits=bool(obj.get("individual_digits")))
    if kind == "Punctuation":
        return hp.Punctuation(_behavior(obj, where, "Isolated"))
    if kind == "Whitespace":
        return hp.Whitespace()
    if kind == "WhitespaceSplit":
        return hp.WhitespaceSplit()
    why = _UNSUPPORTED_PRE.get(str(kind)) or "tokviz does not run it yet"
    raise ValueError(f"{where}: pre-tokenizer {kind} is not supported ({why}); tokviz runs ByteLevel, Split, "
                     "Digits, Punctuation, Whitespace, WhitespaceSplit and Sequences of them.")
