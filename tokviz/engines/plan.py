"""Whether a rank engine (tiktoken's algorithm) gives a byte-level BPE tokenizer's ids, decided per tokenizer.

A rank engine splits text with a regex, then merges, inside each piece, the adjacent pair whose concatenation is the
token of lowest rank. It is given the tokenizer's regular tokens with their ids as ranks. That is this tokenizer's
own rule when:

- the pattern is one of the named patterns (GPT-2, cl100k, o200k) or a known rank file's own (Whisper, Llama 3,
  Qwen), which the engines compile as tiktoken does and whose classes the pure engine reads with tiktoken's Unicode
  tables (:mod:`tokviz.pre_tokenizers.unicode_pins`); a custom pattern is never routed (another regex engine may
  read it otherwise);
- ``rule == "ranks"`` (rank files): the rule itself; or ``rule == "merges"`` with a merge list that a BPE trainer
  makes (:func:`merges_as_ranks`): each merge's result has a larger id than the merge before it and than its two
  parts, every regular token longer than a byte is exactly one merge's result, and the merge rule applied to each
  token's own bytes builds that token. Then at every step the pair with the lowest merge rank is the pair whose
  concatenation has the lowest id; the property tests (tests/engines) compare the two on trained tokenizers,
  GPT-2's merges and hypothesis text, and a merge list that breaks the last condition is refused.

Example:
    >>> from tokviz import Tokenizer
    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b"bc", 258: b"abc"}
    >>> rank_plan(Tokenizer(vocab, [(b"a", b"b"), (b"b", b"c"), (b"a", b"bc")])).reason
    "merge (b'a', b'bc') makes b'abc', which the merge rule does not build from its own bytes"
    >>> rank_plan(Tokenizer(vocab, [(b"a", b"b"), (b"b", b"c"), (b"ab", b"c")])).ok
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tokviz.models.bpe import Tokenizer
from tokviz.pre_tokenizers.patterns import RANK_FILE_PATTERNS, resolve_pattern


@dataclass(frozen=True)
class RankPlan:
    """What a rank engine needs (the named pattern's source, ranks = regular tokens' ids), or why it cannot run."""

    ok: bool
    reason: str = ""
    pattern: str = ""
    pattern_name: str = ""
    ranks: dict[bytes, int] = field(default_factory=dict, repr=False, compare=False)


def merges_as_ranks(tok: Tokenizer) -> str:
    """Empty when the merge rule of ``tok`` equals the rank rule over its ids, else the first reason it may not."""
    encoder = tok._encoder
    previous = -1
    for a, b in tok.merges:
        ia, ib, inew = encoder[a], encoder[b], encoder[a + b]
        if inew <= previous or inew <= ia or inew <= ib:
            return f"merge ({a!r}, {b!r}) makes id {inew}, not larger than the merge before it and its parts"
        previous = inew
    merged = tok._merged
    if len(set(merged)) != len(merged):
        return "two merges make the same token"
    longer = {i for t, i in tok._regular.items() if len(t) > 1}
    if longer != set(merged):
        extra = sorted(longer - set(merged))
        return f"{len(extra)} regular tokens are no merge's result (first id {extra[0] if extra else '?'})"
    # merge_path never takes the whole-piece shortcut (both rules take it, so it would prove nothing).
    path = tok.merge_path
    for (a, b), inew in zip(tok.merges, merged):
        if path(a + b)[0] != [inew]:
            return f"merge ({a!r}, {b!r}) makes {a + b!r}, which the merge rule does not build from its own bytes"
    return ""


def rank_plan(tok: Tokenizer) -> RankPlan:
    """The plan for ``tok``: ``ok`` with the pattern and ranks, or ``ok=False`` with the reason (shown to users)."""
    source, name = resolve_pattern(tok.pattern)
    if name is None:
        name = next((n for n, p in RANK_FILE_PATTERNS.items() if p == source), None)
    if name is None:
        return RankPlan(False, "a custom pattern: another regex engine may cut it otherwise")
    if tok.rule == "merges":
        reason = merges_as_ranks(tok)
        if reason:
            return RankPlan(False, reason)
    ranks = dict(tok._regular)
    if len(set(ranks.values())) != len(ranks):
        return RankPlan(False, "two regular tokens share an id")
    return RankPlan(True, "", source, name, ranks)
