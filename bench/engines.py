"""Engine rows: tokviz with its engine, tokviz pure, tiktoken, fastokens alone and HF ``tokenizers``, on cl100k and
o200k, in one run; ratios against tiktoken.

Usage::

    python bench/engines.py               # 5 MB texts, 3 fresh processes per library and encoding
    python bench/engines.py --quick       # 1 MB texts, 1 process: a smoke run
    python bench/run.py --engines         # the same table at the end of the main benchmark

Each (library, encoding) runs in a fresh process that loads the tokenizer (timed apart), then encodes each text
twice: the first call (cold: tokviz's piece cache and the engines' caches empty) is the row's figure, the second
is reported as warm. Ordinary text: the bench corpus (English technical prose), the standard library's own source,
and the 17-language parallel passage repeated; then 100 KB of random base64 and ACGT, and the adversarial rows.
Texts are written to ``bench/_data/engines/``. Ids of every library are compared with tiktoken's (HF's where its
file is the same vocabulary). With ``--offsets``, tokviz's ``encode_with_offsets`` (with and without engine) and
HF's offsets are timed too.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from array import array
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = ROOT / "bench" / "_data" / "engines"
OUT = ROOT / "bench" / "_out"
PATTERNS = {"cl100k_base": "gpt4", "o200k_base": "o200k"}
LIBS = ("tokviz+engine", "tokviz pure", "tiktoken", "fastokens", "tokenizers")
ORDINARY = ("english", "python", "multilingual")
ADVERSARIAL = {  # name: (encoding, text maker)
    "250k × 🌍": ("o200k_base", lambda: "🌍" * 250_000),
    "aA × 500k": ("cl100k_base", lambda: "aA" * 500_000),
    "a + 100k combining marks": ("o200k_base", lambda: "a" + "\u0301" * 100_000),
    "1M spaces": ("o200k_base", lambda: " " * 1_000_000),
    "1M × 中": ("o200k_base", lambda: "中" * 1_000_000),
}
WORKER_TIMEOUT_S = 600


def _repeat_to(text: str, size: int) -> str:
    data = (text * (size // max(1, len(text.encode("utf-8"))) + 1)).encode("utf-8")[:size]
    return data.decode("utf-8", errors="ignore")


def make_texts(size: int) -> dict[str, Path]:
    """Write the ordinary and random texts (once per size); their paths by row name."""
    from bench.corpus import SEPARATOR, build_corpus, ensure_corpus, iter_source_texts

    DATA.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}

    def keep(name: str, make: Any) -> None:
        path = DATA / f"{name}-{size}.txt"
        if not path.is_file():
            path.write_text(make(), encoding="utf-8")
        out[name] = path

    keep("english", lambda: ensure_corpus(size).read_text(encoding="utf-8").replace(SEPARATOR, ""))
    keep("python", lambda: build_corpus(size, iter_source_texts(), repeat=True))
    parallel = json.loads((ROOT / "tokviz" / "viewmodels" / "parallel_text.json").read_text(encoding="utf-8"))
    passages = "\n\n".join(lang["text"] for lang in parallel["languages"])
    keep("multilingual", lambda: _repeat_to(passages, size))
    rng = random.Random(24)
    keep("random base64", lambda: base64.b64encode(rng.randbytes(75_000)).decode())
    keep("random ACGT", lambda: "".join(rng.choice("ACGT") for _ in range(100_000)))
    return out


def digest(ids: list[int]) -> str:
    return hashlib.sha256(array("I", ids).tobytes()).hexdigest()[:16]


# --- the worker (one library, one encoding, in a fresh process) ------------------------------------------------


def _load(lib: str, enc: str) -> tuple[Any, Any]:
    """(encode, encode with offsets or None) for a library."""
    from tokviz import load_tokenizer
    from tokviz.engines.choose import accelerate
    from tokviz.engines.native import FastokensEngine
    from tokviz.engines.plan import rank_plan
    from tokviz.pre_tokenizers.patterns import NAMED_PATTERNS

    tok = load_tokenizer(enc)
    if lib == "tokviz+engine":
        # As a tokenizer gets it by default (tiktoken, then fastokens, which replaces it), built before the clock.
        accelerate(tok, start_at=0)
        tok.engine.wait()  # type: ignore[union-attr]
        return (lambda t: tok.encode_ordinary(t)), tok.encode_with_offsets
    if lib == "tokviz pure":
        tok.engine = None
        return (lambda t: tok.encode_ordinary(t)), tok.encode_with_offsets
    if lib == "tiktoken":
        import tiktoken

        e = tiktoken.Encoding(enc, pat_str=NAMED_PATTERNS[PATTERNS[enc]], mergeable_ranks=dict(tok._regular),
                              special_tokens={})
        return e.encode_ordinary, None
    if lib == "fastokens":
        native = FastokensEngine(rank_plan(tok)).native
        return (lambda t: native.encode_ordinary(t).ids), None
    if lib == "tokenizers":
        import tempfile

        from tokenizers import Tokenizer as HF

        from tokviz.formats import save

        with tempfile.TemporaryDirectory() as d:
            save(tok, Path(d) / "tokenizer.json", format="hf")
            hf = HF.from_file(str(Path(d) / "tokenizer.json"))
        return (lambda t: hf.encode(t, add_special_tokens=False).ids), (
            lambda t: hf.encode(t, add_special_tokens=False).offsets)
    raise ValueError(lib)


def worker(args: dict[str, Any]) -> dict[str, Any]:
    t = time.perf_counter()
    encode, with_offsets = _load(args["lib"], args["enc"])
    out: dict[str, Any] = {"load_seconds": time.perf_counter() - t, "texts": {}}
    for name, path in args["texts"].items():
        text = Path(path).read_text(encoding="utf-8") if path.startswith("/") else ADVERSARIAL[name][1]()
        row: dict[str, Any] = {"n_bytes": len(text.encode("utf-8"))}
        try:
            t = time.perf_counter()
            ids = encode(text)
            row["cold"] = time.perf_counter() - t
            t = time.perf_counter()
            encode(text)
            row["warm"] = time.perf_counter() - t
            row["digest"] = digest(ids)
        except BaseException as e:  # tiktoken's regex overflows its stack on 1M spaces (a Rust panic)
            row["error"] = f"{type(e).__name__}: {str(e)[:80]}"
        if args.get("offsets") and with_offsets is not None and "error" not in row:
            t = time.perf_counter()
            with_offsets(text)
            row["offsets"] = time.perf_counter() - t
        out["texts"][name] = row
    return out


def run_worker(**kwargs: Any) -> dict[str, Any] | None:
    cmd = [sys.executable, __file__, "--worker", json.dumps(kwargs)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, cwd=ROOT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        print(f"worker {kwargs['lib']} {kwargs['enc']} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- the table ---------------------------------------------------------------------------------------------------


def bench_engines(*, size: int, repeats: int, offsets: bool, libs: tuple[str, ...] = LIBS) -> str:
    """Run every library on every text; the markdown table (MB/s and the multiple of tiktoken's)."""
    texts = {k: str(v) for k, v in make_texts(size).items()}
    jobs: dict[str, dict[str, str]] = {enc: dict(texts) for enc in PATTERNS}
    for name, (enc, _) in ADVERSARIAL.items():
        jobs[enc][name] = "adversarial"
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in range(repeats):
        order = libs if r % 2 == 0 else libs[::-1]
        for enc, job in jobs.items():
            for lib in order:
                res = run_worker(lib=lib, enc=enc, texts=job, offsets=offsets)
                if res is not None:
                    samples.setdefault((lib, enc), []).append(res)
        print(f"repeat {r + 1}/{repeats} done", file=sys.stderr, flush=True)

    def med(lib: str, enc: str, text: str, key: str) -> float | None:
        vals = [s["texts"][text][key] for s in samples.get((lib, enc), []) if key in s["texts"].get(text, {})]
        return statistics.median(vals) if vals else None

    lines = ["| text | encoding | " + " | ".join(libs) + " | ids == tiktoken |", "| --- | --- |"
             + " ---: |" * len(libs) + " --- |"]
    for enc, job in jobs.items():
        for text in job:
            base = med("tiktoken", enc, text, "cold")
            cells = []
            for lib in libs:
                s = med(lib, enc, text, "cold")
                if s is None:
                    errs = {x["texts"].get(text, {}).get("error") for x in samples.get((lib, enc), [])} - {None}
                    cells.append("fails" if errs else "—")
                    continue
                mb = samples[(lib, enc)][0]["texts"][text]["n_bytes"] / 1e6
                cell = f"{s:.3f} s" if text in ADVERSARIAL else f"{mb / s:.1f} MB/s"
                cells.append(cell + (f" ({base / s:.2f}x)" if base else ""))
            ref = {x["texts"][text].get("digest") for x in samples.get(("tiktoken", enc), [])} - {None}
            same = [lib for lib in libs if lib != "tiktoken" and ref and {
                x["texts"][text].get("digest") for x in samples.get((lib, enc), [])} - {None} <= ref]
            lines.append(f"| {text} | {enc} | " + " | ".join(cells) + f" | {', '.join(same) or '—'} |")
    lines.append("")
    lines.append("| load (s) | " + " | ".join(f"{enc}" for enc in PATTERNS) + " |")
    lines.append("| --- |" + " ---: |" * len(PATTERNS))
    for lib in libs:
        vals = [statistics.median(s["load_seconds"] for s in samples[(lib, enc)]) if (lib, enc) in samples else None
                for enc in PATTERNS]
        lines.append(f"| {lib} | " + " | ".join("—" if v is None else f"{v:.2f}" for v in vals) + " |")
    if offsets:
        # In brackets: the multiple of tiktoken's speed without offsets (its first call on the same text).
        lines += ["", "| with offsets (s, x tiktoken) | encoding | tokviz+engine | tokviz pure | tokenizers |",
                  "| --- | --- | ---: | ---: | ---: |"]
        for enc, job in jobs.items():
            for text in (t for t in job if t in ORDINARY):
                base = med("tiktoken", enc, text, "cold")
                vals = [med(lib, enc, text, "offsets") for lib in ("tokviz+engine", "tokviz pure", "tokenizers")]
                lines.append(f"| {text} | {enc} | " + " | ".join(
                    "—" if v is None else f"{v:.3f}" + (f" ({base / v:.2f}x)" if base else "") for v in vals) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 MB texts, 1 process per library")
    ap.add_argument("--repeats", type=int, help="fresh processes per library and encoding (default 3)")
    ap.add_argument("--offsets", action="store_true", help="time encode_with_offsets too")
    ap.add_argument("--libs", default=",".join(LIBS), help=f"comma-separated subset of: {', '.join(LIBS)}")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    size = 1_000_000 if args.quick else 5_000_000
    repeats = args.repeats or (1 if args.quick else 3)
    libs = tuple(lib for lib in LIBS if lib in args.libs.split(","))
    table = bench_engines(size=size, repeats=repeats, offsets=args.offsets, libs=libs)
    header = (f"## Engines ({size / 1e6:g} MB texts, {repeats} fresh processes per library, medians; "
              f"load average {os.getloadavg()[0]:.1f} at the end)\n\nFirst encode of each text; in brackets the "
              "multiple of tiktoken's speed (higher is better).\n")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "engines.md").write_text(header + "\n" + table + "\n", encoding="utf-8")
    print(header + "\n" + table)


if __name__ == "__main__":
    main()
