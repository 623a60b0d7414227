"""Replay display: candidate rows with tie marks, the before/after chips, and a corpus stretch where a step applies."""

from __future__ import annotations

from collections import Counter

from tokviz import train_bpe
from tokviz.analysis.replay import candidates_at, step_effect
from tokviz.training.trainer import count_corpus, train_from_counts
from tokviz.viewmodels.replay_display import candidate_rows, render_step_effect, sample_for_step

CORPUS = "".join(f"the lowest newest widest {i}, said héllo 🌍\n" for i in range(300))


def test_rows_mark_the_winner_and_the_ties() -> None:
    counts = Counter({"ab": 3, "ba": 3, "cd": 1})
    tok = train_from_counts(counts, vocab_size=258)
    rows = candidate_rows(candidates_at(tok, counts, step=0))
    assert [(r["left"], r["right"], r["count"], r["note"]) for r in rows] == [
        ("b", "a", 3, "merged (won the tie)"), ("a", "b", 3, "tied"), ("c", "d", 1, "")]
    assert [r["#"] for r in rows] == [1, 2, 3]
    # without a tie the winner is simply "merged"
    counts = Counter({"ab": 5, "cd": 1})
    rows = candidate_rows(candidates_at(train_from_counts(counts, vocab_size=257), counts, step=0))
    assert rows[0]["note"] == "merged" and rows[1]["note"] == ""


def test_step_effect_outlines_exactly_the_new_tokens() -> None:
    tok = train_bpe([CORPUS], vocab_size=300)
    effect = step_effect(tok, "<b>the lowest</b> 🌍", step=3)
    html_ = render_step_effect(effect, tokenizer="t<1>")
    assert html_.count("tv-new") - 1 == sum(effect.changed)  # one more in the style rule
    assert "<b>" not in html_ and "&lt;" in html_ and "t&lt;1&gt;" in html_
    assert html_.count('class="tok ') == len(effect.before) + len(effect.after)
    assert f"{len(effect.before):,} tokens" in html_ and "\ufffd" not in html_
    # Every card stays hidden by its own markup until the page's hover rule shows it.
    assert html_.count('class="tv-card" hidden>') == html_.count('class="tok ')


def test_the_sample_shows_the_step() -> None:
    counts = count_corpus([CORPUS])
    tok = train_from_counts(counts, vocab_size=320)
    for step in range(len(tok.merges)):
        text = sample_for_step(tok, [CORPUS], step=step)
        assert text and len(text) <= 240, step
        assert step_effect(tok, text, step=step).n_merged > 0, (step, tok.merges[step], text)


def test_no_sample_when_the_step_never_applies_in_the_text() -> None:
    tok = train_bpe(["x    y\n" * 9], vocab_size=257)
    assert tok.merges[0] == (b" ", b" ")
    assert sample_for_step(tok, ["a  b\nthe  end\n"], step=0) == ""  # two spaces, but never inside one piece
    assert sample_for_step(tok, ["x    y\n" * 5], step=0, max_lines=0) == ""
