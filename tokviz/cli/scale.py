"""The corpus-scale commands of ``tokviz``: ``count`` (pre-token counts to a file) and ``encode-corpus`` (a corpus to
one flat ``.bin`` or ``.npy`` of ids, or shards), on this machine's cores or on a Dask cluster with ``--dask ADDRESS``
(``local:N`` starts N local worker processes). ``tokviz train --counts FILE`` trains from a counts file;
``--merge sharded --dask ADDRESS`` splits the merge of a shards folder across the Dask workers.

Example:
    $ tokviz count data/*.txt --special-token '<|endoftext|>' -o counts.tsv --dask local:2
    $ tokviz train --counts counts.tsv --vocab-size 10000 -o tok.json
    $ tokviz count data/*.txt -o counts/ --shards 8 --dask local:2
    $ tokviz train --counts counts/ --vocab-size 10000 -o tok.json --merge sharded --dask local:2
    $ tokviz encode-corpus data/*.txt -t tok.json -o train.bin --eot --workers 2   # + train.bin.json
    $ tokviz count s3://bucket/part-*.txt -o counts.tsv --dask tcp://scheduler:8786
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from tokviz.cli.common import ProgressBar, resolve_tokenizer
from tokviz.corpus.ids import CorpusIds, encode_corpus
from tokviz.corpus.sources import source_size
from tokviz.models.bpe import Tokenizer
from tokviz.training.compact_merge import CountsArrays, load_counts_arrays
from tokviz.training.counts_shards import is_shards, load_shards, read_manifest, save_shards, split_counts
from tokviz.training.counts_table import Counts, count_files
from tokviz.training.merge_loop import Merge
from tokviz.training.trainer import MERGE_LOOPS, choose_merge_loop


def _bar(args: argparse.Namespace, label: str) -> tuple[ProgressBar, Callable[[int, int], None]]:
    bar = ProgressBar(sys.stderr)

    def update(done: int, total: int) -> None:
        if not args.quiet:
            bar.update(label, done, total, unit=" bytes", force=done == total)

    return bar, update


def cmd_count(args: argparse.Namespace) -> int:
    specials = list(dict.fromkeys(args.special_token or []))
    bar, update = _bar(args, "counting")
    manifest = None
    try:
        if args.dask:
            from tokviz.scale import connect, count_on_dask, count_shards_on_dask

            with connect(args.dask) as client:
                if args.shards:
                    manifest = count_shards_on_dask(args.files, args.output, client=client, shards=args.shards,
                                                    pattern=args.pattern, special_tokens=specials,
                                                    errors=args.errors, on_progress=update)
                else:
                    counts = count_on_dask(args.files, client=client, pattern=args.pattern, special_tokens=specials,
                                           errors=args.errors, on_progress=update)
        else:
            total = sum(source_size(f) for f in args.files if os.path.isfile(f) or "://" in f)
            counts = count_files(args.files, pattern=args.pattern, special_tokens=specials, workers=args.workers,
                                 errors=args.errors, on_progress=lambda done: update(done, total))
    finally:
        bar.close()
    if manifest is None and args.shards:
        parts = split_counts(counts.counts, args.shards)
        manifest = save_shards([Counts(p, pattern=counts.pattern, special_tokens=counts.special_tokens)
                                for p in parts], args.output)
    if manifest is not None:
        _, data = read_manifest(manifest)
        print(f"{data['total']:,} pre-tokens, {data['distinct']:,} distinct, from {len(args.files)} file(s). Saved "
              f"in {args.shards} shard(s) to {manifest.parent} ({manifest.name} lists them).")
        return 0
    out = counts.save(args.output)
    print(f"{counts.total:,} pre-tokens, {len(counts):,} distinct, from {len(args.files)} file(s). Saved to {out}.")
    return 0


def load_counts(path: str, *, merge: str = "python") -> Counts | CountsArrays:
    """``tokviz train --counts FILE``: the counts, or a ValueError naming the file. When ``merge`` picks the compact
    loop (``compact``, or ``auto`` on a large table) the file is read straight into its arrays, never into a
    ``dict`` of the table."""
    shards = is_shards(path)
    if not shards and not os.path.isfile(path):
        raise ValueError(f"{path}: no such counts file; make one with `tokviz count FILES -o {path}`.")
    if choose_merge_loop(merge, _distinct(path, shards)) == "compact":
        return load_counts_arrays(path)
    return load_shards(path) if shards else Counts.load(path)


def _distinct(path: str, shards: bool) -> int:
    """How many distinct pre-tokens a counts file holds: the manifest's figure, or a TSV's lines (its few header
    lines included: close enough to choose a loop)."""
    if shards:
        return int(str(read_manifest(path)[1].get("distinct", 0)))
    lines = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            lines += block.count(b"\n")
    return lines


#: What ``tokviz train --merge`` offers: the one-process loops, and ``sharded`` (on Dask workers, with ``--dask``).
TRAIN_MERGES = (*MERGE_LOOPS, "sharded")


def add_merge_argument(parser: argparse.ArgumentParser) -> None:
    """``--merge auto|python|compact|sharded`` and ``--dask ADDRESS``: which merge loop ``tokviz train`` runs, and
    where the sharded one runs."""
    parser.add_argument("--merge", choices=TRAIN_MERGES, default="auto",
                        help="the merge loop: python (fastest), compact (numpy arrays: about a quarter of the "
                             "memory, the same merges; counts files are read straight into them), "
                             "auto (compact from a million distinct pre-tokens when numpy is installed; default), "
                             "sharded (--counts FOLDER of shards split across the --dask workers, each holding only "
                             "its shards' pre-tokens: the same merges)")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="with --merge sharded (which --dask implies): the Dask scheduler's address "
                             "(tcp://HOST:8786), or local:N for N local workers; the workers read the shard files")


def train_is_sharded(args: argparse.Namespace) -> bool:
    """Whether ``tokviz train`` merges on Dask (``--merge sharded``, or ``--dask`` with the default ``auto``);
    ValueError for a combination that cannot be run."""
    if args.dask and args.merge in ("python", "compact"):
        raise ValueError(f"--dask trains with --merge sharded, not --merge {args.merge}; drop one of them.")
    if args.merge != "sharded" and not args.dask:
        return False
    if not args.dask:
        raise ValueError("--merge sharded runs on a Dask cluster: add --dask tcp://SCHEDULER:8786 (or local:N).")
    if args.counts is None or not is_shards(args.counts):
        raise ValueError("--merge sharded trains from a folder of counts shards: make one with `tokviz count FILES "
                         "-o counts/ --shards N` and give --counts counts/.")
    return True


def sharded_special_tokens(args: argparse.Namespace) -> list[str]:
    """The special tokens of a sharded training run: the shards' (``--special-token`` may only repeat them)."""
    _, data = read_manifest(args.counts)
    specials = [str(t) for t in cast(list[str], data.get("special_tokens", []))]
    if args.special_token and list(dict.fromkeys(args.special_token)) != specials:
        raise ValueError(f"{args.counts}: the counts were made with special tokens {specials}; --special-token must "
                         "repeat them or be left out.")
    return specials


def train_sharded(args: argparse.Namespace, progress: Callable[[Merge], object]) -> Tokenizer:
    """``tokviz train --counts FOLDER --merge sharded --dask ADDRESS``: the merge on the Dask workers."""
    from tokviz.scale import connect
    from tokviz.scale.dask_merge import train_on_dask

    with connect(args.dask) as client:
        return train_on_dask(args.counts, client=client, vocab_size=args.vocab_size, name=Path(args.output).stem,
                             progress=progress)


def cmd_encode_corpus(args: argparse.Namespace) -> int:
    tok = resolve_tokenizer(args.tokenizer, pattern=args.pattern, special_tokens=args.special_token)
    bar, update = _bar(args, "encoding")
    result: CorpusIds
    try:
        if args.dask:
            from tokviz.models.bpe import Tokenizer
            from tokviz.scale import connect, encode_on_dask

            if not isinstance(tok, Tokenizer):
                raise ValueError(f"{tok.name}: --dask encodes tokviz BPE tokenizers only; drop --dask.")
            with connect(args.dask) as client:
                result = encode_on_dask(args.files, tok, args.output, client=client, eot=args.eot,
                                        shard_tokens=args.shard_tokens, errors=args.errors, on_progress=update)
        else:
            result = encode_corpus(args.files, tok, args.output, eot=args.eot, workers=args.workers,
                                   shard_tokens=args.shard_tokens, errors=args.errors, on_progress=update)
    finally:
        bar.close()
    shards = f" in {len(result.shards)} shard(s) listed" if result.path.suffix == ".json" else ""
    print(f"{result.n_ids:,} ids ({result.dtype}) from {result.n_documents} document(s){shards} to {result.path}.")
    return 0


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return n


#: What ``--errors`` offers: stop at bad bytes (after naming every bad file), read them as U+FFFD, or drop them.
ERRORS_CHOICES = ("strict", "replace", "ignore")


def add_errors_argument(parser: argparse.ArgumentParser) -> None:
    """``--errors strict|replace|ignore``: how bytes that are not UTF-8 are read."""
    parser.add_argument("--errors", choices=ERRORS_CHOICES, default="strict",
                        help="bytes that are not UTF-8: strict stops before any work and names every bad file "
                             "(default), replace reads them as U+FFFD, ignore drops them")


def add_scale_commands(sub: argparse._SubParsersAction[Any],
                       loading: argparse.ArgumentParser) -> None:
    """Add ``count`` and ``encode-corpus`` to the ``tokviz`` parser's sub-commands."""
    dask_help = "run on a Dask cluster: its scheduler's address (tcp://HOST:8786), or local:N for N local workers"
    c = sub.add_parser("count", help="count pre-tokens of text files (or fsspec URLs) into a counts file")
    c.add_argument("files", nargs="+", metavar="FILE", help="UTF-8 text files or URLs (s3://...), one document each")
    c.add_argument("-o", "--output", required=True, metavar="FILE", help="where to save the counts (TSV; with "
                                                                         "--shards, a folder)")
    c.add_argument("--shards", type=_positive, metavar="N",
                   help="sum and save the counts in N shards (a folder of TSVs and manifest.json), so with --dask no "
                        "process holds the whole table")
    c.add_argument("--special-token", action="append", metavar="T", help="a special token (repeatable)")
    c.add_argument("--pattern", default="gpt2", help="gpt2, gpt4, o200k, or a regex (default: gpt2)")
    c.add_argument("--dask", metavar="ADDRESS", help=dask_help)
    c.add_argument("--workers", type=_positive, metavar="N", help="local processes without --dask (default: 2)")
    add_errors_argument(c)
    c.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_count)

    e = sub.add_parser("encode-corpus", parents=[loading],
                       help="encode text files into one flat array of token ids (.bin as nanoGPT reads it, or .npy; "
                            "uint16 when the ids fit)")
    e.add_argument("files", nargs="+", metavar="FILE", help="UTF-8 text files or URLs, one document each")
    e.add_argument("-t", "--tokenizer", nargs="+", action="extend", required=True, metavar="TOKENIZER",
                   help="tokenizer file(s), directory or encoding name (put FILEs before -t)")
    e.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="X.bin: raw little-endian ids (nanoGPT's layout) with dtype and count in X.bin.json; "
                        "X.npy: numpy's format")
    e.add_argument("--shard-tokens", type=_positive, metavar="N",
                   help="write shards X-00000.bin, ... of at most N ids each, listed in X.manifest.json")
    e.add_argument("--eot", nargs="?", const="<|endoftext|>", metavar="TOKEN",
                   help="put this special token's id between documents (default TOKEN: <|endoftext|>)")
    e.add_argument("--dask", metavar="ADDRESS", help=dask_help)
    e.add_argument("--workers", type=_positive, default=min(2, os.cpu_count() or 1), metavar="N",
                   help="local processes without --dask (default: this machine's cores, at most 2)")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_errors_argument(e)
    e.set_defaults(func=cmd_encode_corpus)
