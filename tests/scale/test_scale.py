"""Counting and encoding on a Dask LocalCluster of two worker processes: exact counts, same merges, killed workers.

One cluster serves the whole module (starting one costs seconds). Without dask the tests skip with the reason,
except under CI=true, where they fail: CI installs the scale extra.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, distributed_or_skip, read_reference_merges

from tokviz import train_bpe
from tokviz.training.counts_table import count_files

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow

EOT = "<|endoftext|>"
OPTIONAL = ("dask", "distributed", "fsspec", "numpy", "pyarrow")


def test_the_library_imports_without_the_scale_packages(tmp_path: Path) -> None:
    # A fresh interpreter where dask, fsspec, numpy and pyarrow cannot be imported: tokviz, and the modules that use
    # them only when called, still load; asking for a cluster says how to install it.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {OPTIONAL!r}:\n"
        "            raise ImportError(f'{name} is blocked in this test')\n"
        "sys.meta_path.insert(0, _Block())\n",
        encoding="utf-8",
    )
    code = (
        "import tokviz, tokviz.training.counts_table, tokviz.corpus.ids, tokviz.corpus.sources, tokviz.scale\n"
        "import tokviz.cli.main\n"
        "from tokviz.training.counts_table import count_texts\n"
        "assert count_texts(['a b'])[' b'] == 1\n"
        "try:\n"
        "    tokviz.scale.connect('local:1').__enter__()\n"
        "except ValueError as e:\n"
        "    print(e)\n"
    )
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "pip install 'tokviz[scale]'" in out.stdout



@pytest.fixture(scope="module", autouse=True)
def _plugin_by_value() -> None:
    import cloudpickle

    # The worker plugin below is defined here; send it by value, so workers need not import this test module.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def test_counts_on_dask_train_the_cs336_reference_merges(client: Any, cs336_dir: Path) -> None:
    from tokviz.scale import count_on_dask

    corpus = cs336_dir / "corpus.en"
    seen: list[tuple[int, int]] = []
    counts = count_on_dask([str(corpus)], client=client, special_tokens=[EOT], range_bytes=4096,
                           on_progress=lambda done, total: seen.append((done, total)))
    assert len(seen) > 20 and seen[-1] == (corpus.stat().st_size, corpus.stat().st_size)  # many ranges
    assert counts == count_files([corpus], special_tokens=[EOT])
    assert train_bpe(counts, vocab_size=500).merges == read_reference_merges(
        cs336_dir / "train-bpe-reference-merges.txt")


def _awkward_corpus(folder: Path) -> list[Path]:
    """Files full of special tokens, runs of spaces and newlines, and multi-byte characters, where tiny ranges
    put many targets inside a special token or a whitespace run."""
    parts = [
        ("a b" + EOT) * 40 + "  x" + " " * 50 + "y\n\n  z" + EOT + EOT + " " + EOT,
        ("é  🌍 " * 30) + "\t\t  \n " + ("<|endoftext|>  " * 20) + "end",
        "no-spaces-at-all" * 20,
        "",
        " " * 300 + "<|endoftext|>" + "\n" * 10 + " q",
    ]
    paths = []
    for i, text in enumerate(parts):
        p = folder / f"doc{i}.txt"
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return paths


@pytest.mark.parametrize("range_bytes", [1, 5, 64])
def test_tiny_ranges_in_special_tokens_and_whitespace_count_exactly(client: Any, tmp_path: Path,
                                                                    range_bytes: int) -> None:
    from tokviz.scale import count_on_dask

    paths = _awkward_corpus(tmp_path)
    sources = [str(p) for p in paths[:2]] + [p.as_uri() for p in paths[2:]]  # plain paths and file:// URLs
    want = count_files(paths, special_tokens=[EOT])
    got = count_on_dask(sources, client=client, special_tokens=[EOT], range_bytes=range_bytes, split_every=3)
    assert got == want
    joined = train_bpe(want, vocab_size=300)
    assert train_bpe(got, vocab_size=300).merges == joined.merges


def test_files_ending_in_whitespace_count_as_train_bpe_reads_them(client: Any, tmp_path: Path) -> None:
    # One meaning for a list of files: Dask, count_files and train_bpe([paths]) each end a pre-token at a file's end.
    from tokviz.scale import count_on_dask
    from tokviz.training.trainer import count_corpus

    texts = ["hello world  \n\n", "  \n foo bar\t", "\t\tbaz <|endof", "text|> qux   ", "     ", "\n\nend"]
    paths = []
    for i, text in enumerate(texts):
        paths.append(tmp_path / f"w{i}.txt")
        paths[-1].write_text(text * 20, encoding="utf-8")
    got = count_on_dask([str(p) for p in paths], client=client, special_tokens=[EOT], range_bytes=7)
    assert got.counts == count_corpus(paths, special_tokens=[EOT])
    assert train_bpe(got, vocab_size=290).merges == train_bpe(paths, vocab_size=290, special_tokens=[EOT]).merges


@pytest.mark.parametrize("n_shards", [1, 2, 3])
def test_sharded_sum_equals_one_process(client: Any, cs336_dir: Path, tmp_path: Path, n_shards: int) -> None:
    # The final sum partitioned by a hash of each pre-token: each shard summed on its own up its own tree, written by
    # the client one shard at a time; the union is the one-process table and trains the same merges, ties included.
    from tokviz.scale import count_shards_on_dask
    from tokviz.training.counts_shards import iter_shards, load_shards

    ties = tmp_path / "ties.txt"
    ties.write_text(" ".join(a + b for a in "abcdefgh" for b in "ijklmnop") * 3 + " ab ba" * 7, encoding="utf-8")
    corpora = ([cs336_dir / "corpus.en", cs336_dir / "tinystories_sample.txt", *_awkward_corpus(tmp_path)], [ties])
    for corpus, vocab in zip(corpora, (500, 300)):
        want = count_files(corpus, special_tokens=[EOT])
        manifest = count_shards_on_dask([str(p) for p in corpus], tmp_path / f"shards-{vocab}", client=client,
                                        shards=n_shards, special_tokens=[EOT], range_bytes=20_000, split_every=3)
        got = load_shards(manifest)
        assert got == want
        sizes = [len(s) for s in iter_shards(manifest)]
        assert len(sizes) == n_shards and sum(sizes) == len(want) and max(sizes) < len(want) or n_shards == 1
        assert train_bpe(got, vocab_size=vocab).merges == train_bpe(want, vocab_size=vocab).merges


@pytest.mark.parametrize("shards", [None, 2])
def test_the_client_lets_go_of_each_range_as_it_is_counted(client: Any, cs336_dir: Path, tmp_path: Path,
                                                          shards: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    # A range's table stays in a worker's memory while anything refers to it: the client must not hold the map
    # futures while it waits (only the sums that take them do), and the sums must outrank the ranges still to count.
    from tokviz.scale import count_on_dask, count_shards_on_dask, dask_count
    from tokviz.training.counts_shards import load_shards

    kept: list[Any] = []
    held: list[int] = []
    priorities: set[int] = set()
    start = dask_count._start_maps
    monkeypatch.setattr(dask_count, "_start_maps", lambda *a, **k: kept.append(start(*a, **k)) or kept[-1])

    def progress(done: int, total: int) -> None:
        held.append(len(kept[0].futures))
        priorities.update(client.run_on_scheduler(lambda dask_scheduler: [
            ts.priority[0] for key, ts in dask_scheduler.tasks.items()
            if "tokviz-count-cut" in str(key) or "tokviz-count-sum" in str(key)]))

    paths = [str(cs336_dir / "corpus.en")]
    options: dict[str, Any] = {"special_tokens": [EOT], "range_bytes": 20_000, "split_every": 3,
                               "on_progress": progress}
    got = (count_on_dask(paths, client=client, **options) if shards is None else
           load_shards(count_shards_on_dask(paths, tmp_path / "s", client=client, shards=shards, **options)))
    assert got == count_files([cs336_dir / "corpus.en"], special_tokens=[EOT])
    assert len(held) > 3 and set(held) == {0}, held
    assert priorities == {-dask_count.SUM_PRIORITY}, priorities


GATE = "tokviz-test-first-range"


def _count_after_the_gate(source: Any, start: int, *rest: Any) -> Any:
    """The counting task, except that the range at byte 0 waits for the test's Dask event first."""
    import distributed

    from tokviz.scale import dask_count

    if start == 0:
        distributed.Event(GATE).wait(120)
    return dask_count._count(source, start, *rest)


def test_a_cut_sum_goes_up_its_shards_before_every_range_is_counted(client: Any, cs336_dir: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Each cut sum must be summed into the shards' sums, and freed, as it finishes: a count that waits for every
    # range first holds every cut sum in worker memory meanwhile, which grows with the corpus. The first range is
    # held back; every other cut sum must be gone from the workers before it is let go.
    import threading
    import time

    from tokviz.scale import count_shards_on_dask, dask_count
    from tokviz.training.counts_shards import load_shards

    distributed = distributed_or_skip()
    gate = distributed.Event(GATE, client=client)
    gate.clear()
    monkeypatch.setattr(dask_count, "_count", _count_after_the_gate)
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["path"] = count_shards_on_dask([str(cs336_dir / "corpus.en")], tmp_path / "s", client=client,
                                               shards=2, special_tokens=[EOT], range_bytes=12_000, split_every=2)
        except BaseException as e:  # shown by the assertion below
            out["error"] = e

    def cut_sums_in_memory() -> tuple[list[str], list[str]]:
        states = client.run_on_scheduler(lambda dask_scheduler: {
            str(k): ts.state for k, ts in dask_scheduler.tasks.items() if str(k).startswith("tokviz-count-")})
        cut = sorted(k for k, v in states.items() if k.startswith("tokviz-count-cut-") and v == "memory")
        running = sorted(k for k, v in states.items() if "-running-" in k and v == "memory")
        return cut, running

    worker = threading.Thread(target=run)
    worker.start()
    try:
        seen: tuple[list[str], list[str]] = ([], [])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            seen = cut_sums_in_memory()
            cut, running = seen
            if running and all(k.rsplit("-", 1)[1] == "0" for k in cut):
                break
            time.sleep(0.2)
        assert not worker.is_alive() or "path" not in out  # the first range is still waiting
        assert seen[1] and all(k.rsplit("-", 1)[1] == "0" for k in seen[0]), seen
    finally:
        gate.set()
        worker.join(120)
    assert "error" not in out, out.get("error")
    assert load_shards(out["path"]) == count_files([cs336_dir / "corpus.en"], special_tokens=[EOT])


def test_a_custom_pattern_is_counted_one_file_a_task(client: Any, tmp_path: Path) -> None:
    from tokviz.scale import count_on_dask

    paths = _awkward_corpus(tmp_path)
    pattern = r"\w+|\s+|[^\w\s]+"
    got = count_on_dask([str(p) for p in paths], client=client, pattern=pattern, special_tokens=[EOT])
    assert got == count_files(paths, pattern=pattern, special_tokens=[EOT])


def test_task_errors_reach_the_caller_with_their_message(client: Any, tmp_path: Path) -> None:
    from tokviz.scale import count_on_dask

    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok " * 100 + b"caf\xe9 " + b"ok " * 100)
    with pytest.raises(ValueError, match="not valid UTF-8: the first bad byte is 0x[0-9a-f]+ at byte 303"):
        count_on_dask([str(bad)], client=client, range_bytes=64)
    with pytest.raises(ValueError, match="no such file"):
        count_on_dask([str(tmp_path / "missing.txt")], client=client)


def test_every_bad_file_is_named_before_counting_on_dask(client: Any, tmp_path: Path) -> None:
    from tokviz.scale import count_on_dask

    good = tmp_path / "good.txt"
    good.write_text("fine " * 100, encoding="utf-8")
    first = tmp_path / "first.txt"
    first.write_bytes(b"ok " * 50 + b"\xff")
    last = tmp_path / "last.txt"
    last.write_bytes(b"ok " * 5 + b"caf\xe9 " + b"ok " * 5)
    sources = [str(first), str(good), str(tmp_path / "gone.txt"), last.as_uri()]
    with pytest.raises(ValueError, match=r"^3 of 4 files cannot be read") as e:
        count_on_dask(sources, client=client, range_bytes=16)
    message = str(e.value)
    assert "gone.txt: no such file" in message and "0xff at byte 150" in message and "0xe9 at byte 18" in message
    assert "--errors replace" in message
    replaced = count_on_dask([str(first), str(good), last.as_uri()], client=client, errors="replace")
    assert replaced == count_files([first, good, last], errors="replace")


class _KillOnce:
    """A worker plugin: the worker process SIGKILLs itself when it starts its third counting task, once per marker
    file (the restarted worker, and the other one, find the marker and carry on)."""

    name = "tokviz-kill-once"

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.started = 0

    def setup(self, worker: Any) -> None:
        self.started = 0

    def teardown(self, worker: Any) -> None:
        pass

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        from tokviz.scale.dask_count import MAP_KEY

        if finish == "executing" and str(key).startswith(MAP_KEY):
            self.started += 1
            if self.started == 3:
                try:
                    fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    return
                os.close(fd)
                os.kill(os.getpid(), signal.SIGKILL)


def _with_killer(client: Any, marker: Path) -> None:
    from distributed.diagnostics.plugin import WorkerPlugin

    plugin = type("KillOnce", (_KillOnce, WorkerPlugin), {})(str(marker))
    client.register_plugin(plugin, name=_KillOnce.name)


@pytest.mark.slow
def test_a_killed_worker_is_retried_and_nothing_is_dropped(client: Any, cluster: Any, cs336_dir: Path,
                                                           tmp_path: Path) -> None:
    from tokviz.scale import count_on_dask

    corpus = cs336_dir / "corpus.en"
    marker = tmp_path / "killed"
    _with_killer(client, marker)
    try:
        got = count_on_dask([str(corpus)], client=client, special_tokens=[EOT], range_bytes=2048, split_every=4)
    finally:
        client.unregister_worker_plugin(_KillOnce.name)
    assert marker.exists()  # a worker really died mid-count
    assert got == count_files([corpus], special_tokens=[EOT])


@pytest.mark.slow
def test_with_no_failures_allowed_a_killed_worker_is_one_clear_error(client: Any, cluster: Any, cs336_dir: Path,
                                                                     tmp_path: Path) -> None:
    from tokviz.scale import count_on_dask
    from tokviz.scale.dask_count import WorkerLost

    marker = tmp_path / "killed"
    before = cluster.scheduler.allowed_failures
    cluster.scheduler.allowed_failures = 0
    _with_killer(client, marker)
    try:
        with pytest.raises(WorkerLost, match="a Dask worker died while counting"):
            count_on_dask([str(cs336_dir / "corpus.en")], client=client, special_tokens=[EOT], range_bytes=2048)
    finally:
        client.unregister_worker_plugin(_KillOnce.name)
        cluster.scheduler.allowed_failures = before
    assert marker.exists()


def test_encode_on_dask_gives_the_ids_of_encode_per_document(client: Any, gpt2_tokenizer: Any, tmp_path: Path,
                                                            cs336_dir: Path) -> None:
    np = pytest.importorskip("numpy")
    from tokviz.scale import encode_on_dask

    paths = _awkward_corpus(tmp_path) + [cs336_dir / "tinystories_sample.txt"]
    texts = [p.read_text(encoding="utf-8") for p in paths]
    out = encode_on_dask([str(p) for p in paths], gpt2_tokenizer, tmp_path / "ids.npy", client=client, eot=EOT,
                         range_bytes=300)
    want: list[int] = []
    for i, t in enumerate(texts):
        want += ([50256] if i else []) + gpt2_tokenizer.encode(t, allowed_special="all")
    ids = np.load(out.path, mmap_mode="r")
    assert ids.dtype == np.uint16 and out.dtype == "uint16" and out.n_ids == len(want)
    assert ids.tolist() == want
    assert not (tmp_path / "ids.npy.partial").exists()
    sharded = encode_on_dask([str(p) for p in paths], gpt2_tokenizer, tmp_path / "train.bin", client=client, eot=EOT,
                             range_bytes=300, shard_tokens=1000)
    assert sharded.path.name == "train.manifest.json" and len(sharded.shards) == -(-len(want) // 1000)
    got = np.concatenate([np.memmap(s, dtype=np.uint16, mode="r") for s in sharded.shards]).tolist()
    assert got == want


@pytest.mark.slow
def test_cli_dask_local_cluster(cs336_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    distributed_or_skip()
    np = pytest.importorskip("numpy")
    from tokviz import load_tokenizer
    from tokviz.cli.main import main
    from tokviz.training.counts_table import Counts

    corpus = str(cs336_dir / "corpus.en")
    counts = tmp_path / "counts.tsv"
    assert main(["count", corpus, "--special-token", EOT, "-o", str(counts), "--dask", "local:2", "-q"]) == 0
    assert Counts.load(counts) == count_files([corpus], special_tokens=[EOT])
    shards = tmp_path / "shards"
    assert main(["count", corpus, "--special-token", EOT, "-o", str(shards), "--dask", "local:2", "-q",
                 "--shards", "2"]) == 0
    from tokviz.training.counts_shards import load_shards

    assert load_shards(shards) == Counts.load(counts)
    ids = tmp_path / "ids.npy"
    assert main(["encode-corpus", corpus, corpus, "-t", "gpt2", "-o", str(ids), "--eot", "--dask", "local:2"]) == 0
    one = load_tokenizer("gpt2").encode((cs336_dir / "corpus.en").read_text(encoding="utf-8"))
    assert np.load(ids).tolist() == one + [50256] + one
    assert main(["count", corpus, "-o", str(counts), "--dask", "local:zero"]) == 2
    assert "local:N needs a number of workers" in capsys.readouterr().err
