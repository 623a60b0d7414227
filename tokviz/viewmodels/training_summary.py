"""Numbers shown while and after a live training run: the progress line, the table of merges, and the summary.

The summary is what a user wants to know about a fresh vocabulary: how big it got (and whether it fell short of the
request), how long it took, how well it compresses text it did not see (the held-out last tenth of the corpus), its
longest tokens (shown readably: :func:`tokviz.viewmodels.display.token_label`, never "�"), and how many tokens have
each length (a :class:`~tokviz.analysis.sweep.LengthDistribution`, ready for
:func:`tokviz.viewmodels.charts.length_figure`).

Example:
    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=262)
    >>> s = summarize(tok, seconds=0.5, heldout_ratio=2.0, n_longest=2)
    >>> s.vocab_size, s.n_merges, [t.label for t in s.longest]
    (262, 6, ['·lowest', '·lowe'])
    >>> merge_rows([Merge(0, b"o", b"w", 60)])[0]["new token"]
    'ow'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from tokviz.analysis.sweep import LengthDistribution, length_distribution
from tokviz.models.bpe import Tokenizer
from tokviz.training.live import JobSnapshot
from tokviz.training.merge_loop import Merge
from tokviz.viewmodels.display import TokenView, hex_bytes, token_label

#: Merges shown in the live table: the newest ones are what changes; a table of 50,000 rows redrawn twice a second
#: would cost more to send than the training itself.
SHOWN_MERGES = 200


@dataclass(frozen=True)
class TrainingSummary:
    """What a finished (or cancelled) run produced; ``heldout_ratio`` is UTF-8 bytes per token on held-out text."""

    name: str
    requested_vocab_size: int
    vocab_size: int
    n_merges: int
    n_special: int
    seconds: float
    counting_seconds: float
    heldout_ratio: float | None
    stopped_early: bool
    message: str
    longest: tuple[TokenView, ...]
    lengths: LengthDistribution

    @property
    def reached(self) -> bool:
        """True when the run reached the requested vocabulary size."""
        return self.vocab_size >= self.requested_vocab_size


def longest_tokens(tok: Tokenizer, *, n: int = 10) -> tuple[TokenView, ...]:
    """The ``n`` longest learned tokens (by bytes; ties by id, earlier first), special tokens left out.

    >>> from tokviz import train_bpe
    >>> [t.label for t in longest_tokens(train_bpe(["aaaa " * 9], vocab_size=259), n=2)]
    ['·aaaa', 'aaaa']
    """
    specials = set(tok.special_ids.values())
    ranked = sorted(((i, b) for i, b in tok.vocab.items() if i not in specials), key=lambda ib: (-len(ib[1]), ib[0]))
    return tuple(TokenView.of(i, b) for i, b in ranked[:n])


def summarize(tok: Tokenizer, *, seconds: float, heldout_ratio: float | None, n_longest: int = 10) -> TrainingSummary:
    """The summary of a trained tokenizer; ``seconds`` is the wall time the user waited (the run's own report
    gives the counting share)."""
    report = tok.training
    n_special = len(tok.special_tokens or [])
    return TrainingSummary(
        name=tok.name,
        requested_vocab_size=report.requested_vocab_size if report else tok.vocab_size,
        vocab_size=tok.vocab_size,
        n_merges=len(tok.merges),
        n_special=n_special,
        seconds=seconds,
        counting_seconds=report.counting_seconds if report else 0.0,
        heldout_ratio=heldout_ratio,
        stopped_early=bool(report and report.stopped_early),
        message=report.message if report else "",
        longest=longest_tokens(tok, n=n_longest),
        lengths=length_distribution(tok, [tok.vocab_size]),
    )


def merge_rows(merges: Sequence[Merge], *, last: int = SHOWN_MERGES) -> list[dict[str, object]]:
    """Rows for the live table: the newest ``last`` merges first, each with readable labels and the new token's
    bytes in hex (1-based ranks, as a user counts them).

    >>> [r["rank"] for r in merge_rows([Merge(0, b"a", b"b", 5), Merge(1, b"ab", b"c", 3)])]
    [2, 1]
    """
    shown = merges[-last:] if last > 0 else merges[:0]
    return [
        {"rank": m.rank + 1, "left": token_label(m.left), "right": token_label(m.right),
         "new token": token_label(m.token), "bytes": hex_bytes(m.token), "count": m.count}
        for m in reversed(shown)
    ]


def progress_text(snap: JobSnapshot) -> str:
    """One line for the progress bar: the phase, how far it is, and the time so far.

    >>> progress_text(JobSnapshot("counting", (), 100, 2_500_000, 5_000_000, 1.25))
    'Counting pre-tokens: 2,500,000 of 5,000,000 characters · 1.2 s'
    """
    t = f" · {snap.seconds:.1f} s"
    if snap.status == "starting":
        return "Starting the training process…" + t
    if snap.status == "counting":
        return f"Counting pre-tokens: {snap.chars_counted:,} of {snap.total_chars:,} characters" + t
    if snap.status == "merging" and snap.n_target_merges and len(snap.merges) >= snap.n_target_merges:
        return f"Finishing: {len(snap.merges):,} merges learned, building the tokenizer" + t
    if snap.status == "merging":
        return f"Merging: {len(snap.merges):,} of {snap.n_target_merges:,} merges" + t
    if snap.status == "done":
        return f"Done: {len(snap.merges):,} merges" + t
    if snap.status == "cancelled":
        return f"Cancelled after {len(snap.merges):,} merges" + t
    return "Training failed" + t


@dataclass
class TrainedRun:
    """A finished training run as the Train page keeps it: the tokenizer and what it was trained on, its summary,
    and two things made on first use (the replay steps looked at, the download files).

    ``counts`` are the pre-token counts the merges were learned from (None when the run did not keep them): merge
    replay needs them. ``texts`` is the corpus the replay samples lines from; ``texts_kept`` is False for a run
    brought back from the server without it (too big to keep, or dropped since): then ``texts`` is empty.
    ``replay`` maps a step to what the page drew for it; ``downloads`` is None until the Download tab is first
    opened, then a tuple of files or failures (see :mod:`tokviz.viewmodels.export`).
    """

    id: int
    tokenizer: Tokenizer
    counts: Counter[str] | None
    merges: tuple[Merge, ...]
    summary: TrainingSummary
    texts: tuple[str, ...]
    described: str
    texts_kept: bool = True
    replay: dict[int, tuple[object, str]] = field(default_factory=dict)
    downloads: tuple[object, ...] | None = None
