"""The ``Precompiled`` normalizer: SentencePiece's compiled character map, run as Hugging Face ``tokenizers`` runs it.

A SentencePiece model (T5, mT5, ALBERT, XLM-R, Mistral v1...) carries its normalization rules (``nmt_nfkc`` and
friends) as a ``precompiled_charsmap``: a little-endian ``u32`` giving the trie's size in bytes, the trie (a Darts
double array of ``u32`` units over UTF-8 bytes), then the replacements, each ended by a NUL byte; a key's value is
the offset of its replacement. ``tokenizers`` stores the same bytes, base64-encoded, in a ``tokenizer.json``.

How ``tokenizers`` applies it (the ``spm_precompiled`` crate and ``tokenizers``' ``precompiled.rs``), and so how we
do: the text is cut into extended grapheme clusters; a cluster of fewer than 6 UTF-8 bytes whose bytes start with a
key is replaced *whole* by the replacement of the *shortest* such key; otherwise each of its characters is looked up
the same way. Alignment follows ``NormalizedString::transform``: the replacement's characters stand for the replaced
characters one by one, extra characters point at the last character replaced before them, and characters a shorter
replacement leaves over are dropped (their offsets are lost, as in ``tokenizers``).

Where ours may differ: grapheme clusters come from the ``regex`` module's ``\\X`` (its Unicode version), the Rust
crate ``unicode-segmentation`` has its own.

Example:
    >>> p = Precompiled.from_rules({"ｈ": "h", "™": "TM", "\\x1e": ""})
    >>> p.normalize("ｈi™\\x1eg")
    ('hiTMg', [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)])
"""

from __future__ import annotations

import base64
import binascii
import struct
import sys
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field

import regex

from tokviz.normalizers.components import Alignment

_GRAPHEME = regex.compile(r"\X", flags=regex.DOTALL)
#: Cached replacements per grapheme cluster (bounded: cleared when full).
_CACHE_LIMIT = 200_000


def _unit_offset(unit: int) -> int:
    return (unit >> 10) << ((unit & (1 << 9)) >> 6)


def _unit_label(unit: int) -> int:
    return unit & ((1 << 31) | 0xFF)


@dataclass(frozen=True)
class Precompiled:
    """A compiled SentencePiece character map (see the module docstring); build with :meth:`from_bytes`."""

    charsmap: bytes
    _trie: array[int] = field(repr=False, compare=False)
    _normalized: bytes = field(repr=False, compare=False)
    _cache: dict[str, str | None] = field(default_factory=dict, repr=False, compare=False)
    #: Whether any ASCII character (tab, a control character...) has a replacement: if not, ASCII text is kept.
    _maps_ascii: bool = field(default=True, repr=False, compare=False)

    @classmethod
    def from_bytes(cls, charsmap: bytes) -> Precompiled:
        """Read a ``precompiled_charsmap``; ValueError if it is not one.

        >>> Precompiled.from_bytes(b"\\x01")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: precompiled_charsmap is 1 bytes, too short for its 4-byte trie size; ...
        """
        if len(charsmap) < 4:
            raise ValueError(f"precompiled_charsmap is {len(charsmap)} bytes, too short for its 4-byte trie size; "
                             "take it from a SentencePiece model's normalizer_spec or a tokenizer.json unchanged.")
        (size,) = struct.unpack_from("<I", charsmap, 0)
        if size % 4 or size == 0 or 4 + size > len(charsmap):
            raise ValueError(f"precompiled_charsmap says its trie has {size} bytes but holds {len(charsmap) - 4}; "
                             "the map is damaged: take it from the SentencePiece model again.")
        trie = array("I")
        if trie.itemsize != 4:  # pragma: no cover - every platform Python runs on has a 4-byte unsigned int
            raise ValueError("this platform has no 4-byte array type")
        trie.frombytes(charsmap[4:4 + size])
        if sys.byteorder == "big":  # pragma: no cover
            trie.byteswap()
        normalized = charsmap[4 + size:]
        try:
            normalized.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"precompiled_charsmap: its replacements are not UTF-8 ({e}); the map is damaged.") from e
        out = cls(bytes(charsmap), trie, normalized)
        object.__setattr__(out, "_maps_ascii", any(out.transform(chr(i)) is not None for i in range(1, 128)))
        return out

    @classmethod
    def from_base64(cls, text: str) -> Precompiled:
        """Read the base64 ``precompiled_charsmap`` of a ``tokenizer.json``."""
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as e:
            raise ValueError(f"precompiled_charsmap is not base64 ({e}); copy it from the tokenizer.json "
                             "unchanged.") from e
        return cls.from_bytes(data)

    @classmethod
    def from_rules(cls, rules: Mapping[str, str]) -> Precompiled:
        """A map built from ``{key: replacement}`` (for tests and examples; keys non-empty and without NUL)."""
        return cls.from_bytes(build_charsmap(rules))

    # -- the trie ----------------------------------------------------------------------------------------------------
    def _first_value(self, key: bytes) -> int | None:
        """The value of the shortest key that starts ``key`` (Darts ``commonPrefixSearch``'s first result)."""
        trie = self._trie
        n = len(trie)
        pos = _unit_offset(trie[0])
        for c in key:
            if c == 0:
                break
            pos ^= c
            if pos >= n:
                return None
            unit = trie[pos]
            if _unit_label(unit) != c:
                return None
            pos ^= _unit_offset(unit)
            if (unit >> 8) & 1:
                if pos >= n:
                    return None
                return trie[pos] & ((1 << 31) - 1)
        return None

    def transform(self, chunk: str) -> str | None:
        """The replacement of ``chunk`` (None when no key starts it).

        >>> Precompiled.from_rules({"ｈ": "h"}).transform("ｈｈ")
        'h'
        """
        cache = self._cache
        if chunk in cache:
            return cache[chunk]
        value = self._first_value(chunk.encode("utf-8"))
        out: str | None = None
        if value is not None:
            end = self._normalized.find(b"\0", value)
            raw = self._normalized[value:] if end < 0 else self._normalized[value:end]
            out = raw.decode("utf-8", errors="replace")
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[chunk] = out
        return out

    # -- the normalizer ----------------------------------------------------------------------------------------------
    def _changes(self, text: str) -> list[tuple[str, int]] | None:
        """``tokenizers``' list of (new character, change) for ``text``; None when nothing changes."""
        changes: list[tuple[str, int]] = []
        modified = False
        for m in _GRAPHEME.finditer(text):
            g = m.group()
            if len(g.encode("utf-8")) < 6:
                norm = self.transform(g)
                if norm is not None:
                    modified = True
                    _replace(changes, len(g), norm)
                    continue
            for c in g:
                norm = self.transform(c)
                if norm is not None:
                    modified = True
                    _replace(changes, 1, norm)
                else:
                    changes.append((c, 0))
        return changes if modified else None

    def normalize_text(self, text: str) -> str:
        if text.isascii() and not self._maps_ascii:
            return text
        changes = self._changes(text)
        return text if changes is None else "".join(c for c, _ in changes)

    def normalize(self, text: str) -> tuple[str, Alignment]:
        changes = None if text.isascii() and not self._maps_ascii else self._changes(text)
        if changes is None:
            return text, [(i, i + 1) for i in range(len(text))]
        # NormalizedString::transform: a kept or replacing character takes the next original one (and drops as
        # many after it as its change says); an added character points at the original one before it.
        align: Alignment = []
        pos = 0
        n = len(text)
        for _, change in changes:
            if change > 0:
                align.append((pos - 1, pos) if pos >= 1 else (0, 0))
            else:
                at = min(pos, n - 1)
                align.append((at, at + 1))
                pos += 1 - change
        return "".join(c for c, _ in changes), align


def _replace(changes: list[tuple[str, int]], old_count: int, new: str) -> None:
    """``precompiled.rs``' ``replace``: ``new`` stands for ``old_count`` characters."""
    diff = len(new) - old_count
    changes.extend((c, 0) for c in new)
    if diff > 0:
        for k in range(len(changes) - diff, len(changes)):
            changes[k] = (changes[k][0], 1)
    elif diff < 0 and changes:
        c, change = changes[-1]
        changes[-1] = (c, change + diff)


def build_charsmap(rules: Mapping[str, str]) -> bytes:
    """A ``precompiled_charsmap`` for ``rules``, laid out as SentencePiece's Darts double array lays it out.

    A plain builder (first free base, one unit per node), enough for tests and small maps; real maps come from
    SentencePiece models.

    >>> Precompiled.from_bytes(build_charsmap({"ａ": "a"})).transform("ａb")
    'a'
    """
    if not rules:
        raise ValueError("build_charsmap needs at least one rule.")
    normalized = bytearray()
    values: dict[bytes, int] = {}
    for key, rep in sorted(rules.items()):
        kb = key.encode("utf-8")
        if not kb or b"\0" in kb or "\0" in rep:
            raise ValueError(f"rule key {key!r}: keys must be non-empty and keys and replacements free of NUL.")
        values[kb] = len(normalized)
        normalized += rep.encode("utf-8") + b"\0"
    # A trie of byte strings: node -> {byte: child}; leaf values on nodes that end a key.
    children: list[dict[int, int]] = [{}]
    leaf: dict[int, int] = {}
    for kb, v in values.items():
        node = 0
        for b in kb:
            nxt = children[node].get(b)
            if nxt is None:
                nxt = len(children)
                children.append({})
                children[node][b] = nxt
            node = nxt
        leaf[node] = v
    units: dict[int, int] = {}
    used: set[int] = {0}
    bases_taken: set[int] = set()

    def unit(label: int, offset: int, has_leaf: bool) -> int:
        if offset >= 1 << 21:
            raise ValueError("build_charsmap: too many rules for this simple builder.")
        return (offset << 10) | (int(has_leaf) << 8) | label

    # Place node `node` at position `at`; its children (and leaf slot, label 0) at base ^ label.
    stack: list[tuple[int, int, int]] = [(0, 0, 0)]  # (node, position, label)
    while stack:
        node, at, label = stack.pop()
        labels = sorted(children[node])
        if node in leaf:
            labels = [0, *labels]
        base = 1
        while base in bases_taken or any((base ^ lb) in used for lb in labels):
            base += 1
        bases_taken.add(base)
        offset = at ^ base
        units[at] = unit(label, offset, node in leaf)
        for lb in labels:
            used.add(base ^ lb)
        if node in leaf:
            units[base] = (1 << 31) | leaf[node]  # a value unit: its top bit set, so its label matches no byte
        for lb in labels:
            if lb:
                stack.append((children[node][lb], base ^ lb, lb))
    size = max(units) + 1
    trie = [units.get(i, 0) for i in range(size)]
    # Unused units must not look like a child: their label must differ from the byte that leads there.
    for i in range(size):
        if i not in units:
            trie[i] = 1 << 31
    return struct.pack("<I", 4 * size) + struct.pack(f"<{size}I", *trie) + bytes(normalized)
