"""The Files page's table: cells per (file, tokenizer), totals, the CSV, and the count run in a child process."""

from __future__ import annotations

import csv
import io

import pytest

from tokviz.formats.pretrained import load_encoding
from tokviz.models.baselines import ByteTokenizer
from tokviz.viewmodels.file_table import FileInput, count_table, count_table_in_child

TEXT = "Hello world, counted whole. 12345 🙂\n" * 500


def _inputs() -> list[FileInput]:
    data = TEXT.encode()
    rows = b'{"text": "one two"}\n{"text": "three"}\n'
    return [FileInput("a.txt", lambda: io.BytesIO(data), len(data)),
            FileInput("b.jsonl", lambda: io.BytesIO(rows), len(rows), column="text"),
            FileInput("bad.txt", lambda: io.BytesIO(b"\xff"), 1)]


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
def test_cells_totals_and_csv() -> None:
    gpt4 = load_encoding("cl100k_base")
    t = count_table(_inputs(), {"gpt4": gpt4, "byte": ByteTokenizer()}, contexts={"gpt4": 1000})
    by = {(c.file, c.tokenizer): c for c in t.cells + t.totals}
    assert by["a.txt", "gpt4"].count.tokens == len(gpt4.encode(TEXT))
    assert by["b.jsonl", "byte"].count.tokens == len("one two") + len("three")
    assert by["bad.txt", "gpt4"].count is None and "not UTF-8" in by["bad.txt", "gpt4"].error
    assert by["(total)", "byte"].count.tokens == len(TEXT.encode()) + 12
    rows = t.rows(with_totals=True)
    assert rows[0]["of context"] == f"{len(gpt4.encode(TEXT)) / 1000:.1%} of 1,000"
    assert rows[3]["of context"] == ""  # no context for the byte baseline
    parsed = list(csv.DictReader(io.StringIO(t.csv())))
    assert [(r["file"], r["tokenizer"]) for r in parsed][-2:] == [("(total)", "gpt4"), ("(total)", "byte")]
    assert parsed[0]["share_of_context"] == f"{len(gpt4.encode(TEXT)) / 1000:.6f}"


def test_the_child_gives_the_same_table_and_reports_progress() -> None:
    toks = {"gpt4": load_encoding("cl100k_base")}
    seen: list[float] = []
    here = count_table(_inputs(), toks)
    there = count_table_in_child(_inputs(), toks, on_progress=lambda share, what: seen.append(share))
    assert there == here
    assert seen and seen == sorted(seen) and seen[-1] <= 1.0


class Broken(ByteTokenizer):
    def encode_iterable(self, chunks):  # a bug in a tokenizer: not a ValueError
        raise RuntimeError("boom")


def test_a_failure_in_the_child_is_a_message() -> None:
    with pytest.raises(ValueError, match="counting failed: RuntimeError: boom"):
        count_table_in_child(_inputs()[:1], {"broken": Broken()})
