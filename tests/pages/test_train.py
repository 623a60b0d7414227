"""The Train view (ui/train.py) under Streamlit's AppTest: upload, train, cancel, replay, downloads, and every bad
input with its message, the session working on and earlier runs kept.

AppTest does not run a fragment's timer, so :func:`train` re-runs the page until the job is filed, as the timer would.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import plain, random_words
from streamlit.testing.v1 import AppTest

from tokviz.viewmodels.defaults import default_corpus

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CORPUS = "".join(f"line {i}: the quick brown fox jumps over the lazy dog {i * 7919 % 1000}\n" for i in range(3000))


@pytest.fixture
def at(cache_dir) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["view"] = "train"
    ok(app.run())
    return app


def ok(app: AppTest) -> AppTest:
    assert not app.exception, [e.value for e in app.exception]
    return app


def upload(app: AppTest, *files: tuple[str, bytes]) -> AppTest:
    app.file_uploader(key="train_files").set_value([(name, data, "text/plain") for name, data in files])
    return ok(app.run())


def texts(elements) -> list[str]:
    return [plain(e.value) for e in elements]


def train(app: AppTest, *, timeout: float = 60) -> AppTest:
    """Press Train, then re-run (as the fragment's timer does) until the run is filed."""
    ok(app.button(key="train_start").click().run())
    end = time.monotonic() + timeout
    while "train_job" in app.session_state and time.monotonic() < end:
        time.sleep(0.1)
        ok(app.run())
    assert "train_job" not in app.session_state, "training did not finish"
    return app


def runs(app: AppTest) -> dict:
    return app.session_state.get("train_runs", {})


def open_tab(app: AppTest, label: str, run_id: int = 1) -> None:
    """Select one of a finished run's tabs, as a click on it does (only the open tab is drawn)."""
    app.session_state[f"train_tab_{run_id}"] = label
    ok(app.run())


def test_upload_and_train(at):
    assert texts(at.info) == ["Upload one or more text files, or pick the built-in corpus."]
    assert at.button(key="train_start").disabled
    upload(at, ("a.txt", CORPUS[:60_000].encode()), ("b.txt", CORPUS[60_000:].encode()))
    assert any("2 files" in c.value for c in at.caption)
    at.number_input(key="train_vocab").set_value(400)
    at.text_input(key="train_specials").set_value("<|endoftext|>, <pad>")
    at.segmented_control(key="train_pattern").set_value("gpt4")
    ok(at.run())
    train(at)
    assert next(s.value for s in at.success).startswith("Trained **trained-1 (gpt4, 400)**")
    tok = at.session_state["user_tokenizers"]["trained-1 (gpt4, 400)"]
    assert tok.vocab_size == 400 and tok.special_tokens == ["<|endoftext|>", "<pad>"] and tok.pattern == "gpt4"
    heldout = at.session_state["user_heldout"]["trained-1 (gpt4, 400)"]
    assert heldout and CORPUS.endswith(heldout)  # the last tenth, which training did not see
    # the sidebar offers it, and the summary is drawn; the other tabs are drawn only once opened
    assert "trained-1 (gpt4, 400)" in at.multiselect(key="chosen").options
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Vocabulary size"] == "400" and metrics["Merges"] == "142"
    assert float(metrics["Held-out compression"]) > 1
    assert not at.get("download_button") and not at.slider and runs(at)["trained-1 (gpt4, 400)"].downloads is None
    open_tab(at, "Merge replay")
    assert at.slider(key="train_step_1").value == 1 and not at.metric
    open_tab(at, "Download")
    assert [b.label for b in at.get("download_button")] == [
        "tokviz JSON", "Hugging Face tokenizer.json", "GPT-2 vocab.json + merges.txt (zip)", "tiktoken rank file",
        "minbpe .model"]
    open_tab(at, "Merges")
    assert len(at.dataframe[0].value) == 142


def test_train_on_the_built_in_corpus_then_use_it_in_tokenize(at):
    at.radio(key="train_source").set_value("builtin")
    at.number_input(key="train_vocab").set_value(300)
    ok(at.run())
    assert any(f"{len(default_corpus().text):,} characters" in c.value for c in at.caption)
    train(at)
    name = "trained-1 (gpt2, 300)"
    assert name in runs(at)
    # The replay slider moves over the steps; the candidate table marks the merged pair.
    open_tab(at, "Merge replay")
    ok(at.slider(key="train_step_1").set_value(20).run())
    assert any(m.value.startswith("**Step 20** merged") for m in at.markdown)
    frames = [f.value for f in at.dataframe]
    assert any("note" in f.columns and "merged" in str(list(f["note"])) for f in frames)
    # A typed step moves the slider there in one go.
    ok(at.number_input(key="train_step_go_1").set_value(37).run())
    assert at.slider(key="train_step_1").value == 37
    assert any(m.value.startswith("**Step 37** merged") for m in at.markdown)
    # "Compare it in Tokenize" (on the Summary tab) chooses it and opens the Tokenize view with its tokens.
    open_tab(at, "Summary")
    ok(at.button(key="train_compare_1").click().run())
    assert at.session_state["view"] == "tokenize"
    assert at.multiselect(key="chosen").value[-1] == name
    ok(at.text_area(key="text").set_value("the lowest tokens").run())
    tok = at.session_state["user_tokenizers"][name]
    assert f'data-tokenizer="{name}"' in "".join(h.proto.body for h in at.html)
    # ... and the Observations view runs it too
    ok(at.switch_page("tokviz/pages/observations.py").run())
    assert name in "".join(h.proto.body for h in at.html)
    assert tok.vocab_size == 300


@pytest.mark.slow
def test_settings_and_runs_survive_a_trip_to_another_view(at):
    at.radio(key="train_source").set_value("builtin")
    at.number_input(key="train_vocab").set_value(260)
    at.segmented_control(key="train_pattern").set_value("o200k")
    ok(at.run())
    train(at)
    ok(at.switch_page("tokviz/pages/tokenize.py").run())
    ok(at.switch_page("tokviz/pages/train.py").run())
    assert at.number_input(key="train_vocab").value == 260
    assert at.segmented_control(key="train_pattern").value == "o200k"
    assert at.radio(key="train_source").value == "builtin"
    assert list(runs(at)) == ["trained-1 (o200k, 260)"]
    train(at)  # a second run is added, the first kept
    assert list(runs(at)) == ["trained-1 (o200k, 260)", "trained-2 (o200k, 260)"]
    assert at.selectbox(key="train_run").value == "trained-2 (o200k, 260)"


@pytest.mark.slow
def test_cancel_keeps_what_was_learned(at):
    upload(at, ("words.txt", random_words(20_000).encode()))
    at.number_input(key="train_vocab").set_value(50_000)
    ok(at.run())
    ok(at.button(key="train_start").click().run())
    end = time.monotonic() + 60
    while at.session_state["train_job"].poll().status in ("starting", "counting") and time.monotonic() < end:
        time.sleep(0.02)
    ok(at.run())
    assert at.get("progress")  # the live panel is drawn while the job runs
    ok(at.button(key="train_cancel").click().run())
    end = time.monotonic() + 60
    while "train_job" in at.session_state and time.monotonic() < end:
        time.sleep(0.1)
        ok(at.run())
    notes = texts(at.info)
    assert any(n.startswith(("Cancelled: kept the", "Cancelled before the first merge")) for n in notes), notes
    assert not at.button(key="train_start").disabled  # the session can train again


def test_non_utf8_file_is_located_and_can_be_trained_with_replacements(at):
    head = CORPUS[:30_000]
    data = head.encode() + b"caf\xe9\n" + CORPUS[30_000:60_000].encode()
    line, column = head.count("\n") + 1, len(head) - head.rfind("\n") + 3
    upload(at, ("latin1.txt", data))
    errors = texts(at.error)
    assert len(errors) == 1 and "latin1.txt is not valid UTF-8: the first bad byte is 0xe9 at byte 30003" in errors[0]
    assert f"(line {line}, column {column})" in errors[0] and at.button(key="train_start").disabled
    ok(at.checkbox(key="train_replace").check().run())
    assert texts(at.error) == []
    assert texts(at.warning) == ["Replaced 1 invalid UTF-8 byte with U+FFFD (�) in latin1.txt."]
    at.number_input(key="train_vocab").set_value(300)
    train(ok(at.run()))
    assert "trained-1 (gpt2, 300)" in runs(at)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty.txt is empty: upload a text file with some content."),
     (b"  \n\t\n", "empty.txt holds only whitespace: upload a file with some text.")],
)
def test_empty_files_are_refused_with_a_message(at, data, message):
    upload(at, ("empty.txt", data))
    assert texts(at.error) == [message] and at.button(key="train_start").disabled
    assert at.get("checkbox") == []  # nothing to replace


def test_a_file_over_the_limit_is_refused(at, monkeypatch):
    monkeypatch.setenv("TOKVIZ_TRAIN_MAX_MB", "0.01")
    upload(at, ("big.txt", b"x" * 20_000 + b"\n"))
    assert texts(at.error) == [
        "big.txt is 20.0 KB, over the limit of 10.0 KB: upload a smaller file or a sample of it."]
    assert at.button(key="train_start").disabled


def test_a_size_the_corpus_cannot_reach_stops_early_and_keeps_the_merges(at):
    upload(at, ("small.txt", b"ab ab ab\n" * 20))
    at.number_input(key="train_vocab").set_value(5000)
    train(ok(at.run()))
    warning = texts(at.warning)[0]
    assert "no pair" in warning and "Kept what it learned" in warning and "of the 5,000 asked for" in warning
    (name, run), = runs(at).items()
    assert run.tokenizer.vocab_size < 5000 and name in at.session_state["user_tokenizers"]


def test_bad_settings_are_messages_and_earlier_runs_stay(at):
    at.radio(key="train_source").set_value("builtin")
    at.number_input(key="train_vocab").set_value(270)
    train(ok(at.run()))
    first = list(runs(at))
    # a vocabulary smaller than 256 bytes + 1 special token
    at.number_input(key="train_vocab").set_value(256)
    ok(at.button(key="train_start").click().run())
    assert "at least 257" in texts(at.error)[0]
    # an invalid regex
    at.number_input(key="train_vocab").set_value(300)
    at.segmented_control(key="train_pattern").set_value("custom")
    ok(at.run())
    at.text_input(key="train_regex").set_value("(unclosed")
    ok(at.button(key="train_start").click().run())
    assert "does not compile" in texts(at.error)[0]
    assert list(runs(at)) == first and first[0] in at.session_state["user_tokenizers"]
    assert not at.button(key="train_start").disabled


@pytest.mark.slow
def test_a_regex_that_times_out_during_training_is_a_message(at):
    upload(at, ("x.txt", ("x" * 60 + "\n" + "y\n" * 5).encode()))
    at.segmented_control(key="train_pattern").set_value("custom")
    ok(at.run())
    at.text_input(key="train_regex").set_value(r"(x|x)+y|.|\n")
    at.number_input(key="train_vocab").set_value(300)
    train(ok(at.run()), timeout=120)
    error = texts(at.error)[0]
    assert "catastrophic" in error and "Nothing was added" in error
    assert runs(at) == {} and not at.button(key="train_start").disabled


def test_uploads_are_kept_while_another_view_is_shown(at):
    upload(at, ("notes.txt", CORPUS[:50_000].encode()))
    ok(at.switch_page("tokviz/pages/tokenize.py").run())
    ok(at.switch_page("tokviz/pages/train.py").run())
    # Streamlit emptied the uploader; the page says it still has the file, and trains on it
    assert any("`notes.txt`" in c.value and "uploaded before" in c.value for c in at.caption)
    assert not at.button(key="train_start").disabled
    at.number_input(key="train_vocab").set_value(300)
    ok(at.run())
    assert any("`notes.txt`" in c.value for c in at.caption)  # still kept on later runs of the view
    train(at)
    run = runs(at)["trained-1 (gpt2, 300)"]
    assert run.described == "notes.txt" and "".join(run.texts) == CORPUS[:50_000]
    # "Forget" drops them
    ok(at.button(key="train_forget").click().run())
    assert texts(at.info) == ["Upload one or more text files, or pick the built-in corpus."]
    assert at.button(key="train_start").disabled


def test_files_removed_from_the_uploader_are_not_kept(at):
    upload(at, ("a.txt", CORPUS[:20_000].encode()))
    ok(at.file_uploader(key="train_files").set_value([]).run())
    assert texts(at.info) == ["Upload one or more text files, or pick the built-in corpus."]
    ok(at.switch_page("tokviz/pages/tokenize.py").run())
    ok(at.switch_page("tokviz/pages/train.py").run())
    assert at.button(key="train_start").disabled


def test_a_run_goes_on_while_another_view_is_shown_and_joins_the_list_when_done(at):
    upload(at, ("words.txt", random_words(8_000, seed=3).encode()))
    at.number_input(key="train_vocab").set_value(5_000)
    ok(at.run())
    ok(at.button(key="train_start").click().run())
    ok(at.switch_page("tokviz/pages/tokenize.py").run())
    # Still running (a few seconds of merging): the Tokenize view's sidebar shows how far it is.
    assert "train_job" in at.session_state
    assert len(at.sidebar.get("progress")) == 1
    assert any("Training runs on" in c.value for c in at.sidebar.caption)
    end = time.monotonic() + 60
    while "train_job" in at.session_state and time.monotonic() < end:
        time.sleep(0.1)
        ok(at.run())  # as the sidebar fragment's timer would
    assert "train_job" not in at.session_state, "training did not finish"
    name = "trained-1 (gpt2, 5k)"
    assert name in at.multiselect(key="chosen").options  # filed from the Tokenize view
    assert any(name in t.value for t in at.toast)  # and announced there once
    ok(at.run())
    assert not at.toast


def test_trained_on_all_of_corpus_en_the_view_gives_the_reference_merges(at, cs336_dir):
    # With the held-out tenth on (the default), the run sees 90% of the corpus and departs from the reference; off,
    # it trains on all of it, as the library and the CLI do.
    from helpers import read_reference_merges

    upload(at, ("corpus.en", (cs336_dir / "corpus.en").read_bytes()))
    assert at.toggle(key="train_holdout").value is True
    at.toggle(key="train_holdout").set_value(False)
    at.number_input(key="train_vocab").set_value(500)
    at.text_input(key="train_specials").set_value("<|endoftext|>")
    train(ok(at.run()))
    (run,) = runs(at).values()
    assert run.tokenizer.merges == read_reference_merges(cs336_dir / "train-bpe-reference-merges.txt")
    assert run.summary.heldout_ratio is None  # nothing was held out to measure on


def test_a_vocabulary_size_out_of_range_is_said_and_train_stays_off(at):
    at.radio(key="train_source").set_value("builtin")
    ok(at.number_input(key="train_vocab").set_value(100).run())
    # The value typed is kept (not the old one), said to be too small, and Train cannot run with it.
    assert at.number_input(key="train_vocab").value == 100
    assert texts(at.error) == ["Vocabulary size 100 is too small: it must be at least 257 (256 single bytes + 1 "
                               "special token). Train stays off until it is."]
    assert at.button(key="train_start").disabled
    ok(at.text_input(key="train_specials").set_value("").run())
    assert "at least 256 (256 single bytes + 0 special tokens)" in texts(at.error)[0]
    ok(at.number_input(key="train_vocab").set_value(1_000_000).run())
    assert texts(at.error) == ["Vocabulary size 1,000,000 is too large for this page: at most 100,000. Train stays "
                               "off until it is."]
    assert at.button(key="train_start").disabled
    ok(at.number_input(key="train_vocab").set_value(300).run())
    assert texts(at.error) == [] and not at.button(key="train_start").disabled
    train(at)
    assert list(runs(at)) == ["trained-1 (gpt2, 300)"]  # the size shown is the size trained


# -- a run comes back with its tokenizer: a refresh, a restart or a link is a fresh session ------------------------
def fresh_session(params: dict[str, str | list[str]]) -> AppTest:
    """A new session opened on a link (a refresh or a colleague's browser), as app.py reads it on its first run."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in params.items():
        app.query_params[key] = value
    app.query_params["view"] = "train"  # a browser's link names the page in its path, which AppTest does not have
    return ok(app.run())


def link_of(app: AppTest) -> dict[str, str | list[str]]:
    """The link the session wrote (every setting of the view, its own tokenizers by hash)."""
    return {k: app.query_params[k] for k in app.query_params}


def replay_drawn(app: AppTest) -> tuple[list[str], list[list[object]], list[str]]:
    steps = [m.value for m in app.markdown if m.value.startswith("**Step")]
    frames = [f.value.astype(str).values.tolist() for f in app.dataframe]
    return steps, frames, [h.proto.body for h in app.html if "step" in h.proto.body.lower()]


def test_a_link_brings_back_the_run_its_summary_merges_and_replay_step(at, cache_dir):
    at.radio(key="train_source").set_value("builtin")
    at.number_input(key="train_vocab").set_value(300)
    ok(at.run())
    train(at)
    name = "trained-1 (gpt2, 300)"
    original = runs(at)[name]
    summary = {m.label: m.value for m in at.metric}
    open_tab(at, "Merge replay")
    ok(at.number_input(key="train_step_go_1").set_value(20).run())
    drawn = replay_drawn(at)
    assert drawn[0] == [next(m.value for m in at.markdown if m.value.startswith("**Step 20** merged"))]
    link = link_of(at)
    assert link["own"] and link["train_step_1"] in ("20", ["20"]) and link["train_tab_1"] in ("Merge replay",
                                                                                              ["Merge replay"])
    assert any(p.name.endswith(".run.json") for p in (cache_dir / "runs").iterdir())

    b = fresh_session(link)
    assert b.session_state["view"] == "train" and name in b.session_state["user_tokenizers"]
    again = runs(b)[name]
    assert again.id == 1 and again.merges == original.merges and again.counts == original.counts
    assert again.summary == original.summary and again.texts == original.texts and again.texts_kept
    assert b.slider(key="train_step_1").value == 20
    assert replay_drawn(b) == drawn  # the step, its candidate pairs, the corpus line and what the step did to it
    assert b.segmented_control(key="train_sample_kind").value == "corpus"
    assert not b.warning  # nothing missing, nothing damaged
    open_tab(b, "Summary")
    assert {m.label: m.value for m in b.metric} == summary
    open_tab(b, "Merges")
    assert len(b.dataframe[0].value) == len(original.merges)
    open_tab(b, "Download")
    assert len(b.get("download_button")) == 5
    # The next run of the new session takes a fresh id and name, beside the one brought back.
    b.number_input(key="train_vocab").set_value(280)
    ok(b.run())
    train(b)
    assert list(runs(b)) == [name, "trained-2 (gpt2, 280)"] and runs(b)["trained-2 (gpt2, 280)"].id == 2


def _train_small(app: AppTest, vocab: int = 280) -> str:
    upload(app, ("small.txt", CORPUS[:20_000].encode()))
    app.number_input(key="train_vocab").set_value(vocab)
    ok(app.run())
    train(app)
    return next(iter(runs(app)))


def test_a_damaged_run_record_is_said_and_the_tokenizer_still_comes_back(at, cache_dir):
    name = _train_small(at)
    h = at.session_state["_own_hashes"][name]
    record = cache_dir / "runs" / f"{h}.run.json"
    data = record.read_text(encoding="utf-8")
    assert '"described": "small.txt"' in data
    record.write_text(data.replace('"described": "small.txt"', '"described": "edited"'), encoding="utf-8")
    b = fresh_session(link_of(at))
    assert name in b.session_state["user_tokenizers"] and name not in runs(b)
    notes = texts(b.warning)
    assert any("record of the training run" in n and "damaged" in n for n in notes), notes
    assert not record.exists()


def test_removing_the_tokenizer_removes_its_run_on_the_server_too(at, cache_dir):
    name = _train_small(at)
    link = link_of(at)
    h = at.session_state["_own_hashes"][name]
    assert (cache_dir / "runs" / f"{h}.counts.tsv").exists()
    ok(at.switch_page("tokviz/pages/compare.py").run())
    ok(at.button(key=f"cmp_rm_{name}").click().run())
    assert name not in runs(at) and not list((cache_dir / "runs").glob(f"{h}.*"))
    b = fresh_session(link)
    assert name not in b.session_state["user_tokenizers"] and not runs(b)


def test_a_corpus_too_big_to_keep_is_said_and_the_replay_offers_your_own_text(at, monkeypatch):
    from tokviz.viewmodels import text_store

    monkeypatch.setattr(text_store, "MAX_TEXT_BYTES", 10_000)  # the 20 KB upload is too big to keep
    name = _train_small(at)
    assert "Its corpus is too big to keep on the server" in next(s.value for s in at.success)
    b = fresh_session(link_of(at))
    run = runs(b)[name]
    assert not run.texts_kept and run.texts == () and run.merges == runs(at)[name].merges
    open_tab(b, "Merge replay", run.id)
    assert "train_sample_kind" not in [w.key for w in b.segmented_control]  # no corpus line to pick
    assert any("corpus is not kept on the server" in c.value for c in b.caption)
    assert any(m.value.startswith("**Step 1** merged") for m in b.markdown)
    assert b.text_input(key="train_sample").value  # the replay runs on the user's own text
    assert any("This step" in c.value for c in b.caption)


def test_a_linked_step_past_the_last_merge_is_the_last_step(at):
    name = _train_small(at, vocab=270)
    link = {**link_of(at), "train_tab_1": "Merge replay", "train_step_1": "999"}
    b = fresh_session(link)
    assert b.slider(key="train_step_1").value == len(runs(b)[name].merges) == 270 - 256 - 1


# -- a run the server cannot write: said on the page, and the link says what it carries ----------------------------
def _writes_fail(monkeypatch, errno_: int, *modules: str) -> None:
    """Every file the named store modules write puts half its bytes down, then fails with ``errno_`` (a full disk, a
    read-only file system), as the disk would; root, as these tests may run, writes into a chmod-ed folder anyway."""
    import os

    from tokviz.viewmodels import store as store_module

    real = store_module.write_atomically

    def fail(tmp: Path) -> None:
        tmp.write_bytes(b"half of it")
        raise OSError(errno_, os.strerror(errno_))

    for name in modules:
        monkeypatch.setattr(f"tokviz.viewmodels.{name}.write_atomically", lambda path, write: real(path, fail))


def _train_unique(app: AppTest, tag: str, vocab: int) -> str:
    """Train a tokenizer (``vocab`` no other test trains) on a corpus no other test uses: the stores keep one copy
    of a text, a tokenizer and its run, so what another test kept already would need no write."""
    upload(app, ("small.txt", (CORPUS[:20_000] + f"{tag} only here\n").encode()))
    app.number_input(key="train_vocab").set_value(vocab)
    ok(app.run())
    train(app)
    return next(iter(runs(app)))


def _said(app: AppTest) -> str:
    return " ".join(texts([*app.success, *app.warning, *app.info]))


@pytest.mark.parametrize("errno_name", ["EROFS", "ENOSPC"])
def test_a_tokenizer_the_server_cannot_write_is_said_to_be_for_this_session_only(at, cache_dir, monkeypatch,
                                                                                  errno_name):
    import errno
    import os

    _writes_fail(monkeypatch, getattr(errno, errno_name), "store", "run_store", "text_store")
    name = _train_unique(at, errno_name, 271 if errno_name == "EROFS" else 272)
    said = _said(at)
    why = os.strerror(getattr(errno, errno_name))
    assert f"{name} is kept for this session only (the server could not write it: {why})" in said, said
    assert "a link to this view carries the settings only" in said
    assert name in at.session_state["user_tokenizers"]  # usable now, in every view
    assert "own" not in at.query_params  # the link names no stored tokenizer it does not have
    assert [p.name for p in cache_dir.rglob("*.tmp")] == []  # and the half-written files went


def test_a_cache_path_that_is_a_file_is_said(at, tmp_path, monkeypatch):
    from tokviz.pages import registry
    from tokviz.viewmodels.run_store import RunStore
    from tokviz.viewmodels.store import TokenizerStore
    from tokviz.viewmodels.text_store import TextStore

    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be", encoding="utf-8")
    monkeypatch.setattr(registry, "store", lambda: TokenizerStore(blocked / "store"))
    monkeypatch.setattr(registry, "run_store", lambda: RunStore(blocked / "runs", texts=TextStore(blocked / "texts")))
    name = _train_unique(at, "blocked", 273)
    said = _said(at)
    assert f"{name} is kept for this session only (the server could not write it: Not a directory)" in said, said
    assert "a link to this view carries the settings only" in said
    assert "own" not in at.query_params
    assert blocked.read_text(encoding="utf-8") == "a file where the cache folder should be"


def test_a_run_record_the_disk_refuses_is_said_and_the_tokenizer_still_comes_back(at, cache_dir, monkeypatch):
    import errno

    _writes_fail(monkeypatch, errno.ENOSPC, "run_store", "text_store")  # the tokenizer fits, its record does not
    name = _train_unique(at, "no record", 274)
    said = _said(at)
    assert "The record of its run could not be written on the server" in said, said
    assert "kept for this session only" not in said
    assert [p.name for p in cache_dir.rglob("*.tmp")] == []
    monkeypatch.undo()
    b = fresh_session(link_of(at))
    assert name in b.session_state["user_tokenizers"] and name not in runs(b)  # as the message said


def test_a_corpus_the_disk_refuses_is_said(at, cache_dir, monkeypatch):
    import errno

    _writes_fail(monkeypatch, errno.ENOSPC, "text_store")  # the tokenizer and its record fit, the corpus does not
    name = _train_unique(at, "no corpus", 275)
    said = _said(at)
    assert "Its corpus is too big to keep on the server (or the server could not write it)" in said, said
    assert [p.name for p in cache_dir.rglob("*.tmp")] == []
    monkeypatch.undo()
    b = fresh_session(link_of(at))
    assert not runs(b)[name].texts_kept and runs(b)[name].merges == runs(at)[name].merges
