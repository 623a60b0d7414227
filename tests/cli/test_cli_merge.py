"""``tokviz train --merge auto|python|compact``: both loops learn the same merges from files, a counts TSV and a
shards folder; the compact loop reads a counts file straight into its arrays; ``auto`` switches on the table's size
and falls back to the Python loop without numpy, while ``compact`` then says how to get it."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import read_reference_merges

import tokviz.training.trainer as trainer
from tokviz import Tokenizer, load_tokenizer
from tokviz.cli.main import main
from tokviz.cli.scale import load_counts
from tokviz.training.compact_merge import CountsArrays
from tokviz.training.counts_table import Counts

pytest.importorskip("numpy")

EOT = "<|endoftext|>"


def _train(tmp_path: Path, name: str, *argv: str) -> Tokenizer:
    out = tmp_path / f"{name}.json"
    assert main(["train", *argv, "--vocab-size", "500", "-o", str(out), "-q"]) == 0
    tok = load_tokenizer(out)
    assert isinstance(tok, Tokenizer)
    return tok


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_both_loops_learn_the_reference_merges(cs336_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    reference = read_reference_merges(cs336_dir / "train-bpe-reference-merges.txt")
    corpus = str(cs336_dir / "corpus.en")
    for loop in ("python", "compact", "auto"):
        assert _train(tmp_path, loop, corpus, "--special-token", EOT, "--merge", loop).merges == reference
    capsys.readouterr()


@pytest.mark.slow  # 0.8 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("shards", [0, 2, 3])
def test_counts_file_or_shards_read_into_arrays(cs336_dir: Path, tmp_path: Path, shards: int,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    counts = tmp_path / ("shards" if shards else "counts.tsv")
    extra = ["--shards", str(shards)] if shards else []
    assert main(["count", str(cs336_dir / "corpus.en"), "--special-token", EOT, "-o", str(counts), "-q",
                 *extra]) == 0
    compact = load_counts(str(counts), merge="compact")
    python = load_counts(str(counts), merge="python")
    assert isinstance(compact, CountsArrays) and isinstance(python, Counts)
    assert (compact.words.distinct, compact.words.total) == (len(python), python.total)
    got = _train(tmp_path, "compact", "--counts", str(counts), "--merge", "compact")
    assert got.merges == _train(tmp_path, "python", "--counts", str(counts), "--merge", "python").merges
    assert got.merges == read_reference_merges(cs336_dir / "train-bpe-reference-merges.txt")
    capsys.readouterr()


def test_auto_switches_on_the_number_of_distinct_pretokens(cs336_dir: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    counts = tmp_path / "counts.tsv"
    assert main(["count", str(cs336_dir / "corpus.en"), "--special-token", EOT, "-o", str(counts), "-q"]) == 0
    distinct = len(Counts.load(counts))
    monkeypatch.setattr(trainer, "COMPACT_MIN_DISTINCT", distinct + 10)
    assert isinstance(load_counts(str(counts), merge="auto"), Counts)
    monkeypatch.setattr(trainer, "COMPACT_MIN_DISTINCT", distinct)
    assert isinstance(load_counts(str(counts), merge="auto"), CountsArrays)
    capsys.readouterr()


def test_without_numpy(cs336_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(trainer, "numpy_available", lambda: False)
    monkeypatch.setattr(trainer, "COMPACT_MIN_DISTINCT", 1)
    corpus = str(cs336_dir / "corpus.en")
    assert main(["train", corpus, "--vocab-size", "300", "--merge", "compact", "-o", str(tmp_path / "t.json")]) == 2
    assert "needs numpy: pip install 'tokviz[scale]', or use merge='python'" in capsys.readouterr().err
    assert not (tmp_path / "t.json").exists()
    assert _train(tmp_path, "auto", corpus, "--special-token", EOT).merges == read_reference_merges(
        cs336_dir / "train-bpe-reference-merges.txt")  # auto: the Python loop
    capsys.readouterr()


def test_an_unknown_loop_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "x.txt", "--vocab-size", "300", "--merge", "fast", "-o", str(tmp_path / "t.json")]) == 2
    assert "--merge: invalid choice: 'fast' (choose from 'auto', 'python', 'compact', 'sharded')" in \
        capsys.readouterr().err


def test_sharded_needs_dask_and_a_shards_folder(cs336_dir: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    # Refused before any cluster starts (tests/scale/test_dask_merge.py trains with it).
    counts = tmp_path / "counts.tsv"
    assert main(["count", str(cs336_dir / "address.txt"), "-o", str(counts), "-q"]) == 0
    out = str(tmp_path / "t.json")
    cases = [
        (["--counts", str(counts), "--merge", "sharded"], "add --dask tcp://SCHEDULER:8786"),
        (["--counts", str(counts), "--merge", "sharded", "--dask", "local:1"], "folder of counts shards"),
        (["--counts", str(counts), "--dask", "local:1"], "folder of counts shards"),
        (["--counts", str(counts), "--merge", "python", "--dask", "local:1"], "not --merge python"),
    ]
    capsys.readouterr()
    for argv, message in cases:
        assert main(["train", *argv, "--vocab-size", "300", "-o", out, "-q"]) == 2
        assert message in capsys.readouterr().err
