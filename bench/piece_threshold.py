"""Where the heap beats the list algorithm inside one piece: time both on pieces of each length (GPT-2 files).

Usage::

    python bench/piece_threshold.py

Prints microseconds per piece for both rules, list (``short``) and heap, on half real text, half random letters;
``tokviz.models.bpe_rules.SHORT_PIECE`` is set near where the two cross.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import shared_cs336_dir  # noqa: E402
from tokviz.formats.gpt2 import load_gpt2  # noqa: E402
from tokviz.models import bpe_rules as pb  # noqa: E402

LENGTHS = (8, 16, 24, 32, 40, 48, 64, 96)


def best_of(repeats: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    d = shared_cs336_dir()
    tok = load_gpt2(d / "gpt2_vocab.json", d / "gpt2_merges.txt", pattern="gpt2")
    text = (d / "corpus.en").read_text(encoding="utf-8")
    rnd = random.Random(0)
    ranks, merged, regular, byte_ids = tok._ranks, tok._merged, tok._regular, tok._byte_ids
    for n in LENGTHS:
        pieces = [(text[(s := rnd.randrange(len(text) - n)) : s + n] if k % 2 else
                   "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))).encode() for k in range(400)]
        ids = [list(map(byte_ids.__getitem__, p)) for p in pieces]
        runs: dict[str, Callable[[], object]] = {
            "merges/list": lambda ids=ids: [pb._pairs_short(list(i), ranks, merged, pb.NO_RANK) for i in ids],
            "merges/heap": lambda ids=ids: [pb._pairs_heap(list(i), ranks, merged, pb.NO_RANK) for i in ids],
            "ranks/list": lambda ps=pieces: [pb._ranks_short(p, regular, pb.NO_RANK) for p in ps],
            "ranks/heap": lambda ps=pieces: [pb._ranks_heap(p, regular, pb.NO_RANK) for p in ps],
        }
        us = {name: best_of(7, run) for name, run in runs.items()}
        print(f"{n:4d} bytes: " + "  ".join(f"{k} {v * 1e6 / len(pieces):6.1f} us" for k, v in us.items()))


if __name__ == "__main__":
    main()
