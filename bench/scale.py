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
    python bench/scale.py --phases --separate --mixed --variants --sizes 5000   # 1 GB mixed, then rot-k copies of it
    python bench/scale.py --phases --separate --mixed --variants --sizes 5000 --only count,shards   # some phases
    python bench/scale.py --peers --mixed --sizes 1000     # tokenizers' and sentencepiece's BPE trainers, 16k and 32k

Past the machine's distinct text (``--variants``, for sizes above 1,000 MB): the 1 GB ``--mixed`` corpus, then copy
k = 1, 2, ... of it with every ASCII letter rotated by k places (rot-k: case, digits, punctuation, whitespace,
non-ASCII bytes and the ``<|endoftext|>`` separators kept), each after a separator, cut to the size asked. A copy adds
its own words (``the`` becomes ``uif``, ``vjg``, ...) with the same lengths, case and pair structure as the machine's
text, so the distinct pre-token count keeps growing about in proportion to the bytes: an upper bound on the growth
of real text (Heaps' law: sublinear), where repeating the text would freeze it and flatter the merge phase.
Corpora of 1,000 MB and less are the same bytes with or without ``--variants``.
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


#: With ``--variants``, corpora past this many MB are the ``--mixed`` corpus of this size, then rot-k copies of it.
VARIANT_BASE_MB = 1000
_EOT_BYTES = EOT.encode()
_LOWER = b"abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()


def rotate_letters(data: bytes, k: int) -> bytes:
    r"""``data`` with every ASCII letter moved ``k`` places along the alphabet (case kept) and every other byte, the
    ``<|endoftext|>`` separators included, as it was. Valid UTF-8 stays valid (no byte of a multi-byte character is
    ASCII).

    >>> rotate_letters(b"The cat, 42 caf\xc3\xa9s<|endoftext|>Zz", 1)
    b'Uif dbu, 42 dbg\xc3\xa9t<|endoftext|>Aa'
    """
    k %= 26
    table = bytes.maketrans(_LOWER + _UPPER, _LOWER[k:] + _LOWER[:k] + _UPPER[k:] + _UPPER[:k])
    return _EOT_BYTES.join(part.translate(table) for part in data.split(_EOT_BYTES))


def write_rotated(src: Path, out: Any, k: int, limit: int, *, block: int = 16 * MB) -> int:
    """Write at most ``limit`` bytes of ``rotate_letters(src's bytes, k)`` to the binary file ``out``, read
    ``block`` bytes at a time (the writer stays small), cut at a UTF-8 character boundary; the bytes written.

    A block is rotated up to its last separator, so no separator is split between blocks; a block without one keeps
    its last ``len(EOT) - 1`` bytes (and the start of a character cut there) for the next, where a separator could
    begin. Every piece written is whole characters, so the cut at ``limit`` drops at most the last one's start."""
    written = 0
    carry = b""
    with open(src, "rb") as f:
        while written < limit:
            data = f.read(block)
            buf = carry + data
            if not data:
                cut = len(buf)
            elif (last := buf.rfind(_EOT_BYTES)) >= 0:
                cut = last + len(_EOT_BYTES)
            else:
                cut = max(0, len(buf) - len(_EOT_BYTES) + 1)
                while 0 < cut < len(buf) and 0x80 <= buf[cut] < 0xC0:  # a piece ends between characters
                    cut -= 1
            piece, carry = rotate_letters(buf[:cut], k), buf[cut:]
            if written + len(piece) >= limit:
                piece = piece[: limit - written].decode("utf-8", "ignore").encode("utf-8")
                limit = written + len(piece)  # stop here: a character was cut
            out.write(piece)
            written += len(piece)
            if not data:
                break
    return written


def build_variant_corpus(target: int, out: Path, base: Path) -> Path:
    """Write ``target`` bytes to ``out``: ``base``, then its rot-1, rot-2, ... copies (:func:`rotate_letters`), each
    after a separator, the last cut at a character boundary."""
    written = 0
    with open(out, "wb") as f:
        for k in range(26):
            if k:
                if written + len(_EOT_BYTES) > target:
                    break
                f.write(_EOT_BYTES)
                written += len(_EOT_BYTES)
            n = write_rotated(base, f, k, target - written)
            written += n
            if written >= target or n < base.stat().st_size:
                break
    if written < target - 4:  # the cut at a character boundary may leave up to 3 bytes short
        raise SystemExit(f"only {written / MB:.0f} MB from 26 rotations of {base.name}; ask for a smaller size.")
    return out


def ensure_corpus(megabytes: int, *, mixed: bool = False, variants: bool = False) -> Path:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if variants and megabytes > VARIANT_BASE_MB:
        base = ensure_corpus(VARIANT_BASE_MB, mixed=True)
        path = DATA_DIR / f"mixed-rot-g{GENERATOR_VERSION}-{base.stem.split('-')[2]}-{megabytes}MB.txt"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            build_variant_corpus(megabytes * MB, tmp, base)
            tmp.replace(path)
        return path
    kind = "mixed" if mixed or variants else "pysource"
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


def measure(kind: str, corpus: Path, workers: int, *, separate: bool = False, vocab_size: int = 0,
            sentences: int = 0) -> dict[str, object]:
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
        return measure_sharded_merge_phase(corpus, workers, separate=separate,
                                           vocabs=(vocab_size,) if vocab_size else (16_000, 32_000))
    if kind == "phase-merge":
        return measure_merge_phase()
    if kind.startswith("peer-"):
        return measure_peer(kind.removeprefix("peer-"), corpus, vocab_size, sentences=sentences)
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


def measure_sharded_merge_phase(corpus: Path, workers: int, *, separate: bool,
                                vocabs: tuple[int, ...] = (16_000, 32_000)) -> dict[str, object]:
    """The merge sharded across the workers (``merge_on_dask``) at ``vocabs``, on the shards the "count, 4 shards"
    phase left: wall and CPU (client + workers), the client's (coordinator's) and each worker's peak RSS, per
    vocabulary in a fresh cluster (the coordinator's peak: the largest so far in this process)."""
    from tokviz.scale.dask_merge import merge_on_dask

    shards = DATA_DIR / f"phase-shards-{corpus.stem}"
    res: dict[str, object] = {}
    for vocab in vocabs:
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


PHASES = ("count", "shards", "merge", "sharded")


def corpus_label(mb: int, *, mixed: bool, variants: bool) -> str:
    """How the tables name a corpus: ``200 MB``, ``1000 MB (mixed)``, ``5000 MB (mixed + rot-1..4)``."""
    if variants and mb > VARIANT_BASE_MB:
        return f"{mb} MB (mixed + rot-1..{-(-mb // VARIANT_BASE_MB) - 1})"
    return f"{mb} MB (mixed)" if mixed or variants else f"{mb} MB"


def phases(sizes: list[int], *, mixed: bool, separate: bool = False, variants: bool = False,
           only: tuple[str, ...] = PHASES) -> None:
    """``--phases``: per-phase figures for the 100 GB projection (docs/scale.md); each row is printed to stderr as
    it is measured. ``merge`` needs the counts ``count`` saves, ``sharded`` the shards ``shards`` writes."""
    lines = ["| corpus | phase | wall s | CPU s | client peak RSS MB | worker peak RSS MB | moved between workers "
             "MB | to client MB | distinct pre-tokens |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    results: dict[str, object] = {}

    def add(line: str) -> None:
        lines.append(line)
        print(line, file=sys.stderr, flush=True)

    for mb in sizes:
        corpus = ensure_corpus(mb, mixed=mixed, variants=variants)
        name = corpus_label(mb, mixed=mixed, variants=variants)
        print(f"# {name}: {corpus.name} sha256 {sha256_of(corpus)}", file=sys.stderr, flush=True)
        where = "separate scheduler + 2 workers" if separate else "LocalCluster 2 workers"
        for label, kind in ((f"count, one root, {where}", "count"), (f"count, 4 shards, {where}", "shards")):
            if kind not in only:
                continue
            r = run(f"phase-{'count' if kind == 'count' else 'shards'}", corpus, 2, separate=separate)
            results[f"{mb}MB {label}"] = r
            wr = ", ".join(f"{x:.0f}" for x in r["worker_rss"])  # type: ignore[attr-defined]
            add(f"| {name} | {label} | {r['seconds']:.1f} | {r['cpu']:.1f} | {r['client_rss']:.0f} | {wr} | "
                f"{r['between_workers_mb']:.1f} | {r['to_client_mb']:.1f} | {r['distinct']:,} |")
        if "merge" in only:
            m = run("phase-merge", corpus, 1)
            results[f"{mb}MB merge"] = m
            for vocab in (16_000, 32_000):
                add(f"| {name} | merge {vocab // 1000}k, one process | {m[f'seconds_{vocab}']:.1f} | "
                    f"{m[f'cpu_{vocab}']:.1f} | {m[f'rss_{vocab}']:.0f} |  |  |  | {m['distinct']:,} |")
            add(f"| {name} | merge: peak RSS beyond the loaded counts, per distinct pre-token |  |  | "
                f"{m['bytes_per_distinct']:.0f} B |  |  |  |  |")
        for vocab in (16_000, 32_000) if "sharded" in only else ():
            # one run a vocabulary: a row is printed before the next starts (the coordinator's peak is its own)
            sm = run("phase-merge-sharded", corpus, 2, separate=separate, vocab=vocab)
            results[f"{mb}MB merge {vocab} sharded"] = sm
            wr = ", ".join(f"{x:.0f}" for x in sm[f"worker_rss_{vocab}"])  # type: ignore[attr-defined]
            add(f"| {name} | merge {vocab // 1000}k sharded, {where} | {sm[f'seconds_{vocab}']:.1f} | "
                f"{sm[f'cpu_{vocab}']:.1f} | {sm[f'rss_{vocab}']:.0f} | {wr} |  |  | {sm['distinct']:,} |")
        for f in DATA_DIR.glob("phase-counts-*.tsv"):
            f.unlink()
    print("\n".join(lines))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "scale-phases.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    (OUT_DIR / "scale-phases.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- tokenizers' and sentencepiece's trainers at the same sizes ---------------------------------------------------
def measure_peer(lib: str, corpus: Path, vocab: int, *, sentences: int = 0) -> dict[str, object]:
    """Train ``lib``'s BPE on ``corpus`` at ``vocab`` in this (fresh) process: wall and CPU seconds of the training
    call (every thread of the process), and the process's peak RSS, which includes the import (tens of MB).

    ``tokenizers``: ``BpeTrainer`` over the ``ByteLevel`` pre-tokenizer (GPT-2's pattern and bytes), the 256 bytes as
    initial alphabet and ``<|endoftext|>`` as special token, as ``bench/workers.py`` trains it; its threads are
    rayon's, one per core. ``sentencepiece``: ``model_type=bpe`` on as many threads as cores, its defaults otherwise
    (a line is a sentence; lines over 4,192 bytes are skipped); ``sentences`` > 0 samples that many lines
    (``input_sentence_size``), 0 loads every line (its default)."""
    ticks = {"t": time.perf_counter(), "cpu": _cpu_seconds()}
    res: dict[str, object] = {"lib": lib, "vocab": vocab, "import_rss": _rss_mb()}
    if lib == "tokenizers":
        import tokenizers
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=[EOT], show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        res["version"] = tokenizers.__version__
        res["import_rss"] = _rss_mb()
        ticks = {"t": time.perf_counter(), "cpu": _cpu_seconds()}
        tok.train([str(corpus)], trainer)
        res["vocab_learned"] = tok.get_vocab_size()
    elif lib == "sentencepiece":
        import sentencepiece as spm

        res["version"] = spm.__version__
        res["import_rss"] = _rss_mb()
        with tempfile.TemporaryDirectory() as tmp:
            ticks = {"t": time.perf_counter(), "cpu": _cpu_seconds()}
            spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(Path(tmp) / "m"), model_type="bpe",
                                           vocab_size=vocab, num_threads=os.cpu_count() or 1,
                                           input_sentence_size=sentences, shuffle_input_sentence=True,
                                           minloglevel=1)
            res["vocab_learned"] = spm.SentencePieceProcessor(model_file=str(Path(tmp) / "m.model")).vocab_size()
        res["sentences"] = sentences or "all"
    else:
        raise SystemExit(f"unknown trainer {lib!r}: tokenizers or sentencepiece")
    res["seconds"] = time.perf_counter() - ticks["t"]
    res["cpu"] = _cpu_seconds() - ticks["cpu"]
    res["client_rss"] = _rss_mb()
    res["worker_rss"] = []
    return res


def peers(sizes: list[int], *, mixed: bool, variants: bool, vocabs: list[int], libs: list[str],
          sentences: int) -> None:
    """``--peers``: ``tokenizers`` and ``sentencepiece`` BPE training at the corpus sizes and vocabularies asked, each
    in a fresh process; rows printed to stderr as they are measured."""
    lines = ["| corpus | trainer | vocab | wall s | CPU s | peak RSS MB | note |", "|---|---|---:|---:|---:|---:|---|"]
    results: dict[str, object] = {}
    for mb in sizes:
        corpus = ensure_corpus(mb, mixed=mixed, variants=variants)
        name = corpus_label(mb, mixed=mixed, variants=variants)
        print(f"# {name}: {corpus.name} sha256 {sha256_of(corpus)}", file=sys.stderr, flush=True)
        for lib in libs:
            for vocab in vocabs:
                r = run(f"peer-{lib}", corpus, 1, vocab=vocab, sentences=sentences)
                results[f"{mb}MB {lib} {vocab}"] = r
                note = f"{lib} {r['version']}, {r['vocab_learned']:,} pieces learned"
                if lib == "sentencepiece":
                    note += f", sentences: {r['sentences']}"
                lines.append(f"| {name} | {lib} BPE | {vocab:,} | {r['seconds']:.1f} | {r['cpu']:.1f} | "
                             f"{r['client_rss']:.0f} | {note} |")
                print(lines[-1], file=sys.stderr, flush=True)
    print("\n".join(lines))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "scale-peers.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


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
def run(kind: str, corpus: Path, workers: int, *, separate: bool = False, vocab: int = 0, sentences: int = 0,
        ) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, "--measure", kind, "--corpus", str(corpus), "--workers",
                          str(workers), *(["--separate"] if separate else []), "--vocab", str(vocab),
                          "--sentences", str(sentences)], capture_output=True, text=True,
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
    p.add_argument("--variants", action="store_true", help="with --mixed: sizes past 1000 MB go on with rot-1, rot-2, "
                                                           "... copies of the 1 GB mixed corpus (module docstring)")
    p.add_argument("--only", default=",".join(PHASES), help="with --phases: which phases, comma-separated, of "
                                                            f"{','.join(PHASES)} (default all)")
    p.add_argument("--peers", action="store_true", help="tokenizers' and sentencepiece's BPE trainers instead: wall, "
                                                        "CPU, peak RSS, each run in a fresh process")
    p.add_argument("--vocabs", default="16000,32000", help="with --peers: vocabulary sizes (default 16000,32000)")
    p.add_argument("--libs", default="tokenizers,sentencepiece", help="with --peers: trainers (default both)")
    p.add_argument("--sentences", type=int, default=0, help="with --peers: sentencepiece's input_sentence_size (lines "
                                                            "sampled; default 0, every line, its own default)")
    p.add_argument("--vocab", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.variants and not args.mixed:
        raise SystemExit("--variants extends the --mixed corpus: add --mixed.")
    if args.measure:
        print(json.dumps(measure(args.measure, args.corpus, args.workers, separate=args.separate, vocab_size=args.vocab,
                                 sentences=args.sentences)))
        return
    if args.peers:
        peers(sizes, mixed=args.mixed, variants=args.variants, vocabs=[int(v) for v in args.vocabs.split(",")],
              libs=args.libs.split(","), sentences=args.sentences)
        return
    if args.phases:
        only = tuple(args.only.split(","))
        if unknown := set(only) - set(PHASES):
            raise SystemExit(f"--only: unknown phase(s) {sorted(unknown)}; choose from {','.join(PHASES)}.")
        phases(sizes, mixed=args.mixed, separate=args.separate, variants=args.variants, only=only)
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
