"""The benchmark corpus generator (bench/corpus.py) is deterministic and makes exactly the size asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIZE = 200_000

# Generation imports standard-library modules; a subprocess keeps their side effects out of the test session.
_SCRIPT = f"""
import hashlib, sys
sys.path.insert(0, {str(ROOT)!r})
from bench.corpus import SEPARATOR, build_corpus
data = build_corpus({SIZE}).encode("utf-8")
print(len(data), data.count(SEPARATOR.encode()), hashlib.sha256(data).hexdigest())
"""


def _generate(hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, env=env, timeout=60,
                         check=True)
    return out.stdout.split()


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
@pytest.mark.timeout(30)
def test_corpus_is_deterministic_and_exact_size() -> None:
    first, second = _generate("1"), _generate("2")  # different string hashing must not change the text
    assert first == second
    size, n_separators, _ = first
    assert int(size) == SIZE
    assert int(n_separators) > 10


def test_repeats_short_input_and_cuts_at_character_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from bench.corpus import SEPARATOR, build_corpus

    text = build_corpus(101, ["é" * 20, "ab"])  # 2-byte characters: a cut may fall inside one
    assert len(text.encode("utf-8")) == 101
    assert text.startswith("é" * 20 + "\n" + SEPARATOR + "ab\n" + SEPARATOR + "é")
    assert text.endswith(SEPARATOR + "é" * 15 + "\n")  # 15 whole characters, then one newline of padding
    assert build_corpus(101, ["é" * 20, "ab"]) == text
    with pytest.raises(ValueError):
        build_corpus(0)


@pytest.mark.slow  # 1.8 s measured: the full run has it, the quick loop does not
def test_distinct_corpus_never_repeats_and_refuses_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from bench.corpus import SEPARATOR, build_corpus, iter_source_texts

    with pytest.raises(ValueError, match="only 57 bytes of distinct text"):
        build_corpus(101, ["é" * 20, "ab"], repeat=False)
    sources = iter_source_texts()
    docs = [next(sources) for _ in range(40)]
    assert len(set(docs)) == len(docs) and all(SEPARATOR not in d for d in docs)
    text = build_corpus(150_000, docs, repeat=False)
    parts = text.split(SEPARATOR)
    assert len(text.encode("utf-8")) == 150_000 and len(set(parts)) == len(parts) > 3
