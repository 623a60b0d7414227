"""accelerate: the fastest installed engine that runs the tokenizer exactly, in the background by default; pure
Python (with the reason) otherwise."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest

from tokviz import Tokenizer, load_tokenizer
from tokviz.core.protocol import encode_as_shown
from tokviz.engines.choose import BackgroundEngine, accelerate, engine_name, installed_engines, why_pure

BYTES = {i: bytes([i]) for i in range(256)}


@pytest.mark.skipif("tiktoken" not in installed_engines(), reason="tiktoken is not installed")
def test_background_engine_gives_the_same_ids() -> None:
    tok = accelerate(load_tokenizer("cl100k_base"), engines=["tiktoken"])
    assert isinstance(tok.engine, BackgroundEngine)
    assert tok.engine.wait(120) and engine_name(tok) == "tiktoken" and why_pure(tok) == ""
    text = "Hello, 🌍! It's 2024.\n\n  x\u0c5c's"
    assert tok.engine.encode_ordinary(text) == load_tokenizer("cl100k_base").encode(text, allowed_special=set())


def test_pure_when_no_engine_runs_it() -> None:
    custom = accelerate(Tokenizer(BYTES, [], pattern=r"\w+|\W"), background=False)
    assert custom.engine is None and "custom pattern" in why_pure(custom) and engine_name(custom) == "pure"
    none = accelerate(Tokenizer(BYTES, []), engines=[])
    assert none.engine is None and why_pure(none) == "no engine installed"


@pytest.mark.skipif(not installed_engines(), reason="no engine installed")
def test_first_installed_engine_is_chosen() -> None:
    tok = accelerate(Tokenizer(BYTES, []), background=False)
    assert engine_name(tok) == installed_engines()[0]
    assert tok.engine is not None and tok.engine.encode_ordinary("héllo") == list("héllo".encode())


def test_an_engine_that_fails_to_build_leaves_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    from tokviz.engines import choose

    def broken(plan: object) -> object:
        raise RuntimeError("no wheel for this machine")

    monkeypatch.setitem(choose.ENGINES, "broken", broken)
    tok = accelerate(Tokenizer(BYTES, []), engines=["broken"], background=False)
    assert tok.engine is None and "broken failed to load: no wheel" in why_pure(tok)


@pytest.mark.skipif("tiktoken" not in installed_engines(), reason="tiktoken is not installed")
def test_built_on_demand_and_a_long_text_waits_for_it() -> None:
    tok = Tokenizer(BYTES, [])
    engine = BackgroundEngine(tok, ["tiktoken"], start_at=100, wait_at=1_000)
    assert engine.encode_ordinary("x" * 60) is None and engine._pending is not None  # not started: short texts
    assert engine.encode_ordinary("x" * 60) is None and engine._pending is None  # 120 characters asked: started
    long = "héllo " * 200
    assert engine.encode_ordinary(long) == list(long.encode())  # waits for the first engine
    assert engine.name == "tiktoken" and engine.wait(60)


@pytest.mark.skipif("tiktoken" not in installed_engines(), reason="tiktoken is not installed")
def test_a_batch_waits_for_the_engine_as_a_text_of_its_length_would() -> None:
    tok = Tokenizer(BYTES, [])
    engine = BackgroundEngine(tok, ["tiktoken"], start_at=100, wait_at=1_000)
    assert engine.encode_ordinary_batch(["x" * 30, "y" * 30]) == [None, None] and engine._pending is not None
    assert engine.encode_ordinary_batch(["x" * 30, "y" * 30]) == [None, None] and engine._pending is None
    parts = ["héllo " * 100, "", "wörld " * 100]  # short each, long together: waits, then every part runs
    assert engine.encode_ordinary_batch(parts) == [list(p.encode()) for p in parts]


@pytest.fixture(scope="module")
def o200k_pair() -> tuple[Tokenizer, Tokenizer]:
    """o200k with an engine attached at once, and a pure copy of the same tables."""
    if not installed_engines():
        pytest.skip("no engine installed")
    fast = accelerate(copy.copy(load_tokenizer("o200k_base")), background=False)
    pure = copy.copy(load_tokenizer("o200k_base"))
    pure.engine = None
    assert fast.engine is not None
    return fast, pure


TEXTS = ["", "Hello, 🌍! It's<|endoftext|> 2024.\n\n  x\u0c5c's", "<|endoftext|>", "a\ud83d\ude00 b\ud800c",
         "tab\tsep<|endofprompt|>end " * 50, " " * 40_000 + "x<|endoftext|>" + "y" * 10]


@pytest.mark.slow  # 3.6 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("text", TEXTS)
def test_encode_goes_through_the_engine_with_the_same_ids(o200k_pair: tuple[Tokenizer, Tokenizer], text: str) -> None:
    fast, pure = o200k_pair
    assert encode_as_shown(fast, text) == encode_as_shown(pure, text)
    assert fast.encode_ordinary(text) == pure.encode_ordinary(text)
    assert list(fast.encode_iterable([text[:7], text[7:]])) == encode_as_shown(pure, text)
    if "<|endoftext|>" in text:
        with pytest.raises(ValueError, match="disallowed special token"):
            fast.encode(text, allowed_special=set(), disallowed_special="all")


@pytest.mark.slow  # 3.9 s measured: the full run has it, the quick loop does not
def test_the_engine_is_used(o200k_pair: tuple[Tokenizer, Tokenizer], monkeypatch: pytest.MonkeyPatch) -> None:
    fast, _ = o200k_pair
    calls = _watch(fast, monkeypatch)
    encode_as_shown(fast, "a<|endoftext|>b")
    assert calls == ["a", "b"]


def _watch(tok: Tokenizer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts ``tok``'s engine is asked for from now on, alone or in a batch (the stretches between special
    tokens, where the engine takes batches)."""
    calls: list[str] = []
    engine = tok.engine
    real = engine.encode_ordinary  # type: ignore[union-attr]
    monkeypatch.setattr(engine, "encode_ordinary", lambda t: calls.append(t) or real(t))
    if hasattr(engine, "encode_ordinary_batch"):
        batch = engine.encode_ordinary_batch
        monkeypatch.setattr(engine, "encode_ordinary_batch", lambda ts: calls.extend(ts) or batch(ts))
    return calls


def test_every_new_tokenizer_gets_an_engine_and_pickles(monkeypatch: pytest.MonkeyPatch) -> None:
    tok = Tokenizer(BYTES, [])
    assert (tok.engine is not None) == bool(installed_engines())
    again = pickle.loads(pickle.dumps(tok))
    assert again.encode("héllo") == list("héllo".encode())
    assert (again.engine is not None) == bool(installed_engines()) and again.engine is not tok.engine
    monkeypatch.setenv("TOKVIZ_ENGINE", "pure")
    assert Tokenizer(BYTES, []).engine is None


@pytest.mark.slow  # 3.7 s measured: the full run has it, the quick loop does not
def test_encode_corpus_goes_through_the_engine(o200k_pair: tuple[Tokenizer, Tokenizer], cs336_dir: Path,
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    np = pytest.importorskip("numpy")
    from tokviz.corpus.ids import encode_corpus

    fast, pure = o200k_pair
    source = cs336_dir / "tinystories_sample.txt"
    calls = _watch(fast, monkeypatch)
    encode_corpus([str(source)], fast, tmp_path / "ids.npy")
    ids = np.load(tmp_path / "ids.npy").tolist()
    assert ids == encode_as_shown(pure, source.read_text(encoding="utf-8")) and sum(map(len, calls)) > 0


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
@pytest.mark.skipif(installed_engines() != ["fastokens", "tiktoken"], reason="needs fastokens and tiktoken")
def test_a_file_fastokens_cannot_load_runs_on_tiktoken(cs336_dir: Path) -> None:
    # Whisper's rank file has an empty token, which fastokens refuses; its own pattern is one tiktoken runs.
    tok = load_tokenizer(cs336_dir.parent / "pretrained" / "whisper-multilingual.tiktoken")
    engine = BackgroundEngine(tok, ["fastokens", "tiktoken"])
    assert engine.wait(300) and engine.name == "tiktoken" and "fastokens failed to load" in engine.note
    text = "Hello, 🌍! It's 2024.\n\n  x\u0c5c's " * 3
    pure = copy.copy(tok)
    pure.engine = None
    assert engine.encode_ordinary(text) == pure.encode(text, allowed_special=set())


def test_the_build_is_not_killed_by_the_process_ending(monkeypatch: pytest.MonkeyPatch) -> None:
    # A process that ended while a native engine was being built died with "FATAL: exception not rethrown" (exit
    # code 134): the interpreter kills daemon threads that come back from code run without the GIL. The build runs
    # in a thread the exit waits for.
    import threading

    from tokviz.engines import choose

    seen: list[threading.Thread] = []
    release = threading.Event()

    def slow(plan: object) -> object:
        seen.append(threading.current_thread())
        release.wait(10)
        raise RuntimeError("stopped by the test")

    monkeypatch.setitem(choose.ENGINES, "slow", slow)
    monkeypatch.setattr(choose, "LOAD_ORDER", [*choose.LOAD_ORDER, "slow"])
    engine = BackgroundEngine(Tokenizer(BYTES, []), ["slow"])
    try:
        for _ in range(200):
            if seen:
                break
            threading.Event().wait(0.05)
        assert seen and seen[0].name.startswith("tokviz-engine-") and not seen[0].daemon
    finally:
        release.set()
        assert engine.wait(10) is False
