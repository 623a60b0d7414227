"""tokviz.viewmodels.size_runs: pattern runs on a held-out split (disk cache, early stops), sizes offered, series."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tokviz import save_tokenizer, train_bpe
from tokviz.formats.ours import load_ours_tokenizer
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.training.holdout import split_holdout
from tokviz.viewmodels.size_runs import (
    PatternRuns,
    compare_on_text,
    default_sizes,
    offered_sizes,
    pattern_runs,
    series_kinds,
    size_text,
)

# Numbers, contractions and runs of spaces: the three patterns cut this differently, so their runs differ.
LINES = [
    "In 1885 the year's count was 1234567 and it's 2024 now; they'll say 12,345.",
    "def f(x):\n        return x  +  1    # spaces",
    "Don't stop: we've got 99 problems and 100000 solutions.",
]
CORPUS = "\n".join(LINES[i % 3] + f" line {i}" for i in range(300)) + "\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> PatternRuns:
    return pattern_runs(CORPUS, source="test", max_size=400, directory=tmp_path_factory.mktemp("cache"))


def test_runs_train_on_the_first_part_and_hold_out_the_rest(runs: PatternRuns) -> None:
    train, heldout = split_holdout(CORPUS)
    assert (runs.train_text, runs.heldout) == (train, heldout)
    assert runs.patterns == ("gpt2", "gpt4", "o200k")
    assert [t.name for t in runs.runs] == ["bpe gpt2", "bpe gpt4", "bpe o200k"]
    for tok in runs.runs:
        # The same merges as training directly on the first part: the split and the cache change nothing.
        direct = train_bpe([train], vocab_size=400, pattern=tok.pattern)
        assert tok.merges == direct.merges and tok.vocab == direct.vocab
    # The patterns really differ here (else the comparison chart would show one curve three times).
    assert runs.run("gpt2").merges != runs.run("gpt4").merges
    assert runs.common_max == min(t.vocab_size for t in runs.runs)
    with pytest.raises(ValueError, match="No run with pattern 'llama'.*gpt2, gpt4, o200k"):
        runs.run("llama")


def test_disk_cache_is_read_back_not_retrained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = pattern_runs(CORPUS, source="test", max_size=300, patterns=("gpt2", "gpt4"), directory=tmp_path)
    assert not first.from_cache
    assert len(list(tmp_path.glob("bpe-*.json"))) == 2
    calls: list[str] = []
    monkeypatch.setattr("tokviz.viewmodels.defaults.train_bpe", lambda *a, **k: calls.append("trained"))
    again = pattern_runs(CORPUS, source="test", max_size=300, patterns=("gpt2", "gpt4"), directory=tmp_path)
    assert again.from_cache and calls == []
    assert [t.merges for t in again.runs] == [t.merges for t in first.runs]
    assert [t.name for t in again.runs] == ["bpe gpt2", "bpe gpt4"]
    assert again.key == first.key and again.digest == first.digest


def test_a_damaged_cache_file_is_retrained_and_said(tmp_path: Path) -> None:
    first = pattern_runs(CORPUS, source="test", max_size=300, patterns=("gpt2", "gpt4"), directory=tmp_path)
    assert first.notices == ()
    damaged = sorted(tmp_path.glob("bpe-gpt4-*.json"))[0]
    damaged.write_bytes(damaged.read_bytes()[:-40])  # truncated
    again = pattern_runs(CORPUS, source="test", max_size=300, patterns=("gpt2", "gpt4"), directory=tmp_path)
    assert not again.from_cache and len(again.notices) == 1 and damaged.name in again.notices[0], again.notices
    assert [t.merges for t in again.runs] == [t.merges for t in first.runs]
    third = pattern_runs(CORPUS, source="test", max_size=300, patterns=("gpt2", "gpt4"), directory=tmp_path)
    assert third.from_cache and third.notices == ()


def test_without_a_directory_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKVIZ_CACHE_DIR", str(tmp_path / "cache"))
    out = pattern_runs(CORPUS, source="upload.txt", max_size=280, patterns=("gpt2",))
    assert not out.from_cache and out.runs[0].vocab_size == 280
    assert list(tmp_path.rglob("*.json")) == []


def test_key_changes_with_corpus_size_and_patterns(runs: PatternRuns) -> None:
    other_text = pattern_runs(CORPUS + "x\n", source="test", max_size=400, patterns=runs.patterns)
    other_size = pattern_runs(CORPUS, source="test", max_size=399, patterns=runs.patterns)
    other_patterns = pattern_runs(CORPUS, source="test", max_size=400, patterns=("gpt2",))
    assert len({runs.key, other_text.key, other_size.key, other_patterns.key}) == 4


def test_a_run_that_runs_out_of_pairs_says_so() -> None:
    small = pattern_runs("ab ab ab\n" * 10 + "ab\n", source="s", max_size=2048, patterns=("gpt2",))
    assert small.runs[0].vocab_size < 2048
    note = small.early_stop_note()
    assert note is not None and f"bpe gpt2 at {small.runs[0].vocab_size:,}" in note and "2,048" in note
    assert pattern_runs(CORPUS, source="t", max_size=300, patterns=("gpt2",)).early_stop_note() is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_size": 100}, "max_size must be an integer >= 256"),
        ({"max_size": True}, "max_size must be an integer >= 256"),
        ({"patterns": ()}, "patterns is empty"),
        ({"patterns": ("gpt2", "(unclosed")}, "unclosed|regex|pattern"),
    ],
)
def test_bad_options_are_clear_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pattern_runs(CORPUS, source="t", **{"max_size": 300, **kwargs})


def test_a_corpus_without_a_line_break_cannot_be_split() -> None:
    with pytest.raises(ValueError, match="line break"):
        pattern_runs("one long line " * 100, source="t", max_size=300)


def test_offered_and_default_sizes() -> None:
    assert offered_sizes(8192) == (256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192)
    assert offered_sizes(8827)[-2:] == (8192, 8827)
    assert offered_sizes(256) == (256,)
    assert default_sizes(8192) == (256, 512, 1024, 4096, 8192)
    assert default_sizes(16384) == (256, 512, 1024, 4096, 8192)
    assert default_sizes(3000) == (256, 512, 1024, 3000)
    assert default_sizes(300) == (256, 300)
    for reached in (300, 3000, 8827):
        assert set(default_sizes(reached)) <= set(offered_sizes(reached))
    assert [size_text(n) for n in (256, 2048, 8827, 16384)] == ["256", "2k", "8,827", "16k"]


def test_series_kinds(runs: PatternRuns, tmp_path: Path) -> None:
    trained = runs.run("gpt2")
    path = tmp_path / "t.json"
    save_tokenizer(trained, path)
    loaded = load_ours_tokenizer(path)  # merges but no training report: one size as far as the charts know
    kinds = series_kinds({"trained": trained, "loaded": loaded, "byte": ByteTokenizer(),
                          "word": WordTokenizer.from_corpus(["a b"]), "junk": "not a tokenizer"})
    assert kinds == {"trained": "curve", "loaded": "point", "byte": "point", "word": "point"}


def test_compare_on_text_curves_points_and_labels(runs: PatternRuns) -> None:
    text = runs.heldout
    mine = train_bpe([runs.train_text], vocab_size=320, pattern="gpt4", name="whatever its own name is")
    out = compare_on_text(text, runs.runs, baselines=[ByteTokenizer(), CharacterTokenizer()],
                          extras={"mine": mine, "char here": CharacterTokenizer(name="c")}, n_points=30)
    assert out.problems == ()
    curves = {c.label: c for c in out.comparison.curves}
    assert list(curves) == ["bpe gpt2", "bpe gpt4", "bpe o200k", "mine"]
    for tok in [*runs.runs, mine]:
        curve = curves[tok.name if tok is not mine else "mine"]
        assert curve.sizes[0] == 256 and curve.sizes[-1] == tok.vocab_size
        assert len(curve.sizes) <= 30
        for s in (curve.sizes[0], curve.sizes[len(curve.sizes) // 2], curve.sizes[-1]):
            assert curve.at(s) == len(tok.prefix(s).encode(text))
    points = [(p.label, p.kind, p.tokens) for p in out.comparison.points]
    assert points == [("byte", "baseline", len(text.encode())), ("character", "baseline", len(text)),
                      ("char here", "pretrained", len(text))]


def test_an_extra_curve_uses_its_own_heldout_text(runs: PatternRuns) -> None:
    mine = train_bpe([runs.train_text], vocab_size=300, pattern="gpt2")
    own = "completely different text 42\n"
    out = compare_on_text(runs.heldout, runs.runs[:1], extras={"mine": mine}, own_texts={"mine": own})
    curve = out.comparison.curves[-1]
    assert curve.label == "mine (own held-out)"
    assert curve.n_bytes == len(own.encode()) and curve.at(300) == len(mine.encode(own))


def test_a_failing_tokenizer_is_named_not_raised(runs: PatternRuns) -> None:
    class Broken:
        vocab_size = 10

        def encode(self, text: str) -> list[int]:
            raise ValueError("cannot encode that")

    out = compare_on_text("hi", runs.runs[:1], extras={"broken": Broken(), "junk": 3})
    assert [p.label for p in out.comparison.points] == []
    assert any(p.startswith("broken: cannot encode that") for p in out.problems)
    assert any(p.startswith("junk: not a tokenizer") for p in out.problems)
    assert len(out.comparison.curves) == 1


# -- SizeJob: the same runs, trained in child processes ------------------------------------------------------------
@pytest.mark.slow  # three child processes, one per pattern
def test_size_job_gives_the_runs_of_pattern_runs() -> None:
    from tokviz.viewmodels.size_runs import SizeJob

    job = SizeJob.start(CORPUS, source="test", max_size=400)
    snaps = [job.poll()]
    deadline = time.monotonic() + 300
    while not snaps[-1].finished:
        assert time.monotonic() < deadline, "the size job did not finish within 300 s"
        # A poll that does not wait returns as soon as it has started the next pattern's child, which has sent
        # nothing yet: so every pattern shows up in some snapshot however fast the machine trains. A waiting poll
        # could start and finish the third pattern in one call and never show it.
        time.sleep(0.02)
        snaps.append(job.poll())
    done = snaps[-1]
    assert done.status == "done" and done.fraction == 1.0 and done.runs is not None
    fractions = [s.fraction for s in snaps]
    assert fractions == sorted(fractions)  # progress never goes back, from one pattern to the next
    assert any(0 < f < 1 for f in fractions) and any(s.text.startswith("Training 3 of 3 (o200k)") for s in snaps)
    want = pattern_runs(CORPUS, source="test", max_size=400)
    assert (done.runs.train_text, done.runs.heldout, done.runs.patterns) == (want.train_text, want.heldout,
                                                                               want.patterns)
    for got, ref in zip(done.runs.runs, want.runs):
        assert (got.name, got.merges, got.vocab) == (ref.name, ref.merges, ref.vocab)


def test_size_job_refuses_bad_input_before_starting() -> None:
    from tokviz.viewmodels.size_runs import SizeJob

    with pytest.raises(ValueError, match="line break"):
        SizeJob.start("no line break here", source="x")
    with pytest.raises(ValueError, match="max_size must be an integer >= 256"):
        SizeJob.start(CORPUS, source="x", max_size=100)
    with pytest.raises(ValueError, match="patterns is empty"):
        SizeJob.start(CORPUS, source="x", patterns=())


@pytest.mark.slow
def test_size_job_whose_child_is_killed_ends_with_the_reason() -> None:
    import os
    import signal

    from tokviz.viewmodels.size_runs import SizeJob

    job = SizeJob.start(CORPUS * 20, source="x", max_size=16384)
    os.kill(job._job._process.pid, signal.SIGKILL)
    snap = job.wait(timeout=60)
    assert snap.status == "error" and snap.runs is None
    assert "ended unexpectedly" in snap.message and "killed by signal 9" in snap.message
