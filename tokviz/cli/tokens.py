"""``tokviz tokens FILE... -t NAME[,NAME...]``: token counts of whole files, per tokenizer, with bytes, characters and
words per token, the share of a context window, and totals; ``--json`` for a machine.

Text files are counted as one document each, streamed; ``.jsonl`` and ``.csv`` / ``.tsv`` files by ``--column``
(each record's text encoded on its own). A Hub model (``hf:owner/name``) brings its context length from its files;
``--context N`` sets one for all.

Example:
    $ tokviz tokens README.md data.jsonl --column text -t gpt-4o,hf:Qwen/Qwen3-8B
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tokviz.analysis.file_tokens import TextCount, count_file, detect_kind
from tokviz.cli.common import ProgressBar, resolve_tokenizer
from tokviz.core.protocol import TokenizerLike
from tokviz.formats.dispatch import load_hub_tokenizer


def _tokenizers(names: list[str]) -> list[tuple[str, TokenizerLike, int | None]]:
    """(name, tokenizer, context length its files state) for each name given to -t (comma-separated or repeated)."""
    out = []
    for name in dict.fromkeys(n.strip() for item in names for n in item.split(",") if n.strip()):
        if name.startswith("hf:") and not Path(name).exists():
            tok, files = load_hub_tokenizer(name)
            out.append((name, tok, files.model_max_length))
        else:
            out.append((name, resolve_tokenizer([name]), None))
    if not out:
        raise ValueError("give at least one tokenizer with -t NAME (a file, encoding, model name or hf:owner/name).")
    return out


def _row(file: str, name: str, c: TextCount, context: int | None) -> dict[str, Any]:
    return {"file": file, "tokenizer": name, "tokens": c.tokens, "bytes": c.bytes, "chars": c.chars,
            "words": c.words, "records": c.records, "bytes_per_token": round(c.bytes_per_token, 4),
            "chars_per_token": round(c.chars_per_token, 4), "words_per_token": round(c.words_per_token, 4),
            "context": context, "share_of_context": round(c.share_of(context), 6) if context else None}


def cmd_tokens(args: argparse.Namespace) -> int:
    if args.context is not None and args.context <= 0:
        raise ValueError(f"--context must be a positive number of tokens; got {args.context}.")
    files = [Path(f) for f in args.files]
    for f in files:
        if not f.is_file():
            raise ValueError(f"{f}: no such file.")
        if detect_kind(f.name) != "text" and not args.column:
            raise ValueError(f"{f}: a {detect_kind(f.name).upper()} file needs --column NAME (the field that holds "
                             "the text).")
    toks = _tokenizers(args.tokenizer)
    bar = ProgressBar(sys.stderr, interval=0.0 if args.quiet else 0.2)
    rows, totals = [], []
    try:
        for name, tok, own_context in toks:
            context = args.context or own_context
            total: TextCount | None = None
            for f in files:
                size = f.stat().st_size
                label = f"{name}: {f.name}"

                def progress(done: int, label: str = label, size: int = size) -> None:
                    if not args.quiet:
                        bar.update(label, done, size, unit=" bytes")
                with f.open("rb") as stream:
                    c = count_file(stream, tok, kind=detect_kind(f.name), column=args.column, name=str(f),
                                   on_progress=progress)
                rows.append(_row(str(f), name, c, context))
                total = c if total is None else total + c
            if total is not None:
                totals.append(_row("(total)", name, total, context))
    finally:
        bar.close()
    if args.json:
        print(json.dumps({"files": rows, "totals": totals}, ensure_ascii=False))
        return 0
    with_context = any(r["context"] for r in rows)
    head = ["file", "tokenizer", "tokens", "bytes/token", "chars/token", "words/token"]
    if with_context:
        head.append("of context")
    lines = [head]
    for r in rows + (totals if len(files) > 1 else []):
        line = [r["file"], r["tokenizer"], f"{r['tokens']:,}", f"{r['bytes_per_token']:.2f}",
                f"{r['chars_per_token']:.2f}", f"{r['words_per_token']:.3f}"]
        if with_context:
            line.append(f"{r['share_of_context']:.1%} of {r['context']:,}" if r["context"] else "")
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for line in lines:
        print("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
              .rstrip())
    return 0


def add_tokens_command(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``tokens`` to the ``tokviz`` parser's sub-commands."""
    t = sub.add_parser("tokens", help="token counts of whole files per tokenizer (text, JSONL, CSV)")
    t.add_argument("files", nargs="+", metavar="FILE", help="UTF-8 text files; .jsonl / .csv / .tsv need --column")
    t.add_argument("-t", "--tokenizer", action="append", required=True, metavar="NAME[,NAME...]",
                   help="tokenizer files, encodings (o200k_base), model names (gpt-4o) or Hub ids (hf:owner/name); "
                        "comma-separated or repeated")
    t.add_argument("--column", metavar="NAME", help="the JSONL field or CSV column that holds the text")
    t.add_argument("--context", type=int, metavar="N",
                   help="context window in tokens, for the share column (a Hub model's own is used otherwise)")
    t.add_argument("--json", action="store_true", help="one JSON object: a row per file and tokenizer, and totals")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_tokens)
