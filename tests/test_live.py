"""Live training in a child process: snapshots, merges in order, cancel, errors, equality with train_bpe."""

from __future__ import annotations

import time

import pytest

from tokviz import train_bpe
from tokviz.live import TrainingJob, TrainSpec
from tokviz.sweep import split_holdout

TEXT = "".join(f"line {i}: the quick brown fox jumps over the lazy dog {i * 7919 % 1000}\n" for i in range(3000))


def test_job_learns_the_same_merges_as_train_bpe() -> None:
    job = TrainingJob.start(TrainSpec(texts=(TEXT,), vocab_size=400, special_tokens=("<|endoftext|>",)))
    snap = job.wait(timeout=120)
    assert snap.status == "done", snap.message
    train, heldout = split_holdout(TEXT, fraction=0.1)
    direct = train_bpe([train], vocab_size=400, special_tokens=["<|endoftext|>"])
    assert snap.tokenizer is not None and snap.tokenizer.merges == direct.merges
    assert [(m.left, m.right) for m in snap.merges] == direct.merges
    assert [m.rank for m in snap.merges] == list(range(len(direct.merges)))
    assert snap.heldout_ratio == pytest.approx(len(heldout.encode()) / len(direct.encode(heldout)))
    assert snap.counts is not None and sum(snap.counts.values()) == direct.training.n_pretokens
    assert snap.fraction == 1.0


def test_cancel_keeps_what_was_learned() -> None:
    big = TEXT * 20  # ~1.8 MB: long enough to cancel mid-run
    job = TrainingJob.start(TrainSpec(texts=(big,), vocab_size=50_000), interval=0.02)
    deadline = time.perf_counter() + 60
    while job.poll().status in ("starting", "counting") and time.perf_counter() < deadline:
        time.sleep(0.01)
    job.cancel()
    snap = job.wait(timeout=60)
    assert snap.status == "cancelled"
    if snap.tokenizer is not None:  # cancelled while merging: the merges so far are a usable tokenizer
        assert snap.tokenizer.vocab_size < 50_000
        assert len(snap.tokenizer.merges) == len(snap.merges)
        assert "Cancelled" in snap.message


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (TrainSpec(texts=("abc",), vocab_size=100), "at least 256"),
        (TrainSpec(texts=("abc",), vocab_size=300, pattern="(unclosed"), "does not compile"),
        (TrainSpec(texts=("  \n",), vocab_size=300), "empty"),
    ],
)
def test_bad_specs_are_refused_before_starting(spec: TrainSpec, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        TrainingJob.start(spec)


def test_corpus_that_runs_out_of_pairs_stops_early_with_a_message() -> None:
    snap = TrainingJob.start(TrainSpec(texts=("ab ab ab\n" * 20,), vocab_size=5000)).wait(timeout=60)
    assert snap.status == "done"
    assert snap.tokenizer is not None and snap.tokenizer.vocab_size < 5000
    assert "no pair" in snap.message


@pytest.mark.slow
def test_regex_timeout_during_training_is_an_error_snapshot() -> None:
    # Passes validation (its probes hold no long run of 'x'), then backtracks catastrophically on the corpus.
    spec = TrainSpec(texts=("x" * 60 + "\n" + "y\n" * 5,), vocab_size=300, pattern=r"(x|x)+y|.|\n")
    snap = TrainingJob.start(spec).wait(timeout=120)
    assert snap.status == "error"
    assert "catastrophic" in snap.message


def test_poll_can_wait_for_the_finish_and_returns_as_it_arrives() -> None:
    job = TrainingJob.start(TrainSpec(texts=(TEXT,), vocab_size=300))
    first = job.poll(finish_within=0.01)  # a fresh interpreter cannot have trained yet: the window just runs out
    assert not first.finished
    t0 = time.perf_counter()
    snap = job.poll(finish_within=60)
    waited = time.perf_counter() - t0
    assert snap.status == "done" and snap.tokenizer is not None
    assert waited < 30  # returned when the result came, far before the 60 s window closed
    assert job.poll(finish_within=5) is snap  # a finished job answers at once, unchanged


def test_a_prewarmed_process_takes_the_next_run() -> None:
    from tokviz import live

    live.prewarm()
    spare = live._spare
    assert spare is not None and spare.poll() is None  # started, waiting for a spec
    job = TrainingJob.start(TrainSpec(texts=(TEXT,), vocab_size=300))
    assert job._process is spare and live._spare is None  # handed out once
    snap = job.wait(timeout=60)
    assert snap.status == "done" and snap.tokenizer is not None
    train, _ = split_holdout(TEXT, fraction=0.1)
    assert snap.tokenizer.merges == train_bpe([train], vocab_size=300).merges
    # A spare that died is not handed out: the next run starts a fresh process.
    live.prewarm()
    dead = live._spare
    dead.kill()
    dead.communicate()
    other = TrainingJob.start(TrainSpec(texts=(TEXT,), vocab_size=280))
    assert other._process is not dead and other.wait(timeout=60).status == "done"


def test_a_spare_that_died_unnoticed_is_replaced_by_a_fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from tokviz import live

    live.prewarm()
    dead = live._spare
    dead.kill()
    dead.wait()
    # poll() already says it exited; pretend it had not, as when it dies between the check and the write
    monkeypatch.setattr(live, "_take_spare", lambda: dead)
    job = TrainingJob.start(TrainSpec(texts=(TEXT,), vocab_size=280))
    assert job._process is not dead and job.wait(timeout=60).status == "done"
