"""Time vocabulary health on OpenAI's encodings against the built-in corpus: medians of a few runs, and the ratio to
one plain encode of the corpus (the cost a user already pays to look at it).

    python bench/health.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from tokviz import load_tokenizer
from tokviz.analysis.health import vocab_health
from tokviz.core.protocol import encode_as_shown
from tokviz.viewmodels.defaults import default_corpus


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--encodings", nargs="+", default=["gpt2", "cl100k_base", "o200k_base"])
    args = p.parse_args()
    corpus = default_corpus().text
    for name in args.encodings:
        tok = load_tokenizer(name)
        first = time.perf_counter()
        vocab_health(tok, corpus=corpus)
        first = time.perf_counter() - first
        runs = []
        for _ in range(args.runs):
            t = time.perf_counter()
            vocab_health(tok, corpus=corpus)
            runs.append(time.perf_counter() - t)
        enc = []
        for _ in range(args.runs):
            t = time.perf_counter()
            encode_as_shown(tok, corpus)
            enc.append(time.perf_counter() - t)
        med, med_enc = statistics.median(runs), statistics.median(enc)
        print(f"{name:12} {tok.vocab_size:>7,} tokens  first {first:5.2f} s  median {med:5.2f} s  "
              f"({med / med_enc:.1f}x one encode of the {len(corpus) // 1000} KB corpus)")


if __name__ == "__main__":
    main()
