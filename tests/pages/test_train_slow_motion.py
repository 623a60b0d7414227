"""The Train page's slow motion under Streamlit's AppTest: a run trained with "Slow motion" on opens on its player,
which plays the merges at the chosen pace, pauses, steps back and forth, and draws every part of a frame (progress,
chart, table, sample) from the same count; and the Summary keeps the merge chart and table after the run.

AppTest runs no fragment timers: each ``run()`` is one frame, and the player moves by the real time elapsed.
"""

from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tokviz.viewmodels.display import token_label
from tokviz.viewmodels.slow_motion import PlayState

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# Markup in the corpus makes merges of "<", "/" and "&", whose labels the frame must escape.
CORPUS = "".join(f"line {i}: the other <b>three</b> think that these are the truth & {i * 7919 % 1000}\n"
                 for i in range(2000))
PLAYER = "train_watch_1"


def ok(app: AppTest) -> AppTest:
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.fixture
def trained(cache_dir) -> AppTest:
    """A run of 300 tokens trained with slow motion on, filed."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["view"] = "train"
    ok(app.run())
    app.file_uploader(key="train_files").set_value([("c.txt", CORPUS.encode(), "text/plain")])
    app.number_input(key="train_vocab").set_value(300)
    app.toggle(key="train_slow").set_value(True)
    ok(app.run())
    ok(app.button(key="train_start").click().run())
    end = time.monotonic() + 60
    while "train_job" in app.session_state and time.monotonic() < end:
        time.sleep(0.1)
        ok(app.run())
    assert "train_job" not in app.session_state, "training did not finish"
    return app


def frame_numbers(app: AppTest) -> dict[str, int]:
    """The count each part of the drawn frame shows: progress line, headline, chart title and points, table."""
    frames = [h.proto.body for h in app.html if 'class="tv-slow"' in h.proto.body]
    assert len(frames) == 1, len(frames)
    body = frames[0]

    def number(pattern: str) -> int:
        found = re.search(pattern, body)
        return int(found.group(1).replace(",", "")) if found else 0

    return {"data": number(r'data-shown="(\d+)"'), "total": number(r'data-total="(\d+)"'),
            "progress": number(r"Merge ([\d,]+) of [\d,]+</p>"), "headline": number(r"Merge <b>([\d,]+)</b>:"),
            "chart title": number(r'alt="Count of each merged pair: ([\d,]+) of'),
            "chart points": number(r'data-points="(\d+)"'),
            "table": number(r'<tr><td class="n">([\d,]+)</td>'), "caption": number(r"<b>([\d,]+)</b> merges applied")}


def test_a_slow_motion_run_opens_on_its_player_and_plays_at_the_pace(trained):
    app = trained
    run = app.session_state["train_runs"]["trained-1 (gpt2, 300)"]
    n = len(run.merges)
    assert app.session_state["train_tab_1"] == "Slow motion"
    state: PlayState = app.session_state[PLAYER]
    assert state.playing and state.shown <= 2  # from the first merge
    nums = frame_numbers(app)
    assert nums["total"] == n and len(set(nums.values()) - {n}) == 1, nums  # every part shows the same count
    ok(app.segmented_control(key="train_watch_pace").set_value(10).run())
    before, t0 = app.session_state[PLAYER].shown, time.monotonic()
    time.sleep(1.0)
    ok(app.run())
    after, elapsed = app.session_state[PLAYER].shown, time.monotonic() - t0
    assert 8 <= after - before <= elapsed * 10 + 1, (before, after, elapsed)
    nums = frame_numbers(app)
    assert set(nums.values()) - {n} == {after}, nums


def test_pause_step_and_back_and_t_plus_h_becomes_th(trained):
    app = trained
    run = app.session_state["train_runs"]["trained-1 (gpt2, 300)"]
    ok(app.button(key=f"{PLAYER}_toggle").click().run())  # pause
    paused = app.session_state[PLAYER]
    assert not paused.playing
    time.sleep(0.6)
    ok(app.run())
    assert app.session_state[PLAYER].shown == paused.shown  # paused: time passes, nothing moves
    # Go to the merge before "t" + "h" and step onto it.
    k = next(m.rank + 1 for m in run.merges if (m.left, m.right) == (b"t", b"h"))
    app.session_state[PLAYER] = PlayState(k - 1, False, 2.0, time.monotonic())
    ok(app.button(key=f"{PLAYER}_step").click().run())
    assert app.session_state[PLAYER].shown == k and not app.session_state[PLAYER].playing
    body = "".join(h.proto.body for h in app.html)
    assert f"Merge <b>{k:,}</b>: <code>t</code> + <code>h</code> → <code>th</code>" in body
    after = body[body.index('data-step="after"'):]
    new = re.findall(r'class="tok [^"]*tv-new"[^>]*><span class="tv-text">([^<]*)<', after)
    assert new and all("th" in t for t in new)  # the sample's new tokens are the "th"s just made
    assert set(frame_numbers(app).values()) - {len(run.merges)} == {k}
    ok(app.button(key=f"{PLAYER}_back").click().run())
    assert app.session_state[PLAYER].shown == k - 1
    assert set(frame_numbers(app).values()) - {len(run.merges)} == {k - 1}
    # Play again from here: it moves on.
    ok(app.button(key=f"{PLAYER}_toggle").click().run())
    assert app.session_state[PLAYER].playing


def frame_body(app: AppTest) -> str:
    return next(h.proto.body for h in app.html if 'class="tv-slow"' in h.proto.body)


def headline(merge) -> str:
    """The frame's headline for ``merge``, its labels escaped."""
    left, right, new = (html.escape(token_label(t)) for t in (merge.left, merge.right, merge.token))
    return f"Merge <b>{merge.rank + 1:,}</b>: <code>{left}</code> + <code>{right}</code> → <code>{new}</code>"


def test_k_steps_from_the_start_show_merge_k(trained):
    app = trained
    run = app.session_state["train_runs"]["trained-1 (gpt2, 300)"]
    n = len(run.merges)
    ok(app.button(key=f"{PLAYER}_toggle").click().run())  # pause
    for _ in range(app.session_state[PLAYER].shown):  # back to the start, one merge at a time
        ok(app.button(key=f"{PLAYER}_back").click().run())
    assert app.session_state[PLAYER].shown == 0 and app.button(key=f"{PLAYER}_back").disabled
    assert "Before the first merge" in frame_body(app)
    assert set(frame_numbers(app).values()) - {n} == {0}
    for k in range(1, 7):
        ok(app.button(key=f"{PLAYER}_step").click().run())
        state = app.session_state[PLAYER]
        assert state.shown == k and not state.playing
        assert set(frame_numbers(app).values()) - {n} == {k}, (k, frame_numbers(app))
        assert headline(run.merges[k - 1]) in frame_body(app), k
    time.sleep(0.6)  # paused after a step: time passes, the frame stays
    ok(app.run())
    assert app.session_state[PLAYER].shown == 6


def test_markup_in_the_text_and_in_the_merges_is_drawn_as_text(trained):
    app = trained
    run = app.session_state["train_runs"]["trained-1 (gpt2, 300)"]
    ok(app.button(key=f"{PLAYER}_toggle").click().run())  # pause
    ok(app.text_input(key="train_watch_text").set_value("<script>alert(1)</script> & the").run())
    k = next(m.rank + 1 for m in run.merges if (m.left, m.right) == (b"<", b"/"))
    app.session_state[PLAYER] = PlayState(k - 1, False, 2.0, time.monotonic())
    ok(app.button(key=f"{PLAYER}_step").click().run())
    body = frame_body(app)
    assert "<script" not in body and "</script" not in body
    assert f"{headline(run.merges[k - 1])} (the pair was seen" in body
    assert f'<tr><td class="n">{k:,}</td><td>&lt;</td><td>/</td><td>&lt;/</td>' in body  # the table's newest row
    after = body[body.index('data-step="after"'):]
    new = re.findall(r'class="tok [^"]*tv-new"[^>]*><span class="tv-text">([^<]*)<', after)
    assert new == ["&lt;/"], new  # the sample's one "</", made by this merge


def test_the_summary_keeps_the_merge_chart_and_table_after_the_run(trained):
    app = trained
    run = app.session_state["train_runs"]["trained-1 (gpt2, 300)"]
    n = len(run.merges)
    app.session_state["train_tab_1"] = "Summary"
    ok(app.run())
    figs = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]
    counts = next(f for f in figs if "Count of each merged pair" in f["layout"]["title"]["text"])
    assert f"{n:,} merges" in counts["layout"]["title"]["text"]
    assert counts["data"][0]["x"][-1] == n and counts["data"][0]["y"][-1] == run.merges[-1].count
    assert any(f"**{n:,}** merges learned; the newest" in c.value for c in app.caption)
    table = next(d.value for d in app.dataframe if "new token" in d.value.columns)
    assert int(table["rank"].iloc[0]) == n
    assert not [p for p in app.get("progress")]  # the player is drawn only on its own tab
