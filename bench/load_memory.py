"""Peak memory of loading a ``tokenizer.json``: tokviz's ``load_tokenizer`` against Hugging Face ``tokenizers``'
``Tokenizer.from_file`` on the same file, each in a fresh process, with the ids checked equal.

Each load runs in its own ``python`` child, so its peak RSS (``VmHWM``) is that load's alone plus the interpreter
and the loader's imports (also reported: ``VmRSS`` right before the load). The files are the largest ones at hand:
the Llama 3 ``tokenizer.json`` in ``../shared/data/pretrained`` (when present) and two synthetic byte-level BPE files
written to ``bench/_data/`` (gitignored) by ``bench/big_tokenizer_json.py``'s generator: about 1M tokens with
tokens up to 18 characters (~65 MB), and 2M merges of short tokens (~60 MB).

    python bench/load_memory.py                 # every file, 3 fresh processes per loader, medians
    python bench/load_memory.py --repeat 1 --only llama3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "_data"
SHARED = Path(os.environ.get("TOKVIZ_SHARED_DATA", ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(ROOT))

#: Texts whose ids both loaders must agree on (checked in the same child, after the peak is read).
PROBE = "Hello world! The quick brown fox, 1234 — 你好 🌍 tokenizer.json\n\tdef f(x): return x**2"

_CHILD = r"""
import json, sys, time
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
which, path, probe = sys.argv[1], sys.argv[2], sys.argv[3]
if which == "tokviz":
    from tokviz.formats import load_tokenizer
    before = status("VmRSS")
    t0 = time.perf_counter()
    tok = load_tokenizer(path)
    seconds = time.perf_counter() - t0
    peak, kept = status("VmHWM"), status("VmRSS")
    ids = tok.encode(probe)
else:
    from tokenizers import Tokenizer
    before = status("VmRSS")
    t0 = time.perf_counter()
    tok = Tokenizer.from_file(path)
    seconds = time.perf_counter() - t0
    peak, kept = status("VmHWM"), status("VmRSS")
    ids = tok.encode(probe, add_special_tokens=False).ids
print(json.dumps({"before": before, "peak": peak, "kept": kept, "seconds": seconds, "ids": ids}))
"""


def measure(which: str, path: Path) -> dict[str, Any]:
    """One load in a fresh process: RSS before it and peak (MB), seconds, and the probe's ids."""
    out = subprocess.run([sys.executable, "-c", _CHILD, which, str(path), PROBE], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def synthetic(name: str, *, tokens: int, max_len: int) -> Path:
    """A synthetic byte-level BPE tokenizer.json in bench/_data (written once, then reused)."""
    path = DATA / name
    if not path.exists():
        import big_tokenizer_json as gen  # bench/ is on sys.path when this file runs as a script

        gen.MAX_LEN = max_len
        DATA.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(gen.build(tokens), ensure_ascii=False), encoding="utf-8")
    return path


def files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    llama = SHARED / "pretrained" / "llama3-tokenizer.json"
    if llama.exists():
        found["llama3"] = llama
    found["1M tokens"] = synthetic("big-tokenizer.json", tokens=1_000_000, max_len=18)
    found["2M merges"] = synthetic("big-tokenizer-2M-short.json", tokens=2_000_256, max_len=4)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", help="measure only the file whose label contains this")
    args = parser.parse_args()
    rows: list[tuple[str, dict[str, float]]] = []
    for label, path in files().items():
        if args.only and args.only not in label:
            continue
        runs: dict[str, list[dict[str, Any]]] = {"tokviz": [], "hf": []}
        for _ in range(args.repeat):
            for which in runs:  # interleaved: load on the machine drifts alike for both
                runs[which].append(measure(which, path))
        ids = {which: {json.dumps(r["ids"]) for r in rs} for which, rs in runs.items()}
        assert len(ids["tokviz"]) == 1 and ids["tokviz"] == ids["hf"], (label, ids)

        row: dict[str, float] = {"MB": round(path.stat().st_size / 1e6, 1)}
        for w, rs in runs.items():
            for k in ("before", "peak", "kept", "seconds"):
                row[f"{w}_{k}"] = round(statistics.median(float(r[k]) for r in rs), 1 if k != "seconds" else 2)
        row["ratio"] = round(row["tokviz_peak"] / row["hf_peak"], 2)
        rows.append((label, row))
        print(json.dumps({"file": label, **row}), flush=True)
    print()
    print("| file | size (MB) | tokviz peak RSS (MB) | HF `tokenizers` peak RSS (MB) | ratio | tokviz kept / load (s) "
          "|")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, r in rows:
        print(f"| {label} | {r['MB']} | {r['tokviz_peak']:,.0f} | {r['hf_peak']:,.0f} | {r['ratio']} | "
              f"{r['tokviz_kept']:,.0f} MB / {r['tokviz_seconds']} |")

if __name__ == "__main__":
    main()
