"""Training against the fastest BPE trainers: tokviz (CS336's merges), HF ``tokenizers``, ``sentencepiece``, and,
when installed, ``rustbpe`` and ``gigabpe`` (``pip install rustbpe gigabpe``; not in the requirements: they are
peers here, not engines, since neither learns CS336's merges: gigabpe's contract is ``tokenizers``' merges, and
both break ties between equal counts otherwise than CS336).

Each trainer learns a byte-level BPE of ``--vocab`` tokens (GPT-2's pattern where it takes one; sentencepiece splits
its own way) on distinct text of each size: the ``--mixed`` corpus of ``bench/scale.py`` (Python source, then man
pages and docs), in a fresh process per run, corpus reading included. Printed:
medians of wall and CPU seconds of the training (the process and its children; imports before the clock), peak
RSS, and tokviz's time over each peer's.

Usage::

    python bench/train_peers.py                   # 5 MB and 50 MB, vocabulary 10,000, 3 runs each
    python bench/train_peers.py --sizes 5 --repeats 1
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LIBS = ("tokviz", "tokenizers", "sentencepiece", "rustbpe", "gigabpe")
EOT = "<|endoftext|>"


def train(lib: str, corpus: Path, vocab: int) -> dict[str, object]:
    """Train ``lib`` (tokviz, rustbpe or gigabpe; imported already) on ``corpus``; what was learned."""
    if lib == "tokviz":
        from tokviz.training.trainer import train_bpe

        tok = train_bpe([corpus], vocab_size=vocab, special_tokens=[EOT])
        report = tok.training
        assert report is not None
        return {"merges": len(tok.merges), "distinct": report.n_distinct_pretokens}
    if lib == "rustbpe":
        import rustbpe

        def chunks():  # noqa: ANN202 - a generator of str
            with open(corpus, encoding="utf-8") as f:
                while chunk := f.read(1 << 20):
                    yield chunk

        t = rustbpe.Tokenizer()
        t.train_from_iterator(chunks(), vocab - 1)  # its vocabulary is the merges and bytes; one slot for EOT
        return {"vocab": t.vocab_size}
    if lib == "gigabpe":
        import gigabpe

        _, merges = gigabpe.train_bpe([str(corpus)], vocab_size=vocab, special_tokens=[EOT], pretokenizer="bytelevel")
        return {"merges": len(merges)}
    raise SystemExit(f"unknown trainer {lib!r}: one of {', '.join(LIBS)}")


def measure(lib: str, corpus: Path, vocab: int) -> dict[str, object]:
    """Wall and CPU seconds of the training alone (imports before the clock), and the process's peak RSS.
    ``tokenizers`` and ``sentencepiece`` train as ``bench/scale.py --peers`` trains them."""
    if lib in ("tokenizers", "sentencepiece"):
        from bench.scale import measure_peer

        r = measure_peer(lib, corpus, vocab)
        return {"wall": r["seconds"], "cpu": r["cpu"], "rss_mb": r["client_rss"], "vocab": r["vocab_learned"]}
    importlib.import_module("tokviz.training.trainer" if lib == "tokviz" else lib)
    t0, c0 = time.perf_counter(), _cpu()
    learned = train(lib, corpus, vocab)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": wall, "cpu": cpu, "rss_mb": max(me.ru_maxrss, kids.ru_maxrss) / 1024, **learned}


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run(lib: str, corpus: Path, vocab: int) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, "--measure", lib, "--corpus", str(corpus), "--vocab", str(vocab)],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{lib} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="5,50", help="corpus sizes in MB (default 5,50)")
    p.add_argument("--vocab", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--measure", help=argparse.SUPPRESS)
    p.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.corpus, args.vocab)))
        return
    from bench.scale import ensure_corpus

    libs = [lib for lib in LIBS if importlib.util.find_spec(lib) is not None]
    missing = sorted(set(LIBS) - set(libs))
    lines = [f"vocabulary {args.vocab:,}; medians of {args.repeats} fresh processes"
             + (f"; not installed: {', '.join(missing)}" if missing else ""), "",
             "| corpus | trainer | wall s | CPU s | peak RSS MB | tokviz's wall / this | what it learned |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for mb in (int(s) for s in args.sizes.split(",")):
        corpus = ensure_corpus(mb, mixed=True)
        rows = {}
        for lib in libs:
            samples = []
            for _ in range(args.repeats):
                samples.append(run(lib, corpus, args.vocab))
                print(f"{mb} MB {lib}: {samples[-1]}", file=sys.stderr)
            rows[lib] = samples
        ours = statistics.median(float(s["wall"]) for s in rows["tokviz"])  # type: ignore[arg-type]
        for lib, samples in rows.items():
            wall = statistics.median(float(s["wall"]) for s in samples)  # type: ignore[arg-type]
            cpu = statistics.median(float(s["cpu"]) for s in samples)  # type: ignore[arg-type]
            rss = statistics.median(float(s["rss_mb"]) for s in samples)  # type: ignore[arg-type]
            what = ", ".join(f"{k} {v:,}" for k, v in samples[0].items() if k not in ("wall", "cpu", "rss_mb"))
            lines.append(f"| {mb} MB | {lib} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {ours / wall:.2f} | {what} |")
    print("\n".join(lines))
    out = ROOT / "bench" / "_out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "train_peers.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
