"""Built-in tokenizers: trained once, cached on disk by version/corpus/pattern/size, corrupt caches retrained."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tokviz import save_tokenizer, train_bpe
from tokviz.formats.ours import load_ours_tokenizer
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.viewmodels import menu
from tokviz.viewmodels.default_corpus import FALLBACK_CORPUS
from tokviz.viewmodels.defaults import (
    CACHE_VERSION,
    GPT2_NAME,
    GPT4_NAME,
    GPT4O_NAME,
    DefaultCorpus,
    build_defaults,
    cache_dir,
    cache_key,
    default_corpus,
    default_selection,
    default_tokenizers,
    gpt2_files_dir,
    load_or_train,
    size_label,
)

SMALL = DefaultCorpus(FALLBACK_CORPUS, "test")  # small, but with enough pairs for a few hundred merges


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_defaults(directory=tmp_path_factory.mktemp("cache"), gpt2_files=None)


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
def test_names_in_display_order(built):
    assert list(built.tokenizers) == [
        "bpe-gpt2-512", "bpe-gpt2-2k", "bpe-gpt2-8k", "bpe-gpt4-512", "bpe-gpt4-2k", "bpe-gpt4-8k",
        "character", "byte", "word",
    ]
    for name, tok in built.tokenizers.items():
        assert tok.name == name


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_sizes_are_prefixes_of_one_run_per_pattern(built):
    toks = built.tokenizers
    for pattern in ("gpt2", "gpt4"):
        full = toks[f"bpe-{pattern}-8k"]
        assert full.vocab_size == 8192 and full.pattern == pattern and full.special_tokens == []
        for label, size in (("512", 512), ("2k", 2048)):
            small = toks[f"bpe-{pattern}-{label}"]
            assert small.vocab_size == size
            assert small.merges == full.merges[: size - 256]
    assert toks["bpe-gpt2-8k"].merges != toks["bpe-gpt4-8k"].merges


def test_trained_on_pydoc_topics(built):
    from pydoc_data.topics import topics

    assert built.corpus.source == "pydoc_data.topics"
    assert built.corpus.text == "\n\n".join(topics[k] for k in sorted(topics))
    tok = built.tokenizers["bpe-gpt2-8k"]
    text = built.corpus.text[:5000]
    assert tok.decode(tok.encode(text)) == text
    assert len(tok.encode(text)) < len(text.encode()) / 3  # it learned the corpus


def test_baselines_are_there(built):
    toks = built.tokenizers
    assert isinstance(toks["character"], CharacterTokenizer) and isinstance(toks["byte"], ByteTokenizer)
    word = toks["word"]
    assert isinstance(word, WordTokenizer)
    head = built.corpus.text[:2000].rsplit(" ", 1)[0]  # whole words only
    assert word.unknown_rate(head) == 0.0  # its vocabulary comes from the same corpus
    assert word.encode("zzyzx")[0] == word.unk_id  # and a word it never saw is unknown


def test_the_word_baseline_is_counted_only_when_asked(tmp_path):
    # Counting the corpus's words is a tenth of a second of every start; the menu lists "word" without it.
    toks = default_tokenizers(directory=tmp_path, sizes=(300,), corpus=SMALL, gpt2_files=None)
    assert "word" in toks and list(toks).index("word") == list(toks).index("byte") + 1
    assert not toks.is_loaded("word")
    word = toks["word"]
    assert toks.is_loaded("word") and word.name == "word" and toks["word"] is word
    assert word.words == WordTokenizer.from_corpus([SMALL.text]).words
    assert toks.with_own({}).is_loaded("word")  # a session's menu shares what was made


def test_second_build_reads_the_cache(tmp_path):
    first = build_defaults(directory=tmp_path, sizes=(300, 400), corpus=SMALL, gpt2_files=None)
    assert not first.from_cache and all(r.saved for r in first.runs)
    files = sorted(p.name for p in tmp_path.iterdir())
    keys = [cache_key(SMALL, pattern=p, vocab_size=400) for p in ("gpt2", "gpt4")]
    assert files == sorted(keys + [k + ".sha256" for k in keys])  # each file with its checksum
    second = build_defaults(directory=tmp_path, sizes=(300, 400), corpus=SMALL, gpt2_files=None)
    assert second.from_cache
    for name in ("bpe-gpt2-300", "bpe-gpt4-400"):
        assert second.tokenizers[name].merges == first.tokenizers[name].merges
        assert second.tokenizers[name].vocab == first.tokenizers[name].vocab


def test_corrupt_cache_is_retrained_with_a_notice(tmp_path):
    path = tmp_path / cache_key(SMALL, pattern="gpt2", vocab_size=300)
    path.write_text("{ not json", encoding="utf-8")
    run = load_or_train(SMALL, pattern="gpt2", vocab_size=300, directory=tmp_path, name="x")
    assert not run.from_cache and run.saved
    assert run.notice is not None and "x was damaged" in run.notice and path.name in run.notice
    assert load_ours_tokenizer(path).merges == run.tokenizer.merges  # rewritten with a sound file
    assert run.tokenizer.merges == train_bpe([SMALL.text], vocab_size=300).merges


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = data.index(b'"merges"') + 20  # inside a base64 token: the JSON stays valid, a merge changes
    data[at] = ord("A") if data[at] != ord("A") else ord("B")
    path.write_bytes(bytes(data))


def _valid_but_wrong(path: Path) -> None:
    path.write_text(json.dumps({"format": "tokviz", "version": 1, "vocab": "abc", "merges": 5}), encoding="utf-8")


def _valid_but_wrong_with_its_checksum(path: Path) -> None:
    # Poisoned by someone who also rewrote the checksum: the content checks still refuse it.
    _valid_but_wrong(path)
    path.with_name(path.name + ".sha256").write_text(hashlib.sha256(path.read_bytes()).hexdigest(), encoding="ascii")


def _another_tokenizer_with_its_checksum(path: Path) -> None:
    save_tokenizer(train_bpe([SMALL.text], vocab_size=300, pattern="gpt4"), path)
    path.with_name(path.name + ".sha256").write_text(hashlib.sha256(path.read_bytes()).hexdigest(), encoding="ascii")


def _no_checksum(path: Path) -> None:
    path.with_name(path.name + ".sha256").unlink()


@pytest.mark.parametrize(("damage", "why"), [
    (_truncate, "does not match its checksum"),
    (_flip_a_byte, "does not match its checksum"),
    (_valid_but_wrong, "does not match its checksum"),
    (_valid_but_wrong_with_its_checksum, "does not read as a tokenizer"),
    (_another_tokenizer_with_its_checksum, "holds another tokenizer"),
    (_no_checksum, "checksum file is missing"),
])
def test_a_damaged_cache_file_is_discarded_rebuilt_and_noticed(tmp_path: Path, damage: Any, why: str) -> None:
    first = build_defaults(directory=tmp_path, sizes=(300,), patterns=("gpt2",), corpus=SMALL, gpt2_files=None)
    assert first.notices == () and not first.from_cache
    path = first.runs[0].path
    damage(path)
    again = build_defaults(directory=tmp_path, sizes=(300,), patterns=("gpt2",), corpus=SMALL, gpt2_files=None)
    assert not again.from_cache and len(again.notices) == 1 and why in again.notices[0], again.notices
    assert again.tokenizers["bpe-gpt2-300"].merges == first.tokenizers["bpe-gpt2-300"].merges
    third = build_defaults(directory=tmp_path, sizes=(300,), patterns=("gpt2",), corpus=SMALL, gpt2_files=None)
    assert third.from_cache and third.notices == ()  # rebuilt: sound again, nothing to say


def test_mismatched_cache_file_is_retrained(tmp_path):
    path = tmp_path / cache_key(SMALL, pattern="gpt4", vocab_size=300)
    save_tokenizer(train_bpe([SMALL.text], vocab_size=300, pattern="gpt2"), path)  # right name, wrong pattern inside
    run = load_or_train(SMALL, pattern="gpt4", vocab_size=300, directory=tmp_path, name="x")
    assert not run.from_cache and run.tokenizer.pattern == "gpt4"
    assert load_ours_tokenizer(path).pattern == "gpt4"


def test_unwritable_cache_still_gives_tokenizers(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    run = load_or_train(SMALL, pattern="gpt2", vocab_size=300, directory=blocker / "sub", name="x")
    assert not run.saved and run.tokenizer.vocab_size == 300
    assert not list(tmp_path.glob("**/*.tmp")) and not list(tmp_path.glob("**/.*.tmp"))


def test_cache_key_changes_with_every_part():
    base = cache_key(SMALL, pattern="gpt2", vocab_size=8192)
    assert f"-v{CACHE_VERSION}-" in base and base.endswith(".json")
    others = {
        cache_key(DefaultCorpus(SMALL.text + "!", "test"), pattern="gpt2", vocab_size=8192),
        cache_key(SMALL, pattern="gpt4", vocab_size=8192),
        cache_key(SMALL, pattern="gpt2", vocab_size=4096),
    }
    assert base not in others and len(others) == 3
    assert cache_key(DefaultCorpus(SMALL.text, "elsewhere"), pattern="gpt2", vocab_size=8192) == base


def test_cache_dir_precedence(monkeypatch):
    assert cache_dir({"TOKVIZ_CACHE_DIR": "/a", "XDG_CACHE_HOME": "/b"}) == Path("/a")
    assert cache_dir({"XDG_CACHE_HOME": "/b"}) == Path("/b/tokviz")
    monkeypatch.setenv("HOME", "/home/someone")
    assert cache_dir({}) == Path("/home/someone/.cache/tokviz")
    monkeypatch.setenv("TOKVIZ_CACHE_DIR", "/from/env")
    assert cache_dir() == Path("/from/env")


def test_fallback_corpus_when_pydoc_data_is_missing(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pydoc_data.topics", None)  # makes the import fail
    corpus = default_corpus()
    assert corpus.source == "tokviz.viewmodels.default_corpus" and corpus.text == FALLBACK_CORPUS
    built = build_defaults(directory=tmp_path, gpt2_files=None)
    bpe = [n for n in built.tokenizers if n.startswith("bpe-gpt2-")]
    reached = built.tokenizers[bpe[-1]].vocab_size
    assert reached < 8192  # the small corpus runs out of pairs
    assert bpe == ["bpe-gpt2-512", f"bpe-gpt2-{size_label(reached)}"]


def test_size_label():
    assert [size_label(n) for n in (256, 512, 1024, 2048, 8192, 1500)] == ["256", "512", "1k", "2k", "8k", "1500"]


def test_bad_sizes():
    with pytest.raises(ValueError, match="sizes must be integers >= 256"):
        build_defaults(sizes=(100,), gpt2_files=None)
    with pytest.raises(ValueError, match="sizes must be integers >= 256"):
        build_defaults(sizes=(), gpt2_files=None)


def test_gpt2_files_dir(tmp_path, cs336_dir):
    assert gpt2_files_dir({"TOKVIZ_GPT2_DIR": str(tmp_path)}) is None
    assert gpt2_files_dir({"TOKVIZ_GPT2_DIR": str(cs336_dir)}) == cs336_dir


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
def test_gpt2_offered_when_its_files_are_found(tmp_path, cs336_dir, gpt2_tokenizer):
    toks = default_tokenizers(directory=tmp_path, sizes=(300,), corpus=SMALL, gpt2_files=cs336_dir)
    assert list(toks)[:2] == ["bpe-gpt2-300", "bpe-gpt4-300"] and GPT2_NAME in toks
    assert toks.is_loaded(GPT2_NAME)  # from the folder given, not the package data
    gpt2 = toks[GPT2_NAME]
    text = "hello world <|endoftext|> 🌍"
    assert gpt2.encode(text, allowed_special="all") == gpt2_tokenizer.encode(text, allowed_special="all")
    assert gpt2.special_tokens == ["<|endoftext|>"]


def test_default_selection():
    names = ["bpe-gpt2-8k", "bpe-gpt4-8k", "character", "byte", "word", GPT2_NAME, GPT4_NAME, GPT4O_NAME]
    # Our BPE next to the tokenizers people use.
    assert default_selection(names) == ["bpe-gpt2-8k", GPT2_NAME, GPT4_NAME, GPT4O_NAME]
    assert default_selection(["x", "y", "z", "w"]) == ["x", "y", "z"]


def test_the_openai_encodings_are_offered_and_read_only_when_asked(tmp_path, tiktoken_gpt2):
    read_before = menu.builtin_is_loaded(GPT4O_NAME)  # another test of this process may have asked for it
    toks = default_tokenizers(directory=tmp_path, sizes=(300,), corpus=SMALL)
    assert [n for n in toks if not n.startswith("bpe-")][-3:] == [GPT2_NAME, GPT4_NAME, GPT4O_NAME]
    assert toks.is_loaded(GPT4O_NAME) == read_before  # building and listing the menu reads no rank file
    assert GPT4O_NAME in toks and "no such tokenizer" not in toks
    assert toks.is_loaded(GPT4O_NAME) == read_before  # nor asking whether a name is offered
    text = "hello world <|endoftext|> 1234567 🌍"
    assert toks[GPT2_NAME].encode(text, allowed_special="all") == tiktoken_gpt2.encode(text, allowed_special="all")
    assert toks[GPT2_NAME].name == GPT2_NAME and toks.is_loaded(GPT2_NAME)


@pytest.mark.slow
def test_a_second_start_reads_the_cache(tmp_path):
    # How long each start takes is measured in bench/, not asserted: timings flake on a loaded machine.
    cold = build_defaults(directory=tmp_path)
    warm = build_defaults(directory=tmp_path)
    assert not cold.from_cache and warm.from_cache
    for name in cold.tokenizers:
        if name.startswith("bpe-"):
            assert warm.tokenizers[name].merges == cold.tokenizers[name].merges
