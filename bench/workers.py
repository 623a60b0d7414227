"""One measurement per process: the tasks that ``bench/run.py`` starts, each in a fresh Python subprocess.

Run as ``python bench/workers.py TASK JSON_ARGS``; the task prints one JSON object (its timings) on the last line
of stdout. Each process times only the call being measured: interpreter start-up, imports and (for encoding) file
loading are outside the timed region; file loading is timed on its own. Libraries are imported inside the tasks so a
task pays only for what it uses.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import time
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tokviz.core.protocol import encode_as_shown
from tokviz.formats.gpt2 import load_gpt2

EOT = "<|endoftext|>"
GPT2_EOT_ID = 50256

Result = dict[str, Any]


def ids_digest(ids: Sequence[int]) -> str:
    """A short fingerprint of a list of token ids, to compare ids across processes without shipping them."""
    return hashlib.sha256(array("I", ids).tobytes()).hexdigest()[:16]


def split_at_space(text: str) -> tuple[str, str]:
    """Cut ``text`` in two near the middle, before a space between two non-space characters.

    Under the GPT-2 pattern no pre-token crosses such a cut, so the ids of the halves concatenated equal the ids of
    the whole text.
    """
    for i in range(len(text) // 2, len(text) - 1):
        if text[i] == " " and not text[i - 1].isspace() and not text[i + 1].isspace():
            return text[:i], text[i:]
    raise ValueError("no space to split the text at.")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(wall seconds, result) of one call."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


# --- training -------------------------------------------------------------------------------------------------


def train_ours(path: str, vocab_size: int, specials: list[str]) -> Result:
    """Train tokviz once; wall seconds of the call and its own counting / merging split."""
    from tokviz.training.trainer import train_bpe

    seconds, tok = timed(lambda: train_bpe(path, vocab_size=vocab_size, special_tokens=specials))
    rep = tok.training
    return {
        "seconds": seconds,
        "counting_seconds": rep.counting_seconds,
        "merging_seconds": rep.seconds - rep.counting_seconds,
        "vocab_size": tok.vocab_size,
    }


def _hf_trainer(vocab_size: int, specials: list[str]) -> tuple[Any, Any]:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    return tok, trainer


def train_hf(path: str, vocab_size: int, specials: list[str]) -> Result:
    """Train Hugging Face ``tokenizers`` BPE once (byte-level, as GPT-2); wall seconds of ``train``."""
    tok, trainer = _hf_trainer(vocab_size, specials)
    seconds, _ = timed(lambda: tok.train([path], trainer))
    return {"seconds": seconds, "vocab_size": tok.get_vocab_size()}


def train_small(lib: str, path: str, vocab_size: int, specials: list[str], runs: int) -> Result:
    """Train ``runs`` times in this one process (imports done first); every run's wall seconds."""
    if lib == "ours":
        from tokviz.training.trainer import train_bpe

        def once() -> Any:
            return train_bpe(path, vocab_size=vocab_size, special_tokens=specials)
    else:
        _hf_trainer(vocab_size, specials)  # import first

        def once() -> Any:
            tok, trainer = _hf_trainer(vocab_size, specials)
            tok.train([path], trainer)
            return tok

    times = [timed(once)[0] for _ in range(runs)]
    return {"times": times, "median": statistics.median(times)}


# --- encoding -------------------------------------------------------------------------------------------------


def load_encoder(lib: str, vocab: str, merges: str) -> tuple[Callable[[str], list[int]], Any]:
    """(encode function, library object) for GPT-2 from the vocab.json + merges.txt files, in ``lib``.

    Each knows ``<|endoftext|>`` as a special token; the benchmark text holds none, so all encode it as ordinary text.
    """
    if lib == "ours":
        from tokviz.models.bpe import Tokenizer

        tok = load_gpt2(vocab, merges, special_tokens=[EOT], pattern="gpt2")
        return tok.encode, tok
    if lib == "tiktoken":
        import tiktoken

        from tokviz.formats.gpt2 import read_gpt2_files
        from tokviz.pre_tokenizers.patterns import GPT2_PATTERN

        table, _ = read_gpt2_files(vocab, merges)
        ranks = {b: i for i, b in table.items() if b != EOT.encode()}
        enc = tiktoken.Encoding("gpt2-local", pat_str=GPT2_PATTERN, mergeable_ranks=ranks,
                                special_tokens={EOT: GPT2_EOT_ID})
        return enc.encode_ordinary, enc
    if lib == "hf":
        from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

        hf = Tokenizer(models.BPE.from_file(vocab, merges))
        hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        hf.decoder = decoders.ByteLevel()
        hf.add_special_tokens([AddedToken(EOT, special=True)])
        return (lambda text: hf.encode(text, add_special_tokens=False).ids), hf
    raise ValueError(f"unknown library {lib!r}")


def encode_batch2(lib: str, obj: Any, halves: tuple[str, str]) -> float | None:
    """Wall seconds of the library's own 2-thread batch encode of the two halves (None for ours: it has none)."""
    if lib == "tiktoken":
        return timed(lambda: obj.encode_ordinary_batch(list(halves), num_threads=2))[0]
    if lib == "hf":
        return timed(lambda: obj.encode_batch(list(halves), add_special_tokens=False))[0]
    return None


def encode(lib: str, vocab: str, merges: str, text_path: str) -> Result:
    """Load (timed alone), encode the text cold (fresh tokenizer, unseen text), again warm, then 2-thread batch."""
    text = Path(text_path).read_text(encoding="utf-8")
    load_s, (fn, obj) = timed(lambda: load_encoder(lib, vocab, merges))
    cold_s, ids = timed(lambda: fn(text))
    warm_s, ids2 = timed(lambda: fn(text))
    return {
        "load_seconds": load_s,
        "cold_seconds": cold_s,
        "warm_seconds": warm_s,
        "batch2_seconds": encode_batch2(lib, obj, split_at_space(text)),
        "n_bytes": len(text.encode("utf-8")),
        "n_ids": len(ids),
        "digest": ids_digest(ids),
        "stable": ids == ids2,
    }


def encode_pool(lib: str, vocab: str, merges: str, text_path: str) -> Result:
    """Warm our tokenizer on the text, then time :class:`bench.parallel.ParallelEncoder` with 2 workers.

    The pool is forked before timing (its workers inherit the warm cache) and used once; the timed region is the
    second ``encode``:
    cutting the text at safe positions, sending the parts, encoding, and the packed ids coming back.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.parallel, when run as a script
    from bench.parallel import ParallelEncoder

    text = Path(text_path).read_text(encoding="utf-8")
    _, tok = load_encoder(lib, vocab, merges)
    whole = encode_as_shown(tok, text)  # warms the tokenizer's cache before the fork
    with ParallelEncoder(tok, workers=2) as pe:
        # One untimed pass: forked workers first touch the inherited cache, which copies those pages (copy-on-write
        # of the refcounts); "once the cache is warm" means after that, as for every later call.
        pe.encode(text)
        seconds, ids = timed(lambda: pe.encode(text))
    return {"seconds": seconds, "n_bytes": len(text.encode("utf-8")), "digest": ids_digest(ids),
            "equals_whole": ids == whole}


def first_mismatch(vocab: str, merges: str, text_path: str) -> Result:
    """Where our ids first differ from tiktoken's (only run when their digests differ)."""
    text = Path(text_path).read_text(encoding="utf-8")
    ours, _ = load_encoder("ours", vocab, merges)
    theirs, enc = load_encoder("tiktoken", vocab, merges)
    a, b = ours(text), theirs(text)
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return {"index": i, "n_ours": len(a), "n_tiktoken": len(b),
            "context": enc.decode(b[max(0, i - 8):i + 8]), "ours": a[i:i + 8], "tiktoken": b[i:i + 8]}


TASKS: dict[str, Callable[..., Result]] = {
    "train_ours": train_ours,
    "train_hf": train_hf,
    "train_small": train_small,
    "encode": encode,
    "encode_pool": encode_pool,
    "first_mismatch": first_mismatch,
}


def main(argv: list[str]) -> None:
    """``workers.py TASK JSON``: run the task with the JSON object as keyword arguments; print its result as JSON."""
    task, kwargs = argv[0], json.loads(argv[1])
    print(json.dumps(TASKS[task](**kwargs)))


if __name__ == "__main__":
    main(sys.argv[1:])
