"""Counting the tokens of a whole file (``tokviz tokens``, the Files page) against tiktoken counting the same text.

Usage::

    python bench/file_tokens.py                       # 4 MB of pydoc text, cl100k_base and o200k_base, 3 repeats
    python bench/file_tokens.py --mb 16 --repeats 5

Ours is :func:`tokviz.analysis.file_tokens.count_file` on the file (a stream read 1 MB at a time, decoded, encoded
through ``encode_iterable``, with bytes, characters and words counted in the same pass); tiktoken is
``len(Encoding.encode_ordinary(text))`` on the text already in memory (its fastest path, with the file read and
decoded before the clock starts), over the same rank file. The sides alternate; medians and the ratio ours / tiktoken
come from the same run, and the counts are checked equal.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import tiktoken  # noqa: E402

from tokviz.analysis.file_tokens import count_file  # noqa: E402
from tokviz.formats.known_rank_files import by_name  # noqa: E402
from tokviz.formats.pretrained import load_encoding, read_builtin  # noqa: E402
from tokviz.pre_tokenizers.patterns import NAMED_PATTERNS  # noqa: E402


def _text(mb: float) -> str:
    from pydoc_data.topics import topics

    base = "\n\n".join(topics.values())
    n = int(mb * 1_000_000)
    return (base * (n // len(base) + 1))[:n]


def _tiktoken(name: str) -> tiktoken.Encoding:
    ranks = {base64.b64decode(tok): int(rank) for tok, rank in (ln.split() for ln in read_builtin(name).splitlines()
                                                                  if ln)}
    known = by_name(name)
    pattern = NAMED_PATTERNS.get(known.pattern, known.pattern)
    return tiktoken.Encoding(f"{name}-local", pat_str=pattern, mergeable_ranks=ranks,
                             special_tokens=dict(known.special_tokens))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=4.0, help="size of the file in MB (default 4)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per side (default 3)")
    ap.add_argument("--encodings", nargs="+", default=["cl100k_base", "o200k_base"])
    args = ap.parse_args(argv)
    text = _text(args.mb)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "file.txt"
        path.write_text(text, encoding="utf-8")
        print("| encoding | file | ours median [s] | tiktoken median [s] | ratio | tokens |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name in args.encodings:
            ours_tok, peer = load_encoding(name), _tiktoken(name)
            ours_s, peer_s, counts = [], [], set()
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                with path.open("rb") as f:
                    counts.add(count_file(f, ours_tok).tokens)
                ours_s.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                counts.add(len(peer.encode_ordinary(text)))
                peer_s.append(time.perf_counter() - t0)
            if len(counts) != 1:
                raise SystemExit(f"{name}: counts differ: {sorted(counts)}")
            o, p = statistics.median(ours_s), statistics.median(peer_s)
            print(f"| {name} | {args.mb:g} MB | {o:.2f} | {p:.2f} | {o / p:.2f} | {counts.pop():,} |")


if __name__ == "__main__":
    main()
