"""Vocabulary health: which tokens of a vocabulary are junk, or suspicious, and why.

Each check is a list of token ids with a one-line definition (see ``docs/measures.md``):

- **not round-trip**: encoding the token's own text does not give the token back, ``encode(decode([i])) != [i]``
  (a token the pre-tokenizer would cut, one that BPE reaches differently, or one whose bytes are not whole UTF-8,
  which decodes to U+FFFD);
- **not whole UTF-8**: the token's bytes are not a sequence of whole characters (part of a character, or a
  character and part of the next);
- **never produced**: the reference corpus never yields the token: candidates for under-trained "glitch" tokens,
  after Land & Bartolo (2024);
- **mostly a part**: intermediate tokens that occur mostly inside longer tokens: over the corpus's encoding, the
  times the token is a node below the root of a produced token's merge tree, over that plus the times it is produced
  itself (Picky BPE's intersection-over-self, counted on the reference corpus);
- **longest**: the longest tokens in bytes;
- **near-duplicates**: groups of tokens that are the same text up to one leading space and case (single bytes
  left out: every byte-level vocabulary has ``a`` and ``A``).

Speed: a token's text is almost always one pre-token, so the round-trip check runs the pre-tokenizer and the
tokenizer's own piece cache per token instead of a full :meth:`~tokviz.models.bpe.Tokenizer.encode` call (which a
text holding a special token still gets); o200k's 200k tokens take a couple of seconds.

Example:
    >>> from tokviz import Tokenizer
    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b" ab", 258: b"\\xc3\\xa9"}
    >>> tok = Tokenizer(vocab, [(b"a", b"b"), (b" ", b"ab"), (b"\\xc3", b"\\xa9")])
    >>> h = vocab_health(tok, corpus="ab ab", part_min_count=1)
    >>> h.never_produced.ids[:3], h.near_duplicates.groups, h.not_utf8.count, h.not_round_trip_whole_utf8
    ((0, 1, 2), ((256, 257),), 128, ())
    >>> h.mostly_part.ids, h.mostly_part.values
    ((97, 98, 32), (1.0, 1.0, 1.0))
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain

from tokviz.analysis.anatomy import bpe_model, merge_index
from tokviz.core.protocol import TokenizerLike, encode_as_shown
from tokviz.models.bpe import Tokenizer
from tokviz.pre_tokenizers.specials import compile_special

#: Default thresholds for "mostly a part": at least this share inside longer tokens, seen at least this often.
PART_SHARE = 0.9
PART_MIN_COUNT = 5
N_LONGEST = 50


@dataclass(frozen=True)
class HealthList:
    """One check: ``ids`` of the tokens it flags (in the order worth reading), with a ``value`` per id where the
    check has one (the share for "mostly a part", the length in bytes for "longest")."""

    key: str
    title: str
    definition: str
    ids: tuple[int, ...]
    values: tuple[float, ...] = ()

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class DuplicateGroups:
    """Near-duplicate tokens: each group holds ids whose texts are equal up to one leading space and case."""

    key: str
    title: str
    definition: str
    groups: tuple[tuple[int, ...], ...]

    @property
    def count(self) -> int:
        """The number of groups."""
        return len(self.groups)

    @property
    def ids(self) -> tuple[int, ...]:
        """Every id in a group, group by group."""
        return tuple(chain.from_iterable(self.groups))


@dataclass(frozen=True)
class VocabHealth:
    """Every check on one vocabulary; the corpus-based ones (``never_produced``, ``mostly_part``) are None when no
    corpus was given. ``n_regular`` counts the tokens checked (the vocabulary without special tokens)."""

    tokenizer: str
    vocab_size: int
    n_regular: int
    not_round_trip: HealthList
    not_utf8: HealthList
    longest: HealthList
    near_duplicates: DuplicateGroups
    never_produced: HealthList | None = None
    mostly_part: HealthList | None = None
    corpus_tokens: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def checks(self) -> list[HealthList | DuplicateGroups]:
        """The checks that were computed, in the order a report shows them."""
        out: list[HealthList | DuplicateGroups | None] = [self.not_round_trip, self.not_utf8, self.never_produced,
                                                          self.mostly_part, self.longest, self.near_duplicates]
        return [c for c in out if c is not None]

    @property
    def not_round_trip_whole_utf8(self) -> tuple[int, ...]:
        """Round-trip failures among tokens that are whole UTF-8 (the others fail because U+FFFD replaces them)."""
        bad = set(self.not_utf8.ids)
        return tuple(i for i in self.not_round_trip.ids if i not in bad)


DEFINITIONS: dict[str, tuple[str, str]] = {
    "not_round_trip": ("Not round-trip", "Encoding the token's own text does not give the token back: "
                       "encode(decode([i])) != [i]."),
    "not_utf8": ("Not whole UTF-8", "The token's bytes are not whole UTF-8 characters on their own."),
    "never_produced": ("Never produced", "Tokens the reference corpus never yields: candidates for under-trained "
                       "('glitch') tokens (Land & Bartolo 2024)."),
    "mostly_part": ("Mostly a part", "Tokens seen mostly inside longer tokens: part count / (part count + own "
                    "count) over the corpus, at least {share:.0%} and seen at least {min_count} times (after Picky "
                    "BPE)."),
    "longest": ("Longest", "The longest tokens, in bytes."),
    "near_duplicates": ("Near-duplicates", "Groups of tokens (of 2 bytes or more) with the same text up to one "
                        "leading space and case."),
}


def _vocab_of(tokenizer: TokenizerLike) -> Mapping[int, bytes]:
    vocab = getattr(tokenizer, "vocab", None)
    if not isinstance(vocab, Mapping):
        raise ValueError(f"{tokenizer.name} ({type(tokenizer).__name__}) has no vocabulary list to check; "
                         "vocabulary health needs a tokenizer with a vocab (BPE: trained here or loaded from a file).")
    return vocab


def round_trip_ids(tokenizer: TokenizerLike, texts: Sequence[str]) -> list[Sequence[int]]:
    """``tokenizer.encode(text)`` for each text, faster for a plain :class:`Tokenizer`.

    A token's text is nearly always a single pre-token without a special token in it, so for our
    :class:`Tokenizer` (not a subclass that changes how text is encoded) the pre-tokenizer and the piece cache are
    called directly, which is what ``encode`` does for such a text minus its per-call set-up.

    >>> from tokviz import Tokenizer
    >>> tok = Tokenizer({i: bytes([i]) for i in range(256)} | {256: b"ab"}, [(b"a", b"b")], special_tokens=["<s>"])
    >>> [list(ids) for ids in round_trip_ids(tok, ["ab", "a<s>", "a b"])]
    [[256], [97, 257], [97, 32, 98]]
    """
    if not isinstance(tokenizer, Tokenizer) or type(tokenizer) is not Tokenizer:
        return [encode_as_shown(tokenizer, t) for t in texts]
    findall = tokenizer.pretokenizer.findall
    lookup = tokenizer._cache.__getitem__  # the encoder's own piece cache: BPE once per piece, as encode does
    special_re = compile_special(tokenizer.special_tokens or [])
    out: list[Sequence[int]] = []
    append = out.append
    for text in texts:
        if special_re is not None and special_re.search(text):
            append(tokenizer.encode(text, allowed_special="all"))
            continue
        pieces = findall(text)
        append(lookup(pieces[0]) if len(pieces) == 1 else list(chain.from_iterable(map(lookup, pieces))))
    return out


def _part_shares(tokenizer: TokenizerLike, vocab: Mapping[int, bytes],
                 produced: Counter[int]) -> dict[int, tuple[int, int]]:
    """``id -> (part count, own count)`` over the merge trees of the produced tokens."""
    parts = merge_index(bpe_model(tokenizer)).parts
    inside: Counter[int] = Counter()
    # A part is always shorter than the token it builds, so visiting longer tokens first passes each token's total
    # (produced + inside longer ones) down to its parts before they are visited themselves.
    for i in sorted(set(produced) | set(parts), key=lambda j: -len(vocab.get(j, b""))):
        total = produced.get(i, 0) + inside.get(i, 0)
        pair = parts.get(i)
        if total and pair is not None:
            inside[pair[0]] += total
            inside[pair[1]] += total
    return {i: (inside.get(i, 0), produced.get(i, 0)) for i in set(inside) | set(produced)}


def vocab_health(
    tokenizer: TokenizerLike,
    *,
    corpus: str | None = None,
    n_longest: int = N_LONGEST,
    part_share: float = PART_SHARE,
    part_min_count: int = PART_MIN_COUNT,
) -> VocabHealth:
    """Run every check on ``tokenizer``'s vocabulary (special tokens left out); ``corpus`` (text) enables the
    corpus-based checks. Needs a tokenizer with a ``vocab`` (ids to bytes); "mostly a part" also needs merges and
    is left out (with a note) without them.
    """
    vocab = _vocab_of(tokenizer)
    specials = set(getattr(tokenizer, "special_ids", {}).values())
    regular = sorted(i for i in vocab if i not in specials)
    raw = [vocab[i] for i in regular]
    texts = [b.decode("utf-8", errors="replace") for b in raw]
    # Decoding replaced bytes exactly where the text does not encode back to them.
    not_utf8 = [i for i, b, t in zip(regular, raw, texts) if "\ufffd" in t and t.encode("utf-8") != b]
    encoded = round_trip_ids(tokenizer, texts)
    not_round = tuple(i for i, ids in zip(regular, encoded) if len(ids) != 1 or ids[0] != i)
    longest_ids = sorted(regular, key=lambda i: (-len(vocab[i]), i))[:n_longest]
    dup = _near_duplicates(regular, raw, texts, set(not_utf8))

    def make(key: str, ids: Sequence[int], values: Sequence[float] = ()) -> HealthList:
        title, definition = DEFINITIONS[key]
        return HealthList(key, title, definition.format(share=part_share, min_count=part_min_count), tuple(ids),
                          tuple(values))

    notes: list[str] = []
    never = part = None
    n_corpus: int | None = None
    if corpus is not None:
        ids = encode_as_shown(tokenizer, corpus)
        n_corpus = len(ids)
        produced = Counter(ids)
        never = make("never_produced", [i for i in regular if i not in produced])
        try:
            rows = _mostly_parts(tokenizer, vocab, produced, specials, share=part_share, min_count=part_min_count)
        except ValueError:
            notes.append("'Mostly a part' needs merges, which this tokenizer has not.")
        else:
            part = make("mostly_part", [i for _, _, i in rows], [s for s, _, _ in rows])
            if getattr(tokenizer, "rule", "merges") == "ranks":
                notes.append("For a rank file, 'mostly a part' follows the merges derived from the ranks; the rank "
                             "rule may reach a token through other parts.")
    title, definition = DEFINITIONS["near_duplicates"]
    return VocabHealth(
        tokenizer.name, tokenizer.vocab_size, len(regular),
        make("not_round_trip", not_round), make("not_utf8", not_utf8),
        make("longest", longest_ids, [float(len(vocab[i])) for i in longest_ids]),
        DuplicateGroups("near_duplicates", title, definition, tuple(dup)),
        never, part, n_corpus, tuple(notes),
    )


def _near_duplicates(regular: Sequence[int], raw: Sequence[bytes], texts: Sequence[str],
                     bad: set[int]) -> list[tuple[int, ...]]:
    """Groups of tokens that differ only in case or a leading space, largest first."""
    groups: dict[str, list[int]] = {}
    for i, b, t in zip(regular, raw, texts):
        if len(b) < 2 or i in bad:
            continue
        key = (t[1:] if t.startswith(" ") else t).casefold()
        if key:
            groups.setdefault(key, []).append(i)
    return sorted((tuple(g) for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g[0]))


def _mostly_parts(tokenizer: TokenizerLike, vocab: Mapping[int, bytes], produced: Counter[int], specials: set[int],
                  *, share: float, min_count: int) -> list[tuple[float, int, int]]:
    """``(share inside longer tokens, occurrences, id)`` of the tokens mostly seen as a part, most first; raises
    ValueError for a tokenizer without merges."""
    shares = _part_shares(tokenizer, vocab, produced)
    rows = [(inside / (inside + own), inside + own, i) for i, (inside, own) in shares.items()
            if i not in specials and inside + own >= min_count and inside / (inside + own) >= share]
    rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    return rows
