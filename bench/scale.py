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
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

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


def build_corpus(target: int, out: Path) -> Path:
    """Write ``target`` bytes of distinct source text to ``out`` (see the module docstring)."""
    seen: set[bytes] = set()
    written = 0
    with open(out, "wb") as f:
        for p in source_files():
            data = p.read_bytes()
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


def ensure_corpus(megabytes: int) -> Path:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"pysource-g{GENERATOR_VERSION}-py{sys.version_info[0]}{sys.version_info[1]}-{megabytes}MB.txt"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        build_corpus(megabytes * MB, tmp)
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


def measure(kind: str, corpus: Path, workers: int) -> dict[str, object]:
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
    raise SystemExit(f"unknown measurement {kind!r}")


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
def run(kind: str, corpus: Path, workers: int) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, "--measure", kind, "--corpus", str(corpus), "--workers",
                          str(workers)], capture_output=True, text=True, cwd=ROOT,
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
    args = p.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.corpus, args.workers)))
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
