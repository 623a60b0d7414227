"""Adversarial encode rows alone (issue: no input stalls the server): tokviz, with and without its native engine,
against tiktoken on the first call, each library in a fresh process per repeat, medians, ids checked.

Usage::

    python bench/adversarial.py               # 3 repeats
    python bench/adversarial.py --repeats 5

The texts are those of ``bench/engines.py`` (``ADVERSARIAL``): 250k x U+1F30D (o200k), "aA" x 500k (cl100k), "a" and
100k combining marks (o200k), 1M spaces (o200k: tiktoken's regex overflowed its stack there), 1M x U+4E2D (o200k).
Each cell is the median first-call time; the ratio is tokviz's time over tiktoken's (lower is better); "ids" says
whether the ids equal tiktoken's on every repeat.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.engines import ADVERSARIAL, run_worker  # noqa: E402

LIBS = ("tiktoken", "tokviz pure", "tokviz+engine")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    samples: dict[tuple[str, str], list[dict]] = {}
    for r in range(args.repeats):
        for name, (enc, _) in ADVERSARIAL.items():
            for lib in LIBS if r % 2 == 0 else LIBS[::-1]:
                res = run_worker(lib=lib, enc=enc, texts={name: "adversarial"}, offsets=False)
                samples.setdefault((lib, name), []).append(res["texts"][name] if res else {"error": "timeout"})
        print(f"repeat {r + 1}/{args.repeats} done", file=sys.stderr, flush=True)
    print("| text | encoding | tiktoken | tokviz pure (x tiktoken) | tokviz+engine (x tiktoken) | ids |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for name, (enc, _) in ADVERSARIAL.items():
        cold = {lib: [s["cold"] for s in samples[(lib, name)] if "cold" in s] for lib in LIBS}
        med = {lib: statistics.median(v) if v else None for lib, v in cold.items()}
        ref = {s.get("digest") for s in samples[("tiktoken", name)]} - {None}
        cells = []
        for lib in LIBS[1:]:
            m, base = med[lib], med["tiktoken"]
            cells.append("fails" if m is None else f"{m:.3f} s" + (f" ({m / base:.1f}x)" if base else ""))
        same = [lib for lib in LIBS[1:] if ref and {s.get("digest") for s in samples[(lib, name)]} == ref]
        tk = "fails" if med["tiktoken"] is None else f"{med['tiktoken']:.3f} s"
        print(f"| {name} | {enc} | {tk} | " + " | ".join(cells) + f" | {', '.join(same) or '—'} |")


if __name__ == "__main__":
    main()
