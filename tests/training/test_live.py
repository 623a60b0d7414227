"""Live training in a child process: snapshots, merges in order, cancel, errors, equality with train_bpe."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import random_words

from tokviz import train_bpe
from tokviz.training.holdout import split_holdout
from tokviz.training.live import JobSnapshot, TrainingJob, TrainSpec

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow

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


def test_progress_never_goes_back_through_a_real_run() -> None:
    job = TrainingJob.start(TrainSpec(texts=(TEXT * 10,), vocab_size=1_000), interval=0.02)
    snaps = [job.poll()]
    deadline = time.monotonic() + 120
    while not snaps[-1].finished and time.monotonic() < deadline:
        snaps.append(job.poll(finish_within=0.01))
    assert snaps[-1].status == "done", snaps[-1].message
    fractions = [s.fraction for s in snaps]
    assert fractions == sorted(fractions), [(s.status, f) for s, f in zip(snaps, fractions)]
    assert snaps[0].status == "starting" and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert {"counting", "merging"} & {s.status for s in snaps}  # the polls saw the run between start and end


@pytest.mark.parametrize("counted", [0, 1, 50])
def test_starting_counts_as_nothing_done_so_counting_does_not_move_the_bar_back(counted: int) -> None:
    starting = JobSnapshot("starting", (), 100, 0, 100, 0.1)
    counting = JobSnapshot("counting", (), 100, counted, 100, 0.2)
    merging = JobSnapshot("merging", (), 100, 90, 100, 0.3)
    assert starting.fraction <= counting.fraction <= merging.fraction


def test_cancel_keeps_what_was_learned() -> None:
    # Made-up words keep the merge loop busy for seconds; a repetitive text runs out of pairs so soon that the
    # cancel could arrive after the run had finished.
    job = TrainingJob.start(TrainSpec(texts=(random_words(20_000),), vocab_size=50_000), interval=0.02)
    deadline = time.perf_counter() + 60
    while job.poll().status in ("starting", "counting"):
        assert time.perf_counter() < deadline, "the run did not reach its merges within 60 s"
        time.sleep(0.01)
    job.cancel()
    snap = job.wait(timeout=60)
    assert snap.status == "cancelled"
    # Cancelled while merging: the merges so far are a usable tokenizer.
    assert snap.tokenizer is not None and 256 <= snap.tokenizer.vocab_size < 50_000
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
    assert waited < 60  # returned when the result came, not when the 60 s window closed (what is tested)
    assert job.poll(finish_within=5) is snap  # a finished job answers at once, unchanged


def test_a_prewarmed_process_takes_the_next_run() -> None:
    from tokviz.training import live

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
    from tokviz.training import live

    live.prewarm()
    dead = live._spare
    dead.kill()
    dead.wait()
    # poll() already says it exited; pretend it had not, as when it dies between the check and the write
    monkeypatch.setattr(live, "_take_spare", lambda: dead)
    job = TrainingJob.start(TrainSpec(texts=(TEXT,), vocab_size=280))
    assert job._process is not dead and job.wait(timeout=60).status == "done"


# -- faults: a process killed at any phase ends the run cleanly ---------------------------------------------------
def _children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (from /proc; zombies, already dead, are left out)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


def _wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


def _until_finished(job: TrainingJob, *, timeout: float) -> JobSnapshot:
    deadline = time.monotonic() + timeout
    snap = job.poll()
    while not snap.finished:
        if time.monotonic() > deadline:
            pytest.fail(f"the run did not finish within {timeout:g} s after the kill; it shows {snap.status!r}")
        snap = job.poll(finish_within=0.1)
    return snap


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux) to see processes")
BIG = TEXT * 60  # ~5 MB: counted by two worker processes, for long enough to kill one of them


@needs_proc
def test_a_run_whose_process_is_killed_while_counting_ends_with_an_error_and_leaves_no_process() -> None:
    job = TrainingJob.start(TrainSpec(texts=(BIG,), vocab_size=300), interval=0.02)
    pid = job._process.pid
    _wait_for(lambda: len(_children(pid)) >= 2, timeout=120, what="the counting workers to start")
    workers = _children(pid)
    assert job.poll().status in ("starting", "counting")
    os.kill(pid, signal.SIGKILL)  # as the out-of-memory killer would
    snap = _until_finished(job, timeout=30)
    assert snap.status == "error"
    assert "ended unexpectedly" in snap.message and "signal 9" in snap.message and "counting" in snap.message
    _wait_for(lambda: not any(map(_alive, workers)), timeout=30, what="the counting workers to exit")
    assert TrainingJob.start(TrainSpec(texts=(TEXT,), vocab_size=300)).wait(timeout=120).status == "done"


@needs_proc
def test_a_run_whose_process_is_killed_while_merging_ends_with_an_error() -> None:
    # A repetitive text runs out of pairs within a few hundred milliseconds, so the kill could land after
    # the run had finished; this one keeps merging for seconds after its first merge arrives.
    job = TrainingJob.start(TrainSpec(texts=(random_words(20_000),), vocab_size=60_000), interval=0.02)
    deadline = time.monotonic() + 120
    while not job.poll().merges:
        assert time.monotonic() < deadline, "no merge arrived within 120 s"
        time.sleep(0.01)
    assert job.poll().status == "merging"
    os.kill(job._process.pid, signal.SIGKILL)
    snap = _until_finished(job, timeout=30)
    assert snap.status == "error"
    assert "ended unexpectedly" in snap.message and "merging" in snap.message
    assert snap.merges  # the merges that had arrived are still shown
    assert not _alive(job._process.pid)
    assert TrainingJob.start(TrainSpec(texts=(TEXT,), vocab_size=300)).wait(timeout=120).status == "done"


@needs_proc
def test_a_killed_counting_worker_ends_the_run_with_an_error_and_leaves_no_process() -> None:
    job = TrainingJob.start(TrainSpec(texts=(BIG,), vocab_size=300), interval=0.02)
    pid = job._process.pid
    _wait_for(lambda: len(_children(pid)) >= 2, timeout=120, what="the counting workers to start")
    workers = _children(pid)
    os.kill(workers[0], signal.SIGKILL)
    snap = _until_finished(job, timeout=30)
    assert snap.status == "error"
    assert "counting process ended unexpectedly" in snap.message
    _wait_for(lambda: not any(map(_alive, [pid, *workers])), timeout=30, what="the run's processes to exit")
