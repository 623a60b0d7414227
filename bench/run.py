"""tokviz against tiktoken and Hugging Face ``tokenizers``: training and encoding speed, on the same data, in one run.

Usage::

    python bench/run.py              # ~5 MB corpus, 5 repeats (a few minutes)
    python bench/run.py --quick      # ~1 MB corpus, 2 repeats (smoke run)
    python bench/run.py --repeats 9

Every timed measurement runs in a fresh subprocess (``bench/workers.py``), so caches, fork pools and thread pools
start cold each time; the two sides alternate order from one repeat to the next, and medians are reported. The table
is printed and written to ``bench/_out/results.md``, the raw samples to ``bench/_out/results.json``. See
``bench/README.md`` for what each row measures and why.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.corpus import SEPARATOR, ensure_corpus  # noqa: E402
from bench.engines import bench_engines  # noqa: E402

WORKERS = ROOT / "bench" / "workers.py"
LONG_WORKERS = ROOT / "bench" / "long_workers.py"
LONG_DATA = ROOT / "bench" / "_data" / "long"
# Hugging Face's trainer rescans a long word for every merge: on 1 MB without a space it runs for many minutes, so
# its side of those rows stops here and the ratio is then an upper bound.
HF_LONG_TIMEOUT_S = 120
LONG_ENCODE_TARGET = 2.0
OUT_DIR = ROOT / "bench" / "_out"
EOT = "<|endoftext|>"
FULL_SIZE = 5_000_000
QUICK_SIZE = 1_000_000
TRAIN_VOCAB = 10_000
SMALL_VOCAB = 500
TRAIN_RATIO_TARGET = 0.5
SMALL_TRAIN_TARGET_S = 0.05
WORKER_TIMEOUT_S = 1800

Sample = dict[str, Any]


@dataclass(frozen=True)
class Row:
    """One line of the results table; ``ratio`` is ours / peer (seconds: lower is better; MB/s: higher is better)."""

    name: str
    ours: float | None
    peer: float | None = None
    target: str = "—"
    met: bool | None = None
    spread: str = ""  # min–max of the samples behind the medians

    @property
    def ratio(self) -> float | None:
        return self.ours / self.peer if self.ours is not None and self.peer else None


# --- running workers ------------------------------------------------------------------------------------------


def shared_cs336_dir() -> Path:
    """``$TOKVIZ_SHARED_DATA/cs336``, else ``../shared/data/cs336`` beside the repository."""
    env = os.environ.get("TOKVIZ_SHARED_DATA")
    base = Path(env) if env else ROOT.parent / "shared" / "data"
    return base / "cs336"


def run_worker(task: str, **kwargs: Any) -> Sample:
    """Run one task of ``bench/workers.py`` in a fresh Python process; its JSON result."""
    cmd = [sys.executable, str(WORKERS), task, json.dumps(kwargs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, cwd=ROOT,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {task} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def alternate(repeats: int, sides: dict[str, Callable[[], Sample]]) -> dict[str, list[Sample]]:
    """Run each side ``repeats`` times, reversing the order every other repeat so drift in machine load hits all."""
    out: dict[str, list[Sample]] = {name: [] for name in sides}
    names = list(sides)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            out[name].append(sides[name]())
        log(f"  repeat {r + 1}/{repeats} done")
    return out


def median_of(samples: list[Sample], key: str) -> float:
    return statistics.median(s[key] for s in samples)


def span(values: list[float]) -> str:
    """``min–max`` of some samples, for the spread table."""
    return f"{fmt(min(values))}–{fmt(max(values))}"


def spread(ours: list[float], peer: list[float] | None = None) -> str:
    """The spread table's cell: ranges of our samples and, if any, the peer's."""
    return f"ours {span(ours)}" + (f"; peer {span(peer)}" if peer else "")


def compare(name: str, ours: list[float], peer: list[float]) -> Row:
    """A row without a target: medians of both sides' samples, and their ranges."""
    return Row(name, statistics.median(ours), statistics.median(peer), spread=spread(ours, peer))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- the measurements -----------------------------------------------------------------------------------------


def bench_training(path: Path, repeats: int, *, label: str = "") -> tuple[list[Row], dict[str, list[Sample]]]:
    """Training at vocab 10,000 with ``<|endoftext|>``: ours vs HF, a fresh process per run."""
    mb = path.stat().st_size / 1e6
    log(f"training, vocab {TRAIN_VOCAB}, {mb:.1f} MB{label}, {repeats} repeats")
    args = {"path": str(path), "vocab_size": TRAIN_VOCAB, "specials": [EOT]}
    runs = alternate(repeats, {"ours": lambda: run_worker("train_ours", **args),
                               "hf": lambda: run_worker("train_hf", **args)})
    ours, hf = median_of(runs["ours"], "seconds"), median_of(runs["hf"], "seconds")
    ratio = ours / hf

    def values(lib: str, key: str) -> list[float]:
        return [s[key] for s in runs[lib]]

    rows = [
        Row(f"train vocab 10k, {mb:.1f} MB{label} [s] vs HF tokenizers", ours, hf, f"ratio ≤ {TRAIN_RATIO_TARGET}",
            ratio <= TRAIN_RATIO_TARGET, spread(values("ours", "seconds"), values("hf", "seconds"))),
        Row("  ours: counting part [s]", median_of(runs["ours"], "counting_seconds"),
            spread=spread(values("ours", "counting_seconds"))),
        Row("  ours: merging part [s]", median_of(runs["ours"], "merging_seconds"),
            spread=spread(values("ours", "merging_seconds"))),
    ]
    return rows, runs


def bench_small_training(corpus_en: Path, runs: int) -> tuple[list[Row], dict[str, Sample]]:
    """Ours (and HF, for reference) on corpus.en at vocab 500: many runs in one warm process each."""
    log(f"training, vocab {SMALL_VOCAB}, corpus.en, {runs} runs in one process")
    args = {"path": str(corpus_en), "vocab_size": SMALL_VOCAB, "specials": [EOT], "runs": runs}
    res = {lib: run_worker("train_small", lib=lib, **args) for lib in ("ours", "hf")}
    ours = res["ours"]["median"]
    row = Row("train vocab 500, corpus.en [s] vs HF tokenizers", ours, res["hf"]["median"],
              f"ours < {SMALL_TRAIN_TARGET_S} s", ours < SMALL_TRAIN_TARGET_S,
              spread(res["ours"]["times"], res["hf"]["times"]))
    return [row], res


def plain_text_file(corpus: Path) -> Path:
    """The corpus with its ``<|endoftext|>`` separators removed (documents end with a newline), for encoding."""
    out = corpus.with_name(corpus.stem + ".plain.txt")
    if not out.is_file():
        text = corpus.read_text(encoding="utf-8").replace(SEPARATOR, "")
        out.write_bytes(text.encode("utf-8"))
    return out


def bench_encoding(text_path: Path, repeats: int) -> tuple[list[Row], list[str], dict[str, list[Sample]]]:
    """Encoding with GPT-2: load, cold, warm, two processes; and whether the three libraries agree on the ids."""
    d = shared_cs336_dir()
    files = {"vocab": str(d / "gpt2_vocab.json"), "merges": str(d / "gpt2_merges.txt"), "text_path": str(text_path)}
    mb = text_path.stat().st_size / 1e6
    log(f"encoding, GPT-2, {mb:.1f} MB, {repeats} repeats")
    runs = alternate(repeats, {
        "ours": lambda: run_worker("encode", lib="ours", **files),
        "tiktoken": lambda: run_worker("encode", lib="tiktoken", **files),
        "hf": lambda: run_worker("encode", lib="hf", **files),
        "ours_pool": lambda: run_worker("encode_pool", lib="ours", **files),
    })

    def seconds(lib: str, key: str) -> list[float]:
        return [s[key] for s in runs[lib]]

    def rates(lib: str, key: str) -> list[float]:
        return [s["n_bytes"] / 1e6 / s[key] for s in runs[lib]]

    peers = {"tiktoken": "tiktoken", "hf": "HF tokenizers"}
    rows = [compare(f"load GPT-2 files [s] vs {name}", seconds("ours", "load_seconds"), seconds(lib, "load_seconds"))
            for lib, name in peers.items()]
    for key, label in [("cold_seconds", "encode cold, 1 process"), ("warm_seconds", "encode warm, 1 process")]:
        rows += [compare(f"{label} [MB/s] vs {name}", rates("ours", key), rates(lib, key))
                 for lib, name in peers.items()]
    pool = rates("ours_pool", "seconds")
    label = "encode 2 processes, ours ParallelEncoder [MB/s] vs"
    rows += [
        compare(f"{label} tiktoken warm, 1 thread", pool, rates("tiktoken", "warm_seconds")),
        compare(f"{label} tiktoken encode_ordinary_batch, 2 threads", pool, rates("tiktoken", "batch2_seconds")),
        compare(f"{label} HF encode_batch", pool, rates("hf", "batch2_seconds")),
    ]
    return rows, id_checks(runs, files), runs


def id_checks(runs: dict[str, list[Sample]], files: dict[str, str]) -> list[str]:
    """OK/MISMATCH lines: ours vs tiktoken on the whole text (with where they first differ), HF, the pool halves."""
    digest = {lib: {s["digest"] for s in runs[lib]} for lib in runs}
    tk = digest["tiktoken"]
    lines = []
    ours_ok = digest["ours"] == tk and len(tk) == 1 and all(s["stable"] for s in runs["ours"])
    line = f"ids, ours == tiktoken on the whole text ({runs['tiktoken'][0]['n_ids']:,} ids): " + (
        "OK" if ours_ok else "MISMATCH")
    if not ours_ok:
        line += f" — first difference: {run_worker('first_mismatch', **files)}"
    lines.append(line)
    lines.append("ids, HF tokenizers == tiktoken: " + ("OK" if digest["hf"] == tk else "MISMATCH"))
    pool_ok = digest["ours_pool"] == tk and all(s["equals_whole"] for s in runs["ours_pool"])
    lines.append("ids, ours 2-process halves joined == tiktoken whole: " + ("OK" if pool_ok else "MISMATCH"))
    return lines


def run_long_worker(task: str, *, timeout: float = WORKER_TIMEOUT_S, **kwargs: Any) -> Sample | None:
    """Run one task of ``bench/long_workers.py`` in a fresh process; None if it ran past ``timeout`` seconds."""
    cmd = [sys.executable, str(LONG_WORKERS), task, json.dumps(kwargs)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        raise RuntimeError(f"long worker {task} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_long_inputs(repeats: int) -> tuple[list[Row], list[str], dict[str, Any]]:
    """Inputs once quadratic: long pieces to encode, long words to train on, a rank file with a 44 KB token."""
    sys.path.insert(0, str(ROOT / "bench"))
    import long_workers  # noqa: PLC0415  (bench/ is not a package on sys.path by default)

    LONG_DATA.mkdir(parents=True, exist_ok=True)
    d = shared_cs336_dir()
    o200k = d.parent / "pretrained" / "o200k_base.tiktoken"
    gpt2 = {"vocab": str(d / "gpt2_vocab.json"), "merges": str(d / "gpt2_merges.txt")}
    rows: list[Row] = []
    checks: list[str] = []
    raw: dict[str, Any] = {}
    encode_cases = [("x1m", '"x" * 1,000,000, o200k', {"rank_file": str(o200k)}),
                    ("base64", "100 KB random base64, GPT-2", gpt2), ("acgt", "100 KB random ACGT, GPT-2", gpt2)]
    for kind, label, files in encode_cases:
        if "rank_file" in files and not o200k.is_file():
            checks.append(f"{label}: skipped, {o200k} not found")
            continue
        log(f"long input: encode {label}, {repeats} repeats")
        runs = alternate(repeats, {lib: (lambda lib=lib, kind=kind, files=files: run_long_worker(
                                       "encode_long", lib=lib, kind=kind, files=files))
                                   for lib in ("ours", "tiktoken")})
        ours, peer = [s["seconds"] for s in runs["ours"]], [s["seconds"] for s in runs["tiktoken"]]
        ratio = statistics.median(ours) / statistics.median(peer)
        rows.append(Row(f"encode {label} [s] vs tiktoken", statistics.median(ours), statistics.median(peer),
                        f"ratio ≤ {LONG_ENCODE_TARGET:g}", ratio <= LONG_ENCODE_TARGET, spread(ours, peer)))
        same = {s["digest"] for s in runs["ours"]} == {s["digest"] for s in runs["tiktoken"]}
        checks.append(f"ids, ours == tiktoken on {label}: " + ("OK" if same else "MISMATCH"))
        raw[f"encode_{kind}"] = runs
    for kind, label in [("letters1m", "1 MB of letters without spaces"), ("nul1m", "1 MB of NUL bytes")]:
        path = long_workers.write_input(kind, str(LONG_DATA))
        log(f"long input: train vocab {TRAIN_VOCAB} on {label}, {repeats} repeats (HF stops at {HF_LONG_TIMEOUT_S} s)")
        ours_runs = [run_long_worker("train_long", lib="ours", path=path, vocab_size=TRAIN_VOCAB)
                     for _ in range(repeats)]
        hf = run_long_worker("train_long", timeout=HF_LONG_TIMEOUT_S, lib="hf", path=path, vocab_size=TRAIN_VOCAB)
        ours = [s["seconds"] for s in ours_runs if s is not None]
        if hf is None:
            name = f"train vocab 10k, {label} [s] vs HF tokenizers (HF stopped at {HF_LONG_TIMEOUT_S} s: ratio ≤)"
            rows.append(Row(name, statistics.median(ours), float(HF_LONG_TIMEOUT_S), "ratio ≤ 10", True,
                            spread(ours)))
        else:
            ratio = statistics.median(ours) / hf["seconds"]
            rows.append(Row(f"train vocab 10k, {label} [s] vs HF tokenizers", statistics.median(ours),
                            hf["seconds"], "ratio ≤ 10", ratio <= 10, spread(ours, [hf["seconds"]])))
        raw[f"train_{kind}"] = {"ours": ours_runs, "hf": hf}
    path = long_workers.write_big_token_file(str(LONG_DATA))
    log(f"long input: load a rank file with a 44 KB token, {repeats} repeats")
    runs = alternate(repeats, {lib: (lambda lib=lib: run_long_worker("load_rank_file", lib=lib, path=path))
                               for lib in ("ours", "tiktoken")})
    ours, peer = [s["seconds"] for s in runs["ours"]], [s["seconds"] for s in runs["tiktoken"]]
    rows.append(Row("load a rank file with a 44 KB token [s] vs tiktoken", statistics.median(ours),
                    statistics.median(peer), spread=spread(ours, peer)))
    raw["load_big_token"] = runs
    return rows, checks, raw


# --- reporting ------------------------------------------------------------------------------------------------


def fmt(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}"


def render_table(rows: list[Row]) -> str:
    """The results as a markdown table."""
    lines = ["| measurement | ours (median) | peer (median) | ratio ours/peer | target | met? |",
             "| --- | ---: | ---: | ---: | --- | --- |"]
    for r in rows:
        met = "—" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(f"| {r.name} | {fmt(r.ours)} | {fmt(r.peer)} | {fmt(r.ratio)} | {r.target} | {met} |")
    return "\n".join(lines)


def render_spread(rows: list[Row]) -> str:
    """How far the samples behind each median ranged: a wide range means a noisy machine, so repeat more."""
    lines = ["| measurement | samples min–max |", "| --- | --- |"]
    lines += [f"| {r.name} | {r.spread} |" for r in rows if r.spread]
    return "\n".join(lines)


def load_average() -> str:
    """The 1-minute load average: above the number of cores, other work competed with the benchmark."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"


def environment() -> str:
    """One line on what was measured where: versions, cores, and the tokviz commit (and whether it was dirty)."""
    import tiktoken
    import tokenizers

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT).stdout.strip()

    dirty = " + uncommitted changes" if git("status", "--porcelain", "--", "tokviz") else ""
    return (f"Python {platform.python_version()}, {os.cpu_count()} cores, tiktoken {tiktoken.__version__}, "
            f"tokenizers {tokenizers.__version__}, tokviz at {git('rev-parse', '--short', 'HEAD')}{dirty}")


def report(rows: list[Row], checks: list[str], header: str) -> str:
    checks_md = "\n".join(f"- {c}" for c in checks)
    return "\n\n".join([header, render_table(rows), checks_md, "Spread of the samples:", render_spread(rows)]) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_SIZE / 1e6:g} MB and 2 repeats: a smoke run")
    ap.add_argument("--repeats", type=int, help="fresh processes per measurement (default: 5, or 2 with --quick)")
    ap.add_argument("--engines", action="store_true",
                    help="append the engine rows of bench/engines.py (tokviz with and without engine, tiktoken, ...)")
    ap.add_argument("--size", type=int, help="corpus size in bytes (default: 5,000,000, or 1,000,000 with --quick)")
    args = ap.parse_args(argv)
    args.size = args.size or (QUICK_SIZE if args.quick else FULL_SIZE)
    args.repeats = args.repeats or (2 if args.quick else 5)
    args.small_runs = 10 if args.quick else 30
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    corpus_en = shared_cs336_dir() / "corpus.en"
    if not corpus_en.is_file():
        sys.exit(f"{corpus_en} not found; set TOKVIZ_SHARED_DATA to the shared data folder.")
    started, load_before = time.perf_counter(), load_average()
    corpus = ensure_corpus(args.size)
    log(f"corpus: {corpus}")
    train_rows, train_raw = bench_training(corpus, args.repeats)
    # The corpus above repeats ~2.2 MB of docstrings, which flatters every trainer's counting; this one never repeats.
    distinct = ensure_corpus(args.size, distinct=True)
    log(f"distinct corpus: {distinct}")
    distinct_rows, distinct_raw = bench_training(distinct, args.repeats, label=" distinct text (docs + stdlib source)")
    train_rows += distinct_rows
    small_rows, small_raw = bench_small_training(corpus_en, args.small_runs)
    enc_rows, checks, enc_raw = bench_encoding(plain_text_file(corpus), args.repeats)
    long_rows, long_checks, long_raw = bench_long_inputs(1 if args.quick else min(args.repeats, 3))
    enc_rows += long_rows
    checks += long_checks
    header = (f"## tokviz benchmark ({'quick' if args.quick else 'full'}: {args.size / 1e6:g} MB corpus, "
              f"{args.repeats} fresh processes per measurement, {args.small_runs} runs for corpus.en)\n\n"
              f"{environment()}; load average {load_before} at the start, {load_average()} at the end. "
              "Ratio = ours / peer: for seconds lower is better, for MB/s higher is better.")
    text = report(train_rows + small_rows + enc_rows, checks, header)
    if args.engines:
        log("engines: tokviz with and without engine, tiktoken, fastokens, tokenizers")
        text += "\n\n## Engines (first encode; in brackets the multiple of tiktoken's speed)\n\n" + bench_engines(
            size=args.size, repeats=min(args.repeats, 3), offsets=False)
    print(text)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "results.md").write_text(text, encoding="utf-8")
    raw = {"args": vars(args), "training": train_raw, "training_distinct": distinct_raw, "small_training": small_raw,
           "encoding": enc_raw,
           "long_inputs": long_raw}
    (OUT_DIR / "results.json").write_text(json.dumps(raw, indent=1), encoding="utf-8")
    log(f"done in {time.perf_counter() - started:.0f} s; written to {OUT_DIR / 'results.md'}")


if __name__ == "__main__":
    main()
