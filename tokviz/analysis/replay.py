"""Merge replay: what the trainer saw at one step, and what that step did to a sample text.

At step k (0-based) the corpus is cut by the first k merges; the pair counts at that moment are the candidates the
trainer chose from. Replaying needs only the pre-token counts of the run (each distinct pre-token cut once with
:meth:`~tokviz.models.bpe.Tokenizer.merge_path`), never a new training run. Ties are marked: all pairs with the top
count tie, and the CS336 rule takes the lexicographically greatest pair of byte strings.

Example:
    >>> from collections import Counter
    >>> from tokviz.training.trainer import train_from_counts
    >>> counts = Counter({"ab": 3, "ba": 3})
    >>> tok = train_from_counts(counts, vocab_size=258)
    >>> step = candidates_at(tok, counts, step=0)
    >>> [(c.left, c.right, c.count, c.tied, c.chosen) for c in step.candidates]
    [(b'b', b'a', 3, True, True), (b'a', b'b', 3, True, False)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from tokviz.core.encoding import Encoding
from tokviz.models.bpe import Tokenizer


@dataclass(frozen=True)
class Candidate:
    """One adjacent pair in the corpus at a step, with its count; ``chosen`` marks the pair the step merged."""

    left: bytes
    right: bytes
    count: int
    tied: bool
    chosen: bool


@dataclass(frozen=True)
class ReplayStep:
    """The top candidate pairs before merge ``step``, and the merge the run learned there."""

    step: int
    merge: tuple[bytes, bytes]
    candidates: list[Candidate]
    n_tied: int

    @property
    def tie_note(self) -> str:
        """A sentence on how the winner was picked."""
        if self.n_tied <= 1:
            return "The chosen pair was the single most frequent one."
        return (f"{self.n_tied} pairs tied on the top count; the tie rule took the lexicographically greatest pair "
                "of byte strings.")


def candidates_at(tok: Tokenizer, counts: Mapping[str, int], *, step: int, top: int = 10) -> ReplayStep:
    """Pair counts before merge ``step`` (0-based), best first by (count, pair) as the trainer ranks them.

    ``counts`` are the run's pre-token counts (keys: UTF-8 bytes as latin-1 ``str``, as the trainer counts them).
    """
    if not 0 <= step < len(tok.merges):
        raise ValueError(f"step must be in 0..{len(tok.merges) - 1} (the run learned {len(tok.merges)} merges).")
    pairs: Counter[tuple[int, int]] = Counter()
    for word, c in counts.items():
        ids = tok.merge_path(word.encode("latin-1"), n_merges=step)[0]
        for p in zip(ids, ids[1:]):
            pairs[p] += c
    vocab = tok.vocab
    ranked = sorted(((c, vocab[a], vocab[b]) for (a, b), c in pairs.items()), reverse=True)
    if not ranked:
        raise ValueError("No adjacent pairs are left in the corpus at this step.")
    best = ranked[0][0]
    n_tied = sum(1 for c, _, _ in ranked if c == best)
    merge = tok.merges[step]
    cands = [Candidate(a, b, c, c == best and n_tied > 1, (a, b) == merge) for c, a, b in ranked[:top]]
    return ReplayStep(step, merge, cands, n_tied)


@dataclass(frozen=True)
class StepEffect:
    """A sample text cut before and after one merge; ``changed[i]`` is True for tokens of ``after`` that are new."""

    before: Encoding
    after: Encoding
    changed: list[bool]

    @property
    def n_merged(self) -> int:
        """How many tokens the step removed from the sample."""
        return len(self.before) - len(self.after)


def step_effect(tok: Tokenizer, text: str, *, step: int) -> StepEffect:
    """How merge ``step`` changes the tokens of ``text`` (sizes ``base + step`` and ``base + step + 1``)."""
    from tokviz.analysis.sweep import changed_tokens

    base = 256 + len(tok.special_tokens or [])
    before = tok.prefix(base + step).encode_with_offsets(text)
    after = tok.prefix(base + step + 1).encode_with_offsets(text)
    return StepEffect(before, after, changed_tokens(before, after))
