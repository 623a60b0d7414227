"""encode_corpus: one flat .bin or .npy of ids (or shards) equal to ``encode`` of each document, EOT between, in
order, bounded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, load_tokenizer, train_bpe
from tokviz.core.protocol import encode_as_shown
from tokviz.corpus.id_files import IdsOutput
from tokviz.corpus.ids import encode_corpus, ids_dtype, windowed

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow

np = pytest.importorskip("numpy", reason="numpy (the scale extra) holds the id arrays")
EOT = "<|endoftext|>"


def _docs(folder: Path, texts: list[str]) -> list[Path]:
    paths = []
    for i, t in enumerate(texts):
        p = folder / f"d{i}.txt"
        p.write_text(t, encoding="utf-8")
        paths.append(p)
    return paths


def _expected(tok: Any, texts: list[str], eot: int | None) -> list[int]:
    out: list[int] = []
    for i, t in enumerate(texts):
        if i and eot is not None:
            out.append(eot)
        out += encode_as_shown(tok, t)
    return out


AWKWARD = [
    ("a b" + EOT) * 40 + "  x" + " " * 50 + "y\n\n  z" + EOT + EOT + " " + EOT,
    "é  🌍 " * 30 + "\t\t  \n " + (EOT + "  ") * 20 + "end",
    "",
    "no-spaces-at-all" * 20,
]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("eot", [None, EOT])
def test_gpt2_ids_equal_encode_of_each_document(gpt2_tokenizer: Tokenizer, cs336_dir: Path, tmp_path: Path,
                                               workers: int, eot: str | None) -> None:
    texts = [*AWKWARD, (cs336_dir / "tinystories_sample.txt").read_text(encoding="utf-8"),
             (cs336_dir / "corpus.en").read_text(encoding="utf-8")]
    paths = _docs(tmp_path, texts)
    seen: list[tuple[int, int]] = []
    out = encode_corpus(paths, gpt2_tokenizer, tmp_path / "ids.npy", eot=eot, workers=workers, range_bytes=3000,
                        on_progress=lambda d, t: seen.append((d, t)))
    ids = np.load(out.path, mmap_mode="r")
    assert ids.dtype == np.uint16 and out.dtype == "uint16"
    assert ids.tolist() == _expected(gpt2_tokenizer, texts, 50256 if eot else None)
    assert out.n_ids == len(ids) and out.n_documents == len(texts) and out.eot_id == (50256 if eot else None)
    total = sum(p.stat().st_size for p in paths)
    assert seen[-1] == (total, total)
    assert not (tmp_path / "ids.npy.partial").exists()


def test_the_built_in_gpt2_and_a_large_vocabulary_in_uint32(tmp_path: Path) -> None:
    texts = ["Hello world, it's 2024!" * 50, "  indented\n\tcode = 1  " * 40]
    paths = _docs(tmp_path, texts)
    gpt2 = load_tokenizer("gpt2")
    out = encode_corpus(paths, gpt2, tmp_path / "a.npy", eot=EOT, workers=2, range_bytes=64)
    assert np.load(out.path).tolist() == _expected(gpt2, texts, 50256)
    cl100k = load_tokenizer("cl100k_base")
    out = encode_corpus(paths, cl100k, tmp_path / "b.npy", workers=2, range_bytes=64)
    ids = np.load(out.path)
    assert ids.dtype == np.uint32 and ids.tolist() == _expected(cl100k, texts, None)
    assert max(cl100k.vocab) >= 1 << 16  # why uint32: the vocabulary does not fit 16 bits


def test_against_tiktoken(tiktoken_gpt2: Any, gpt2_tokenizer: Tokenizer, cs336_dir: Path, tmp_path: Path) -> None:
    text = (cs336_dir / "tinystories_sample.txt").read_text(encoding="utf-8")
    out = encode_corpus(_docs(tmp_path, [text]), gpt2_tokenizer, tmp_path / "ids.npy", workers=2, range_bytes=999)
    assert np.load(out.path).tolist() == tiktoken_gpt2.encode(text, allowed_special="all")


@pytest.mark.slow  # 1.1 s measured: the full run has it, the quick loop does not
def test_forked_workers_encode_through_the_waited_engine(tiktoken_gpt2: Any, gpt2_tokenizer: Tokenizer,
                                                         cs336_dir: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # The engine is built before the workers fork, so they encode through it: its ids must be tiktoken's.
    import tokviz.corpus.ids as ids_module
    from tokviz.engines.choose import engine_name, installed_engines

    if not installed_engines():
        pytest.skip("no native engine installed")
    monkeypatch.setattr(ids_module, "ENGINE_WAIT_BYTES", 0)
    text = (cs336_dir / "tinystories_sample.txt").read_text(encoding="utf-8")
    out = encode_corpus(_docs(tmp_path, [text]), gpt2_tokenizer, tmp_path / "ids.npy", workers=2, range_bytes=999)
    assert engine_name(gpt2_tokenizer) != "pure"
    assert np.load(out.path).tolist() == tiktoken_gpt2.encode(text, allowed_special="all")


small = train_bpe(["the cat sat on the mat, 12345 times\n\n  over  and over<s>é🌍 " * 10], vocab_size=300,
                  special_tokens=["<s>"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.lists(st.sampled_from(list("the cat 1 \n\té🌍") + ["<s>", "  ", "<", "s>"]),
                               max_size=80).map("".join), min_size=1, max_size=4),
       range_bytes=st.integers(1, 40), eot=st.sampled_from([None, "<s>"]))
def test_hypothesis_corpora_in_tiny_ranges(tmp_path_factory: pytest.TempPathFactory, texts: list[str],
                                           range_bytes: int, eot: str | None) -> None:
    folder = tmp_path_factory.mktemp("h")
    paths = _docs(folder, texts)
    want = _expected(small, texts, small.special_ids["<s>"] if eot else None)
    out = encode_corpus(paths, small, folder / "ids.npy", eot=eot, workers=2, range_bytes=range_bytes)
    assert np.load(out.path).tolist() == want


def test_tokenizers_that_cannot_be_cut_are_streamed(tmp_path: Path) -> None:
    custom = train_bpe(["ab ab  ab\nab"], vocab_size=260, pattern=r"\w+|\s+")
    texts = ["ab ab  ab\nab " * 30, "b a"]
    out = encode_corpus(_docs(tmp_path, texts), custom, tmp_path / "ids.npy", workers=2, eot=None)
    assert np.load(out.path).tolist() == _expected(custom, texts, None)


def test_bad_input_says_what_to_do(tmp_path: Path, gpt2_tokenizer: Tokenizer) -> None:
    paths = _docs(tmp_path, ["hi"])
    with pytest.raises(ValueError, match="not a special token.*<\\|endoftext\\|>"):
        encode_corpus(paths, gpt2_tokenizer, tmp_path / "x.npy", eot="<eos>")
    with pytest.raises(ValueError, match="output folder does not exist"):
        encode_corpus(paths, gpt2_tokenizer, tmp_path / "no" / "x.npy")
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        encode_corpus(paths, gpt2_tokenizer, tmp_path / "x.npy", workers=0)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok " * 50 + b"\xff")
    for workers in (1, 2):
        with pytest.raises(ValueError, match="not valid UTF-8"):
            encode_corpus([bad], gpt2_tokenizer, tmp_path / "x.npy", workers=workers, range_bytes=16)
        assert not (tmp_path / "x.npy").exists() and not (tmp_path / "x.npy.partial").exists()


def test_writer_refuses_ids_that_do_not_fit(tmp_path: Path) -> None:
    w = IdsOutput(tmp_path / "x.npy", "uint16")
    w.append(np.array([1, 65535]))
    with pytest.raises(ValueError, match="65536 does not fit uint16"):
        w.append(np.array([65536]))
    assert np.load(w.close()).tolist() == [1, 65535]
    assert ids_dtype(65535) == "uint16" and ids_dtype(65536) == "uint32"


def test_windowed_keeps_at_most_window_jobs_in_flight() -> None:
    in_flight = 0
    peak = 0

    def submit(job: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        return job

    def result(job: int) -> int:
        nonlocal in_flight
        in_flight -= 1
        return job * 10

    assert list(windowed(submit, result, list(range(50)), 3)) == [j * 10 for j in range(50)]  # type: ignore[arg-type]
    assert peak == 3


def test_cli_encode_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tokviz.cli.main import main

    texts = ["Hello world, it's 2024!" * 50, "second document"]
    paths = [str(p) for p in _docs(tmp_path, texts)]
    out = tmp_path / "ids.npy"
    assert main(["encode-corpus", *paths, "-t", "gpt2", "-o", str(out), "--eot", "--workers", "2"]) == 0
    captured = capsys.readouterr()
    assert "encoding [" in captured.err and "(uint16) from 2 document(s)" in captured.out
    assert np.load(out).tolist() == _expected(load_tokenizer("gpt2"), texts, 50256)
    assert main(["encode-corpus", *paths, "-t", "gpt2", "-o", str(out), "--eot", "<eos>"]) == 2
    assert "not a special token" in capsys.readouterr().err
    assert main(["encode-corpus", *paths, "-t", "gpt2", "-o", str(out), "--workers", "0"]) == 2


def _read_manifest(manifest: Path) -> list[int]:
    data = json.loads(manifest.read_text(encoding="utf-8"))
    ids: list[int] = []
    for shard in data["shards"]:
        path = manifest.with_name(shard["path"])
        arr = np.load(path) if path.suffix == ".npy" else np.fromfile(path, np.dtype(data["dtype"]).newbyteorder("<"))
        assert len(arr) == shard["count"] <= data["shard_tokens"]
        ids += arr.tolist()
    assert data["count"] == len(ids)
    return ids


@pytest.mark.parametrize("workers", [1, 2])
def test_bin_is_nanogpts_layout_with_a_sidecar(tmp_path: Path, workers: int) -> None:
    # nanoGPT reads train.bin with np.memmap(path, dtype=np.uint16, mode="r"): raw ids, no header.
    texts = ["Hello world, it's 2024!" * 50, "  indented\n\tcode = 1  " * 40, ""]
    paths = _docs(tmp_path, texts)
    gpt2 = load_tokenizer("gpt2")
    want = _expected(gpt2, texts, 50256)
    out = encode_corpus(paths, gpt2, tmp_path / "train.bin", eot=EOT, workers=workers, range_bytes=64)
    assert out.path == tmp_path / "train.bin" and out.shards == (out.path,)
    assert np.memmap(out.path, dtype=np.uint16, mode="r").tolist() == want
    assert out.path.stat().st_size == 2 * len(want)
    side = json.loads((tmp_path / "train.bin.json").read_text(encoding="utf-8"))
    assert side["dtype"] == "uint16" and side["byteorder"] == "little" and side["count"] == len(want)
    assert side["eot_id"] == 50256 and side["documents"] == 3
    cl100k = load_tokenizer("cl100k_base")
    out = encode_corpus(paths, cl100k, tmp_path / "big.bin", workers=workers, range_bytes=64)
    side = json.loads((tmp_path / "big.bin.json").read_text(encoding="utf-8"))
    assert side["dtype"] == "uint32" and np.fromfile(out.path, dtype="<u4").tolist() == _expected(cl100k, texts, None)
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("suffix", [".bin", ".npy"])
@pytest.mark.parametrize("workers", [1, 2])
def test_shards_of_at_most_n_ids_with_a_manifest(tmp_path: Path, suffix: str, workers: int) -> None:
    texts = ["Hello world, it's 2024!" * 50, "second document", "third " * 30]
    paths = _docs(tmp_path, texts)
    gpt2 = load_tokenizer("gpt2")
    want = _expected(gpt2, texts, 50256)
    out = encode_corpus(paths, gpt2, tmp_path / f"ids{suffix}", eot=EOT, workers=workers, range_bytes=64,
                        shard_tokens=100)
    assert out.path == tmp_path / "ids.manifest.json" and out.n_ids == len(want)
    assert len(out.shards) == -(-len(want) // 100) and out.shards[0].name == f"ids-00000{suffix}"
    assert _read_manifest(out.path) == want
    assert not (tmp_path / f"ids{suffix}").exists() and not list(tmp_path.glob("*.partial"))


def test_cli_writes_bin_and_shards(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tokviz.cli.main import main

    texts = ["Hello world, it's 2024!" * 50, "second document"]
    paths = [str(p) for p in _docs(tmp_path, texts)]
    want = _expected(load_tokenizer("gpt2"), texts, 50256)
    assert main(["encode-corpus", *paths, "-t", "gpt2", "-o", str(tmp_path / "train.bin"), "--eot", "-q"]) == 0
    assert np.memmap(tmp_path / "train.bin", dtype=np.uint16, mode="r").tolist() == want
    assert main(["encode-corpus", *paths, "-t", "gpt2", "-o", str(tmp_path / "s.bin"), "--eot", "-q",
                 "--shard-tokens", "64"]) == 0
    assert "shard(s) listed" in capsys.readouterr().out
    assert _read_manifest(tmp_path / "s.manifest.json") == want
    assert main(["encode-corpus", *paths, "-t", "gpt2", "-o", str(tmp_path / "ids.txt")]) == 2
    assert "name the output X.bin" in capsys.readouterr().err


@pytest.mark.parametrize("workers", [1, 2])
def test_bad_bytes_are_named_first_or_read_as_errors_says(tmp_path: Path, workers: int,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from tokviz.cli.main import main

    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("Hello world " * 300, encoding="utf-8")
    bad.write_bytes(b"caf\xe9 ok " * 300)
    gpt2 = load_tokenizer("gpt2")
    out = str(tmp_path / "ids.bin")
    assert main(["encode-corpus", str(good), str(bad), "-t", "gpt2", "-o", out, "-q", "--workers", str(workers)]) == 2
    assert "1 of 2 files cannot be read as UTF-8" in capsys.readouterr().err
    assert not (tmp_path / "ids.bin").exists()
    for errors in ("replace", "ignore"):
        assert main(["encode-corpus", str(good), str(bad), "-t", "gpt2", "-o", out, "-q", "--workers", str(workers),
                     "--errors", errors]) == 0
        texts = [good.read_text(encoding="utf-8"), bad.read_bytes().decode("utf-8", errors)]
        assert np.memmap(out, dtype=np.uint16, mode="r").tolist() == _expected(gpt2, texts, None)


def test_a_large_corpus_waits_for_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before the first text: otherwise the first megabytes run in pure Python while the engine builds, and forked
    # workers (which cannot see a build thread) never get it.
    import tokviz.corpus.ids as ids_module

    waited: list[float | None] = []

    class Engine:
        def wait(self, timeout: float | None = None) -> bool:
            waited.append(timeout)
            return False

        def encode_ordinary(self, text: str) -> None:
            return None  # the pure path encodes

    tok = Tokenizer({i: bytes([i]) for i in range(256)}, [])
    monkeypatch.setattr(tok, "engine", Engine())
    src = tmp_path / "a.txt"
    src.write_text("hello world " * 10, encoding="utf-8")
    encode_corpus([str(src)], tok, tmp_path / "small.npy")
    assert waited == []  # a small corpus does not wait
    monkeypatch.setattr(ids_module, "ENGINE_WAIT_BYTES", 100)
    out = encode_corpus([str(src)], tok, tmp_path / "big.npy")
    assert waited == [60.0] and out.n_ids == 120
