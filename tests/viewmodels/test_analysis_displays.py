"""The view models over anatomy, health, measures and budgets: rows, escaped HTML, figures and JSONL."""

from __future__ import annotations

import json

import pytest

from tokviz import Tokenizer, train_bpe
from tokviz.analysis.anatomy import anatomy, trace
from tokviz.analysis.budget import chunk_by_tokens
from tokviz.analysis.health import vocab_health
from tokviz.analysis.measures import measure_text, zipf
from tokviz.viewmodels.anatomy_display import (
    candidate_rows,
    card_rows,
    merge_tree_html,
    merge_tree_rows,
    trace_rows,
    trace_summary,
    used_by_rows,
)
from tokviz.viewmodels.budget_display import chunk_rows, chunks_jsonl
from tokviz.viewmodels.health_display import check_rows, summary_rows
from tokviz.viewmodels.measures_display import measure_help, measure_rows, zipf_figure

BYTES = {i: bytes([i]) for i in range(256)}


@pytest.fixture(scope="module")
def html_tok() -> Tokenizer:
    # Tokens made of markup, so that escaping is what stands between them and the page.
    return Tokenizer(BYTES | {256: b"<s", 257: b"<s>", 258: b"&<"}, [(b"<", b"s"), (b"<s", b">"), (b"&", b"<")],
                     pattern=r"\S+|\s+")


def test_anatomy_card_and_tree_are_escaped(html_tok: Tokenizer) -> None:
    a = anatomy(html_tok, 257)
    page = merge_tree_html(a)
    assert "&lt;s&gt;" in page and "<s>" not in page and page.count("<li>") == 5  # <s>, <s, <, s, >
    assert [r["token"] for r in merge_tree_rows(a)] == ["'<s>'", "'<s'", "'<'", "'s'", "'>'"]
    assert [r["depth"] for r in merge_tree_rows(a)] == [0, 1, 2, 2, 1]
    rows = dict(card_rows(a, occurrences=3))
    assert rows["Rank"] == "1" and rows["Built by merge"] == "2" and rows["In this text"] == "3 times"
    assert used_by_rows(anatomy(html_tok, 256), html_tok.vocab) == [{"id": 257, "token": "'<s>'"}]
    special = Tokenizer(BYTES, [], special_tokens=["<b>"])
    assert "tv-note" in merge_tree_html(anatomy(special, 256))


def test_trace_rows(html_tok: Tokenizer) -> None:
    t = trace(html_tok, "&<s>")
    rows = trace_rows(t, html_tok.vocab)
    assert len(rows) == t.n_steps == 2
    # Step 1: candidates (<,s) rank 0 and (&,<) rank 2; (<,s) wins. Step 2: (<s, >) rank 1 beats nothing else.
    assert [r["merged"] for r in rows] == ["'<' + 's'", "'<s' + '>'"]
    cands = candidate_rows(t.steps[0])
    assert [(c["rank"], c["chosen"]) for c in cands] == [(0, True), (2, False)]
    assert "2 merges leave 2 tokens" in trace_summary(t)


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
def test_health_tables(gpt2_tokenizer: Tokenizer) -> None:
    h = vocab_health(gpt2_tokenizer, corpus="The cat sat on the mat.")
    summary = summary_rows(h)
    assert [r["key"] for r in summary] == [c.key for c in h.checks]
    assert all(r["count"] == c.count for r, c in zip(summary, h.checks))
    rows = check_rows(h, "not_utf8", gpt2_tokenizer.vocab, limit=10)
    assert len(rows) == 10 and all("\\x" in str(r["token"]) for r in rows)
    # the list opens on tokens the vocabulary made, not on the 128 lone bytes every byte-level vocabulary has
    for key in ("not_utf8", "not_round_trip"):
        every = check_rows(h, key, gpt2_tokenizer.vocab, limit=10**6)
        sizes = [int(str(r["bytes"])) for r in every]
        assert sizes[0] > 1 and sizes == sorted(sizes, key=lambda n: n == 1), key
    dup = check_rows(h, "near_duplicates", gpt2_tokenizer.vocab, limit=7)
    assert len(dup) == 7 and dup[0]["group"] == 1
    longest = check_rows(h, "longest", gpt2_tokenizer.vocab, limit=3)
    assert [r["value"] for r in longest] == [float(r["bytes"]) for r in longest]  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no check 'never_produced' was computed"):
        check_rows(vocab_health(gpt2_tokenizer), "never_produced", gpt2_tokenizer.vocab)


def test_measure_table_and_zipf_figure(gpt2_tokenizer: Tokenizer) -> None:
    text = "the cat and the hat and the bat " * 3
    rows = measure_rows([measure_text(gpt2_tokenizer, text)])
    assert rows[0]["Tokens"] == len(gpt2_tokenizer.encode(text))
    assert "Cognetta" in measure_help("renyi_efficiency")
    with pytest.raises(ValueError, match="no measure"):
        measure_help("speed")
    z = zipf(gpt2_tokenizer.encode(text))
    fig = zipf_figure({"gpt2": z})
    assert list(fig.data[0].y) == z.frequencies and fig.layout.yaxis.type == "log"
    assert fig.data[1].name == "1/r"


def test_chunks_jsonl_round_trips() -> None:
    tok = train_bpe(["One sentence. Another one! " * 20], vocab_size=280)
    text = "One sentence. Another one! A third, longer sentence here.\n\nNew paragraph. 日本語 🌍"
    chunks = chunk_by_tokens(tok, text, max_tokens=12, boundary="sentence")
    lines = chunks_jsonl(chunks, tokenizer=tok.name).splitlines()
    records = [json.loads(line) for line in lines]
    assert "".join(r["text"] for r in records) == text
    assert [r["n_tokens"] for r in records] == [c.n_tokens for c in chunks]
    assert all(r["tokenizer"] == tok.name for r in records)
    assert [r["chunk"] for r in chunk_rows(chunks)] == list(range(1, len(chunks) + 1))
