"""Sharded counts: a pre-token's hash picks its shard, the shards' union is the one-process table, and training from
them learns the same merges, with 1, 2 and 3 shards."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tokviz import train_bpe
from tokviz.cli.main import main
from tokviz.training.counts_shards import load_shards, save_shards, shard_of, split_counts
from tokviz.training.counts_table import Counts, count_files, count_texts

EOT = "<|endoftext|>"
# Every pair of letters as frequent as every other: the order of merges is the tie rule's alone.
TIES = " ".join(a + b for a in "abcdefgh" for b in "ijklmnop") * 3 + " ab ba" * 7


@pytest.mark.parametrize("n_shards", [1, 2, 3])
def test_shards_are_disjoint_and_their_union_is_the_table(n_shards: int) -> None:
    whole = count_texts([TIES, "é 🌍 x\n\n  y"]).counts
    parts = split_counts(whole, n_shards)
    assert len(parts) == n_shards and sum(map(len, parts)) == len(whole)
    assert sum(parts, Counter()) == whole
    for k, part in enumerate(parts):
        assert all(shard_of(piece, n_shards) == k for piece in part)
    if n_shards > 1:
        assert all(parts)  # the hash spreads pieces over every shard


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("n_shards", [1, 2, 3])
def test_training_from_shards_learns_the_one_process_merges(cs336_dir: Path, tmp_path: Path, n_shards: int) -> None:
    paths = [cs336_dir / "corpus.en", cs336_dir / "tinystories_sample.txt"]
    ties = tmp_path / "ties.txt"
    ties.write_text(TIES, encoding="utf-8")
    for corpus, vocab in ((paths, 500), ([ties], 300)):
        whole = count_files(corpus, special_tokens=[EOT])
        parts = split_counts(whole.counts, n_shards)
        manifest = save_shards([Counts(p, pattern="gpt2", special_tokens=(EOT,)) for p in parts],
                               tmp_path / f"shards-{n_shards}-{vocab}")
        loaded = load_shards(manifest)
        assert loaded == whole
        assert train_bpe(loaded, vocab_size=vocab).merges == train_bpe(whole, vocab_size=vocab).merges
        assert train_bpe(loaded, vocab_size=vocab).merges == train_bpe(corpus, vocab_size=vocab,
                                                                       special_tokens=[EOT]).merges


def test_a_tampered_shard_or_manifest_is_refused(tmp_path: Path) -> None:
    whole = count_texts([TIES])
    manifest = save_shards([Counts(p) for p in split_counts(whole.counts, 2)], tmp_path / "c")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    shard = tmp_path / "c" / data["files"][1]["path"]
    shard.write_text(shard.read_text(encoding="utf-8").rsplit("\n", 2)[0] + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="the manifest says"):
        load_shards(manifest)
    manifest.write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="not a tokviz counts shards manifest"):
        load_shards(tmp_path / "c")


def test_cli_count_in_shards_then_train(cs336_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = str(cs336_dir / "corpus.en")
    assert main(["count", corpus, "-o", str(tmp_path / "c.tsv"), "-q", "--special-token", EOT]) == 0
    assert main(["count", corpus, "-o", str(tmp_path / "shards"), "-q", "--special-token", EOT, "--shards", "3"]) == 0
    assert "in 3 shard(s)" in capsys.readouterr().out
    for counts, out in ((tmp_path / "c.tsv", "a.json"), (tmp_path / "shards", "b.json")):
        assert main(["train", "--counts", str(counts), "--vocab-size", "500", "-o", str(tmp_path / out), "-q"]) == 0
    a, b = (json.loads((tmp_path / n).read_text(encoding="utf-8")) for n in ("a.json", "b.json"))
    assert a["merges"] == b["merges"] and len(a["merges"]) == 243
