"""The merge sharded across Dask workers (actors reading their own counts shards, merges on direct lines or as actor
calls) learns exactly the one-process merges and vocabulary: CS336's reference, a corpus where ties decide most
merges, hypothesis-drawn tables, in 1, 2 and 3 shards on a real LocalCluster of processes; through ``tokviz train
--merge sharded``; on a separately started ``dask scheduler`` and ``dask worker``; and a killed worker stops it with
one clear error.

One cluster serves the module (starting one costs seconds). Without dask the tests skip with the reason, except
under CI=true, where they fail: CI installs the scale extra.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, distributed_or_skip, read_reference_merges
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import load_tokenizer, train_bpe
from tokviz.training.counts_shards import save_shards, split_counts
from tokviz.training.counts_table import Counts, count_files, count_texts
from tokviz.training.merge_loop import merge_counts

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow

EOT = "<|endoftext|>"
TIES = " ".join(a + b for a in "abcdefgh" for b in "ijklmnop") * 3 + " ab ba" * 7



def _shards(counts: Counts | dict[str, int], folder: Path, n: int) -> Path:
    table = counts.counts if isinstance(counts, Counts) else counts
    pattern = counts.pattern if isinstance(counts, Counts) else "gpt2"
    specials = counts.special_tokens if isinstance(counts, Counts) else ()
    return save_shards([Counts(Counter(p), pattern=pattern, special_tokens=specials)
                        for p in split_counts(table, n)], folder)


@pytest.mark.parametrize("n_shards", [1, 2, 3])
def test_cs336_reference_merges_and_vocab(client: Any, cs336_dir: Path, tmp_path: Path, n_shards: int) -> None:
    from tokviz.scale.dask_merge import train_on_dask

    counts = count_files([cs336_dir / "corpus.en"], special_tokens=[EOT])
    manifest = _shards(counts, tmp_path / "shards", n_shards)
    seen: list[int] = []
    got = train_on_dask(manifest.parent, client=client, vocab_size=500, actors=n_shards,
                        progress=lambda m: seen.append(m.rank))
    one = train_bpe(counts, vocab_size=500)
    assert got.merges == read_reference_merges(cs336_dir / "train-bpe-reference-merges.txt") == one.merges
    assert got.vocab == one.vocab and got.special_tokens == [EOT] and seen == list(range(len(one.merges)))
    assert got.training is not None and one.training is not None
    assert got.training.merge_counts == one.training.merge_counts
    assert (got.training.n_distinct_pretokens, got.training.n_pretokens) == (len(counts), counts.total)


@pytest.mark.parametrize("lines", [True, False])
def test_ties_decide_most_merges_in_1_2_and_3_shards(client: Any, tmp_path: Path, lines: bool) -> None:
    from tokviz.scale.dask_merge import merge_on_dask

    counts = count_texts([TIES])
    one = merge_counts(counts.counts, n_merges=60)
    assert Counter(one.counts).most_common(1)[0][1] >= 20  # the tie rule orders many merges of one count
    for n in (1, 2, 3):
        result, report = merge_on_dask(_shards(counts, tmp_path / f"s{n}", n).parent, client=client, n_merges=60,
                                       actors=n, lines=lines)
        assert result == one
        assert report.channel == ("lines" if lines else "actor calls")
        assert sorted(report.files_per_actor) == [1] * n and len(report.worker_memory) == n
        assert report.distinct == len(counts)


WORDS = st.dictionaries(
    st.binary(min_size=1, max_size=10).map(lambda b: bytes(x % 4 + 97 for x in b).decode("latin-1"))
    | st.binary(min_size=1, max_size=6).map(lambda b: b.decode("latin-1")),
    st.integers(1, 5000) | st.integers(1, 3),
    max_size=30,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=WORDS, n=st.integers(0, 60), n_shards=st.integers(1, 3))
def test_equals_the_one_process_loop_on_drawn_tables(client: Any, tmp_path: Path, words: dict[str, int], n: int,
                                                     n_shards: int) -> None:
    from tokviz.scale.dask_merge import merge_on_dask

    folder = tmp_path / f"drawn-{time.monotonic_ns()}"
    manifest = _shards(words, folder, n_shards)
    result, _ = merge_on_dask(manifest, client=client, n_merges=n, actors=n_shards)
    assert result == merge_counts(words, n_merges=n)


def test_more_actors_than_shard_files_is_refused(client: Any, tmp_path: Path) -> None:
    from tokviz.scale.dask_merge import merge_on_dask

    manifest = _shards({"ab": 1, "cd": 2}, tmp_path / "two", 2)
    with pytest.raises(ValueError, match="2 shard file\\(s\\) cannot feed 3 actors; count again with `tokviz count "
                                         "--shards 3`"):
        merge_on_dask(manifest, client=client, n_merges=5, actors=3)


def test_cli_trains_sharded_on_a_local_cluster(cs336_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    distributed_or_skip()
    from tokviz.cli.main import main

    shards = tmp_path / "shards"
    assert main(["count", str(cs336_dir / "corpus.en"), "--special-token", EOT, "-o", str(shards), "--shards", "3",
                 "-q"]) == 0
    out = tmp_path / "tok.json"
    assert main(["train", "--counts", str(shards), "--vocab-size", "500", "-o", str(out), "--merge", "sharded",
                 "--dask", "local:2", "-q"]) == 0
    assert "243 merges (vocab 500)" in capsys.readouterr().out
    tok = load_tokenizer(out)
    one = train_bpe(cs336_dir / "corpus.en", vocab_size=500, special_tokens=[EOT])
    assert tok.merges == one.merges and tok.vocab == one.vocab  # type: ignore[attr-defined]


def _start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with open(log, "wb") as f:
        return subprocess.Popen([sys.executable, "-m", *argv], env=env, stdout=f, stderr=subprocess.STDOUT)


def test_on_a_separately_started_scheduler_and_workers(cs336_dir: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # As on a cluster: `dask scheduler` and two `dask worker` processes started from the command line, the client
    # (here `tokviz train --dask tcp://...`) connecting by address; the workers read the shard files themselves.
    distributed_or_skip()
    from tokviz.cli.main import main

    sched_file = tmp_path / "scheduler.json"
    procs = [_start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(sched_file)], tmp_path / "scheduler.log")]
    try:
        for _ in range(600):
            if sched_file.exists():
                break
            time.sleep(0.1)
        procs += [_start(["distributed.cli.dask_worker", "--scheduler-file", str(sched_file), "--nthreads", "1",
                          "--no-dashboard"], tmp_path / f"worker{i}.log") for i in range(2)]
        import json

        address = json.loads(sched_file.read_text(encoding="utf-8"))["address"]
        distributed = distributed_or_skip()
        with distributed.Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=120)
        shards = tmp_path / "shards"
        corpus = [cs336_dir / "corpus.en", cs336_dir / "tinystories_sample.txt"]
        assert main(["count", *map(str, corpus), "--special-token", EOT, "-o", str(shards), "--shards", "4",
                     "--dask", address, "-q"]) == 0
        out = tmp_path / "tok.json"
        assert main(["train", "--counts", str(shards), "--vocab-size", "700", "-o", str(out), "--dask", address,
                     "-q"]) == 0
        capsys.readouterr()
        one = train_bpe(corpus, vocab_size=700, special_tokens=[EOT])
        tok = load_tokenizer(out)
        assert tok.merges == one.merges and tok.vocab == one.vocab  # type: ignore[attr-defined]
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_shards_of_python_words_learn_the_same_merges(client: Any, tmp_path: Path) -> None:
    # compact_shards=False: the actors hold WordShards (the Python loop's words) instead of the compact arrays.
    from tokviz.scale.dask_merge import merge_on_dask

    counts = count_texts([TIES])
    one = merge_counts(counts.counts, n_merges=60)
    for n in (1, 2):
        result, _ = merge_on_dask(_shards(counts, tmp_path / f"w{n}", n).parent, client=client, n_merges=60, actors=n,
                                  compact_shards=False)
        assert result == one


@pytest.mark.parametrize("lines", [True, False])
def test_a_killed_worker_stops_the_merge_with_one_clear_error(client: Any, cs336_dir: Path, tmp_path: Path,
                                                              lines: bool) -> None:
    # Last in the module: the nanny restarts the killed worker, but the actor (and its shard) died with it.
    from tokviz.scale.dask_merge import ShardLost, merge_on_dask

    counts = count_files([cs336_dir / "corpus.en"], special_tokens=[EOT])
    manifest = _shards(counts, tmp_path / "shards", 2)
    pids = client.run(os.getpid)

    def kill_one(m: Any) -> None:
        if m.rank == 5:
            os.kill(pids[sorted(pids)[0]], signal.SIGKILL)
            time.sleep(0.5)

    with pytest.raises(ShardLost, match="a Dask worker holding a shard of the merge is gone"):
        merge_on_dask(manifest, client=client, n_merges=200, actors=2, lines=lines, on_merge=kill_one)

