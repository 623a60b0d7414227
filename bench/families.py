"""Encode speed of the other tokenizer families against their own libraries, on the same text, in one run.

Usage::

    python bench/families.py                 # 1 MB of the bench corpus + a 100 KB word, 5 repeats (a few minutes)
    python bench/families.py --repeats 9 --size 2000000

Rows: our WordPiece, Unigram and SentencePiece-style BPE (read from a ``tokenizer.json``) against Hugging Face
``tokenizers`` built from the same file, and our ``.model`` path (:mod:`tokviz.formats.sentencepiece_model`)
against ``sentencepiece`` itself. The files are trained here, on the same corpus, with ``tokenizers``' trainers
(WordPiece as BERT uncased, Unigram and BPE with Metaspace, BPE with the 256 byte-fallback pieces as Llama 2 has
them) and with ``sentencepiece``'s trainer (Unigram, and BPE with byte fallback), and cached in
``bench/_data/families/``. Inputs: the bench corpus (``bench/corpus.py``) without its ``<|endoftext|>`` separators,
and one 100,000-character word without spaces (seeded random lowercase letters), the worst case of a per-word
model. WordPiece turns any word longer than ``max_input_chars_per_word`` (100) into ``[UNK]`` at once, so it is
also run with that limit raised (to 200,000), which times the greedy search itself: on words of 2,000 and 4,000
characters only, because ``tokenizers``' search tries every end of the rest of the word, longest first (quadratic
in the word's length, with a copy per try: about 11 s at 8,000 characters here), where ours starts at the longest
vocabulary piece.

Every timed call gets a tokenizer just built (so our piece cache and ``tokenizers``' start cold; building is not
timed), the sides alternate order from one repeat to the next, and the table gives medians, MB/s (10^6 UTF-8 bytes
per second) and the ratio of seconds ours / peer (above 1: ours is slower). Each row says whether the ids were equal
on every repeat. The table is printed and written to ``bench/_out/families.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.corpus import SEPARATOR, ensure_corpus  # noqa: E402

DATA = ROOT / "bench" / "_data" / "families"
OUT = ROOT / "bench" / "_out" / "families.md"
VOCAB = 8000
WORD_CHARS = 100_000
#: Lengths of the word for WordPiece with the limit raised (tokenizers is quadratic there; see the docstring).
SEARCH_WORD_CHARS = (2_000, 4_000)

Encode = Callable[[str], Any]


@dataclass(frozen=True)
class Side:
    """One side of a row: ``build`` makes a fresh tokenizer and returns its encode call; ``ids`` reads the ids
    out of what that call returned."""

    build: Callable[[], Encode]
    ids: Callable[[Any], list[int]]


@dataclass(frozen=True)
class Result:
    family: str
    call: str
    text: str
    n_bytes: int
    ours: list[float]
    peer: list[float]
    same_ids: bool
    n_ids: int

    @property
    def ratio(self) -> float:
        return statistics.median(self.ours) / statistics.median(self.peer)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- the files -------------------------------------------------------------------------------------------------


def train_tokenizer_json(family: str, corpus: Path) -> Path:
    """A ``tokenizer.json`` of ``family`` trained by ``tokenizers`` on ``corpus`` (cached), with the recipe the
    tests use (:func:`tests.helpers.train_family_json`), so the bench measures the files the tests check."""
    import tokenizers

    from tests.helpers import train_family_json

    out = DATA / f"{family}-{corpus.stem}-v{VOCAB}-tk{tokenizers.__version__}.json"
    if out.is_file():
        return out
    log(f"training {family} with tokenizers on {corpus.name}")
    DATA.mkdir(parents=True, exist_ok=True)
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    return train_family_json(out, family, texts=lines, vocab_size=VOCAB)


def train_sentencepiece(model_type: str, corpus: Path) -> Path:
    """A ``.model`` trained by ``sentencepiece`` on ``corpus`` (BPE with byte fallback; cached)."""
    import sentencepiece as spm

    prefix = DATA / f"spm-{model_type}-{corpus.stem}-v{VOCAB}-sp{spm.__version__}"
    out = prefix.with_name(prefix.name + ".model")
    if out.is_file():
        return out
    log(f"training a sentencepiece {model_type} model on {corpus.name}")
    DATA.mkdir(parents=True, exist_ok=True)
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(prefix), vocab_size=VOCAB,
                                   model_type=model_type, byte_fallback=model_type == "bpe",
                                   character_coverage=0.9995, num_threads=os.cpu_count() or 1, minloglevel=2)
    return out


def with_long_words(path: Path) -> Path:
    """The WordPiece file with ``max_input_chars_per_word`` past the long word, so the search itself is timed."""
    out = path.with_name(path.stem + "-longwords.json")
    if not out.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        data["model"]["max_input_chars_per_word"] = WORD_CHARS * 2
        out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return out


# --- the sides -------------------------------------------------------------------------------------------------


def ours_json(path: Path, offsets: bool) -> Side:
    from tokviz.formats.hf_families import family_from_dict

    data = json.loads(path.read_text(encoding="utf-8"))

    def build() -> Encode:
        tok = family_from_dict(data, source=str(path))
        assert tok is not None, path  # a bench bug, not user input: the files are trained above
        return tok.encode_with_offsets if offsets else tok.encode

    return Side(build, (lambda r: list(r.ids)) if offsets else list)


def hf_json(path: Path) -> Side:
    from tokenizers import Tokenizer

    def build() -> Encode:
        tok = Tokenizer.from_file(str(path))
        return lambda text: tok.encode(text, add_special_tokens=False)  # ids and offsets: one call

    return Side(build, lambda r: list(r.ids))


def ours_model(path: Path, offsets: bool) -> Side:
    from tokviz.formats.sentencepiece_model import load_sentencepiece

    def build() -> Encode:
        tok = load_sentencepiece(path)
        return tok.encode_with_offsets if offsets else tok.encode

    return Side(build, (lambda r: list(r.ids)) if offsets else list)


def sp_model(path: Path, offsets: bool) -> Side:
    import sentencepiece as spm

    def build() -> Encode:
        sp = spm.SentencePieceProcessor(model_file=str(path))
        if offsets:  # what our offsets are computed from
            return lambda text: sp.encode(text, return_type="proto")
        return lambda text: sp.encode(text, out_type=int)

    return Side(build, (lambda r: [p.id for p in r.pieces]) if offsets else list)


# --- timing ----------------------------------------------------------------------------------------------------


def timed(side: Side, text: str) -> tuple[float, list[int]]:
    encode = side.build()
    gc.collect()
    t0 = time.perf_counter()
    got = encode(text)
    seconds = time.perf_counter() - t0
    return seconds, side.ids(got)


def measure(family: str, call: str, text_name: str, text: str, ours: Side, peer: Side, repeats: int) -> Result:
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    ids: dict[str, set[tuple[int, ...]]] = {"ours": set(), "peer": set()}
    sides = {"ours": ours, "peer": peer}
    for r in range(repeats):
        for name in ("ours", "peer") if r % 2 == 0 else ("peer", "ours"):
            s, got = timed(sides[name], text)
            times[name].append(s)
            ids[name].add(tuple(got))
    same = len(ids["ours"]) == 1 and ids["ours"] == ids["peer"]
    res = Result(family, call, text_name, len(text.encode("utf-8")), times["ours"], times["peer"], same,
                 len(next(iter(ids["peer"]))))
    log(f"  {family} {call} {text_name}: ours {statistics.median(res.ours):.3f} s, peer "
        f"{statistics.median(res.peer):.3f} s, ratio {res.ratio:.2f}, ids {'OK' if same else 'MISMATCH'}")
    return res


def long_word() -> str:
    rng = random.Random(0)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(WORD_CHARS))


# --- the report ------------------------------------------------------------------------------------------------


def fmt(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def render(results: list[Result]) -> str:
    lines = ["| family (file) vs peer | call | input | ours [s] | peer [s] | ours [MB/s] | peer [MB/s] | "
             "ratio ours/peer (s) | ids equal |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in results:
        o, p = statistics.median(r.ours), statistics.median(r.peer)
        mb = r.n_bytes / 1e6
        lines.append(f"| {r.family} | {r.call} | {r.text} | {fmt(o)} | {fmt(p)} | {mb / o:.3g} | {mb / p:.3g} | "
                     f"{r.ratio:.2f} | {'yes' if r.same_ids else '**no**'} ({r.n_ids:,} ids) |")
    return "\n".join(lines)


def environment() -> str:
    import sentencepiece
    import tokenizers

    load = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"
    return (f"Python {platform.python_version()}, {os.cpu_count()} cores, tokenizers {tokenizers.__version__}, "
            f"sentencepiece {sentencepiece.__version__}, load average at the end {load}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=1_000_000, help="bytes of the bench corpus (default 1 MB)")
    ap.add_argument("--repeats", type=int, default=5, help="timed calls per side and row (default 5)")
    ap.add_argument("--no-offsets", action="store_true", help="only encode (ids), not encode_with_offsets")
    args = ap.parse_args(argv)

    corpus_path = ensure_corpus(args.size)
    plain = corpus_path.with_name(corpus_path.stem + ".plain.txt")
    if not plain.is_file():
        plain.write_bytes(corpus_path.read_text(encoding="utf-8").replace(SEPARATOR, "").encode("utf-8"))
    text = plain.read_text(encoding="utf-8")
    word = long_word()
    inputs = [(f"{args.size / 1e6:g} MB corpus", text), ("100 KB word", word)]
    calls = [("encode", False)] + ([] if args.no_offsets else [("encode_with_offsets", True)])

    files = {f: train_tokenizer_json(f, plain) for f in ("wordpiece", "unigram", "bpe-sp")}
    models = {t: train_sentencepiece(t, plain) for t in ("unigram", "bpe")}
    labels = {"wordpiece": "WordPiece (tokenizer.json) vs tokenizers", "unigram": "Unigram (tokenizer.json) vs "
              "tokenizers", "bpe-sp": "SentencePiece BPE (tokenizer.json) vs tokenizers"}
    results: list[Result] = []
    for family, path in files.items():
        for call, offsets in calls:
            for name, t in inputs:
                log(f"{family} {call} {name}")
                results.append(measure(labels[family], call, name, t, ours_json(path, offsets), hf_json(path),
                                       args.repeats))
        if family == "wordpiece":
            longer = with_long_words(path)
            for call, offsets in calls:
                for n in SEARCH_WORD_CHARS:
                    results.append(measure(labels[family] + ", max_input_chars_per_word 200,000", call,
                                           f"{n:,}-character word", word[:n], ours_json(longer, offsets),
                                           hf_json(longer), args.repeats))
    for model_type, path in models.items():
        label = f"sentencepiece {model_type} (.model) vs sentencepiece"
        for call, offsets in calls:
            for name, t in inputs:
                log(f"{model_type} .model {call} {name}")
                results.append(measure(label, call, name, t, ours_model(path, offsets), sp_model(path, offsets),
                                       args.repeats))
    table = render(results)
    report = f"{table}\n\n{environment()}; medians of {args.repeats} calls per side.\n"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
