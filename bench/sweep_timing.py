"""Time the one-pass size sweep against encoding with prefix tokenizers.

Corpus: pydoc_data.topics (stdlib). The first 90 % (cut at a line) trains one BPE run to 8192 tokens; the held-out
tenth is measured two ways:
  A. ``token_count_curve`` over every size 256..8192 (7,937 sizes) in one pass;
  B. ``tok.prefix(k).encode(heldout)`` for 20 log-spaced sizes (a fresh prefix tokenizer each, as the app would).
The counts of B are checked against A. Run: ``python bench/sweep_timing.py [--pattern gpt2] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import pydoc_data.topics
import statistics
import time

from tokviz import train_bpe
from tokviz.analysis.sweep import log_spaced_sizes, size_range, token_count_curve
from tokviz.core.protocol import encode_as_shown
from tokviz.training.holdout import split_holdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pattern", default="gpt2")
    ap.add_argument("--vocab-size", type=int, default=8192)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    topics = pydoc_data.topics.topics
    text = "\n".join(topics[k] for k in sorted(topics))
    train, heldout = split_holdout(text, fraction=0.1)
    t0 = time.perf_counter()
    tok = train_bpe([train], vocab_size=args.vocab_size, pattern=args.pattern)
    train_s = time.perf_counter() - t0
    sizes20 = log_spaced_sizes(*size_range(tok), n=20)
    print(f"corpus {len(text):,} chars; train {len(train):,}, held-out {len(heldout):,} chars "
          f"({len(heldout.encode()):,} bytes); pattern {args.pattern}; training to {tok.vocab_size}: {train_s:.2f} s")

    a_times, b_times, a20_times = [], [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        curve = token_count_curve(tok, heldout)
        a_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        counts = [len(encode_as_shown(tok.prefix(k), heldout)) for k in sizes20]
        b_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        token_count_curve(tok, heldout, sizes=sizes20)
        a20_times.append(time.perf_counter() - t0)
    assert counts == [curve.at(k) for k in sizes20], "one-pass curve disagrees with prefix encodes"

    def show(label: str, xs: list[float]) -> None:
        print(f"{label:<58} median {1000 * statistics.median(xs):8.1f} ms  (min {1000 * min(xs):.1f}, "
              f"max {1000 * max(xs):.1f}, n={len(xs)})")

    show(f"A  token_count_curve, all {len(curve.sizes):,} sizes", a_times)
    show(f"A' token_count_curve, the same {len(sizes20)} sizes", a20_times)
    show(f"B  prefix(k).encode for {len(sizes20)} sizes", b_times)
    per_size = statistics.median(b_times) / len(sizes20)
    print(f"B per size {1000 * per_size:.1f} ms -> all {len(curve.sizes):,} sizes by B would take ~"
          f"{per_size * len(curve.sizes):.0f} s")
    print(f"sizes: {list(sizes20)}")
    print(f"tokens at those sizes: {counts}")


if __name__ == "__main__":
    main()
