"""Counting and encoding at corpus scale on this machine: one process, two local processes, a two-worker Dask
LocalCluster, and tiktoken's ``encode_ordinary_batch`` with the same number of threads.

The corpora are distinct text, not a repeated sample: every ``.py`` file of this Python installation (standard
library, then site-packages), in path order, each distinct file once, separated by ``<|endoftext|>``, cut to the
size asked at a character boundary. Site-packages differ between machines, so the 200 MB corpus is the same only
on machines with the same packages; its SHA-256 is printed. Repeating a small sample would shrink the distinct
pre-token table and flatter the reduce.

Every measurement runs in a fresh process (``--measure``), so peak RSS (``ru_maxrss``) is that run's own: the
client process (with a LocalCluster, it also hosts the scheduler), and each worker process (forked counters:
``RUSAGE_CHILDREN``, the largest child; Dask workers: each reports its own). Times are medians of ``--repeats``
runs; a ratio > 1 means slower than the baseline named in its row.

Usage::

    python bench/scale.py                    # 5 MB and 200 MB rows, about 10 minutes on 2 cores
    python bench/scale.py --sizes 5          # the 5 MB rows only
    python bench/scale.py --sizes 5,200,1000 # add 1 GB (a 1 GB corpus needs that much distinct .py text)
    python bench/scale.py --phases --sizes 5,200   # per phase: count whole / in 4 shards, merge 16k and 32k
    python bench/scale.py --phases --mixed --sizes 1000   # + man pages, docs, other text files: 1 GB of distinct text
    python bench/scale.py --phases --separate --sizes 200  # on `dask scheduler` + `dask worker` processes
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "bench" / "_data"
OUT_DIR = ROOT / "bench" / "_out"
EOT = "<|endoftext|>"
MB = 1_000_000
GENERATOR_VERSION = 1


# -- the corpus -------------------------------------------------------------------------------------------------
def source_files() -> list[Path]:
    """Every .py file of the standard library, then of site-packages, each in path order."""
    roots = [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]]
    seen_roots: list[Path] = []
    files: list[Path] = []
    for r in roots:
        root = Path(r).resolve()
        if root in seen_roots:
            continue
        seen_roots.append(root)
        inside = sorted(p for p in root.rglob("*.py") if p.is_file() and "site-packages" not in
                        p.relative_to(root).parts[:1])
        files += inside
    return files


#: Text beyond Python source, for corpora larger than this installation's .py files: man pages and /usr/share/doc
#: (gzip read), then other text files under these folders, by suffix.
MIXED_ROOTS = ("/usr", "/opt", str(Path(sys.prefix).resolve().parents[1]))
MIXED_SUFFIXES = frozenset(".py .pyi .txt .md .rst .html .js .ts .c .h .json .css .xml .tex .po .sh .pl .rb .go .rs "
                           ".java .cpp .hpp .yaml .yml .toml .cfg .ini".split())


def mixed_documents() -> Iterator[bytes]:
    """Python source first (as :func:`source_files`), then man pages and docs, then other text files: each file's
    bytes, in path order within each kind."""
    import gzip

    for p in source_files():
        yield p.read_bytes()
    for root in ("/usr/share/man", "/usr/share/doc"):
        for p in sorted(Path(root).rglob("*")):
            if p.is_file() and not p.is_symlink():
                try:
                    yield gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
                except (OSError, EOFError):
                    continue
    for root in MIXED_ROOTS:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if path.suffix in MIXED_SUFFIXES and not path.is_symlink():
                    try:
                        yield path.read_bytes()
                    except OSError:
                        continue


def build_corpus(target: int, out: Path, *, mixed: bool = False) -> Path:
    """Write ``target`` bytes of distinct text to ``out`` (see the module docstring): Python source, and with
    ``mixed`` more text after it (:func:`mixed_documents`)."""
    seen: set[bytes] = set()
    written = 0
    documents = mixed_documents() if mixed else (p.read_bytes() for p in source_files())
    with open(out, "wb") as f:
        for data in documents:
            digest = hashlib.sha256(data).digest()
            if digest in seen or not data.strip():
                continue
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            seen.add(digest)
            piece = (EOT.encode() if written else b"") + data
            if written + len(piece) > target:
                piece = piece[: target - written].decode("utf-8", "ignore").encode("utf-8")
            f.write(piece)
            written += len(piece)
            if written >= target:
                break
    if written < target:
        raise SystemExit(f"only {written / MB:.0f} MB of distinct .py text here; ask for a smaller size.")
    return out


def ensure_corpus(megabytes: int, *, mixed: bool = False) -> Path:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    kind = "mixed" if mixed else "pysource"
    path = DATA_DIR / f"{kind}-g{GENERATOR_VERSION}-py{sys.version_info[0]}{sys.version_info[1]}-{megabytes}MB.txt"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        build_corpus(megabytes * MB, tmp, mixed=mixed)
        tmp.replace(path)
    return path


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in blocks: the parent stays small, and a forked child's peak RSS starts from it."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


# -- one measurement, in its own process ---------------------------------------------------------------------------
def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def _worker_rss() -> float:
    import resource as r

    return r.getrusage(r.RUSAGE_SELF).ru_maxrss / 1024


def _gpt2():  # noqa: ANN202 - a Tokenizer; imported late so the parent process stays small
    from tokviz import load_tokenizer

    return load_tokenizer("gpt2")


def measure(kind: str, corpus: Path, workers: int, *, separate: bool = False) -> dict[str, object]:
    if kind == "count-local":
        from tokviz.training.counts_table import count_files

        t0 = time.perf_counter()
        counts = count_files([corpus], special_tokens=[EOT], workers=workers)
        seconds = time.perf_counter() - t0
        children = [_rss_mb(resource.RUSAGE_CHILDREN)] if workers > 1 else []  # one process forks no counter
        return {"seconds": seconds, "client_rss": _rss_mb(), "worker_rss": children,
                "distinct": len(counts), "total": counts.total}
    if kind in ("count-dask", "encode-dask"):
        import distributed

        t0 = time.perf_counter()
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as client:
            client.wait_for_workers(workers)
            startup = time.perf_counter() - t0
            if kind == "count-dask":
                from tokviz.scale import count_on_dask

                t0 = time.perf_counter()
                counts = count_on_dask([str(corpus)], client=client, special_tokens=[EOT])
                seconds = time.perf_counter() - t0
                extra: dict[str, object] = {"distinct": len(counts), "total": counts.total}
            else:
                from tokviz.scale import encode_on_dask

                tok = _gpt2()
                t0 = time.perf_counter()
                out = encode_on_dask([str(corpus)], tok, DATA_DIR / "ids-dask.npy", client=client)
                seconds = time.perf_counter() - t0
                extra = {"ids": out.n_ids}
            rss = sorted(client.run(_worker_rss).values())
        return {"seconds": seconds, "startup": startup, "client_rss": _rss_mb(), "worker_rss": rss, **extra}
    if kind == "encode-local":
        from tokviz.corpus.ids import encode_corpus

        tok = _gpt2()
        t0 = time.perf_counter()
        out = encode_corpus([corpus], tok, DATA_DIR / "ids-local.npy", workers=workers)
        seconds = time.perf_counter() - t0
        return {"seconds": seconds, "client_rss": _rss_mb(), "worker_rss": [_rss_mb(resource.RUSAGE_CHILDREN)],
                "ids": out.n_ids}
    if kind == "encode-tiktoken":
        import tiktoken

        from tokviz.formats.gpt2 import read_gpt2_files
        from tokviz.pre_tokenizers.patterns import GPT2_PATTERN

        shared = Path(os.environ.get("TOKVIZ_SHARED_DATA", ROOT.parent / "shared" / "data")) / "cs336"
        vocab, _ = read_gpt2_files(shared / "gpt2_vocab.json", shared / "gpt2_merges.txt")
        enc = tiktoken.Encoding("gpt2-local", pat_str=GPT2_PATTERN,
                                mergeable_ranks={b: i for i, b in vocab.items() if b != EOT.encode()},
                                special_tokens={EOT: 50256})
        with open(corpus, encoding="utf-8", newline="") as f:  # newline="": keep "\r\n" as the file has it
            docs = f.read().split(EOT)  # the same documents, read before the clock starts
        t0 = time.perf_counter()
        batches = enc.encode_ordinary_batch(docs, num_threads=workers)
        seconds = time.perf_counter() - t0
        return {"seconds": seconds, "client_rss": _rss_mb(), "worker_rss": [],
                "ids": sum(map(len, batches)) + len(docs) - 1}
    if kind == "reduce":
        return measure_reduce(corpus)
    if kind in ("phase-count", "phase-shards"):
        return measure_count_phase(corpus, workers, shards=4 if kind == "phase-shards" else None, separate=separate)
    if kind == "phase-merge-sharded":
        return measure_sharded_merge_phase(corpus, workers, separate=separate)
    if kind == "phase-merge":
        return measure_merge_phase()
    raise SystemExit(f"unknown measurement {kind!r}")


def _cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _worker_phase_stats(dask_worker=None) -> dict[str, float]:  # noqa: ANN001 - a distributed.Worker
    """A Dask worker process's peak RSS, CPU seconds and bytes it sent to other workers."""
    import resource as r

    use = r.getrusage(r.RUSAGE_SELF)
    sent = float(getattr(dask_worker, "transfer_outgoing_bytes_total", 0) or 0)
    return {"rss": use.ru_maxrss / 1024, "cpu": use.ru_utime + use.ru_stime, "sent": sent}


@contextmanager
def dask_client(workers: int, *, separate: bool) -> Iterator[Any]:
    """A client of ``workers`` one-thread worker processes: a ``LocalCluster``, or (``separate``) a ``dask scheduler``
    and ``dask worker`` processes started as on a cluster, the client connecting by address."""
    import distributed

    if not separate:
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as client:
            client.wait_for_workers(workers)
            yield client
        return
    with tempfile.TemporaryDirectory() as tmp:
        sched = Path(tmp) / "scheduler.json"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m"]
        procs = [subprocess.Popen([*cmd, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                   "--no-dashboard", "--scheduler-file", str(sched)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        try:
            deadline = time.monotonic() + 60
            while not sched.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            procs += [subprocess.Popen([*cmd, "distributed.cli.dask_worker", "--scheduler-file", str(sched),
                                        "--nthreads", "1", "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL) for _ in range(workers)]
            address = json.loads(sched.read_text(encoding="utf-8"))["address"]
            with distributed.Client(address, timeout="60s") as client:
                client.wait_for_workers(workers, timeout=120)
                yield client
        finally:
            for proc in reversed(procs):
                proc.send_signal(signal.SIGINT)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def measure_count_phase(corpus: Path, workers: int, *, shards: int | None, separate: bool = False,
                        ) -> dict[str, object]:
    """Count on 2 workers (a LocalCluster, or separately started processes), whole (one root sums the table) or in
    shards (each shard its own root); wall and CPU seconds (client + workers), peak RSS per process, bytes moved
    between workers and to the client."""
    import shutil

    from tokviz.scale import count_on_dask, count_shards_on_dask
    from tokviz.training.counts_shards import iter_shards

    out = DATA_DIR / f"phase-shards-{corpus.stem}"
    shutil.rmtree(out, ignore_errors=True)
    with dask_client(workers, separate=separate) as client:
        before = client.run(_worker_phase_stats)
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        if shards is None:
            counts = count_on_dask([str(corpus)], client=client, special_tokens=[EOT])
            counts.save(DATA_DIR / f"phase-counts-{corpus.stem}.tsv")
            distinct, total = len(counts), counts.total
            to_client = len(pickle_size(counts.counts))
        else:
            manifest = count_shards_on_dask([str(corpus)], out, client=client, shards=shards, special_tokens=[EOT])
            sizes = [(len(s), s.total, len(pickle_size(s.counts))) for s in iter_shards(manifest)]
            distinct, total, to_client = sum(x[0] for x in sizes), sum(x[1] for x in sizes), sum(x[2] for x in sizes)
        seconds = time.perf_counter() - t0
        after = client.run(_worker_phase_stats)
    cpu = _cpu_seconds() - cpu0 + sum(after[w]["cpu"] - before[w]["cpu"] for w in after)
    moved = sum(after[w]["sent"] - before[w]["sent"] for w in after)
    return {"seconds": seconds, "cpu": cpu, "client_rss": _rss_mb(), "worker_rss": sorted(a["rss"] for a in
            after.values()), "between_workers_mb": moved / MB, "to_client_mb": to_client / MB, "distinct": distinct,
            "total": total, "shards": shards or 1}


def pickle_size(obj: object) -> bytes:
    import pickle

    return pickle.dumps(obj, protocol=5)


def measure_merge_phase() -> dict[str, object]:
    """The merge loop at vocabularies 16k and 32k on the counts the count phase saved: wall, CPU, peak RSS, and
    bytes of peak RSS per distinct pre-token beyond what the loaded counts took."""
    from tokviz.training.counts_table import Counts
    from tokviz.training.trainer import train_from_counts

    path = next(DATA_DIR.glob("phase-counts-*.tsv"))
    counts = Counts.load(path)
    base = _rss_mb()
    res: dict[str, object] = {"distinct": len(counts), "total": counts.total, "loaded_rss": base}
    for vocab in (16_000, 32_000):
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        tok = train_from_counts(counts.counts, vocab_size=vocab, special_tokens=[EOT])
        res[f"seconds_{vocab}"] = time.perf_counter() - t0
        res[f"cpu_{vocab}"] = _cpu_seconds() - cpu0
        res[f"merges_{vocab}"] = len(tok.merges)
        res[f"rss_{vocab}"] = _rss_mb()  # peak so far: the 32k run includes the 16k one's
    res["seconds"] = res["seconds_16000"]
    res["client_rss"] = _rss_mb()
    res["worker_rss"] = []
    res["bytes_per_distinct"] = (_rss_mb() - base) * 2**20 / max(1, len(counts))
    return res


def measure_sharded_merge_phase(corpus: Path, workers: int, *, separate: bool) -> dict[str, object]:
    """The merge sharded across the workers (``merge_on_dask``) at vocabularies 16k and 32k, on the shards the
    "count, 4 shards" phase left: wall and CPU (client + workers), the client's (coordinator's) and each worker's
    peak RSS, per vocabulary in a fresh cluster."""
    from tokviz.scale.dask_merge import merge_on_dask

    shards = DATA_DIR / f"phase-shards-{corpus.stem}"
    res: dict[str, object] = {}
    for vocab in (16_000, 32_000):
        with dask_client(workers, separate=separate) as client:
            before = client.run(_worker_phase_stats)
            cpu0 = _cpu_seconds()
            t0 = time.perf_counter()
            result, report = merge_on_dask(shards, client=client, n_merges=vocab - 257)
            res[f"seconds_{vocab}"] = time.perf_counter() - t0
            after = client.run(_worker_phase_stats)
        res[f"cpu_{vocab}"] = _cpu_seconds() - cpu0 + sum(after[w]["cpu"] - before[w]["cpu"] for w in after)
        res[f"merges_{vocab}"] = len(result.merges)
        res[f"worker_rss_{vocab}"] = sorted(a["rss"] for a in after.values())
        res[f"rss_{vocab}"] = _rss_mb()  # the coordinator: peak so far, the 32k run includes the 16k one's
        res["distinct"] = report.distinct
    return res


def phases(sizes: list[int], *, mixed: bool, separate: bool = False) -> None:
    """``--phases``: per-phase figures for the 100 GB projection (docs/scale.md)."""
    lines = ["| corpus | phase | wall s | CPU s | client peak RSS MB | worker peak RSS MB | moved between workers "
             "MB | to client MB | distinct pre-tokens |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    results: dict[str, object] = {}
    for mb in sizes:
        corpus = ensure_corpus(mb, mixed=mixed)
        print(f"# {mb} MB corpus: {corpus.name} sha256 {sha256_of(corpus)[:16]}...", file=sys.stderr)
        where = "separate scheduler + 2 workers" if separate else "LocalCluster 2 workers"
        for label, kind in ((f"count, one root, {where}", "phase-count"), (f"count, 4 shards, {where}",
                                                                             "phase-shards")):
            r = run(kind, corpus, 2, separate=separate)
            results[f"{mb}MB {label}"] = r
            wr = ", ".join(f"{x:.0f}" for x in r["worker_rss"])  # type: ignore[attr-defined]
            lines.append(f"| {mb} MB | {label} | {r['seconds']:.1f} | {r['cpu']:.1f} | {r['client_rss']:.0f} | {wr} | "
                         f"{r['between_workers_mb']:.1f} | {r['to_client_mb']:.1f} | {r['distinct']:,} |")
        m = run("phase-merge", corpus, 1)
        results[f"{mb}MB merge"] = m
        for vocab in (16_000, 32_000):
            lines.append(f"| {mb} MB | merge {vocab // 1000}k, one process | {m[f'seconds_{vocab}']:.1f} | "
                         f"{m[f'cpu_{vocab}']:.1f} | {m[f'rss_{vocab}']:.0f} |  |  |  | {m['distinct']:,} |")
        lines.append(f"| {mb} MB | merge: peak RSS beyond the loaded counts, per distinct pre-token |  |  | "
                     f"{m['bytes_per_distinct']:.0f} B |  |  |  |  |")
        sm = run("phase-merge-sharded", corpus, 2, separate=separate)
        results[f"{mb}MB merge sharded"] = sm
        for vocab in (16_000, 32_000):
            wr = ", ".join(f"{x:.0f}" for x in sm[f"worker_rss_{vocab}"])  # type: ignore[attr-defined]
            lines.append(f"| {mb} MB | merge {vocab // 1000}k sharded, {where} | {sm[f'seconds_{vocab}']:.1f} | "
                         f"{sm[f'cpu_{vocab}']:.1f} | {sm[f'rss_{vocab}']:.0f} | {wr} |  |  | {sm['distinct']:,} |")
        for f in DATA_DIR.glob("phase-counts-*.tsv"):
            f.unlink()
        print("\n".join(lines), file=sys.stderr)
    print("\n".join(lines))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "scale-phases.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    (OUT_DIR / "scale-phases.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def measure_reduce(corpus: Path) -> dict[str, object]:
    """Per-range counting throughput on one core and the cost of summing partial tables (what a tree reduce does)."""
    import pickle

    from tokviz.corpus.sources import source_ranges
    from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
    from tokviz.scale.dask_count import DASK_RANGE_BYTES, _sum
    from tokviz.training.source_counts import count_range

    pt = PreTokenizer.create("gpt2", special_tokens=[EOT])
    ranges = source_ranges(str(corpus), target=DASK_RANGE_BYTES, special_tokens=[EOT])[:8]
    parts = []
    t0 = time.perf_counter()
    for a, b in ranges:
        parts.append(count_range(str(corpus), a, b, pt))
    count_seconds = time.perf_counter() - t0
    counted = sum(b - a for a, b in ranges)
    sizes = [len(p) for p in parts]
    pickled = [len(pickle.dumps(p, protocol=5)) for p in parts]
    t0 = time.perf_counter()
    entries = sum(sizes)
    total = _sum(*parts)
    sum_seconds = time.perf_counter() - t0
    return {"range_mb": DASK_RANGE_BYTES / MB, "ranges": len(ranges), "mb_per_s": counted / MB / count_seconds,
            "entries_per_range": statistics.median(sizes), "pickled_mb_per_range": statistics.median(pickled) / MB,
            "sum_entries_per_s": entries / sum_seconds, "distinct_after": len(total), "seconds": sum_seconds}


# -- the table -----------------------------------------------------------------------------------------------------
def run(kind: str, corpus: Path, workers: int, *, separate: bool = False) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, "--measure", kind, "--corpus", str(corpus), "--workers",
                          str(workers), *(["--separate"] if separate else [])], capture_output=True, text=True,
                         cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def medians(kind: str, corpus: Path, workers: int, repeats: int) -> dict[str, object]:
    samples = [run(kind, corpus, workers) for _ in range(repeats)]
    best = dict(samples[0])
    for key in ("seconds", "startup", "client_rss"):
        if key in best:
            best[key] = statistics.median(float(s[key]) for s in samples)  # type: ignore[arg-type]
    best["worker_rss"] = [statistics.median(col) for col in zip(*(s["worker_rss"] for s in samples))]  # type: ignore
    best["n"] = repeats
    return best


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="5,200", help="corpus sizes in MB, comma-separated (default 5,200)")
    p.add_argument("--repeats", type=int, default=3, help="runs per measurement on the 5 MB corpus (default 3)")
    p.add_argument("--encode-max", type=int, default=200, help="largest corpus (MB) to encode (default 200)")
    p.add_argument("--measure", help=argparse.SUPPRESS)
    p.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    p.add_argument("--phases", action="store_true", help="per-phase rows (count whole / in shards, merge 16k and 32k)"
                                                         ": wall, CPU, peak RSS, bytes moved")
    p.add_argument("--mixed", action="store_true", help="with --phases: Python source, then man pages, /usr/share/doc "
                                                        "and other text files (for corpora past the .py text here)")
    p.add_argument("--separate", action="store_true", help="with --phases: a separately started `dask scheduler` and "
                                                           "`dask worker` processes instead of a LocalCluster")
    args = p.parse_args(argv)
    if args.phases and not args.measure:
        phases([int(s) for s in args.sizes.split(",")], mixed=args.mixed, separate=args.separate)
        return
    if args.measure:
        print(json.dumps(measure(args.measure, args.corpus, args.workers, separate=args.separate)))
        return
    lines = ["| corpus | what | median s | MB/s | ratio | client peak RSS MB | worker peak RSS MB | note |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    results: dict[str, object] = {}
    for mb in [int(s) for s in args.sizes.split(",")]:
        corpus = ensure_corpus(mb)
        sha = sha256_of(corpus)[:16]
        print(f"# {mb} MB corpus: {corpus.name} sha256 {sha}...", file=sys.stderr)
        reps = args.repeats if mb <= 5 else 1
        rows: list[tuple[str, dict[str, object], str]] = []

        def row(label: str, kind: str, workers: int, base: str | None, note: str = "", *, mb: int = mb,
                corpus: Path = corpus, reps: int = reps,
                rows: list[tuple[str, dict[str, object], str]] = rows) -> None:
            print(f"#   {label} ...", file=sys.stderr)
            r = medians(kind, corpus, workers, reps)
            results[f"{mb}MB {label}"] = r
            rows.append((label, r, base or ""))
            base_s = next((float(x["seconds"]) for lab, x, _ in rows if lab == base), None)  # type: ignore[arg-type]
            ratio = f"{float(r['seconds']) / base_s:.2f}x {base}" if base_s else ""  # type: ignore[arg-type]
            extra = f"startup {float(r['startup']):.1f} s; " if "startup" in r else ""  # type: ignore[arg-type]
            if "distinct" in r:
                extra += f"{r['distinct']:,} distinct of {r['total']:,}; "
            if "ids" in r:
                extra += f"{r['ids']:,} ids; "
            wr = ", ".join(f"{x:.0f}" for x in r["worker_rss"])  # type: ignore[attr-defined]
            lines.append(f"| {mb} MB | {label} | {float(r['seconds']):.2f} | {mb / float(r['seconds']):.2f} | "  # type: ignore[arg-type]
                         f"{ratio} | {float(r['client_rss']):.0f} | {wr} | {extra}{note}n={r['n']} |")  # type: ignore[arg-type]

        row("count, 1 process", "count-local", 1, None)
        row("count, 2 local processes", "count-local", 2, "count, 1 process")
        row("count, Dask LocalCluster 2 workers", "count-dask", 2, "count, 2 local processes")
        if mb <= args.encode_max:
            row("encode, tiktoken encode_ordinary_batch 2 threads", "encode-tiktoken", 2, None)
            row("encode-corpus, 2 local processes", "encode-local", 2,
                "encode, tiktoken encode_ordinary_batch 2 threads")
            row("encode-corpus, Dask LocalCluster 2 workers", "encode-dask", 2,
                "encode, tiktoken encode_ordinary_batch 2 threads")
        if mb == max(int(s) for s in args.sizes.split(",")):
            results[f"{mb}MB reduce"] = run("reduce", corpus, 1)
    print("\n".join(lines))
    red = next((v for k, v in results.items() if k.endswith("reduce")), None)
    if isinstance(red, dict):
        print(f"\nper range of {red['range_mb']:.1f} MB on one core: {red['mb_per_s']:.2f} MB/s, "
              f"{red['entries_per_range']:,.0f} distinct pre-tokens a range ({red['pickled_mb_per_range']:.2f} MB "
              f"pickled); summing {red['ranges']} tables: {red['sum_entries_per_s']:,.0f} entries/s "
              f"({red['distinct_after']:,} distinct after)")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "scale.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    (OUT_DIR / "scale.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
