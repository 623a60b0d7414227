"""Merge replay agrees with the trainer at every step: the top candidate is the learned merge, with its count."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokviz.analysis.replay import candidates_at, step_effect
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.training.trainer import count_corpus, train_from_counts


@pytest.fixture(scope="module")
def run(cs336_dir: Path):
    counts = count_corpus(cs336_dir / "corpus.en", special_tokens=["<|endoftext|>"])
    tok = train_from_counts(counts, vocab_size=330, special_tokens=["<|endoftext|>"])
    return tok, counts


@pytest.mark.slow
def test_every_other_step_replays_the_trainers_choice(run) -> None:
    tok, counts = run
    assert tok.training is not None
    for step in range(0, len(tok.merges), 2):
        r = candidates_at(tok, counts, step=step, top=5)
        assert r.candidates[0].chosen, f"step {step}: top candidate is not the learned merge"
        assert (r.candidates[0].left, r.candidates[0].right) == tok.merges[step]
        assert r.candidates[0].count == tok.training.merge_counts[step]
        assert [c.count for c in r.candidates] == sorted((c.count for c in r.candidates), reverse=True)


@pytest.mark.slow
def test_ties_are_marked_and_explained(run) -> None:
    tok, counts = run
    # corpus.en's first tie comes early (HF's tie rule departs from CS336's at merge 31)
    tied_steps = [s for s in range(40) if candidates_at(tok, counts, step=s).n_tied > 1]
    assert tied_steps, "corpus.en has tied steps in its first merges"
    r = candidates_at(tok, counts, step=tied_steps[0])
    tied = [c for c in r.candidates if c.tied]
    assert len(tied) >= 2 and tied[0].chosen
    assert max((c.left, c.right) for c in tied) == (tied[0].left, tied[0].right)
    assert "tie rule" in r.tie_note


def test_step_effect_shows_the_merge_on_a_sample(run) -> None:
    tok, _ = run
    effect = step_effect(tok, "the cat to the hat", step=0)  # merge 0 of corpus.en is (' ', 't')
    assert tok.merges[0] == (b" ", b"t")
    assert effect.n_merged == 2  # ' to' and ' the' each lost a token; the first 'the' has no space
    assert [t for t, c in zip(effect.after.tokens, effect.changed) if c] == [b" t", b" t"]
    assert b"".join(effect.after.tokens) == b"the cat to the hat"


def test_step_out_of_range(run) -> None:
    tok, counts = run
    with pytest.raises(ValueError, match="step must be in 0.."):
        candidates_at(tok, counts, step=len(tok.merges))
    assert PreTokenizer.create("gpt2")  # the module's imports stay light
