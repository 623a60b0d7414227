"""The tokviz command: each subcommand in-process (capsys), errors as one line with exit 2, and the installed script."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tokviz import Tokenizer, load_tokenizer, train_bpe
from tokviz.cli.common import ProgressBar
from tokviz.cli.main import main
from tokviz.core.protocol import encode_as_shown
from tokviz.formats import save
from tokviz.formats.ours import load_ours_tokenizer
from tokviz.formats.pretrained import NAMED_ENCODINGS

CORPUS = ("the quick brown fox jumps over the lazy dog; the dog sleeps. it's 2024!\n"
          "héllo wörld 🌍 你好 <|endoftext|> more text here, and there.\n") * 30
SAMPLE = "the lazy fox 🌍 said: it's 2024<|endoftext|>你好"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli")
    (d / "corpus.txt").write_text(CORPUS, encoding="utf-8")
    (d / "latin1.txt").write_bytes("café crème\n".encode("latin-1"))
    tok = train_bpe([CORPUS], vocab_size=300, special_tokens=["<|endoftext|>"])
    save(tok, d / "tok.json", format="tokviz")
    return {"dir": d, "corpus": d / "corpus.txt", "latin1": d / "latin1.txt", "tok": d / "tok.json"}


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_train_saves_reports_and_shows_progress(files: dict[str, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "t.json"
    code, out, err = run(capsys, "train", files["corpus"], "--vocab-size", 320, "--special-token", "<|endoftext|>",
                         "--pattern", "gpt4", "-o", out_file)
    assert code == 0
    tok = load_tokenizer(out_file)
    expected = train_bpe([CORPUS], vocab_size=320, special_tokens=["<|endoftext|>"], pattern="gpt4")
    assert tok.merges == expected.merges and tok.pretokenizer.name == "gpt4"
    assert out.count("\n") == 1 and out.startswith(f"{len(expected.merges)} merges (vocab 320) in ")
    assert "Learned all" in out and str(out_file) in out
    assert "\rmerging " in err and f"{len(expected.merges)}/{len(expected.merges)} merges" in err


@pytest.mark.parametrize(("fmt", "target"), [("tiktoken", "t.tiktoken"), ("hf", "tokenizer.json"),
                                             ("minbpe", "t.model"), ("gpt2", "gpt2dir")])
def test_train_in_other_formats(fmt: str, target: str, files: dict[str, Path], tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "train", files["corpus"], "--vocab-size", 300, "-o", tmp_path / target,
                         "--format", fmt, "-q")
    assert code == 0 and "\r" not in err and f"({fmt})" in out
    ref = train_bpe([CORPUS], vocab_size=300)
    assert load_tokenizer(tmp_path / target).merges == ref.merges


def test_encode_text_file_and_stdin(files: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tok = load_ours_tokenizer(files["tok"])
    expected = " ".join(map(str, encode_as_shown(tok, SAMPLE)))
    assert run(capsys, "encode", SAMPLE, "-t", files["tok"])[:2] == (0, expected + "\n")
    (tmp_path / "s.txt").write_text(SAMPLE, encoding="utf-8")
    assert run(capsys, "encode", "-f", tmp_path / "s.txt", "-t", files["tok"])[:2] == (0, expected + "\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SAMPLE.encode("utf-8")), encoding="utf-8"))
    assert run(capsys, "encode", "-t", files["tok"])[:2] == (0, expected + "\n")


def test_encode_json_and_show_tokens(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    tok = load_ours_tokenizer(files["tok"])
    enc = tok.encode_with_offsets(SAMPLE)
    code, out, _ = run(capsys, "encode", SAMPLE, "-t", files["tok"], "--json", "--show-tokens")
    data = json.loads(out)
    assert code == 0 and data["ids"] == enc.ids and data["count"] == len(enc)
    assert [bytes.fromhex(t["bytes"]) for t in data["tokens"]] == enc.tokens
    assert [t["text"] for t in data["tokens"]] == [enc.text_of(i) for i in range(len(enc))]
    code, out, err = run(capsys, "encode", SAMPLE, "-t", files["tok"], "--show-tokens")
    lines = out.splitlines()
    assert code == 0 and [int(x.split("\t")[0]) for x in lines] == enc.ids
    assert f"{len(enc)} tokens" in err


def test_decode_round_trip(files: dict[str, Path], capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    ids = encode_as_shown(load_ours_tokenizer(files["tok"]), SAMPLE)
    assert run(capsys, "decode", *ids, "-t", files["tok"])[:2] == (0, SAMPLE + "\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(",".join(map(str, ids))))
    assert run(capsys, "decode", "-t", files["tok"])[:2] == (0, SAMPLE + "\n")


@pytest.mark.slow  # 0.6 s measured: the full run has it, the quick loop does not
def test_gpt2_files_encode_like_tiktoken(cs336_dir: Path, tiktoken_gpt2, capsys: pytest.CaptureFixture[str]) -> None:
    text = (cs336_dir / "german.txt").read_text(encoding="utf-8")
    code, out, _ = run(capsys, "encode", "-f", cs336_dir / "german.txt", "-t", cs336_dir / "gpt2_vocab.json",
                       cs336_dir / "gpt2_merges.txt")
    assert code == 0 and list(map(int, out.split())) == tiktoken_gpt2.encode(text, allowed_special="all")


def test_convert_then_encode_the_same(files: dict[str, Path], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    expected = run(capsys, "encode", SAMPLE, "-t", files["tok"])[1]
    code, out, err = run(capsys, "convert", files["tok"], "-o", tmp_path / "t.tiktoken", "--format", "tiktoken")
    assert code == 0 and "tokviz: note: a rank file stores no special tokens" in err
    code, out, _ = run(capsys, "encode", SAMPLE, "-t", tmp_path / "t.tiktoken", "--special-token", "<|endoftext|>")
    got = list(map(int, out.split()))
    # the rank file keeps every other id; a listed special is appended after the ranks (the trainer put it first)
    original = load_ours_tokenizer(files["tok"])
    converted = load_tokenizer(tmp_path / "t.tiktoken", special_tokens=["<|endoftext|>"])
    assert code == 0 and got == encode_as_shown(converted, SAMPLE)
    old_sid, new_sid = original.special_ids["<|endoftext|>"], converted.special_ids["<|endoftext|>"]
    assert [i if i != new_sid else old_sid for i in got] == encode_as_shown(original, SAMPLE)
    assert run(capsys, "convert", files["tok"], "-o", tmp_path / "h.json", "--format", "hf")[0] == 0
    assert run(capsys, "encode", SAMPLE, "-t", tmp_path / "h.json")[1] == expected


def test_diff_reports_tie(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = train_bpe([files["corpus"]], vocab_size=300, special_tokens=["<|endoftext|>"])
    assert a.training is not None
    counts = a.training.merge_counts
    k = next(i for i in range(len(counts) - 1) if counts[i] == counts[i + 1]
             and not set(a.merges[i]) & set(a.merges[i + 1]))
    merges = list(a.merges)
    merges[k], merges[k + 1] = merges[k + 1], merges[k]
    b = Tokenizer(a.vocab, merges, a.special_tokens, a.pattern, name="swapped")
    save(a, tmp_path / "a.json")
    save(b, tmp_path / "b.json")
    code, out, _ = run(capsys, "diff", tmp_path / "a.json", tmp_path / "b.json", "--corpus", files["corpus"],
                       "--text", SAMPLE)
    assert code == 0
    assert f"the first {k} are the same; merge {k + 1} differs" in out
    assert f"A's pair {counts[k]:,}, B's pair {counts[k]:,}: tie broken differently" in out
    assert "segments differ" in out


@pytest.mark.slow
def test_named_encodings_are_built_in(gpt2_tokenizer: Tokenizer, tiktoken_gpt2, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # an empty cache: the built-in files are enough
    for name in ("r50k_base", "gpt2"):
        code, out, _ = run(capsys, "encode", SAMPLE, "-t", name)
        assert code == 0 and list(map(int, out.split())) == tiktoken_gpt2.encode(SAMPLE, allowed_special="all")
    code, out, err = run(capsys, "encode", "Hello world", "-t", "o200k_base", "--show-tokens")
    assert code == 0 and out.splitlines() == ['13225\t"Hello"', '2375\t" world"'] and "(o200k_base)" in err
    code, _, err = run(capsys, "encode", "hi", "-t", "o200k_base", "--pattern", "gpt2")
    assert code == 2 and "has its own pattern" in err


@pytest.mark.slow  # over half a second: the full run has it, the quick loop does not
def test_list_shows_built_in_cached_and_unavailable(gpt2_tokenizer: Tokenizer, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    code, out, _ = run(capsys, "list")
    lines = out.splitlines()
    built, cache, missing = (lines.index(h) for h in (
        "built in (offline; checked against tiktoken's SHA-256 when loaded):", f"tiktoken's cache ({tmp_path}):",
        "not available here:"))
    assert code == 0 and built < cache < missing
    assert [ln.split()[0] for ln in lines[built + 1:cache]] == [e.name for e in NAMED_ENCODINGS]
    assert lines[cache + 1] == "  (none of the named encodings)"
    assert {ln.split()[0] for ln in lines[missing + 1:]} == {"whisper-multilingual", "llama3", "llama4", "qwen",
                                                              "qwen3.5"}
    r50k = next(e for e in NAMED_ENCODINGS if e.name == "r50k_base")
    save(gpt2_tokenizer, tmp_path / r50k.files[0].cache_key, format="tiktoken")
    code, out, _ = run(capsys, "encodings", "-v")  # the former name of the command still works
    cached = tmp_path / r50k.files[0].cache_key
    assert code == 0 and f"  r50k_base            {cached}  (the built-in copy is used)" in out
    assert "pip download --no-deps llama-models" in out


def test_unrecognised_rank_file_gets_a_note(files: dict[str, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    save(load_tokenizer(files["tok"]), tmp_path / "t.tiktoken", format="tiktoken")
    code, out, err = run(capsys, "encode", "the dog", "-t", tmp_path / "t.tiktoken")
    assert code == 0 and out.strip()
    assert err.startswith(f"tokviz: note: {tmp_path / 't.tiktoken'}: a rank file tokviz does not recognise")
    assert "--pattern" in err
    code, _, err = run(capsys, "encode", "the dog", "-t", tmp_path / "t.tiktoken", "--pattern", "gpt2")
    assert code == 0 and err == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["encode", "hi", "-t", "{dir}/missing.json"], "missing.json: no such file"),
        (["encode", "-f", "{latin1}", "-t", "{tok}"], "not valid UTF-8: the first bad byte is 0xe9 at byte 3"),
        (["train", "{latin1}", "--vocab-size", "300", "-o", "{dir}/x.json"], "not valid UTF-8"),
        (["train", "{corpus}", "--vocab-size", "256", "--special-token", "<s>", "-o", "{dir}/x.json"],
         "must be at least 257"),
        (["train", "{corpus}", "--vocab-size", "300", "--pattern", "(unclosed", "-o", "{dir}/x.json"],
         "does not compile"),
        (["train", "{dir}/nope.txt", "--vocab-size", "300", "-o", "{dir}/x.json"], "nope.txt: no such file"),
        (["train", "{corpus}", "--vocab-size", "300", "-o", "{dir}/no/such/dir/x.json"],
         "output folder does not exist"),
        (["encode", "hi", "-t", "{corpus}"], "not a tokenizer file this version recognises"),
        (["encode", "hi", "-t", "{dir}/bad.tiktoken"], "bad.tiktoken, line 2"),
        (["decode", "1", "x2", "-t", "{tok}"], "'x2' is not a token id"),
        (["decode", "999999", "-t", "{tok}"], "id 999999 is not in the vocabulary"),
        (["train", "{corpus}", "--vocab-size", "lots", "-o", "x"], "invalid int value"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str], message: str, files: dict[str, Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    (files["dir"] / "bad.tiktoken").write_bytes(b"IQ== 0\n!!! 1\n")
    code, out, err = run(capsys, *[a.format(**{k: str(v) for k, v in files.items()}) for a in argv])
    assert code == 2 and out == ""
    assert err.startswith("tokviz: error: ") and err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err


def test_progress_bar_is_throttled() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, width=10, interval=3600)
    for i in range(1000):
        bar.update("merging", i + 1, 1000)
    bar.update("merging", 1000, 1000, force=True)
    bar.close()
    assert out.getvalue().count("\r") == 2 and out.getvalue().endswith("1,000/1,000\n")


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
def test_installed_command(files: dict[str, Path]) -> None:
    exe = shutil.which("tokviz")
    if exe is None:
        pytest.fail("the tokviz command is not installed; run `pip install -e .`")
    ok = subprocess.run([exe, "encode", "-t", str(files["tok"])], input=SAMPLE.encode("utf-8"), capture_output=True,
                        timeout=60)
    assert ok.returncode == 0
    assert list(map(int, ok.stdout.split())) == encode_as_shown(load_ours_tokenizer(files["tok"]), SAMPLE)
    bad = subprocess.run([exe, "encode", "hi", "-t", str(files["dir"] / "missing.json")], capture_output=True,
                         timeout=60)
    assert bad.returncode == 2 and bad.stdout == b""
    assert bad.stderr.decode().startswith("tokviz: error:") and bad.stderr.count(b"\n") == 1


def test_rank_file_special_token_with_id_loads_back_to_the_same_ids(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("hello world<|endoftext|>hello there\n" * 50, encoding="utf-8")
    assert main(["train", str(corpus), "--vocab-size", "300", "--special-token", "<|endoftext|>",
                 "-o", str(tmp_path / "t.json"), "-q"]) == 0
    assert main(["convert", str(tmp_path / "t.json"), "-o", str(tmp_path / "t.tiktoken"), "--format", "tiktoken"]) == 0
    capsys.readouterr()
    text = "hi<|endoftext|>hello"
    assert main(["encode", text, "-t", str(tmp_path / "t.json")]) == 0
    ours = capsys.readouterr().out.split()
    assert main(["encode", text, "-t", str(tmp_path / "t.tiktoken"), "--special-token", "<|endoftext|>=0"]) == 0
    assert capsys.readouterr().out.split() == ours and "0" in ours
    assert main(["encode", text, "-t", str(tmp_path / "t.tiktoken"), "--special-token", "<|endoftext|>=0",
                 "--special-token", "<s>"]) == 2
    assert "TOKEN=ID" in capsys.readouterr().err


def test_train_on_files_equals_count_then_train(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `tokviz train F...` and `tokviz count F...` + `train --counts` read a list of files the same way: each file is
    # a document, so whitespace at a file's end does not join the next file's.
    texts = ["one two  \n\n", "  \n three four\t", "five  ", "   ", "\n six"]
    paths = []
    for i, text in enumerate(texts):
        paths.append(tmp_path / f"f{i}.txt")
        paths[-1].write_text(text * 30, encoding="utf-8")
    files = [str(p) for p in paths]
    assert main(["train", *files, "--vocab-size", "300", "-o", str(tmp_path / "a.json"), "-q"]) == 0
    assert main(["count", *files, "-o", str(tmp_path / "c.tsv"), "-q"]) == 0
    assert main(["train", "--counts", str(tmp_path / "c.tsv"), "--vocab-size", "300",
                 "-o", str(tmp_path / "b.json"), "-q"]) == 0
    capsys.readouterr()
    direct, counted = (load_tokenizer(tmp_path / name) for name in ("a.json", "b.json"))
    assert isinstance(direct, Tokenizer) and isinstance(counted, Tokenizer)
    assert direct.merges == counted.merges
    assert direct.merges != train_bpe(["".join(t * 30 for t in texts)], vocab_size=300).merges  # a test that can fail
