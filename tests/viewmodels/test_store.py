"""The server's tokenizer store: content-addressed, data only, bounded, damaged entries discarded; and in the app, a
session's own tokenizer comes back in a fresh session (a refresh, a restart, a shared link) by its hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, plain
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from tokviz import save_tokenizer, train_bpe
from tokviz.models.baselines import WordTokenizer
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer
from tokviz.viewmodels.store import TokenizerStore, canonical, is_hash

TOK = train_bpe(["low lower lowest newest widest " * 30], vocab_size=280, special_tokens=["<|endoftext|>"])


def test_the_hash_names_the_content(tmp_path):
    store = TokenizerStore(tmp_path)
    h = store.put(TOK, name="mine", source="test")
    assert is_hash(h) and (tmp_path / f"{h}.json").read_bytes() == canonical(TOK)
    assert store.put(TOK, name="again", source="test") == h  # the same tokenizer is stored once
    assert json.loads((tmp_path / f"{h}.meta.json").read_text())["name"] == "again"


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@settings(max_examples=25, deadline=None)
@given(st.text(max_size=200))
def test_what_comes_back_encodes_alike(tmp_path_factory, text):
    store = TokenizerStore(tmp_path_factory.mktemp("store"))
    for tok in (TOK, PrefixSpaceTokenizer(TOK.vocab, TOK.merges, TOK.special_tokens, TOK.pattern),
                WordTokenizer.from_corpus(["a b c low lower"])):
        got = store.get(store.put(tok, name="t", source="test"))
        assert got is not None and type(got.tokenizer) is type(tok)
        assert got.tokenizer.encode(text) == tok.encode(text)


def test_damaged_or_foreign_entries_are_discarded_never_run(tmp_path):
    store = TokenizerStore(tmp_path)
    h = store.put(TOK, name="mine", source="test")
    body = tmp_path / f"{h}.json"
    body.write_bytes(body.read_bytes()[:-10])  # truncated
    assert store.get(h) is None and not body.exists()
    assert store.get("../../etc/passwd") is None and store.get("x" * 64) is None


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = data.index(b'"merges"') + 20  # inside a base64 token: still valid JSON, another merge
    data[at] = ord("A") if data[at] != ord("A") else ord("B")
    path.write_bytes(bytes(data))


def _valid_but_wrong(path: Path) -> None:
    path.write_text(json.dumps({"format": "tokviz", "version": 1, "vocab": "abc", "merges": 5}), encoding="utf-8")


@pytest.mark.parametrize("damage", [_truncate, _flip_a_byte, _valid_but_wrong])
def test_a_damaged_entry_is_discarded_with_a_notice_and_rebuilt_when_kept_again(tmp_path: Path, damage: Any) -> None:
    store = TokenizerStore(tmp_path)
    h = store.put(TOK, name="mine", source="test")
    body = tmp_path / f"{h}.json"
    damage(body)
    notices: list[str] = []
    assert store.get(h, notice=notices.append) is None and not body.exists()
    assert len(notices) == 1 and h[:12] in notices[0] and "was removed" in notices[0], notices
    # The session that has the tokenizer keeps it again: the entry is whole once more.
    assert store.put(TOK, name="mine", source="test", notice=notices.append) == h
    assert store.get(h, notice=notices.append).tokenizer.merges == TOK.merges and len(notices) == 1


@pytest.mark.parametrize("damage", [_truncate, _flip_a_byte, _valid_but_wrong])
def test_a_damaged_file_is_rewritten_when_the_same_tokenizer_is_kept(tmp_path: Path, damage: Any) -> None:
    store = TokenizerStore(tmp_path)
    h = store.put(TOK, name="mine", source="test")
    damage(tmp_path / f"{h}.json")
    notices: list[str] = []
    store.put(TOK, name="mine", source="test", notice=notices.append)
    assert len(notices) == 1 and "mine" in notices[0] and "written again" in notices[0], notices
    assert store.get(h).tokenizer.merges == TOK.merges


@pytest.mark.parametrize("record", [
    pytest.param('{"name": "mi', id="truncated"),
    pytest.param('{"name": "mind", "source": "test", "used": 1, "sha256": "0"}', id="changed, checksum off"),
    pytest.param('[1, 2]', id="valid JSON, not a record"),
    pytest.param('{"name": 5, "source": ["x"], "used": "soon"}', id="valid JSON, wrong types"),
    pytest.param("[" * 100_000 + "]" * 100_000, id="nested too deeply"),
])
def test_a_damaged_record_is_rebuilt_with_a_notice(tmp_path: Path, record: str) -> None:
    store = TokenizerStore(tmp_path)
    h = store.put(TOK, name="mine", source="test")
    meta = tmp_path / f"{h}.meta.json"
    meta.write_text(record, encoding="utf-8")
    notices: list[str] = []
    got = store.get(h, notice=notices.append)
    assert got is not None and got.tokenizer.merges == TOK.merges and got.name == TOK.name
    assert len(notices) == 1 and "rebuilt" in notices[0], notices
    again = store.get(h, notice=notices.append)
    assert again is not None and again.name == TOK.name and len(notices) == 1  # sound again


def test_the_store_is_bounded_least_recently_used_out_first(tmp_path):
    toks = [train_bpe([f"{w} " * 50 + "abc abd"], vocab_size=258 + k) for k, w in enumerate(("aa", "bb", "cc"))]
    size = len(canonical(toks[0]))
    store = TokenizerStore(tmp_path, max_bytes=int(size * 2.5))
    first, second = store.put(toks[0], name="a", source=""), store.put(toks[1], name="b", source="")
    assert store.get(first) is not None  # used again: now the second is the least recently used
    third = store.put(toks[2], name="c", source="")
    assert store.get(second) is None and store.get(first) is not None and store.get(third) is not None


@pytest.fixture
def app(cache_dir) -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


@pytest.mark.slow
def test_a_loaded_tokenizer_comes_back_in_a_fresh_session_and_can_be_removed(cache_dir, tmp_path, monkeypatch):
    path = tmp_path / "mine.json"
    save_tokenizer(TOK, path)
    monkeypatch.setenv("TOKVIZ_LOCAL_PATHS", str(tmp_path))
    first = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    first.query_params["view"] = "compare"
    first.run()
    first.text_input(key="cmp_path").set_value(str(path)).run()
    next(b for b in first.button if b.label == "Load from path").click().run()
    assert not first.exception
    own = first.query_params["own"]
    own = own if isinstance(own, str) else own[0]
    assert is_hash(own)
    # A new session with the link (what a refresh, a restart or a colleague's browser does) gets it back.
    second = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    second.query_params["own"] = own
    second.query_params["tok"] = "mine"
    second.run()
    assert not second.exception
    assert "mine" in second.multiselect(key="chosen").value
    assert second.session_state["user_tokenizers"]["mine"].encode("lowest") == TOK.encode("lowest")
    # Removing it takes it out of the store: a third session with the same link says so.
    second.switch_page("tokviz/pages/compare.py").run()
    second.button(key="cmp_rm_mine").click().run()
    third = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    third.query_params["own"] = own
    third.run()
    assert any("does not have" in plain(w.value) for w in third.warning)


@pytest.mark.slow
def test_the_page_says_when_a_linked_entry_or_a_cache_file_was_damaged(cache_dir):
    import streamlit as st

    warm = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    warm.run()  # trains the built-ins into the cache folder
    assert not warm.exception and not any("damaged" in plain(w.value) for w in warm.warning)
    h = TokenizerStore(cache_dir / "store").put(TOK, name="mine", source="test")
    _flip_a_byte(cache_dir / "store" / f"{h}.json")
    built_in = next(p for p in cache_dir.glob("bpe-gpt2-*.json"))
    _truncate(built_in)
    st.cache_resource.clear()  # a restart: the built-ins are read from the (damaged) cache folder again
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["own"] = h
    at.run()
    assert not at.exception
    said = [plain(w.value) for w in at.warning]
    assert any(h[:12] in w and "was damaged" in w and "removed" in w for w in said), said
    assert any(built_in.name in w and "was damaged" in w and "trained again" in w for w in said), said
    assert hashlib.sha256(built_in.read_bytes()).hexdigest() == built_in.with_name(
        built_in.name + ".sha256").read_text(encoding="ascii").strip()  # rebuilt, whole
    # Said once, to the session that met it: a later session has nothing to be told (before, every new session
    # was warned about the rebuilt file until the server restarted).
    later = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    later.run()
    assert not later.exception and not any("damaged" in plain(w.value) for w in later.warning)


@pytest.mark.slow
def test_a_session_that_ends_leaves_its_tokenizer_to_be_freed(cache_dir, tmp_path):
    """Nothing the pages keep at process level (caches, the menu, the store) holds a session's own tokenizer: once
    the session is gone, the tokenizer is freed (by reference counting, so at once)."""
    import gc
    import weakref

    own = TokenizerStore(cache_dir / "store").put(TOK, name="mine", source="test")
    session = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    session.query_params["own"] = own
    session.query_params["tok"] = "mine"
    session.query_params["text"] = "the lowest newest widest"
    session.run()
    assert not session.exception and "mine" in session.multiselect(key="chosen").value
    assert session.get("html")  # its tokens were drawn, so the page's caches have seen it
    mine = weakref.ref(session.session_state["user_tokenizers"]["mine"])
    session.switch_page("tokviz/pages/compare.py").run()
    session.switch_page("tokviz/pages/inspect.py").run()
    assert not session.exception
    del session
    gc.collect()  # AppTest's own script runner and element tree are cyclic; a real server drops them alike
    assert mine() is None


# -- writes that fail: said, never partial -------------------------------------------------------------------------
def _disk_full_after_half(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file write puts half its bytes down, then fails as a full disk does (a tmpfs would need root's mount)."""
    import errno

    def half_then_full(self: Path, data: Any, *args: Any, **kwargs: Any) -> int:
        with open(self, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_then_full)
    monkeypatch.setattr(Path, "write_text", half_then_full)


def test_a_full_disk_raises_and_leaves_no_partial_file(tmp_path, monkeypatch):
    store = TokenizerStore(tmp_path)
    _disk_full_after_half(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        store.put(TOK, name="mine", source="test")
    assert list(tmp_path.iterdir()) == []  # before, a .tmp file stayed for good


def test_a_store_path_that_is_a_file_raises(tmp_path):
    (tmp_path / "store").write_text("not a folder", encoding="utf-8")
    with pytest.raises(OSError):
        TokenizerStore(tmp_path / "store").put(TOK, name="mine", source="test")


def test_partial_files_are_swept_at_start_up_and_eviction(tmp_path):
    import os
    import time

    old, young = tmp_path / ".x.json.1.2.tmp", tmp_path / ".y.json.1.2.tmp"
    old.write_text("half", encoding="utf-8")
    young.write_text("being written", encoding="utf-8")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    store = TokenizerStore(tmp_path)  # start-up
    assert not old.exists() and young.exists()  # a young one may be another process's write in progress
    os.utime(young, (time.time() - 3600, time.time() - 3600))
    store.put(TOK, name="mine", source="test")  # eviction runs after each write
    assert not young.exists()


def test_the_text_and_run_stores_leave_nothing_partial_on_a_full_disk(tmp_path, monkeypatch):
    from tokviz.viewmodels.run_store import RunStore
    from tokviz.viewmodels.text_store import TextStore
    from tokviz.viewmodels.training_summary import TrainedRun, summarize

    texts = TextStore(tmp_path / "texts")
    runs = RunStore(tmp_path / "runs", texts=texts)
    h = TokenizerStore(tmp_path / "store").put(TOK, name="mine", source="test")
    run = TrainedRun(id=1, tokenizer=TOK, counts={"low": 3}, merges=[],
                     summary=summarize(TOK, seconds=1.0, heldout_ratio=None), texts=("low lower",), described="test")
    _disk_full_after_half(monkeypatch)
    assert texts.put("some text") is None
    kept = runs.put(h, run, holdout=0.0)
    assert not kept.kept and not kept.corpus_kept
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


@pytest.mark.slow  # 3.4 s measured: the full run has it, the quick loop does not
def test_the_page_says_a_tokenizer_it_could_not_keep_is_for_this_session_only(cache_dir, tmp_path, monkeypatch):
    import errno

    from tokviz.viewmodels import store as store_module

    path = tmp_path / "mine.json"
    save_tokenizer(TOK, path)
    monkeypatch.setenv("TOKVIZ_LOCAL_PATHS", str(tmp_path))

    def full(*args: Any, **kwargs: Any) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_module.TokenizerStore, "put", full)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params["view"] = "compare"
    app.run()
    app.text_input(key="cmp_path").set_value(str(path)).run()
    next(b for b in app.button if b.label == "Load from path").click().run()
    assert not app.exception
    said = " ".join(plain(w.value) for w in app.warning)
    assert "mine is kept for this session only (the server could not write it: No space left on device)" in said
    assert "a link to this view carries the settings only" in said
    assert "own" not in app.query_params  # and the link indeed names no stored tokenizer
    assert not app.success  # before, it said "Loaded" as if kept
