"""Summary numbers of a trained tokenizer, the live merge table's rows, and the progress line."""

from __future__ import annotations

import pytest

from tokviz import train_bpe
from tokviz.training.live import JobSnapshot
from tokviz.training.merge_loop import Merge
from tokviz.viewmodels.training_summary import (
    SHOWN_MERGES,
    longest_tokens,
    merge_rows,
    progress_text,
    summarize,
)

CORPUS = "".join(f"the lowest newest widest {i} 你好 🌍\n" for i in range(200))


def test_summary_of_a_run_that_reached_its_size() -> None:
    tok = train_bpe([CORPUS], vocab_size=300, special_tokens=["<|endoftext|>"])
    s = summarize(tok, seconds=1.5, heldout_ratio=3.25, n_longest=5)
    assert (s.vocab_size, s.requested_vocab_size, s.n_merges, s.n_special) == (300, 300, 43, 1)
    assert s.reached and not s.stopped_early and s.seconds == 1.5 and s.heldout_ratio == 3.25
    assert s.name == tok.name and s.counting_seconds == tok.training.counting_seconds
    # the longest tokens really are the longest non-special ones, shown readably
    lengths = sorted((len(b) for i, b in tok.vocab.items() if i != tok.special_ids["<|endoftext|>"]), reverse=True)
    assert [len(t.token) for t in s.longest] == lengths[:5]
    assert all("\ufffd" not in t.label for t in s.longest)
    # the histogram covers the whole vocabulary except the special token
    assert sum(s.lengths.histogram(300).values()) == 299 and s.lengths.kind == "vocabulary"


def test_summary_of_a_run_that_ran_out_of_pairs() -> None:
    tok = train_bpe(["ab ab ab\n" * 20], vocab_size=5000)
    s = summarize(tok, seconds=0.1, heldout_ratio=None)
    assert not s.reached and s.stopped_early and "no pair" in s.message
    assert s.vocab_size == tok.vocab_size < 5000 and s.requested_vocab_size == 5000


def test_longest_tokens_leave_out_specials_and_show_bytes_as_hex() -> None:
    tok = train_bpe(["🌍🌍🌍 " * 30], vocab_size=262, special_tokens=["<|a-very-long-special-token|>"])
    labels = [t.label for t in longest_tokens(tok, n=20)]
    assert "<|a-very-long-special-token|>" not in labels
    assert any(label.startswith("⟨") for label in labels)  # a piece of the emoji, as its bytes


def test_merge_rows_newest_first_and_capped() -> None:
    merges = [Merge(i, b"a" * (i + 1), b"\xf0\x9f", 100 - i) for i in range(SHOWN_MERGES + 50)]
    rows = merge_rows(merges)
    assert len(rows) == SHOWN_MERGES and rows[0]["rank"] == SHOWN_MERGES + 50 and rows[-1]["rank"] == 51
    assert rows[0]["right"] == "⟨f0 9f⟩" and rows[0]["bytes"].endswith("f0 9f")
    assert merge_rows(merges, last=0) == [] and len(merge_rows(merges[:3])) == 3
    assert merge_rows([Merge(0, b" ", b"\n", 7)])[0] == {"rank": 1, "left": "·", "right": "↵", "new token": "·↵",
                                                        "bytes": "20 0a", "count": 7}


@pytest.mark.parametrize(
    ("status", "merges", "fragment"),
    [("starting", 0, "Starting"), ("counting", 0, "Counting pre-tokens: 10 of 20 characters"),
     ("merging", 3, "Merging: 3 of 50 merges"), ("done", 50, "Done: 50 merges"),
     ("cancelled", 3, "Cancelled after 3 merges"), ("error", 0, "Training failed")],
)
def test_progress_text(status: str, merges: int, fragment: str) -> None:
    snap = JobSnapshot(status, tuple(Merge(i, b"a", b"b", 1) for i in range(merges)), 50, 10, 20, 2.0)
    text = progress_text(snap)
    assert text.startswith(fragment) and text.endswith("2.0 s")
