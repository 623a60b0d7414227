"""The server's records of Train runs (tokviz/viewmodels/run_store.py): a run comes back whole beside its stored
tokenizer, a damaged or missing record is dropped with a notice (never an exception), the store is bounded, and a
corpus too big to keep is said, not half-kept."""

from __future__ import annotations

import json
import os
import pickle
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import train_bpe
from tokviz.analysis.replay import candidates_at
from tokviz.models.bpe import Tokenizer
from tokviz.training.merge_loop import Merge
from tokviz.viewmodels.run_store import RunStore, StoredRun
from tokviz.viewmodels.store import TokenizerStore
from tokviz.viewmodels.text_store import TextStore
from tokviz.viewmodels.training_summary import TrainedRun, summarize

CORPUS = "".join(f"line {i}: the quick brown fox jumps over the lazy dog {i * 7919 % 1000}\n" for i in range(300))


def trained(texts: tuple[str, ...] = (CORPUS,), *, vocab_size: int = 300, pattern: str = "gpt2",
            specials: tuple[str, ...] = ("<|endoftext|>",), run_id: int = 1) -> TrainedRun:
    """A run as the Train page files it: the tokenizer, its pre-token counts and each merge's count."""
    from tokviz.training.trainer import count_corpus

    tok = train_bpe(list(texts), vocab_size=vocab_size, pattern=pattern, special_tokens=list(specials))
    counts = count_corpus(list(texts), pattern=pattern, special_tokens=list(specials), workers=1)
    assert tok.training is not None
    merges = tuple(Merge(i, a, b, c) for i, ((a, b), c) in enumerate(zip(tok.merges, tok.training.merge_counts)))
    return TrainedRun(id=run_id, tokenizer=tok, counts=Counter(counts), merges=merges,
                      summary=summarize(tok, seconds=1.25, heldout_ratio=3.5), texts=texts, described="two files")


def stores(tmp_path: Path, **kw: int) -> tuple[TokenizerStore, RunStore]:
    return TokenizerStore(tmp_path / "store"), RunStore(tmp_path / "runs", texts=TextStore(tmp_path / "texts"), **kw)


def keep(tmp_path: Path, run: TrainedRun, **kw: int) -> tuple[str, TokenizerStore, RunStore]:
    toks, runs = stores(tmp_path, **kw)
    h = toks.put(run.tokenizer, name=run.tokenizer.name, source="trained")
    assert runs.put(h, run, holdout=0.1).kept
    return h, toks, runs


def back(toks: TokenizerStore, runs: RunStore, h: str, notes: list[str] | None = None) -> tuple[Tokenizer,
                                                                                                 StoredRun | None]:
    got = toks.get(h)
    assert got is not None and isinstance(got.tokenizer, Tokenizer)
    return got.tokenizer, runs.get(h, tokenizer=got.tokenizer, notice=None if notes is None else notes.append)


def test_a_run_comes_back_whole_with_its_tokenizer_read_from_the_store(tmp_path: Path) -> None:
    run = trained((CORPUS[:5000], CORPUS[5000:]))
    h, toks, runs = keep(tmp_path, run)
    tok, stored = back(toks, runs, h)
    assert stored is not None and tok.training is None  # our file format does not hold the report: the record does
    again = stored.trained_run(tok, id=7)
    assert again.id == 7 and again.tokenizer is tok
    assert again.merges == run.merges and again.counts == run.counts
    assert again.texts == run.texts and again.texts_kept and again.described == "two files"
    assert again.summary == run.summary  # vocabulary, requested size, times, held-out ratio, longest, lengths
    assert tok.training is not None and tok.training.merge_counts == [m.count for m in run.merges]
    assert (stored.id, stored.holdout, stored.seconds, stored.heldout_ratio) == (1, 0.1, 1.25, 3.5)
    # The replay computes from the restored counts what it computed from the run's own.
    for step in (0, 10, len(tok.merges) - 1):
        assert candidates_at(tok, again.counts, step=step) == candidates_at(run.tokenizer, run.counts, step=step)


def test_the_counts_are_kept_in_the_counts_tsv_format(tmp_path: Path) -> None:
    from tokviz.training.counts_table import Counts

    run = trained()
    h, _toks, runs = keep(tmp_path, run)
    path = tmp_path / "runs" / f"{h}.counts.tsv"
    loaded = Counts.load(path)
    assert loaded.counts == run.counts and loaded.special_tokens == ("<|endoftext|>",)
    assert path.read_text(encoding="utf-8").startswith("#tokviz-counts\t1\n")


def test_a_run_stopped_early_comes_back_with_its_message(tmp_path: Path) -> None:
    run = trained(("ab ab ab\n" * 20,), vocab_size=5000, specials=())
    assert run.summary.stopped_early and not run.summary.reached
    h, toks, runs = keep(tmp_path, run)
    tok, stored = back(toks, runs, h)
    assert stored is not None
    again = stored.trained_run(tok, id=1)
    assert again.summary == run.summary and "no pair" in again.summary.message


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from("ab é🌍\n\t"), min_size=1, max_size=200),
       pattern=st.sampled_from(["gpt2", "gpt4", r"\S+|\s+"]))
def test_any_run_round_trips(tmp_path_factory: pytest.TempPathFactory, text: str, pattern: str) -> None:
    run = trained((text,), vocab_size=270, pattern=pattern, specials=())
    h, toks, runs = keep(tmp_path_factory.mktemp("runs"), run)
    tok, stored = back(toks, runs, h)
    assert stored is not None
    again = stored.trained_run(tok, id=1)
    assert (again.merges, again.counts, again.texts, again.summary) == (run.merges, run.counts, run.texts,
                                                                        run.summary)


def test_a_corpus_too_big_for_the_text_store_is_not_kept_and_said(tmp_path: Path) -> None:
    run = trained((CORPUS[:2000], CORPUS[2000:]))
    toks = TokenizerStore(tmp_path / "store")
    runs = RunStore(tmp_path / "runs", texts=TextStore(tmp_path / "texts", max_bytes=5000))
    h = toks.put(run.tokenizer, name="t", source="trained")
    kept = runs.put(h, run, holdout=0.1)
    assert kept.kept and not kept.corpus_kept  # the second text is larger than the whole text store
    tok, stored = back(toks, runs, h)
    assert stored is not None and not stored.texts_kept and stored.texts == ()
    again = stored.trained_run(tok, id=1)
    assert not again.texts_kept and again.merges == run.merges and again.counts == run.counts  # replay still works


def test_a_corpus_dropped_from_the_text_store_since_is_said(tmp_path: Path) -> None:
    run = trained()
    h, toks, runs = keep(tmp_path, run)
    for path in (tmp_path / "texts").glob("*.txt"):
        path.unlink()
    notes: list[str] = []
    _tok, stored = back(toks, runs, h, notes)
    assert stored is not None and not stored.texts_kept and stored.texts == () and notes == []


def _edit_record(change: Callable[[dict], None]) -> Callable[[Path, str], None]:
    def damage(folder: Path, h: str) -> None:
        path = folder / f"{h}.run.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data), encoding="utf-8")
    return damage


def _truncate(name: str) -> Callable[[Path, str], None]:
    def damage(folder: Path, h: str) -> None:
        path = folder / f"{h}{name}"
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return damage


def _resign(change: Callable[[dict], None]) -> Callable[[Path, str], None]:
    """Change a field and fix the checksum, as a careful forger would: the fields are still checked."""
    from tokviz.viewmodels import run_store

    def damage(folder: Path, h: str) -> None:
        path = folder / f"{h}.run.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        data.pop("sha256")
        data["sha256"] = run_store._checksum(data)
        path.write_text(json.dumps(data), encoding="utf-8")
    return damage


DAMAGES: dict[str, Callable[[Path, str], None]] = {
    "record truncated": _truncate(".run.json"),
    "record not JSON": lambda f, h: (f / f"{h}.run.json").write_bytes(b"\xff\xfe not json"),
    "record is a pickle": lambda f, h: (f / f"{h}.run.json").write_bytes(pickle.dumps({"id": 1})),
    "record nested too deep": lambda f, h: (f / f"{h}.run.json").write_text("[" * 100_000 + "]" * 100_000),
    "a field changed": _edit_record(lambda d: d.update(seconds=99.0)),
    "merge count changed": _edit_record(lambda d: d["merge_counts"].__setitem__(0, 1)),
    "counts truncated": _truncate(".counts.tsv"),
    "counts missing": lambda f, h: (f / f"{h}.counts.tsv").unlink(),
    "counts edited": lambda f, h: (f / f"{h}.counts.tsv").write_text(
        (f / f"{h}.counts.tsv").read_text(encoding="utf-8").replace("\t", "\t1", 5), encoding="utf-8"),
    "merge counts re-signed to another length": _resign(lambda d: d["merge_counts"].pop()),
    "a count re-signed as text": _resign(lambda d: d["report"].update(n_pretokens="many")),
    "texts re-signed as a path": _resign(lambda d: d.update(texts=["../../etc/passwd"])),
    "re-signed for another tokenizer": _resign(lambda d: d.update(tokenizer="0" * 64)),
}


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_record_is_dropped_with_a_notice_and_the_tokenizer_stays(tmp_path: Path, damage: str) -> None:
    run = trained()
    h, toks, runs = keep(tmp_path, run)
    DAMAGES[damage](tmp_path / "runs", h)
    notes: list[str] = []
    tok, stored = back(toks, runs, h, notes)
    assert stored is None
    assert len(notes) == 1 and "damaged" in notes[0] and "removed" in notes[0], notes
    assert str(tmp_path) not in notes[0]  # the page shows it: no server paths
    assert not list((tmp_path / "runs").glob(f"{h}.*"))  # never half-read, never shown again
    assert tok.encode("the lazy dog") == run.tokenizer.encode("the lazy dog")
    assert runs.get(h, tokenizer=tok, notice=notes.append) is None and len(notes) == 1  # now simply missing
    assert runs.put(h, run, holdout=0.1).kept and runs.get(h, tokenizer=tok) is not None  # kept again


def test_a_record_for_a_different_tokenizer_is_dropped(tmp_path: Path) -> None:
    run = trained()
    h, _toks, runs = keep(tmp_path, run)
    other = train_bpe([CORPUS], vocab_size=280, special_tokens=["<|endoftext|>"])  # fewer merges
    notes: list[str] = []
    assert runs.get(h, tokenizer=other, notice=notes.append) is None and len(notes) == 1


def test_no_record_for_a_tokenizer_not_trained_here_and_no_notice(tmp_path: Path) -> None:
    _toks, runs = stores(tmp_path)
    notes: list[str] = []
    tok = train_bpe([CORPUS], vocab_size=260)
    assert runs.get("a" * 64, tokenizer=tok, notice=notes.append) is None and notes == []
    assert runs.get("../x", tokenizer=tok, notice=notes.append) is None and notes == []
    assert not runs.put("../x", trained(), holdout=0.1).kept
    assert not (tmp_path / "runs").exists()


def test_a_run_without_counts_is_not_kept(tmp_path: Path) -> None:
    run = trained()
    run.counts = None
    _toks, runs = stores(tmp_path)
    assert not runs.put("a" * 64, run, holdout=0.1).kept


def test_remove_drops_the_record_and_leaves_the_shared_texts(tmp_path: Path) -> None:
    run = trained()
    h, toks, runs = keep(tmp_path, run)
    runs.remove(h)
    assert not list((tmp_path / "runs").glob(f"{h}.*"))
    assert back(toks, runs, h)[1] is None
    assert len(list((tmp_path / "texts").glob("*.txt"))) == 1  # other runs on the same corpus still use it


def test_the_store_is_bounded_least_recently_used_out_first(tmp_path: Path) -> None:
    toks, runs = stores(tmp_path)
    kept = []
    for i, size in enumerate((300, 310, 320)):
        run = trained(vocab_size=size, run_id=i + 1)
        h = toks.put(run.tokenizer, name=f"t{i}", source="trained")
        assert runs.put(h, run, holdout=0.1).kept
        kept.append((h, run))
    folder = tmp_path / "runs"
    one = sum(p.stat().st_size for p in folder.glob(f"{kept[0][0]}.*"))
    # Ages set by hand (the file system's clock may not tick between writes): the first run was used last.
    for age, (h, _run) in zip((10, 300, 200), kept):
        os.utime(folder / f"{h}.run.json", (1e9 - age, 1e9 - age))
    small = RunStore(folder, texts=runs.texts, max_bytes=int(one * 2.5))
    fourth = trained(vocab_size=330, run_id=4)
    h4 = toks.put(fourth.tokenizer, name="t3", source="trained")
    assert small.put(h4, fourth, holdout=0.1).kept
    left = {p.name.partition(".")[0] for p in folder.iterdir() if not p.name.startswith(".")}
    assert left == {kept[0][0], h4}  # the two used longest ago are out; the newest is never the one to go
    assert sum(p.stat().st_size for p in folder.iterdir()) <= small.max_bytes
    tok, stored = back(toks, small, kept[0][0])
    assert stored is not None and stored.trained_run(tok, id=1).merges == kept[0][1].merges


def test_the_bound_can_be_set_in_megabytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKVIZ_RUN_STORE_MAX_MB", "3")
    assert RunStore(tmp_path, texts=TextStore(tmp_path)).max_bytes == 3 * 1024 * 1024
