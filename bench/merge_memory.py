"""The merge phase's memory and time, per distinct pre-token: the Python loop (``Counts.load``, then
``merge_counts``) against the compact loop (``load_counts_arrays``, then ``merge_counts_compact``), from the same
counts file (a TSV or a shards folder made by ``tokviz count``), each in a fresh process.

Printed per loop and vocabulary: wall and CPU seconds of the loop, the load's seconds, peak RSS, and peak RSS beyond
the process before loading, per distinct pre-token (what the merge phase costs a machine, file to merges), and a
digest of the merges (equal digests: the same merges); ``--trace`` adds compact runs under ``tracemalloc`` for its
peak of the load and the loop (numpy's arrays are traced too).

``sharded`` (``--loops sharded --actors 1,2``; COUNTS must be a shards folder) merges on Dask actors
(:mod:`tokviz.scale.dask_merge`): a ``dask scheduler`` and one ``dask worker`` process per actor are started for
the run, so the measuring process is the coordinator alone. Its row gives the coordinator's peak RSS (and beyond its
RSS once connected, per distinct pre-token, and per pair it counted: the bytes' pairs and every merge's new ones),
each worker's peak RSS and its growth from before its shard was read, and milliseconds per merge: the merge's wall
time over the merges learned, against the one-process loops' rows. "merge CPU s" is the measuring process's: for
``sharded``, the coordinator's, loading included.

Usage::

    python bench/merge_memory.py COUNTS --vocab 16000,32000
    python bench/merge_memory.py SHARDS_FOLDER --vocab 8000 --loops python,compact,sharded --actors 1,2,4
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EOT = "<|endoftext|>"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def measure(loop: str, counts: str, vocab: int, traced: bool) -> dict[str, object]:
    """One run in this process: load, merge, figures."""
    import tracemalloc

    sys.path.insert(0, str(ROOT))
    from tokviz.training.compact_merge import load_counts_arrays, merge_counts_compact
    from tokviz.training.counts_table import Counts
    from tokviz.training.merge_loop import merge_counts

    base = _current_rss_mb()
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    if loop == "compact":
        loaded = load_counts_arrays(counts)
        distinct, table = loaded.words.distinct, loaded.words
    else:
        c = Counts.load(counts) if not Path(counts).is_dir() else None
        if c is None:
            from tokviz.training.counts_shards import load_shards

            c = load_shards(counts)
        distinct, table = len(c), c.counts
    load_s = time.perf_counter() - t0
    loaded_rss = _current_rss_mb()
    n_merges = vocab - 256 - 1
    cpu0, t0 = _cpu(), time.perf_counter()
    if loop == "compact":
        result = merge_counts_compact(table, n_merges=n_merges)
    else:
        result = merge_counts(table, n_merges=n_merges)
    seconds, cpu = time.perf_counter() - t0, _cpu() - cpu0
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else 0
    peak = _rss_mb()
    digest = hashlib.sha256(json.dumps([[a.hex(), b.hex()] for a, b in result.merges]).encode()).hexdigest()[:16]
    return {"loop": loop, "vocab": vocab, "distinct": distinct, "load_s": load_s, "seconds": seconds, "cpu": cpu,
            "base_mb": base, "loaded_mb": loaded_rss, "peak_mb": peak,
            "bytes_per_distinct": (peak - base) * 2**20 / distinct,
            "traced_bytes_per_distinct": traced_peak / distinct if traced else None,
            "merges": len(result.merges), "digest": digest}


@contextmanager
def dask_processes(n_workers: int, folder: Path) -> Iterator[Path]:
    """A ``dask scheduler`` and ``n_workers`` ``dask worker`` processes (one thread each) on this machine, started
    from the command line as on a cluster; yields the scheduler file to connect with."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    sched_file = folder / "scheduler.json"
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(600):
            if sched_file.exists():
                break
            time.sleep(0.1)
        procs += [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                    str(sched_file), "--nthreads", "1", "--no-dashboard", "--no-nanny",
                                    "--memory-limit", "0"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL) for _ in range(n_workers)]
        yield sched_file
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # a worker may wait long for a scheduler that is already gone
                proc.kill()
                proc.wait()


def measure_sharded(counts: str, vocab: int, actors: int) -> dict[str, object]:
    """One sharded run: this process is the coordinator (client), each actor on its own worker process."""
    import tempfile

    import distributed

    sys.path.insert(0, str(ROOT))
    from tokviz.scale.dask_merge import merge_on_dask

    with tempfile.TemporaryDirectory() as tmp, dask_processes(actors, Path(tmp)) as sched_file, \
            distributed.Client(scheduler_file=str(sched_file)) as client:
        client.wait_for_workers(actors, timeout=120)
        base = _current_rss_mb()
        cpu0, t0 = _cpu(), time.perf_counter()
        result, report = merge_on_dask(counts, client=client, n_merges=vocab - 256 - 1, actors=actors)
        seconds, cpu = time.perf_counter() - t0, _cpu() - cpu0
    peak = _rss_mb()
    digest = hashlib.sha256(json.dumps([[a.hex(), b.hex()] for a, b in result.merges]).encode()).hexdigest()[:16]
    n = max(1, len(result.merges))
    return {"loop": f"sharded x{actors}", "vocab": vocab, "distinct": report.distinct, "load_s": report.load_seconds,
            "seconds": report.merge_seconds, "cpu": cpu, "base_mb": base, "loaded_mb": base, "peak_mb": peak,
            "bytes_per_distinct": (peak - base) * 2**20 / report.distinct, "traced_bytes_per_distinct": None,
            "merges": len(result.merges), "digest": digest, "ms_per_merge": 1000 * report.merge_seconds / n,
            "pairs": report.pairs, "bytes_per_pair": (peak - base) * 2**20 / max(1, report.pairs),
            "wall_with_start_s": seconds, "files_per_actor": report.files_per_actor,
            "worker_mb": [[round(b / 2**20), round(now / 2**20), round(p / 2**20)] for b, now, p in
                          report.worker_memory]}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("counts", help="a counts TSV or shards folder")
    p.add_argument("--vocab", default="16000,32000", help="vocabulary sizes, comma-separated")
    p.add_argument("--loops", default="python,compact")
    p.add_argument("--trace", action="store_true", help="also run the compact loop under tracemalloc")
    p.add_argument("--actors", default="2", help="with --loops ...,sharded: actor counts, comma-separated")
    p.add_argument("--measure", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.measure:
        loop, vocab, traced = args.measure.split(":")
        if loop.startswith("sharded"):
            print(json.dumps(measure_sharded(args.counts, int(vocab), int(loop.removeprefix("sharded")))))
        else:
            print(json.dumps(measure(loop, args.counts, int(vocab), traced == "1")))
        return
    rows = []
    loops = [f"sharded{a}" for a in args.actors.split(",")] if "sharded" in args.loops.split(",") else []
    loops = [loop for loop in args.loops.split(",") if loop != "sharded"] + loops
    runs = [(loop, int(v), False) for v in args.vocab.split(",") for loop in loops]
    if args.trace:
        runs += [("compact", int(v), True) for v in args.vocab.split(",")]
    for loop, vocab, traced in runs:
        out = subprocess.run([sys.executable, __file__, args.counts, "--measure", f"{loop}:{vocab}:{int(traced)}"],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rows.append(r)
        print(json.dumps(r), file=sys.stderr)
    print("| loop | vocab | distinct | load s | merge wall s | ms per merge | merge CPU s | peak RSS MB | "
          "B per distinct (RSS) | B per distinct (tracemalloc) | coordinator: pairs, B per pair | "
          "workers: RSS before, peak MB | merges digest |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    for r in rows:
        traced = f"{r['traced_bytes_per_distinct']:.0f}" if r["traced_bytes_per_distinct"] is not None else ""
        ms = 1000 * float(r["seconds"]) / max(1, int(r["merges"]))
        workers = "; ".join(f"{b}, {p}" for b, _, p in r.get("worker_mb", []))
        pairs = f"{r['pairs']:,}, {r['bytes_per_pair']:.0f}" if r.get("pairs") else ""
        print(f"| {r['loop']} | {r['vocab']:,} | {r['distinct']:,} | {r['load_s']:.1f} | {r['seconds']:.1f} | "
              f"{ms:.2f} | {r['cpu']:.1f} | {r['peak_mb']:.0f} | {r['bytes_per_distinct']:.0f} | {traced} | "
              f"{pairs} | {workers} | {r['digest']} |")


if __name__ == "__main__":
    main()
