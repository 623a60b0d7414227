"""encode_with_offsets through an engine: the engine's ids, spans and partial marks computed from the tokens'
bytes, pieces cut when read; every field equals the pure engine's Encoding on the CS336 fixtures, hypothesis text
(special tokens, lone surrogates, split characters) and tokenizers trained here."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, load_tokenizer, train_bpe
from tokviz.core.encoding import Encoding, LazyPieces
from tokviz.engines.choose import accelerate, engine_name, installed_engines

ENGINE_NAMES = installed_engines()
pytestmark = pytest.mark.skipif(not ENGINE_NAMES, reason="no native engine installed (pip install tiktoken)")

FIXTURES = ("corpus.en", "german.txt", "address.txt", "tinystories_sample.txt")
TEXT = st.text(max_size=80) | st.lists(st.sampled_from(
    ["Hello", " world", "'s", "123456", " ", "  ", "\n\n", "\r\n", "你好", " Việt", "e\u0301", "🌍", "\U0001f469\u200d",
     "\u0c5c", "\ud83d", "\ude43", "\udc80", "x" * 30, "<|endoftext|>", "<|fim_prefix|>"]), max_size=20).map("".join)

_PAIRS: dict[tuple[str, str], tuple[Tokenizer, Tokenizer]] = {}


def _pair(name: str, engine: str, cs336_dir: Path) -> tuple[Tokenizer, Tokenizer]:
    """(the tokenizer with ``engine`` attached, the same tokenizer pure)."""
    if (name, engine) not in _PAIRS:
        if name.startswith("trained"):
            pure = train_bpe([(cs336_dir / "corpus.en").read_text(encoding="utf-8")], vocab_size=600,
                             pattern=name.split("-")[1], special_tokens=["<|endoftext|>"], workers=1, name=name)
        else:
            pure = load_tokenizer(name)
        fast = accelerate(copy.copy(pure), engines=[engine], background=False)
        pure.engine = None
        if engine_name(fast) != engine:
            pytest.skip(f"{engine} does not run {name}")
        _PAIRS[(name, engine)] = fast, pure
    return _PAIRS[(name, engine)]


def _same(fast: Tokenizer, pure: Tokenizer, text: str) -> None:
    got, want = fast.encode_with_offsets(text), pure.encode_with_offsets(text)
    for f in ("ids", "tokens", "byte_spans", "char_spans", "partial", "special"):
        assert getattr(got, f) == getattr(want, f), f
    assert list(got.pieces) == list(want.pieces) and got == want


@pytest.mark.slow  # 7.0 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base", "r50k_base", "trained-gpt4"])
def test_fixtures(cs336_dir: Path, name: str, engine: str) -> None:
    fast, pure = _pair(name, engine, cs336_dir)
    for fixture in FIXTURES:
        text = (cs336_dir / fixture).read_text(encoding="utf-8")
        _same(fast, pure, text)
        _same(fast, pure, text[:5000] + "<|endoftext|>" + text[5000:6000])


@pytest.mark.slow  # 0.8 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("sums", ["numpy", "python"])
@pytest.mark.parametrize("engine", ENGINE_NAMES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_hypothesis_text(cs336_dir: Path, engine: str, sums: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Short texts sum their offsets in Python; numpy (when installed) takes long ones: both, at every length.
    import tokviz.core.id_offsets as id_offsets

    if sums == "numpy":
        pytest.importorskip("numpy")
    monkeypatch.setattr(id_offsets, "ARRAY_AT", 0 if sums == "numpy" else 1 << 62)
    for name in ("o200k_base", "cl100k_base", "trained-gpt2"):
        fast, pure = _pair(name, engine, cs336_dir)
        _same(fast, pure, text)


@pytest.mark.slow  # 2.9 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_the_engine_builds_it(cs336_dir: Path, engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, _ = _pair("o200k_base", engine, cs336_dir)
    enc = fast.encode_with_offsets("Héllo 🌍<|endoftext|>!")
    assert isinstance(enc.pieces, LazyPieces)  # the pure engine builds a plain list
    assert isinstance(pickle.loads(pickle.dumps(enc)).pieces, list)
    assert pickle.loads(pickle.dumps(enc)) == enc
    # A declined text (alone, or in a batch of the stretches between special tokens): the pure engine.
    monkeypatch.setattr(fast.engine, "encode_ordinary", lambda text: None)
    monkeypatch.setattr(fast.engine, "encode_ordinary_batch", lambda texts: [None] * len(texts), raising=False)
    declined = fast.encode_with_offsets("Héllo 🌍<|endoftext|>!")
    assert type(declined.pieces) is list and declined == enc


def test_lazy_pieces_compare_like_their_list() -> None:
    from tokviz.core.encoding import Piece

    pieces = [Piece("a", 0, 1), Piece("<s>", 1, 4, special=True)]
    made: list[int] = []

    def make() -> list[Piece]:
        made.append(1)
        return list(pieces)

    lazy = LazyPieces(make)
    assert not made
    assert lazy == pieces and pieces == lazy and lazy != pieces[:1] and list(lazy) == pieces and lazy[1:] == pieces[1:]
    assert len(made) == 1
    enc = Encoding([1], [b"a"], [(0, 1)], [(0, 1)], [False], lazy, [False])
    assert enc == Encoding([1], [b"a"], [(0, 1)], [(0, 1)], [False], pieces, [False])
