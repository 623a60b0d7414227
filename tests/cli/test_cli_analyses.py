"""The analysis commands: ``tokviz explain``, ``tokviz inspect`` and ``tokviz chunk``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokviz import Tokenizer, save_tokenizer
from tokviz.analysis.anatomy import trace
from tokviz.cli.main import main
from tokviz.formats.gpt2 import load_gpt2

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tok_file(tmp_path_factory: pytest.TempPathFactory, cs336_dir: Path) -> Path:
    tok = load_gpt2(cs336_dir / "gpt2_vocab.json", cs336_dir / "gpt2_merges.txt",
                     special_tokens=["<|endoftext|>"], pattern="gpt2")
    path = tmp_path_factory.mktemp("tok") / "gpt2.json"
    save_tokenizer(tok, path)
    return path


def test_explain_replays_every_piece(tok_file: Path, gpt2_tokenizer: Tokenizer,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "Hello tokenization", "-t", str(tok_file)]) == 0
    out = capsys.readouterr().out
    expected = trace(gpt2_tokenizer, " tokenization")
    assert "piece ' tokenization' (chars 5-18, 13 bytes):" in out
    assert out.count("  step ") == len(trace(gpt2_tokenizer, "Hello").steps) + expected.n_steps
    for i in expected.ids:
        assert f"\n  {i}\t" in out
    assert "(((' ' + 't') + 'o') + ('k' + ('e' + 'n')))" in out  # ' token', bracketed down to bytes


def test_explain_at_a_character_and_on_a_rank_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "one two three", "-t", "cl100k_base", "--at", "5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("piece ' two' (chars 3-7") and "lowest-ranked token" in out
    assert out.count("piece ") == 1


def test_explain_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "abc", "-t", "gpt2", "--at", "9"]) == 2
    assert "char_index must be in 0..2" in capsys.readouterr().err


def test_inspect(tok_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("The cat sat on the mat.\n" * 10, encoding="utf-8")
    assert main(["inspect", str(tok_file), "--corpus", str(corpus), "--limit", "2"]) == 0
    out = capsys.readouterr().out
    for title in ("Not round-trip: 344.", "Not whole UTF-8: 344.", "Never produced:", "Mostly a part:", "Longest:",
                  "Near-duplicates:"):
        assert title in out
    assert main(["inspect", str(tok_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_regular"] == 50256 and "never_produced" not in data["checks"]
    assert data["checks"]["not_utf8"]["count"] == len(data["checks"]["not_utf8"]["ids"]) == 344
    assert main(["inspect", str(tok_file), "--corpus", str(tmp_path / "missing.txt")]) == 2
    assert "missing.txt: no such file" in capsys.readouterr().err


def test_chunk_writes_jsonl(tok_file: Path, gpt2_tokenizer: Tokenizer, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    text = "First sentence here. Second one!\n\nA new paragraph with more words in it. End."
    src = tmp_path / "t.txt"
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "chunks.jsonl"
    assert main(["chunk", str(src), "-t", str(tok_file), "--max-tokens", "8", "--at", "sentence", "-o", str(out)]) == 0
    assert "chunks of at most 8 tokens" in capsys.readouterr().err
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert "".join(r["text"] for r in records) == text
    assert all(len(gpt2_tokenizer.encode(r["text"])) == r["n_tokens"] <= 8 for r in records)
    assert records[0]["text"] == "First sentence here. " and records[0]["cut"] == "sentence"
    assert main(["chunk", str(src), "-t", str(tok_file), "--max-tokens", "1000"]) == 0
    assert [json.loads(x)["text"] for x in capsys.readouterr().out.splitlines()] == [text]


def test_chunk_errors(tok_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "t.txt"
    src.write_text("x", encoding="utf-8")
    assert main(["chunk", str(src), "-t", str(tok_file), "--max-tokens", "0"]) == 2
    assert "max_tokens must be" in capsys.readouterr().err
    assert main(["chunk", str(src), "-t", str(tok_file), "--max-tokens", "3", "--at", "word"]) == 2
    assert "invalid choice: 'word'" in capsys.readouterr().err
    assert main(["chunk", str(src), "-t", str(tok_file), "--max-tokens", "3", "-o", str(tmp_path / "no" / "x")]) == 2
    assert "output folder does not exist" in capsys.readouterr().err
