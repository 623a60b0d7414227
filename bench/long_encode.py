"""Only the long-input encode rows of ``bench/run.py``: ours against tiktoken, each run in a fresh process.

Usage::

    python bench/long_encode.py                 # 5 repeats per side, the three rows
    python bench/long_encode.py --repeats 9 --kinds x1m acgt

The full benchmark runs these rows too (with at most 3 repeats, among many other rows); this script is the quick way
to measure a change to the per-piece BPE on a shared machine: more repeats, the sides alternating, medians and the
ratio ours / tiktoken from the same run, and a check that the ids are tiktoken's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import LONG_ENCODE_TARGET, alternate, run_long_worker, shared_cs336_dir  # noqa: E402

KINDS = {"x1m": '"x" * 1,000,000, o200k', "base64": "100 KB random base64, GPT-2", "acgt": "100 KB random ACGT, GPT-2"}


def files_for(kind: str) -> dict[str, str]:
    d = shared_cs336_dir()
    if kind == "x1m":
        return {"rank_file": str(d.parent / "pretrained" / "o200k_base.tiktoken")}
    return {"vocab": str(d / "gpt2_vocab.json"), "merges": str(d / "gpt2_merges.txt")}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="fresh processes per side and row (default 5)")
    ap.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    args = ap.parse_args(argv)
    print(f"| input | ours median [s] | tiktoken median [s] | ratio | ≤ {LONG_ENCODE_TARGET:g}? | ours min–max | "
          "tiktoken min–max | ids |")
    print("| --- | ---: | ---: | ---: | --- | --- | --- | --- |")
    for kind in args.kinds:
        files = files_for(kind)
        runs = alternate(args.repeats, {lib: (lambda lib=lib, kind=kind, files=files: run_long_worker(
                                                  "encode_long", lib=lib, kind=kind, files=files))
                                        for lib in ("ours", "tiktoken")})
        ours = [s["seconds"] for s in runs["ours"]]
        peer = [s["seconds"] for s in runs["tiktoken"]]
        ratio = statistics.median(ours) / statistics.median(peer)
        same = {s["digest"] for s in runs["ours"]} == {s["digest"] for s in runs["tiktoken"]}
        print(f"| {KINDS[kind]} | {statistics.median(ours):.3f} | {statistics.median(peer):.3f} | {ratio:.2f} | "
              f"{'yes' if ratio <= LONG_ENCODE_TARGET else 'no'} | {min(ours):.3f}–{max(ours):.3f} | "
              f"{min(peer):.3f}–{max(peer):.3f} | {'OK' if same else 'MISMATCH'} |", flush=True)


if __name__ == "__main__":
    main()
