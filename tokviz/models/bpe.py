"""The byte-level BPE ``Tokenizer``: encode, decode, offsets, streaming, prefixes (files: :mod:`tokviz.formats`).

A tokenizer is its merges (the single source of truth, in learned order), a vocabulary mapping ids to bytes, the
special tokens and the pre-tokenizer pattern. Encoding pre-tokenizes, then applies merges by rank inside each piece,
the lowest-ranked adjacent pair first (the leftmost where one pair occurs twice), exactly as training applied them.

Speed: the per-piece work is a dict lookup done in C (``map`` over the regex matches with a dict whose
``__missing__`` runs BPE for pieces not seen before); a piece that is a whole token is looked up directly, as
tiktoken does; and after each merge only the two neighbouring pairs are re-ranked.

Example:
    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"he", 257: b"hel"}
    >>> tok = Tokenizer(vocab, [(b"h", b"e"), (b"he", b"l")])
    >>> tok.encode("hello"), tok.decode(tok.encode("hello"))
    ([257, 108, 111], 'hello')
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from functools import cached_property, partial
from itertools import chain
from typing import Any, Literal

from tokviz.core.encoding import Encoding, LazyPieces, Piece, join_token_bytes
from tokviz.core.engine import Engine, encode_stretches, engine_for
from tokviz.core.id_offsets import ByteTables, encoding_from_ids
from tokviz.core.surrogates import has_surrogates, original_positions, repair_surrogates, repaired_stream
from tokviz.models.bpe_rules import NO_RANK, encode_pairs, encode_ranks, merge_by_pairs
from tokviz.models.piece_cache import BytePieceCache
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.pre_tokenizers.specials import compile_special
from tokviz.pre_tokenizers.stream_cuts import chunk_text


@dataclass(frozen=True)
class TrainingReport:
    """What a training run did: requested and reached sizes, the count of each merge, time, and why it stopped."""

    requested_vocab_size: int
    vocab_size: int
    merge_counts: list[int]
    seconds: float
    stopped_early: bool
    message: str
    counting_seconds: float = 0.0
    n_pretokens: int = 0
    n_distinct_pretokens: int = 0


class DeferredMerges:
    """A merge list made on first use, for tokenizers that encode without one (``rule="ranks"``).

    A rank file has no merge list: it is derived from the ranks, only for the views that replay merges, and deriving
    it costs seconds for o200k_base. Passed as ``merges`` of a rank-rule :class:`Tokenizer`, it is computed the first
    time ``merges`` (or anything built from it) is read, so loading the file and encoding never wait for it.
    Pickling stores the computed list.

    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"ab"}
    >>> tok = Tokenizer(vocab, DeferredMerges(lambda: [(b"a", b"b")]), rule="ranks")  # type: ignore[arg-type]
    >>> tok.encode("ab"), tok.merges
    ([256], [(b'a', b'b')])
    """

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], list[tuple[bytes, bytes]]]) -> None:
        self._make = make

    def make(self) -> list[tuple[bytes, bytes]]:
        return self._make()

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (self.make(),))


class Tokenizer:
    """A byte-level BPE tokenizer (the CS336 ``get_tokenizer`` shape).

    ``vocab`` maps ids to bytes and must hold all 256 single bytes; ``merges`` are byte pairs in rank order, each
    joining two tokens of the vocabulary into a third; special tokens missing from ``vocab`` get new ids at the end.

    ``rule`` says how :meth:`encode` cuts a piece. ``"merges"`` (tokenizers trained here, GPT-2 and Hugging Face
    files) applies the merge list, lowest rank first. ``"ranks"`` (tiktoken rank files) merges the adjacent pair whose
    concatenation is the regular (non-special) token of lowest id, and makes that token, as tiktoken does; ``merges``
    are then only derived, for the views, and may miss tokens that no merge builds (:attr:`unbuildable_ids`).

    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b"abc"}
    >>> Tokenizer(vocab, [(b"a", b"b")]).encode("abc"), Tokenizer(vocab, [(b"a", b"b")], rule="ranks").encode("abc")
    ([256, 99], [257])
    """

    def __init__(
        self,
        vocab: Mapping[int, bytes],
        merges: Sequence[tuple[bytes, bytes]] | DeferredMerges,
        special_tokens: Sequence[str] | None = None,
        pattern: str = "gpt2",
        *,
        name: str = "bpe",
        rule: Literal["merges", "ranks"] = "merges",
        training: TrainingReport | None = None,
    ) -> None:
        if rule not in ("merges", "ranks"):
            raise ValueError(f"rule must be 'merges' or 'ranks', got {rule!r}.")
        deferred = isinstance(merges, DeferredMerges)
        if deferred and rule != "ranks":
            raise ValueError("DeferredMerges are for rule='ranks' tokenizers, which encode without the merge list.")
        self.vocab: dict[int, bytes] = dict(vocab)
        self.special_tokens: list[str] = list(dict.fromkeys(special_tokens or []))
        self.pattern = pattern
        self.name = name
        self.rule: Literal["merges", "ranks"] = rule
        self.training = training
        self._merge_source = merges
        self.pretokenizer = PreTokenizer.create(self.pattern, special_tokens=self.special_tokens)
        encoder = _encoder_of(self.vocab)
        missing = [b for b in range(256) if bytes([b]) not in encoder]
        if missing:
            raise ValueError(
                f"vocab lacks {len(missing)} of the 256 single bytes (first: 0x{missing[0]:02x}); a byte-level BPE "
                "vocabulary needs every byte so that any text can be encoded."
            )
        next_id = max(self.vocab, default=-1) + 1
        self._special_ids: dict[str, int] = {}
        for s in self.special_tokens:
            sid = encoder.get(s.encode("utf-8"))
            if sid is None:
                sid = next_id
                next_id += 1
                self.vocab[sid] = s.encode("utf-8")
                encoder[s.encode("utf-8")] = sid
            self._special_ids[s] = sid
        self._encoder = encoder
        self._byte_ids = [encoder[bytes([b])] for b in range(256)]
        if not deferred:
            _ = self._merge_tables  # checks the merges against the vocabulary now, not at the first encode
        special_ids = set(self._special_ids.values())
        # Regular tokens (bytes -> id, specials excluded): the rank rule's ranks. Every byte is in it, even one whose
        # id is also a special token's, so any piece can be cut.
        regular = dict(encoder)
        for sid in special_ids:  # the entries whose id is a special token's: its own bytes, unless taken before it
            if encoder.get(self.vocab[sid]) == sid:
                del regular[self.vocab[sid]]
        for byte, byte_id in enumerate(self._byte_ids):
            regular.setdefault(bytes([byte]), byte_id)
        self._regular = regular
        self._cache = self._new_cache()
        self._allowing: dict[frozenset[str], PreTokenizer] = {}
        # A native engine proven to give these ids (tokviz.engines registers the factory); None: pure Python only.
        self.engine: Engine | None = engine_for(self)
        self.engine_note = ""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Tokenizer)
        return (self.vocab, self.merges, self.special_tokens, self.pattern, self.name, self.rule) == (
            other.vocab, other.merges, other.special_tokens, other.pattern, other.name, other.rule)

    __hash__ = None  # type: ignore[assignment]  # mutable (a name can be changed), compared by value

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name={self.name!r}, vocab_size={len(self.vocab)}, pattern={self.pattern!r}, "
                f"rule={self.rule!r}, special_tokens={self.special_tokens!r})")

    def __getstate__(self) -> dict[str, Any]:
        # The piece cache is rebuilt on the other side: it may hold many pieces, and its function is rebuilt anyway.
        state = dict(self.__dict__)
        state.pop("_cache", None)
        state.pop("_piece_ids_of", None)
        state.pop("engine", None)  # native state stays in this process; the other side gets its own
        state.pop("_byte_tables", None)  # rebuilt on first use
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._cache = self._new_cache()
        self.engine = engine_for(self)

    # -- lazy tables (each a cached_property: computed on first read, kept with the tokenizer) --------------------
    @cached_property
    def merges(self) -> list[tuple[bytes, bytes]]:
        """Merges in rank order, as byte pairs; a rank file's are derived from its ranks when first read."""
        source = self._merge_source
        pairs = source.make() if isinstance(source, DeferredMerges) else source
        return [(bytes(a), bytes(b)) for a, b in pairs]

    @cached_property
    def _merge_tables(self) -> tuple[dict[tuple[int, int], int], list[int]]:
        """The merges checked against the vocabulary and indexed: (left id, right id) -> rank, and each merge's new
        id, the tables merge application reads."""
        encoder = self._encoder
        ranks: dict[tuple[int, int], int] = {}
        merged: list[int] = []
        for r, (a, b) in enumerate(self.merges):
            ia, ib, inew = encoder.get(a), encoder.get(b), encoder.get(a + b)
            if ia is None or ib is None or inew is None:
                bad = a if ia is None else b if ib is None else a + b
                raise ValueError(f"merge {r + 1} ({a!r}, {b!r}) uses {bad!r}, which is not in the vocabulary.")
            ranks.setdefault((ia, ib), r)
            merged.append(inew)
        return ranks, merged

    @property
    def _ranks(self) -> dict[tuple[int, int], int]:
        return self._merge_tables[0]

    @property
    def _merged(self) -> list[int]:
        return self._merge_tables[1]

    @cached_property
    def _whole(self) -> dict[bytes, int]:
        """Tokens BPE can produce (not specials): a piece equal to one is that token, as in tiktoken."""
        if self.rule == "ranks":
            return self._regular
        return {self.vocab[i]: i for i in chain(self._byte_ids, self._merged)}

    # -- basic facts -----------------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def special_ids(self) -> dict[str, int]:
        return dict(self._special_ids)

    def token_to_id(self, token: bytes) -> int | None:
        return self._encoder.get(token)

    @cached_property
    def unbuildable_ids(self) -> list[int]:
        """Ids of regular tokens that are neither a byte nor a merge's result, in id order.

        The rank rule still emits them, but views that follow the merge list (replay, anatomy, diff) cannot show
        how they are made. Empty for tokenizers trained here and for OpenAI's rank files.

        >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b"abc"}
        >>> Tokenizer(vocab, [(b"a", b"b")], rule="ranks").unbuildable_ids
        [257]
        """
        built = set(self._byte_ids) | set(self._merged)
        return sorted(i for i in self._regular.values() if i not in built)

    # -- encoding ------------------------------------------------------------------------------------------------
    def _bpe(self, piece: bytes) -> tuple[int, ...]:
        # The piece function, built once with the tokenizer (the tokenizer.json pipeline calls this per piece).
        return self._piece_ids_of(piece)

    def _new_cache(self) -> BytePieceCache[tuple[int, ...]]:
        """A piece cache (piece -> ids) whose misses run BPE on the piece's UTF-8."""
        self._piece_ids_of = self._piece_function()
        return BytePieceCache(self._piece_ids_of)

    def _piece_function(self) -> Callable[[bytes], tuple[int, ...]]:
        """The ids of one piece, as a function holding only the tables it reads.

        A function rather than a method, so the cache holds no reference back to the tokenizer: a tokenizer nobody
        uses any more (a closed session's 600 MB upload) is then freed at once instead of waiting for the cycle
        collector."""
        whole = self._whole.get
        if self.rule == "ranks":
            regular = self._regular
            rank_of = regular.__getitem__

            def by_ranks(piece: bytes) -> tuple[int, ...]:
                found = whole(piece)
                return (found,) if found is not None else tuple(map(rank_of, encode_ranks(piece, regular)))

            return by_ranks
        byte_id = self._byte_ids.__getitem__
        ranks, merged = self._ranks, self._merged

        def by_merges(piece: bytes) -> tuple[int, ...]:
            found = whole(piece)
            # the encoder's loop (no steps, no limit): this runs once per distinct piece.
            return (found,) if found is not None else tuple(encode_pairs(list(map(byte_id, piece)), ranks, merged))

        return by_merges

    def merge_path(self, piece: bytes, *, n_merges: int | None = None) -> tuple[list[int], list[int]]:
        """Pure merge application to one pre-token: its final ids and the ranks of the merges applied, in order.

        Only merges of rank < ``n_merges`` are used (all by default), which is how the tokenizer of a smaller
        vocabulary would cut the piece. Unlike :meth:`encode` this never takes the whole-token shortcut, and it
        always follows the merge list, whatever :attr:`rule` is (the views replay merges). O(n log n) in the length.

        >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"he", 257: b"hel"}
        >>> Tokenizer(vocab, [(b"h", b"e"), (b"he", b"l")]).merge_path(b"help")
        ([257, 112], [0, 1])
        """
        ids = list(map(self._byte_ids.__getitem__, piece))
        limit = NO_RANK if n_merges is None else n_merges
        return merge_by_pairs(ids, self._ranks, self._merged, limit=limit)

    def encode(
        self,
        text: str,
        *,
        allowed_special: Literal["all"] | AbstractSet[str] = frozenset(),
        disallowed_special: Literal["all"] | Collection[str] = "all",
    ) -> list[int]:
        """Token ids of ``text``, with tiktoken's keywords and tiktoken's defaults.

        A special token in ``allowed_special`` (``"all"``: every one) becomes its single id; one in
        ``disallowed_special`` (``"all"``, the default: every special not allowed) makes encoding raise ValueError,
        so a special token typed into ordinary text is never silently taken for the control token; one that is
        neither is encoded as ordinary text (:meth:`encode_ordinary` reads every special token so). Lone surrogates,
        which UTF-8 cannot hold, are first replaced by U+FFFD (and surrogate pairs joined), as tiktoken does
        (:func:`repair_surrogates`).

        >>> tok = Tokenizer({i: bytes([i]) for i in range(256)}, [], special_tokens=["<s>"])
        >>> tok.encode("hi"), tok.encode("hi<s>", allowed_special="all"), tok.encode("hi<s>", disallowed_special=())
        ([104, 105], [104, 105, 256], [104, 105, 60, 115, 62])
        >>> tok.encode("hi<s>")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: The text holds '<s>', a disallowed special token. ...
        """
        if not isinstance(text, str):
            raise ValueError(f"encode expects str, got {type(text).__name__}; decode bytes as UTF-8 first.")
        if allowed_special == "all" and not disallowed_special:
            pt = self.pretokenizer  # every special token is its one id
        else:
            pt = self._pretokenizer_allowing(allowed_special, disallowed_special, text)
        try:
            return self._encode_with(text, pt)
        except UnicodeEncodeError:
            # Only text with lone surrogates gets here, so ordinary text pays nothing for the check.
            return self._encode_with(repair_surrogates(text), pt)

    def encode_ordinary(self, text: str) -> list[int]:
        """Token ids of ``text`` with special tokens read as ordinary text, as tiktoken's ``encode_ordinary``.

        >>> Tokenizer({i: bytes([i]) for i in range(256)}, [], special_tokens=["<s>"]).encode_ordinary("<s>")
        [60, 115, 62]
        """
        return self.encode(text, allowed_special=frozenset(), disallowed_special=())

    def _pretokenizer_allowing(
        self,
        allowed_special: Literal["all"] | AbstractSet[str],
        disallowed_special: Literal["all"] | Collection[str],
        text: str,
    ) -> PreTokenizer:
        """The pre-tokenizer that splits off only the allowed specials; raises if a disallowed one is in ``text``."""
        specials = frozenset(self._special_ids)
        allowed = specials if allowed_special == "all" else _str_set(allowed_special, "allowed_special") & specials
        disallowed = specials - allowed if disallowed_special == "all" else _str_set(
            disallowed_special, "disallowed_special")
        if disallowed:
            every = self.pretokenizer.special_re if disallowed == specials else None  # compiled once, reused
            found = every.search(text) if every is not None else _search_specials(disallowed, text)
            if found is not None:
                t = found.group()
                raise ValueError(
                    f"The text holds {t!r}, a disallowed special token. To encode it as the special token, pass it "
                    f"in allowed_special (e.g. allowed_special={{{t!r}}}); to encode it as ordinary text, leave it "
                    f"out of disallowed_special (disallowed_special=() disables the check for every special token)."
                )
        if allowed == specials:
            return self.pretokenizer
        pt = self._allowing.get(allowed)
        if pt is None:
            if len(self._allowing) >= 64:
                self._allowing.clear()
            ordered = sorted(allowed)
            pt = replace(self.pretokenizer, special_tokens=tuple(ordered), special_re=compile_special(ordered))
            self._allowing[allowed] = pt
        return pt

    def _encode_with(self, text: str, pt: PreTokenizer) -> list[int]:
        lookup = self._cache.__getitem__
        engine = self.engine  # ids of the text between specials from the engine, unless it declines the text
        if not pt.special_tokens:
            ids = None if engine is None else engine.encode_ordinary(text)
            return ids if ids is not None else list(chain.from_iterable(map(lookup, pt.findall(text))))
        segments = list(pt.segments(text))
        stretches = [seg for seg, is_special in segments if not is_special]
        by_engine = iter([None] * len(stretches) if engine is None else encode_stretches(engine, stretches))
        out: list[int] = []
        for seg, is_special in segments:
            if is_special:
                out.append(self._special_ids[seg])
            else:
                ids = next(by_engine)
                out.extend(ids if ids is not None else chain.from_iterable(map(lookup, pt.findall(seg))))
        return out

    def encode_iterable(self, chunks: Iterable[str], *, chunk_chars: int = 1 << 16) -> Iterator[int]:
        """Stream ids for an iterable of text chunks (e.g. an open file) with bounded memory; every special token
        is its one id (a corpus's ``<|endoftext|>`` separators), as ``encode(..., allowed_special="all")``.

        Chunks are re-cut at safe positions, so the ids equal ``encode("".join(chunks))`` whatever the boundaries;
        lone surrogates are repaired as :meth:`encode` repairs them, across chunk boundaries too.

        >>> tok = Tokenizer({i: bytes([i]) for i in range(256)}, [])
        >>> list(tok.encode_iterable(["a\\ud83d", "\\ude43\\udc80"])) == tok.encode("a\\U0001f643\\ufffd")
        True
        """
        for ids in self.encode_batches(chunks, chunk_chars=chunk_chars):
            yield from ids

    def encode_batches(self, chunks: Iterable[str], *, chunk_chars: int = 1 << 16) -> Iterator[list[int]]:
        """:meth:`encode_iterable`'s ids a list per re-cut chunk (about ``chunk_chars`` characters): for a consumer
        that takes ids in bulk (a corpus written to disk, a file's token count), which one generator step per id
        would slow down more than the encoding itself.

        >>> tok = Tokenizer({i: bytes([i]) for i in range(256)}, [])
        >>> list(tok.encode_batches(["ab", "c"]))
        [[97, 98, 99]]
        """
        for chunk in chunk_text(repaired_stream(chunks), self.pretokenizer, target=chunk_chars):
            yield self.encode(chunk, allowed_special="all")

    def encode_with_offsets(self, text: str) -> Encoding:
        """Ids with each token's bytes, byte span and character span (see :class:`tokviz.core.encoding.Encoding`);
        every special token is its one id, marked special, as the views draw it.

        >>> enc = Tokenizer({i: bytes([i]) for i in range(256)}, []).encode_with_offsets("é!")
        >>> enc.char_spans, enc.partial
        ([(0, 1), (0, 1), (1, 2)], [True, True, False])
        """
        if not isinstance(text, str):
            raise ValueError(f"encode_with_offsets expects str, got {type(text).__name__}.")
        fine = not has_surrogates(text)
        # Lone surrogates are repaired as encode repairs them; spans still index ``text`` (a joined surrogate pair
        # is one character of the repaired text but two of ``text``), while pieces hold the repaired characters.
        repaired = text if fine else repair_surrogates(text)
        enc = self._offsets_by_engine(repaired)
        if enc is None:
            enc = encoding_from_pieces(self.pretokenizer.split(repaired), self._piece_ids, self.vocab)
        if len(repaired) == len(text):
            return enc
        at = original_positions(text)
        return replace(
            enc,
            char_spans=[(at[a], at[b]) for a, b in enc.char_spans],
            pieces=[replace(p, start=at[p.start], end=at[p.end]) for p in enc.pieces],
        )

    @cached_property
    def _byte_tables(self) -> ByteTables:
        return ByteTables.of(self.vocab)

    def prepare_offsets(self) -> None:
        """Make the tables that offsets from an engine's ids read (once per tokenizer): an engine's build calls
        this, so a user's first long text does not wait for them."""
        _ = self._byte_tables.arrays

    def _offsets_by_engine(self, text: str) -> Encoding | None:
        """The encoding of ``text`` from the engine's ids (None without an engine, or when it declines a stretch):
        spans and partial marks follow from the tokens' bytes (:func:`~tokviz.core.id_offsets.encoding_from_ids`),
        and the pieces are cut only when a view reads them."""
        engine = self.engine
        if engine is None:
            return None
        pt = self.pretokenizer
        segments = list(pt.segments(text))
        by_engine = encode_stretches(engine, [seg for seg, is_special in segments if not is_special])
        if None in by_engine:
            return None
        stretches = iter(by_engine)
        ids: list[int] = []
        special: list[bool] = []
        for seg, is_special in segments:
            if is_special:
                ids.append(self._special_ids[seg])
                special.append(True)
                continue
            seg_ids = next(stretches)
            assert seg_ids is not None
            ids += seg_ids
            special += [False] * len(seg_ids)
        return encoding_from_ids(ids, self.vocab, self._byte_tables, ascii_text=text.isascii(), special=special,
                                 pieces=LazyPieces(partial(pt.split, text)))

    def _piece_ids(self, piece: Piece) -> Sequence[int]:
        if piece.special:
            return (self._special_ids[piece.text],)
        return self._cache[piece.text]

    # -- decoding ------------------------------------------------------------------------------------------------
    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The raw bytes of ``ids`` concatenated; raises ValueError naming an unknown id."""
        return join_token_bytes(self.vocab, ids)

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``; bytes that do not form whole characters become U+FFFD, never an exception."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    # -- sizes -----------------------------------------------------------------------------------------------------
    def prefix(self, vocab_size: int) -> Tokenizer:
        """The tokenizer of a smaller vocabulary: the specials, the 256 bytes and the first merges; ids are kept.

        Because merges are learned in order, this equals training at that size directly.
        """
        base = 256 + len(self.special_tokens or [])
        if not isinstance(vocab_size, int) or vocab_size < base:
            raise ValueError(f"vocab_size must be an integer >= {base} (256 bytes + special tokens), got {vocab_size}.")
        k = min(vocab_size - base, len(self.merges))
        keep = set(self._byte_ids) | set(self._special_ids.values()) | set(self._merged[:k])
        vocab = {i: t for i, t in self.vocab.items() if i in keep}
        return Tokenizer(vocab, self.merges[:k], list(self.special_tokens or []), self.pattern,
                         name=f"{self.name}@{base + k}", rule=self.rule)


def _search_specials(specials: AbstractSet[str], text: str) -> Any:
    """The first match in ``text`` of any of ``specials`` (longest first where two overlap), or None."""
    special_re = compile_special(sorted(specials))
    return None if special_re is None else special_re.search(text)


def _str_set(value: object, keyword: str) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f'{keyword} must be "all" or a set of special tokens, e.g. {{"<|endoftext|>"}}; '
                         f"got {value!r:.80}.")
    items = frozenset(value)
    bad = next((s for s in items if not isinstance(s, str)), None)
    if bad is not None:
        raise ValueError(f"{keyword} must hold special tokens as str, got {bad!r:.80}.")
    return items


def encoding_from_pieces(
    pieces: Sequence[Piece], piece_ids: Any, vocab: Mapping[int, bytes]
) -> Encoding:
    """Build an :class:`Encoding` from pre-token pieces and a function giving each piece's ids.

    Shared by every tokenizer with byte tokens, so offsets are computed one way everywhere.
    """
    ids: list[int] = []
    tokens: list[bytes] = []
    byte_spans: list[tuple[int, int]] = []
    char_spans: list[tuple[int, int]] = []
    partial: list[bool] = []
    special: list[bool] = []
    byte_pos = 0
    for piece in pieces:
        pids = piece_ids(piece)
        if piece.text.isascii():
            # one byte per character: spans coincide
            off = byte_pos - piece.start
            for i in pids:
                t = vocab[i]
                s = byte_pos
                byte_pos += len(t)
                ids.append(i)
                tokens.append(t)
                byte_spans.append((s, byte_pos))
                char_spans.append((s - off, byte_pos - off))
                partial.append(False)
                special.append(piece.special)
            continue
        # byte offset (within the piece) where each character starts, plus the end
        starts = [0]
        for ch in piece.text:
            starts.append(starts[-1] + len(ch.encode("utf-8")))
        char_of = {}
        for ci in range(len(piece.text)):
            for b in range(starts[ci], starts[ci + 1]):
                char_of[b] = ci
        local = 0
        for i in pids:
            t = vocab[i]
            s, e = local, local + len(t)
            c0, c1 = char_of[s], char_of[e - 1] + 1
            ids.append(i)
            tokens.append(t)
            byte_spans.append((byte_pos + s, byte_pos + e))
            char_spans.append((piece.start + c0, piece.start + c1))
            partial.append(starts[c0] != s or starts[c1] != e)
            special.append(piece.special)
            local = e
        byte_pos += local
    return Encoding(ids, tokens, byte_spans, char_spans, partial, list(pieces), special)


def _encoder_of(vocab: Mapping[int, bytes]) -> dict[bytes, int]:
    """bytes -> id, the first id of a token given twice; ValueError for an entry that is not int -> bytes.

    Built by C-level calls when every entry is plainly typed and no token repeats (every real file: 200k entries in
    tens of milliseconds), else entry by entry.
    """
    if set(map(type, vocab)) <= {int} and set(map(type, vocab.values())) <= {bytes}:
        encoder = dict(zip(vocab.values(), vocab))
        if len(encoder) == len(vocab):
            return encoder
    encoder = {}
    for i, tok in vocab.items():
        if not isinstance(i, int) or not isinstance(tok, (bytes, bytearray)):
            raise ValueError(f"vocab must map int ids to bytes; got {i!r}: {type(tok).__name__}.")
        encoder.setdefault(bytes(tok), i)
    return encoder
