"""Engine rows of the tokenizer.json families: tokviz with its engine (``tokenizers``, where proven), tokviz pure and
``tokenizers`` alone, for a WordPiece, a Unigram and a SentencePiece-style BPE file, ids and offsets, in one run.

Usage::

    python bench/engine_families.py              # 1 MB texts, 3 fresh processes per library and family
    python bench/run.py --engines-only           # this table after the byte-level engine rows

The files are those of ``bench/families.py`` (trained by ``tokenizers`` on the bench corpus, 8,000 pieces, cached).
Each (library, family) runs in a fresh process that builds the tokenizer (and, for tokviz+engine, its engine and the
engine's check) before the clock starts, then encodes each text once for ids and once with offsets; medians. After
the clock, tokviz+engine asks its engine again whether it takes each text (ids and offsets: it may leave a text to
the pure pipeline, see ``tokviz.engines.tokenizers_engine.repeated``), and the table's last line says which path ran.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.engines import digest, make_texts  # noqa: E402

LIBS = ("tokviz+engine", "tokviz pure", "tokenizers")
FAMILIES = ("wordpiece", "unigram", "bpe-sp")
TEXTS = ("english", "multilingual")


def _load(lib: str, path: Path) -> tuple[Any, Any, str]:
    """(a tokenizer, or a function giving a text's ids; offsets of a text; the engine that runs) for a library."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if lib == "tokenizers":
        from tokenizers import Tokenizer

        hf = Tokenizer.from_str(json.dumps(data))
        return (lambda t: hf.encode(t, add_special_tokens=False).ids), (
            lambda t: hf.encode(t, add_special_tokens=False).offsets), "tokenizers"
    from tokviz.engines.tokenizers_engine import attach
    from tokviz.formats.hf_families import family_from_dict

    tok = family_from_dict(data, source=str(path))
    assert tok is not None, path
    tok.engine = None
    if lib == "tokviz+engine":
        attach(tok, data, start_at=0)
    name = "pure" if tok.engine is None else str(tok.engine.name)
    return tok, tok.encode_with_offsets, name


def worker(args: dict[str, Any]) -> dict[str, Any]:
    tok, offsets, engine = _load(args["lib"], Path(args["path"]))
    encode = tok if callable(tok) else tok.encode
    native = getattr(getattr(tok, "engine", None), "_engine", None)
    out: dict[str, Any] = {"engine": engine, "texts": {}}
    for name, path in args["texts"].items():
        text = Path(path).read_text(encoding="utf-8")
        row: dict[str, Any] = {"n_bytes": len(text.encode("utf-8"))}
        t = time.perf_counter()
        ids = encode(text)
        row["ids"] = time.perf_counter() - t
        row["digest"] = digest(ids)
        t = time.perf_counter()
        offsets(text)
        row["offsets"] = time.perf_counter() - t
        if native is not None:  # which path ran each call (asked again after the clock: the engine is deterministic)
            row["routed"] = {"ids": "pure" if native.encode(text) is None else "engine",
                             "offsets": "pure" if native.encode_with_offsets(text) is None else "engine"}
        out["texts"][name] = row
    return out


def run_worker(**kwargs: Any) -> dict[str, Any] | None:
    cmd = [sys.executable, __file__, "--worker", json.dumps(kwargs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        print(f"worker {kwargs['lib']} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_engine_families(*, size: int, repeats: int) -> str:
    """The markdown table: seconds (medians) and MB/s per library, family, text, for ids and with offsets."""
    from bench.corpus import ensure_corpus
    from bench.families import train_tokenizer_json

    corpus = ensure_corpus(size)
    files = {f: train_tokenizer_json(f, corpus) for f in FAMILIES}
    all_texts = make_texts(size)
    texts = {k: str(all_texts[k]) for k in TEXTS}
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in range(repeats):
        for family, path in files.items():
            for lib in LIBS if r % 2 == 0 else LIBS[::-1]:
                res = run_worker(lib=lib, path=str(path), texts=texts)
                if res is not None:
                    samples.setdefault((lib, family), []).append(res)
        print(f"families repeat {r + 1}/{repeats} done", file=sys.stderr, flush=True)

    def med(lib: str, family: str, text: str, key: str) -> float | None:
        vals = [s["texts"][text][key] for s in samples.get((lib, family), [])]
        return statistics.median(vals) if vals else None

    lines = ["| family | text | call | " + " | ".join(LIBS) + " | ids == tokenizers |",
             "| --- | --- | --- |" + " ---: |" * len(LIBS) + " --- |"]
    for family in FAMILIES:
        for text in TEXTS:
            for key in ("ids", "offsets"):
                base = med("tokenizers", family, text, key)
                cells = []
                for lib in LIBS:
                    s = med(lib, family, text, key)
                    if s is None:
                        cells.append("—")
                        continue
                    mb = samples[(lib, family)][0]["texts"][text]["n_bytes"] / 1e6
                    cells.append(f"{mb / s:.1f} MB/s" + (f" ({base / s:.2f}x)" if base else ""))
                ref = {x["texts"][text]["digest"] for x in samples.get(("tokenizers", family), [])}
                same = [lib for lib in LIBS if lib != "tokenizers" and ref and {
                    x["texts"][text]["digest"] for x in samples.get((lib, family), [])} <= ref]
                lines.append(f"| {family} | {text} | {key} | " + " | ".join(cells) + f" | {', '.join(same) or '—'} |")
    ran = {family: sorted({s["engine"] for s in samples.get(("tokviz+engine", family), [])}) for family in FAMILIES}
    lines += ["", "Engine attached in tokviz+engine: "
              + "; ".join(f"{f}: {', '.join(e) or '—'}" for f, e in ran.items())
              + ". Path each call took there (ids / offsets): " + "; ".join(
                  f"{f} {t}: {_paths(samples.get(('tokviz+engine', f), []), t)}" for f in FAMILIES for t in TEXTS)
              + "."]
    return "\n".join(lines)


def _paths(runs: list[dict[str, Any]], text: str) -> str:
    """'engine / pure' and the like: the path the ids and the offsets calls took on ``text`` (every run agrees, as
    routing depends on the text only)."""
    return " / ".join(",".join(sorted({r["texts"][text].get("routed", {}).get(k, "?") for r in runs})) or "?"
                      for k in ("ids", "offsets"))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=1_000_000, help="text size in bytes (default 1,000,000)")
    ap.add_argument("--repeats", type=int, default=3, help="fresh processes per library and family (default 3)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    print(bench_engine_families(size=args.size, repeats=args.repeats))


if __name__ == "__main__":
    main()
