"""One long-input measurement per process, for the rows of ``bench/run.py`` that no input may make quadratic.

Run as ``python bench/long_workers.py TASK JSON_ARGS``; prints one JSON object on the last line of stdout. Inputs are
generated here from a fixed seed (nothing is downloaded): ``"x" * 1_000_000``, random base64 and random ACGT text,
a megabyte of letters without spaces or of NUL bytes, and a rank file with one 44 KB token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import sys
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tokviz.formats.gpt2 import load_gpt2

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

Result = dict[str, Any]

# tiktoken_ext/openai_public.py's patterns (its functions download the files, so the strings are copied).
R50K_PAT = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
O200K_PAT = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""", r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""", r"""\s*[\r\n]+""", r"""\s+(?!\S)""", r"""\s+""",
])


def make_text(kind: str) -> str:
    """The input of a row, the same bytes on every run."""
    rnd = random.Random(0)
    if kind == "x1m":
        return "x" * 1_000_000
    if kind == "base64":
        return base64.b64encode(rnd.randbytes(75_000)).decode("ascii")  # 100,000 characters
    if kind == "acgt":
        return "".join(rnd.choices("ACGT", k=100_000))
    if kind == "letters1m":
        return "".join(rnd.choices("abcdefghijklmnopqrstuvwxyz", k=1_000_000))
    if kind == "nul1m":
        return "\x00" * 1_000_000
    raise ValueError(f"unknown input {kind!r}")


def write_input(kind: str, out_dir: str) -> str:
    path = Path(out_dir) / f"{kind}.txt"
    if not path.is_file():
        path.write_text(make_text(kind), encoding="utf-8")
    return str(path)


def digest(ids: list[int]) -> str:
    return hashlib.sha256(array("I", ids).tobytes()).hexdigest()[:16]


def encode_long(lib: str, kind: str, files: dict[str, str]) -> Result:
    """Encode one long input (tokviz or tiktoken, built from the same file); seconds of the encode call only."""
    text = make_text(kind)
    if "rank_file" in files:
        pat = O200K_PAT
        if lib == "ours":
            from tokviz import load_tokenizer

            encode = load_tokenizer(files["rank_file"]).encode
        else:
            import tiktoken
            import tiktoken.load

            ranks = tiktoken.load.load_tiktoken_bpe(files["rank_file"])
            encode = tiktoken.Encoding("o200k-local", pat_str=pat, mergeable_ranks=ranks,
                                       special_tokens={}).encode_ordinary
    else:
        if lib == "ours":

            encode = load_gpt2(files["vocab"], files["merges"], special_tokens=[], pattern="gpt2").encode
        else:
            import tiktoken

            from tokviz.formats.gpt2 import read_gpt2_files

            vocab, _ = read_gpt2_files(files["vocab"], files["merges"])
            ranks = {b: i for i, b in vocab.items() if b != b"<|endoftext|>"}
            encode = tiktoken.Encoding("gpt2-local", pat_str=R50K_PAT, mergeable_ranks=ranks,
                                       special_tokens={}).encode_ordinary
    t0 = time.perf_counter()
    ids = encode(text)
    return {"seconds": time.perf_counter() - t0, "digest": digest(ids), "n_ids": len(ids)}


def train_long(lib: str, path: str, vocab_size: int) -> Result:
    """Train on one long-word file; seconds of the training call."""
    if lib == "ours":
        from tokviz.training.trainer import train_bpe

        t0 = time.perf_counter()
        tok = train_bpe(path, vocab_size=vocab_size)
        return {"seconds": time.perf_counter() - t0, "vocab_size": tok.vocab_size}
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    t0 = time.perf_counter()
    tok.train([path], trainer)
    return {"seconds": time.perf_counter() - t0, "vocab_size": tok.get_vocab_size()}


def write_big_token_file(out_dir: str) -> str:
    """A rank file: the 256 bytes, "ab", "abab", and one 44 KB token ("ab" * 22,000)."""
    path = Path(out_dir) / "big_token.tiktoken"
    if not path.is_file():
        tokens = [bytes([b]) for b in range(256)] + [b"ab", b"abab", b"ab" * 22_000]
        path.write_bytes(b"".join(base64.b64encode(t) + b" " + str(i).encode() + b"\n" for i, t in enumerate(tokens)))
    return str(path)


def load_rank_file(lib: str, path: str) -> Result:
    """Load a rank file (tokviz derives its merges; tiktoken builds its encoder); seconds of the load."""
    t0 = time.perf_counter()
    if lib == "ours":
        from tokviz import load_tokenizer

        tok = load_tokenizer(path, pattern="gpt2")
        n = tok.vocab_size
    else:
        import tiktoken
        import tiktoken.load

        enc = tiktoken.Encoding("big", pat_str=R50K_PAT, mergeable_ranks=tiktoken.load.load_tiktoken_bpe(path),
                                special_tokens={})
        n = enc.n_vocab
    return {"seconds": time.perf_counter() - t0, "vocab_size": n}


TASKS: dict[str, Callable[..., Result]] = {
    "encode_long": encode_long,
    "train_long": train_long,
    "load_rank_file": load_rank_file,
}


def main(argv: list[str]) -> None:
    task, kwargs = argv[0], json.loads(argv[1])
    print(json.dumps(TASKS[task](**kwargs)))


if __name__ == "__main__":
    main(sys.argv[1:])
