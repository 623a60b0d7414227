"""Write a synthetic byte-level BPE ``tokenizer.json`` of about 65 MB (about 1M vocabulary entries), for measuring
how much memory loading a large tokenizer file takes (``/usr/bin/time -v tokviz encode hi -t FILE``).

The merges are drawn at random (a fixed seed) from tokens already made, so the file is a valid BPE that Hugging Face
``tokenizers`` loads too. The file goes to ``bench/_data/`` (gitignored); it is never committed.

    python bench/big_tokenizer_json.py                   # bench/_data/big-tokenizer.json, 1,000,000 tokens
    python bench/big_tokenizer_json.py --tokens 200000   # a smaller one
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tokviz.pre_tokenizers.byte_level import BYTE_TO_UNICODE  # noqa: E402

#: Longest token drawn, in characters of GPT-2's byte table: keeps the file near 65 bytes per entry.
MAX_LEN = 18


def build(n_tokens: int, *, seed: int = 0) -> dict[str, object]:
    """The tokenizer.json as a dict: 256 byte tokens, then ``n_tokens - 256`` merges of earlier tokens."""
    rng = random.Random(seed)
    tokens = [BYTE_TO_UNICODE[b] for b in range(256)]
    vocab = {t: i for i, t in enumerate(tokens)}
    merges: list[str] = []
    # Draw parts among the bytes and recent short tokens, as real vocabularies grow from frequent pieces.
    while len(tokens) < n_tokens:
        a = tokens[rng.randrange(len(tokens))] if rng.random() < 0.5 else tokens[rng.randrange(256)]
        b = tokens[rng.randrange(max(0, len(tokens) - 5000), len(tokens))] if rng.random() < 0.5 else \
            tokens[rng.randrange(len(tokens))]
        if len(a) + len(b) > MAX_LEN or (a + b) in vocab:
            continue
        vocab[a + b] = len(tokens)
        tokens.append(a + b)
        merges.append(f"{a} {b}")
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": n_tokens, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("-o", "--output", type=Path,
                        default=Path(__file__).resolve().parent / "_data" / "big-tokenizer.json")
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(build(args.tokens), ensure_ascii=False), encoding="utf-8")
    print(f"{args.output}: {args.output.stat().st_size / 1e6:.1f} MB, {args.tokens:,} tokens")


if __name__ == "__main__":
    main()
