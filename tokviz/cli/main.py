"""The ``tokviz`` command: train, encode, decode, convert, diff, and list the tokenizers available by name.

Every tokenizer argument (``-t``, ``diff A B``, ``convert IN``) takes whatever :func:`tokviz.load_tokenizer`
recognises (tokviz .json, tokenizer.json, .tiktoken, minbpe .model, GPT-2 vocab.json + merges.txt or their
directory), or the name of one of OpenAI's encodings (gpt2, r50k_base, p50k_base, cl100k_base, o200k_base), built
in. ``tokviz list`` shows what is built in, what tiktoken's cache holds, and what is not available. Bad input gives
one line on stderr, ``tokviz: error: ...``, and exit code 2; a rank file loaded with a guessed pattern gives a
``tokviz: note: ...`` line there.

Example:
    $ tokviz train corpus.txt --vocab-size 1000 --special-token '<|endoftext|>' -o tok.json
    $ tokviz encode "Hello world" -t tok.json --show-tokens
    $ echo "0 1 2" | tokviz decode -t tok.json
    $ tokviz convert tok.json -o tok.tiktoken --format tiktoken
    $ tokviz diff tok.json other.json --corpus corpus.txt --text "Hello world"
    $ tokviz encode "Hello world" -t o200k_base
    $ tokviz list
    $ tokviz count corpus.txt -o counts.tsv --dask local:2; tokviz train --counts counts.tsv --vocab-size 1000 -o t.json
    $ tokviz encode-corpus a.txt b.txt -t gpt2 -o ids.npy --eot
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from tokviz.analysis.anatomy import MergeNode, TokenAnatomy, anatomy, bpe_model, merge_index, quoted, trace_text
from tokviz.analysis.budget import BOUNDARIES, chunk_by_tokens, chunks_jsonl
from tokviz.analysis.diff import TokenizerDiff, diff_tokenizers
from tokviz.analysis.health import DuplicateGroups, vocab_health
from tokviz.cli.common import ProgressBar, resolve_tokenizer
from tokviz.cli.scale import (
    add_errors_argument,
    add_merge_argument,
    add_scale_commands,
    load_counts,
    sharded_special_tokens,
    train_is_sharded,
    train_sharded,
)
from tokviz.cli.tokens import add_tokens_command
from tokviz.core.protocol import TokenizerLike, encode_as_shown
from tokviz.core.textfile import read_utf8, refuse_special_file
from tokviz.corpus.sources import iter_file
from tokviz.formats import FORMATS, save
from tokviz.formats.dispatch import Loaded
from tokviz.formats.model_names import POPULAR_MODELS, encoding_name_for_model
from tokviz.formats.pretrained import (
    list_encodings,
    list_rank_files,
    tiktoken_cache_dir,
)
from tokviz.models.bpe import Tokenizer
from tokviz.training.merge_loop import Merge
from tokviz.training.trainer import train_bpe

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``tokviz: error: ...``) like every other error here."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"tokviz: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)


def _read_text_file(path: str) -> str:
    return read_utf8(path)


def _show(token: bytes) -> str:
    """A token for display: its text quoted (control characters escaped), or its bytes where it holds only part of a
    character."""
    try:
        return terminal_safe(json.dumps(token.decode("utf-8"), ensure_ascii=False))
    except UnicodeDecodeError:
        return repr(token)


# C0 controls but tab and newline, DEL and C1 controls: a terminal takes them as commands (ESC [ or U+009B moves the
# cursor, recolours, retitles the window), so a hostile vocabulary's tokens could rewrite what the user sees.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """``text`` with control characters as ``\\xNN``, for a terminal.

    >>> terminal_safe("red\\x1b[31m\\x9b2J ok\\n")
    'red\\\\x1b[31m\\\\x9b2J ok\\n'
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


# -- commands ---------------------------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if not out.parent.exists():
        raise ValueError(f"{out.parent}: the output folder does not exist; create it or choose another -o.")
    if bool(args.corpus) == (args.counts is not None):
        raise ValueError("give CORPUS file(s) to train on, or --counts FILE made by `tokviz count`, not both.")
    sharded = train_is_sharded(args)
    counts = load_counts(args.counts, merge=args.merge) if args.counts is not None and not sharded else None
    specials = list(dict.fromkeys(args.special_token or (counts.special_tokens if counts is not None else [])))
    if sharded:
        specials = sharded_special_tokens(args)
    n_merges = args.vocab_size - 256 - len(specials)
    # Bytes: close enough for a progress bar. Missing files are named all at once by train_bpe's check.
    total_chars = sum(Path(c).stat().st_size for c in args.corpus if Path(c).is_file())
    bar = ProgressBar(sys.stderr, interval=0.0 if args.quiet else 0.1)

    def on_count(done: int) -> None:
        if not args.quiet:
            bar.update("counting", min(done, total_chars), total_chars, unit=" chars")

    def on_merge(m: Merge) -> None:
        if not args.quiet:
            bar.update("merging ", m.rank + 1, n_merges, unit=" merges", force=m.rank + 1 == n_merges)

    try:
        if sharded:
            tok = train_sharded(args, on_merge)
        else:
            tok = train_bpe(counts if counts is not None else [Path(c) for c in args.corpus],
                            vocab_size=args.vocab_size, special_tokens=specials,
                            pattern=counts.pattern if counts is not None else args.pattern, progress=on_merge,
                            count_progress=on_count, errors=args.errors, name=out.stem, merge=args.merge)
    finally:
        bar.close()
    result = save(tok, out, format=args.format)
    for note in result.notes:
        print(f"tokviz: note: {note}", file=sys.stderr)
    seconds = tok.training.seconds if tok.training else 0.0
    message = tok.training.message if tok.training else ""
    print(f"{len(tok.merges)} merges (vocab {tok.vocab_size}) in {seconds:.2f} s: {message} "
          f"Saved to {out} ({result.format}).")
    return 0


def _input_text(args: argparse.Namespace) -> str:
    if args.text is not None and args.file is not None:
        raise ValueError("give the text either as an argument or with -f FILE, not both.")
    if args.text is not None:
        return str(args.text)
    if args.file is not None:
        return _read_text_file(args.file)
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"standard input is not UTF-8 (bad byte at offset {e.start}).") from e


def _write_ids_streamed(tok: TokenizerLike, path: str, out: TextIO, *, batch: int = 1 << 16) -> None:
    """Encode a file block by block and write its ids as they come, so memory does not grow with the file."""
    refuse_special_file(path)
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such file.")
    sep = ""
    ids: list[int] = []
    for i in tok.encode_iterable(iter_file(path)):  # exact whatever the block boundaries (see chunk_text)
        ids.append(i)
        if len(ids) >= batch:
            out.write(sep + " ".join(map(str, ids)))
            sep = " "
            ids.clear()
    out.write(sep + " ".join(map(str, ids)) + "\n" if ids or not sep else "\n")


def cmd_encode(args: argparse.Namespace) -> int:
    tok = resolve_tokenizer(args.tokenizer, pattern=args.pattern, special_tokens=args.special_token)
    if args.file is not None and args.text is None and not args.show_tokens and not args.json \
            and hasattr(tok, "encode_iterable"):
        _write_ids_streamed(tok, args.file, sys.stdout)
        return 0
    text = _input_text(args)
    if not args.show_tokens and not args.json:
        print(" ".join(map(str, encode_as_shown(tok, text))))
        return 0
    enc = tok.encode_with_offsets(text)
    if args.json:
        payload: dict[str, object] = {"tokenizer": tok.name, "count": len(enc), "ids": enc.ids}
        if args.show_tokens:
            payload["tokens"] = [
                {"id": i, "text": enc.text_of(k), "bytes": t.hex(), "start": s, "end": e}
                for k, (i, t, (s, e)) in enumerate(zip(enc.ids, enc.tokens, enc.char_spans))
            ]
        print(json.dumps(payload, ensure_ascii=False))
        return 0
    for i, t in zip(enc.ids, enc.tokens):
        print(f"{i}\t{_show(t)}")
    print(f"# {len(enc)} tokens, {len(text)} characters, {enc.n_bytes} bytes ({tok.name})", file=sys.stderr)
    return 0


def _parse_ids(items: Sequence[str]) -> list[int]:
    ids: list[int] = []
    for item in items:
        for part in item.replace(",", " ").replace("[", " ").replace("]", " ").split():
            try:
                ids.append(int(part))
            except ValueError as e:
                raise ValueError(f"{part!r} is not a token id; give integers such as 15496 995.") from e
    return ids


def cmd_decode(args: argparse.Namespace) -> int:
    tok = resolve_tokenizer(args.tokenizer, pattern=args.pattern, special_tokens=args.special_token)
    ids = _parse_ids(args.ids if args.ids else [sys.stdin.read()])
    text = tok.decode(ids)
    # To a terminal, control characters are shown escaped; to a pipe or a file, the text is written exactly.
    sys.stdout.write((terminal_safe(text) if sys.stdout.isatty() else text) + "\n")
    return 0


def _bpe(tok: Loaded, what: str) -> Tokenizer:
    """The tokenizer as our byte-level BPE, or a ValueError saying which family cannot be used for ``what``."""
    if not isinstance(tok, Tokenizer):
        family = getattr(tok, "family", type(tok).__name__)
        raise ValueError(f"{tok.name} is a {family} tokenizer: {what} works on byte-level BPE tokenizers only.")
    return tok


def cmd_convert(args: argparse.Namespace) -> int:
    tok = _bpe(resolve_tokenizer(args.input, pattern=args.pattern, special_tokens=args.special_token), "convert")
    result = save(tok, args.output, format=args.format)
    for note in result.notes:
        print(f"tokviz: note: {note}", file=sys.stderr)
    print(f"{tok.name}: {tok.vocab_size} tokens, {len(tok.merges)} merges -> "
          f"{', '.join(map(str, result.paths))} ({result.format})")
    return 0


def format_diff(d: TokenizerDiff, *, corpus_label: str | None = None, max_segments: int = 20) -> list[str]:
    """The lines ``tokviz diff`` prints."""
    v = d.vocab
    lines = [
        f"A: {d.name_a} ({v.size_a:,} tokens)    B: {d.name_b} ({v.size_b:,} tokens)",
        f"vocab: {v.shared:,} shared, {len(v.only_a):,} only in A, {len(v.only_b):,} only in B "
        f"(jaccard {v.jaccard:.3f}); {v.same_id:,} shared tokens have the same id",
    ]
    dep = d.departure
    if dep is None:
        lines.append(f"merges: identical ({d.shared_merges:,})")
    else:
        def pair(p: tuple[bytes, bytes] | None) -> str:
            return "(none)" if p is None else f"{_show(p[0])} + {_show(p[1])}"

        lines.append(f"merges: the first {d.shared_merges:,} are the same; merge {dep.index + 1:,} differs: "
                     f"A {pair(dep.pair_a)}, B {pair(dep.pair_b)}")
        if dep.count_a is not None:
            where = corpus_label or "the corpus"
            lines.append(f"  counts on {where} after the shared merges: A's pair {dep.count_a:,}, "
                         f"B's pair {dep.count_b:,}: {dep.verdict}")
        else:
            lines.append(f"  {dep.verdict}")
    lines.extend(f"note: {n}" for n in d.notes)
    t = d.text_diff
    if t is not None:
        differing = t.differing
        lines.append(f"text: {t.n_tokens_a} tokens in A, {t.n_tokens_b} in B; {len(differing)} of {len(t.segments)} "
                     "segments differ")
        for s in differing[:max_segments]:
            a = " ".join(_show(x) for x in s.a_tokens)
            b = " ".join(_show(x) for x in s.b_tokens)
            lines.append(f"  chars {s.char_start}-{s.char_end} {json.dumps(s.text, ensure_ascii=False)}: A {a} | B {b}")
        if len(differing) > max_segments:
            lines.append(f"  ... and {len(differing) - max_segments} more")
    return lines


def cmd_diff(args: argparse.Namespace) -> int:
    a = _bpe(resolve_tokenizer([args.a]), "diff")
    b = _bpe(resolve_tokenizer([args.b]), "diff")
    corpus = None
    if args.corpus:
        for c in args.corpus:
            _read_text_file(c)  # a missing or non-UTF-8 corpus fails here, with its name, before any counting
        corpus = [Path(c) for c in args.corpus]
    d = diff_tokenizers(a, b, corpus=corpus, text=args.text)
    for line in format_diff(d, corpus_label=", ".join(args.corpus) if args.corpus else None):
        print(line)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """What ``-t NAME`` can load: built in, in tiktoken's cache, and known but not available here."""
    listed = list_encodings()
    builtin = [s for s in listed if s.source == "builtin"]
    print("built in (offline; checked against tiktoken's SHA-256 when loaded):")
    for s in builtin:
        also = "  [also in tiktoken's cache]" if s.cached else ""
        print(f"  {s.name:20} {s.label:7} {s.description}{also}")
    if not builtin:
        print("  (none: the package data is missing; reinstall tokviz)")
    root = tiktoken_cache_dir()
    cached = [s for s in listed if s.cached]
    where = "turned off (TIKTOKEN_CACHE_DIR is empty)" if root is None else str(root)
    print(f"tiktoken's cache ({where}):")
    for s in cached:
        note = "" if s.source == "cache" else "  (the built-in copy is used)"
        print(f"  {s.name:20} {', '.join(map(str, s.paths))}{note}")
    if not cached:
        print("  (none of the named encodings)")
    print("by model name (tiktoken's table; dated versions such as gpt-4o-2024-08-06 too):")
    for model in POPULAR_MODELS:
        print(f"  {model:22} {encoding_name_for_model(model)}")
    print("  gpt-oss-20b / -120b    o200k_harmony (o200k_base with gpt-oss's special tokens)")
    print("by Hugging Face Hub id (tokenizer files only, cached; pip install 'tokviz[hub]'):")
    print("  hf:owner/name[@revision], e.g. hf:Qwen/Qwen3-8B")
    missing = [s for s in listed if not s.available]
    print("not available here:")
    for s in missing:
        print(f"  {s.name:20} unavailable: {s.description}")
        if args.verbose:
            print(f"  {'':20} {s.hint}")
    for f in list_rank_files():
        print(f"  {f.name:20} not shipped: {f.label}, in {f.source} (the file is recognised when loaded)")
        if args.verbose:
            print(f"  {'':20} {f.hint}")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """Start the Streamlit app that ships in the package (the same as ``streamlit run app.py`` in a checkout)."""
    import importlib.util
    import subprocess

    if importlib.util.find_spec("streamlit") is None:
        raise ValueError("the app needs streamlit, plotly and pandas: pip install 'tokviz[app]'.")
    script = Path(__file__).with_name("pages") / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(args.port)]
    if args.headless:
        command += ["--server.headless", "true"]
    return subprocess.call(command)


def _tree_text(node: MergeNode | None) -> str:
    """A merge tree in brackets: ``((' '+'t')+'ok')``."""
    if node is None:
        return "(no merge tree)"
    if node.left is None or node.right is None:
        return quoted(node.token_bytes)
    return f"({_tree_text(node.left)} + {_tree_text(node.right)})"


def cmd_explain(args: argparse.Namespace) -> int:
    """Replay BPE on each pre-token of TEXT (or the one at --at), then the anatomy of every token it gives."""
    tok = resolve_tokenizer(args.tokenizer, pattern=args.pattern, special_tokens=args.special_token)
    text = _input_text(args)
    if not text:
        raise ValueError("the text is empty; give some text to explain.")
    if args.at is not None:
        traces = [trace_text(tok, text, args.at)]
    else:
        traces = [trace_text(tok, text, p.start) for p in bpe_model(tok).encode_with_offsets(text).pieces
                  if p.end > p.start][: args.max_pieces]
    index = merge_index(tok)
    seen: dict[int, TokenAnatomy] = {}
    for t in traces:
        print(f"piece {t.piece!r} (chars {t.char_start}-{t.char_end}, {len(t.piece_bytes)} bytes):")
        for s in t.steps:
            print(f"  step {s.index + 1}: {s.chosen.label} -> {s.chosen.result} (rank {s.chosen.rank:,}; "
                  f"{s.reason})")
        print("  tokens: " + " ".join(f"{quoted(b)}={i}" for i, b in zip(t.ids, t.tokens)))
        print(f"  {t.stop_reason}")
        for i in t.ids:
            if i not in seen:
                seen[i] = anatomy(tok, i, index=index)
    print("tokens:")
    for i, a in seen.items():
        rank = "-" if a.rank is None else f"{a.rank:,}"
        line = (f"  {i}\t{quoted(a.token_bytes)}\t{a.kind}\trank {rank}\tbytes {a.hex}\t"
                f"in {len(a.used_by):,} longer tokens")
        if a.pair_count is not None:
            line += f"\tpair count {a.pair_count:,}"
        print(line)
        print(f"  \t{_tree_text(a.tree) if a.tree is not None else a.note}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    """Vocabulary health: each check's count and definition, then its first --limit tokens."""
    tok = resolve_tokenizer(args.tokenizer, pattern=args.pattern, special_tokens=args.special_token)
    corpus = "\n".join(_read_text_file(c) for c in args.corpus) if args.corpus else None
    t0 = time.perf_counter()
    h = vocab_health(tok, corpus=corpus, n_longest=max(args.limit, 50))
    seconds = time.perf_counter() - t0
    vocab: dict[int, bytes] = getattr(tok, "vocab", {})
    if args.json:
        checks = {c.key: {"title": c.title, "definition": c.definition, "count": c.count, "ids": list(c.ids)}
                  for c in h.checks}
        print(json.dumps({"tokenizer": h.tokenizer, "vocab_size": h.vocab_size, "n_regular": h.n_regular,
                          "corpus_tokens": h.corpus_tokens, "notes": list(h.notes), "checks": checks},
                         ensure_ascii=False))
        return 0
    where = f", corpus of {h.corpus_tokens:,} tokens" if h.corpus_tokens is not None else " (no --corpus: the " \
        "corpus checks are left out)"
    print(f"{h.tokenizer}: {h.vocab_size:,} tokens, {h.n_regular:,} regular{where}; checked in {seconds:.2f} s")
    for c in h.checks:
        print(f"{c.title}: {c.count:,}. {c.definition}")
        shown = c.groups[: args.limit] if isinstance(c, DuplicateGroups) else [(i,) for i in c.ids[: args.limit]]
        for group in shown:
            print("  " + "  ".join(f"{i}={quoted(vocab[i])}" for i in group))
        if c.count > args.limit:
            print(f"  ... and {c.count - args.limit:,} more")
    for note in h.notes:
        print(f"note: {note}")
    return 0


def cmd_chunk(args: argparse.Namespace) -> int:
    """Cut a text file into chunks of at most --max-tokens tokens; JSONL to -o or standard output."""
    tok = resolve_tokenizer(args.tokenizer, pattern=args.pattern, special_tokens=args.special_token)
    text = _read_text_file(args.file)
    chunks = chunk_by_tokens(tok, text, max_tokens=args.max_tokens, boundary=args.at)
    data = chunks_jsonl(chunks, tokenizer=tok.name)
    if args.output:
        out = Path(args.output)
        if not out.parent.exists():
            raise ValueError(f"{out.parent}: the output folder does not exist; create it or choose another -o.")
        out.write_text(data, encoding="utf-8")
    else:
        sys.stdout.write(data)
    largest = max((c.n_tokens for c in chunks), default=0)
    where = f" -> {args.output}" if args.output else ""
    print(f"# {len(chunks)} chunks of at most {args.max_tokens} tokens (largest {largest}), cut at {args.at} "
          f"boundaries ({tok.name}){where}", file=sys.stderr)
    return 0


# -- parser -----------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tokviz", description="See how text becomes tokens: train, encode, decode, convert, compare.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    loading = _Parser(add_help=False)
    loading.add_argument("--pattern", help="pre-tokenizer for files that store none (GPT-2, tiktoken): "
                                           "gpt2, gpt4, o200k or a regex")
    loading.add_argument("--special-token", action="append", metavar="T[=ID]",
                         help="special token for a file that stores none, optionally with its id (repeatable)")

    t = sub.add_parser("train", help="train a byte-level BPE tokenizer on text files")
    t.add_argument("corpus", nargs="*", metavar="CORPUS", help="UTF-8 text file(s) (or --counts)")
    t.add_argument("--counts", metavar="FILE", help="train from pre-token counts saved by `tokviz count` (their "
                                                    "pattern and special tokens): a TSV, or a --shards folder")
    t.add_argument("--vocab-size", type=int, required=True, metavar="N", help="256 bytes + special tokens + merges")
    t.add_argument("--special-token", action="append", metavar="T", help="a special token (repeatable)")
    t.add_argument("--pattern", default="gpt2", help="gpt2, gpt4, o200k, or a regex (default: gpt2)")
    t.add_argument("-o", "--output", required=True, metavar="FILE", help="where to save (a directory for gpt2)")
    t.add_argument("--format", choices=FORMATS, default="tokviz", help="file format (default: tokviz)")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_errors_argument(t)
    add_merge_argument(t)
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("encode", parents=[loading], help="text to token ids")
    e.add_argument("text", nargs="?", metavar="TEXT", help="text to encode (else -f FILE, else standard input)")
    e.add_argument("-f", "--file", metavar="FILE", help="read the text from a UTF-8 file")
    e.add_argument("-t", "--tokenizer", nargs="+", action="extend", required=True, metavar="TOKENIZER",
                   help="tokenizer file(s), directory, or an encoding name such as o200k_base (put TEXT before -t)")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.add_argument("--show-tokens", action="store_true", help="print each token with its id")
    e.set_defaults(func=cmd_encode)

    d = sub.add_parser("decode", parents=[loading], help="token ids to text")
    d.add_argument("ids", nargs="*", metavar="ID", help="token ids (else read from standard input)")
    d.add_argument("-t", "--tokenizer", nargs="+", action="extend", required=True, metavar="TOKENIZER")
    d.set_defaults(func=cmd_decode)

    c = sub.add_parser("convert", parents=[loading], help="save a tokenizer in another format")
    c.add_argument("input", nargs="+", metavar="IN", help="tokenizer file(s), directory or encoding name")
    c.add_argument("-o", "--output", required=True, metavar="OUT", help="output file (a directory for gpt2)")
    c.add_argument("--format", choices=FORMATS, required=True)
    c.set_defaults(func=cmd_convert)

    df = sub.add_parser("diff", help="compare two tokenizers")
    df.add_argument("a", metavar="A", help="tokenizer file, directory or encoding name")
    df.add_argument("b", metavar="B", help="tokenizer file, directory or encoding name")
    df.add_argument("--corpus", action="append", metavar="FILE", help="count the departing merges' pairs here")
    df.add_argument("--text", metavar="TEXT", help="show where the two tokenizations of TEXT differ")
    df.set_defaults(func=cmd_diff)

    n = sub.add_parser("list", aliases=["encodings"],
                       help="list the encodings built in, those in tiktoken's cache, and those not available")
    n.add_argument("-v", "--verbose", action="store_true", help="say how to provide the missing ones")
    n.set_defaults(func=cmd_list)

    x = sub.add_parser("explain", parents=[loading], help="replay BPE on a text and show how each token is built")
    x.add_argument("text", nargs="?", metavar="TEXT", help="text to explain (else -f FILE, else standard input)")
    x.add_argument("-f", "--file", metavar="FILE", help="read the text from a UTF-8 file")
    x.add_argument("-t", "--tokenizer", nargs="+", action="extend", required=True, metavar="TOKENIZER",
                   help="a BPE tokenizer file, directory or encoding name (put TEXT before -t)")
    x.add_argument("--at", type=int, metavar="CHAR", help="only the pre-token holding this character (0-based)")
    x.add_argument("--max-pieces", type=int, default=50, metavar="N", help="explain at most N pre-tokens (50)")
    x.set_defaults(func=cmd_explain)

    ins = sub.add_parser("inspect", parents=[loading], help="vocabulary health: junk and suspicious tokens")
    ins.add_argument("tokenizer", nargs="+", metavar="TOKENIZER", help="tokenizer file(s), directory or encoding name")
    ins.add_argument("--corpus", action="append", metavar="FILE",
                     help="reference text for the corpus checks (never produced, mostly a part); repeatable")
    ins.add_argument("--limit", type=int, default=10, metavar="N", help="tokens shown per check (10)")
    ins.add_argument("--json", action="store_true", help="print JSON with every flagged id")
    ins.set_defaults(func=cmd_inspect)

    ch = sub.add_parser("chunk", parents=[loading], help="cut a text file into chunks of at most N tokens (JSONL)")
    ch.add_argument("file", metavar="FILE", help="UTF-8 text file")
    ch.add_argument("-t", "--tokenizer", nargs="+", action="extend", required=True, metavar="TOKENIZER")
    ch.add_argument("--max-tokens", type=int, required=True, metavar="N", help="most tokens per chunk, each chunk "
                    "encoded on its own")
    ch.add_argument("--at", choices=BOUNDARIES, default="token",
                    help="cut at the last token boundary (default), sentence end or paragraph end that fits")
    ch.add_argument("-o", "--output", metavar="FILE", help="write the JSONL here (else standard output)")
    ch.set_defaults(func=cmd_chunk)

    add_tokens_command(sub)

    a = sub.add_parser("app", help="start the viewer in the browser (needs the app extra: pip install 'tokviz[app]')")
    a.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    a.add_argument("--headless", action="store_true", help="do not open a browser")
    a.set_defaults(func=cmd_app)

    add_scale_commands(sub, loading)  # count, encode-corpus
    return p


#: Arguments that hold text rather than paths, by their ``dest``, with the name a message gives them.
_TEXT_ARGUMENTS = {"text": "TEXT", "pattern": "--pattern", "special_token": "--special-token"}


def check_text_arguments(args: argparse.Namespace) -> None:
    """Refuse text arguments that are not UTF-8 (Python keeps such bytes as lone surrogates) or hold a lone
    surrogate, naming the argument and the character's position.

    >>> check_text_arguments(argparse.Namespace(text="ab\\udcff"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: TEXT is not UTF-8: byte 0xff at character 3 cannot be decoded; pass UTF-8 text (...).
    """
    for dest, label in _TEXT_ARGUMENTS.items():
        value = getattr(args, dest, None)
        for k, v in enumerate(value if isinstance(value, list) else [value]):
            if not isinstance(v, str):
                continue
            try:
                v.encode("utf-8")
            except UnicodeEncodeError as e:
                name = f"{label} #{k + 1}" if isinstance(value, list) and len(value) > 1 else label
                ch = ord(v[e.start])
                if 0xDC80 <= ch <= 0xDCFF:  # how Python keeps a byte of command-line text that is not UTF-8
                    raise ValueError(f"{name} is not UTF-8: byte 0x{ch - 0xDC00:02x} at character {e.start + 1} "
                                     "cannot be decoded; pass UTF-8 text (check the terminal's encoding).") from None
                raise ValueError(f"{name} holds a lone surrogate U+{ch:04X} at character {e.start + 1}, which is "
                                 "not a character; remove it or give the whole character.") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 a bug, 2 bad input, 130 interrupted)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error, already reported in one line
        return int(e.code or 0) if not isinstance(e.code, str) else EXIT_USAGE
    try:
        check_text_arguments(args)
        return int(args.func(args))
    except BrokenPipeError:
        return 0  # the reader (head, less) went away: nothing left to say
    except (ValueError, OSError) as e:
        message = str(e).replace("\n", " ") or type(e).__name__
        if isinstance(e, OSError) and e.filename is not None and str(e.filename) not in message:
            message = f"{e.filename}: {message}"
        print(f"tokviz: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ntokviz: interrupted", file=sys.stderr)
        return 130
    except RecursionError:
        print("tokviz: error: the input is nested too deeply to process; simplify it.", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - a bug still gets one line, not a traceback
        print(f"tokviz: error: unexpected {type(e).__name__}: {str(e).replace(chr(10), ' ')} (a bug in tokviz; "
              "please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
