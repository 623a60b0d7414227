"""CS336 assignment 1 compatibility: the course's adapter functions written with tokviz, run as its tests run them.

The two adapters below are exactly what docs/cs336.md tells students to put in ``tests/adapters.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import pytest

from tokviz import CS336Tokenizer, Tokenizer, train_bpe
from tokviz.pre_tokenizers.byte_level import UNICODE_TO_BYTE


# -- the adapters (as in docs/cs336.md) ---------------------------------------------------------------------------
def run_train_bpe(
    input_path: str | os.PathLike[str], vocab_size: int, special_tokens: list[str], **kwargs: object
) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    tok = train_bpe(input_path, vocab_size=vocab_size, special_tokens=special_tokens)
    return tok.vocab, tok.merges


def get_tokenizer(
    vocab: dict[int, bytes], merges: list[tuple[bytes, bytes]], special_tokens: list[str] | None = None
) -> Tokenizer:
    return CS336Tokenizer(vocab, merges, special_tokens)


# -- how the course's tests read the GPT-2 files (their byte-to-unicode decoding, specials appended) -------------
def _gpt2_bytes(token: str) -> bytes:
    return bytes(UNICODE_TO_BYTE[c] for c in token)


def tokenizer_from_gpt2_files(cs336_dir: Path, special_tokens: list[str] | None = None) -> Tokenizer:
    raw = json.loads((cs336_dir / "gpt2_vocab.json").read_text(encoding="utf-8"))
    vocab = {i: _gpt2_bytes(t) for t, i in raw.items()}
    for s in special_tokens or []:
        if s.encode("utf-8") not in set(vocab.values()):
            vocab[len(vocab)] = s.encode("utf-8")
    lines = (cs336_dir / "gpt2_merges.txt").read_text(encoding="utf-8").splitlines()
    merges = [tuple(line.split(" ")) for line in lines if line.strip() and len(line.split(" ")) == 2]
    return get_tokenizer(vocab, [(_gpt2_bytes(a), _gpt2_bytes(b)) for a, b in merges], special_tokens)


# -- training ---------------------------------------------------------------------------------------------------
def test_train_bpe_matches_reference(cs336_dir: Path) -> None:
    vocab, merges = run_train_bpe(cs336_dir / "corpus.en", 500, ["<|endoftext|>"])
    ref_lines = (cs336_dir / "train-bpe-reference-merges.txt").read_text(encoding="utf-8").splitlines()
    ref_merges = [(_gpt2_bytes(a), _gpt2_bytes(b)) for a, b in (ln.split(" ") for ln in ref_lines if ln)]
    assert merges == ref_merges
    ref_vocab = json.loads((cs336_dir / "train-bpe-reference-vocab.json").read_text(encoding="utf-8"))
    ref = {i: _gpt2_bytes(t) for t, i in ref_vocab.items()}
    assert set(vocab) == set(ref) and set(vocab.values()) == set(ref.values())


def test_train_bpe_never_merges_across_special_tokens(cs336_dir: Path) -> None:
    vocab, _ = run_train_bpe(cs336_dir / "tinystories_sample.txt", 400, ["<|endoftext|>"])
    assert [t for t in vocab.values() if b"<|" in t] == [b"<|endoftext|>"]


# -- the tokenizer, against tiktoken's GPT-2 -------------------------------------------------------------------
@pytest.fixture(scope="module")
def cs336_gpt2(cs336_dir: Path) -> Tokenizer:
    return tokenizer_from_gpt2_files(cs336_dir, ["<|endoftext|>"])


SAMPLES = ["", "s", "🙃", "Héllò hôw are ü? 🙃", "Héllò hôw <|endoftext|> are ü? <|endoftext|>"]


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("text", SAMPLES)
def test_roundtrip_and_tiktoken_ids(text: str, cs336_gpt2: Tokenizer, tiktoken_gpt2) -> None:
    ids = cs336_gpt2.encode(text)
    assert ids == tiktoken_gpt2.encode(text, allowed_special={"<|endoftext|>"})
    assert cs336_gpt2.decode(ids) == text


@pytest.mark.parametrize("name", ["address.txt", "german.txt", "tinystories_sample.txt",
                                  "special_token_trailing_newlines.txt",
                                  "special_token_double_newlines_non_whitespace.txt"])
def test_files_match_tiktoken_and_stream(name: str, cs336_dir: Path, cs336_gpt2: Tokenizer, tiktoken_gpt2) -> None:
    text = (cs336_dir / name).read_text(encoding="utf-8")
    expected = tiktoken_gpt2.encode(text, allowed_special={"<|endoftext|>"})
    assert cs336_gpt2.encode(text) == expected
    with open(cs336_dir / name, encoding="utf-8") as f:
        streamed: Iterable[int] = cs336_gpt2.encode_iterable(f)
        assert list(streamed) == expected
    assert cs336_gpt2.decode(expected) == text


@pytest.fixture(scope="module")
def cs336_gpt2_more(cs336_dir: Path) -> Tokenizer:
    return tokenizer_from_gpt2_files(cs336_dir, ["<|endoftext|>", "<|endoftext|><|endoftext|>", "<|new|>"])


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
def test_overlapping_special_tokens(cs336_gpt2_more: Tokenizer) -> None:
    tok = cs336_gpt2_more
    text = "Hello, how <|endoftext|><|endoftext|> are you?<|endoftext|>"
    tokens = [tok.decode([i]) for i in tok.encode(text)]
    assert tokens.count("<|endoftext|>") == 1 and tokens.count("<|endoftext|><|endoftext|>") == 1
    assert tok.decode(tok.encode(text)) == text


def test_special_tokens_are_appended_to_the_vocab_as_the_course_does(cs336_gpt2_more: Tokenizer) -> None:
    # <|endoftext|> is GPT-2's own 50256; the others are appended in order
    assert cs336_gpt2_more.special_ids == {"<|endoftext|>": 50256, "<|endoftext|><|endoftext|>": 50257,
                                           "<|new|>": 50258}
    assert cs336_gpt2_more.encode("a<|new|>b")[1] == 50258
