"""One 100 MB text, encoded once: tokviz with its engine (the text cut at safe places and encoded on every core)
against tiktoken's single ``encode_ordinary`` and fastokens' single call on the same ranks; ids compared.

Usage::

    python bench/big_encode.py                       # 100 MB of the bench corpus, o200k and cl100k, 3 fresh processes
    python bench/big_encode.py --mb 20 --repeats 1   # a smaller smoke run

Each (library, encoding) runs in a fresh process: load (timed apart; tokviz waits for its engine), then one encode
of the whole text, timed as wall and CPU seconds (CPU above wall means more than one core worked). The text is the
benchmark corpus (``bench/corpus.py``, English technical prose) repeated to the size, in ``bench/_data/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
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

LIBS = ("tokviz+engine", "tiktoken", "fastokens")
ENCODINGS = ("o200k_base", "cl100k_base")


def make_text(mb: int) -> Path:
    from bench.corpus import SEPARATOR, ensure_corpus

    path = ROOT / "bench" / "_data" / f"big-english-{mb}mb.txt"
    if not path.is_file():
        seed = ensure_corpus(5_000_000).read_text(encoding="utf-8").replace(SEPARATOR, "")
        data = (seed * (mb * 1_000_000 // len(seed.encode("utf-8")) + 1)).encode("utf-8")[:mb * 1_000_000]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data.decode("utf-8", errors="ignore"), encoding="utf-8")
    return path


def worker(lib: str, enc: str, path: str) -> dict[str, Any]:
    from tokviz import load_tokenizer
    from tokviz.engines.choose import accelerate
    from tokviz.engines.native import FastokensEngine
    from tokviz.engines.plan import rank_plan
    from tokviz.pre_tokenizers.patterns import NAMED_PATTERNS

    text = Path(path).read_text(encoding="utf-8")
    t = time.perf_counter()
    tok = load_tokenizer(enc)
    if lib == "tokviz+engine":
        accelerate(tok, start_at=0)
        tok.engine.wait()  # type: ignore[union-attr]
        engine = tok.engine.name  # type: ignore[union-attr]

        def encode(s: str) -> list[int]:
            return tok.encode_ordinary(s)
    elif lib == "tiktoken":
        import tiktoken

        engine = "tiktoken"
        pattern = NAMED_PATTERNS["o200k" if enc == "o200k_base" else "gpt4"]
        e = tiktoken.Encoding(enc, pat_str=pattern, mergeable_ranks=dict(tok._regular), special_tokens={})
        encode = e.encode_ordinary
    else:
        engine = "fastokens"
        native = FastokensEngine(rank_plan(tok)).native

        def encode(s: str) -> list[int]:
            return list(native.encode_ordinary(s).ids)
    load = time.perf_counter() - t
    c0, t = time.process_time(), time.perf_counter()
    ids = encode(text)
    wall, cpu = time.perf_counter() - t, time.process_time() - c0
    return {"load": load, "wall": wall, "cpu": cpu, "engine": engine, "n_ids": len(ids),
            "digest": hashlib.sha256(array("I", ids).tobytes()).hexdigest()[:16]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    path = make_text(args.mb)
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in range(args.repeats):
        for enc in ENCODINGS:
            for lib in LIBS if r % 2 == 0 else LIBS[::-1]:
                out = subprocess.run([sys.executable, __file__, "--worker", lib, enc, str(path)], capture_output=True,
                                     text=True, cwd=ROOT, check=True).stdout.strip().splitlines()[-1]
                samples.setdefault((lib, enc), []).append(json.loads(out))
    mb = path.stat().st_size / 1e6
    print(f"one {mb:.0f} MB text (bench corpus repeated), {args.repeats} fresh processes each, medians")
    print("| encoding | library (engine) | load s | encode wall s | CPU s | MB/s | x tiktoken | ids == tiktoken |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for enc in ENCODINGS:
        base = statistics.median(s["wall"] for s in samples[("tiktoken", enc)])
        ref = samples[("tiktoken", enc)][0]["digest"]
        for lib in LIBS:
            ss = samples[(lib, enc)]
            wall = statistics.median(s["wall"] for s in ss)
            same = all(s["digest"] == ref for s in ss)
            print(f"| {enc} | {lib} ({ss[0]['engine']}) | {statistics.median(s['load'] for s in ss):.2f} | "
                  f"{wall:.2f} | {statistics.median(s['cpu'] for s in ss):.2f} | {mb / wall:.1f} | "
                  f"{base / wall:.2f}x | {'yes' if same else 'NO'} |")


if __name__ == "__main__":
    main()
