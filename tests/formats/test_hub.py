"""Hub tokenizers by model id, through the real huggingface_hub client against a local server that speaks the
Hub's protocol (tests/hub_server.py): downloads, the cache, offline loads and each failure's one-line message."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import sentencepiece as spm
from hub_server import HubServer, Repo, hub_server, point_client_at
from tokenizers import Tokenizer as HfTokenizer
from tokenizers import decoders, pre_tokenizers, trainers
from tokenizers import models as hf_models
from tokenizers.implementations import BertWordPieceTokenizer

from tokviz.cli.main import main as cli_main
from tokviz.core.protocol import encode_as_shown
from tokviz.formats.dispatch import load_hub_tokenizer, load_tokenizer
from tokviz.formats.hub import HubError, HubRef, fetch_tokenizer_files, parse_hub_ref

CORPUS = ["hello world, hello there; the quick brown fox jumps over the lazy dog. " * 20,
          "Tokenizers read text as bytes: naïve café, 12345 and 3.14159! " * 20, "你好，世界。" * 10]
TEXTS = ["hello world", "The quick brown fox", "naïve café 12345", "  spaces\tand\nlines ", "你好 🙂", ""]
WEIGHTS = "model.safetensors"


def _bpe_json() -> bytes:
    tok = HfTokenizer(hf_models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=320, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=["<|end|>"],
        show_progress=False))
    return tok.to_str().encode()


def _wordpiece(tmp: Path) -> tuple[bytes, bytes]:
    tok = BertWordPieceTokenizer(lowercase=True)
    tok.train_from_iterator(CORPUS, vocab_size=200, show_progress=False)
    tok.save_model(str(tmp))
    return tok.to_str().encode(), (tmp / "vocab.txt").read_bytes()


def _tekken() -> bytes:
    """A small Tekken file: byte tokens and a few merged ones, five control tokens before them."""
    extra = [b"he", b"ll", b"hell", b"hello", b" w", b"or", b" wor", b"ld", b" world", b"\xc3\xa9"]
    vocab = [{"rank": i, "token_bytes": base64.b64encode(t).decode(), "token_str": None}
             for i, t in enumerate([bytes([b]) for b in range(256)] + extra)]
    specials = ["<unk>", "<s>", "</s>", "[INST]", "[/INST]"]
    data = {"config": {"pattern": r"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s+(?!\S)|\s+",
                       "num_vocab_tokens": len(vocab), "default_vocab_size": len(vocab) + 8,
                       "default_num_special_tokens": 8, "version": "v7"},
            "vocab": vocab,
            "special_tokens": [{"rank": i, "token_str": t, "is_control": True} for i, t in enumerate(specials)]}
    return json.dumps(data).encode()


def _sentencepiece(tmp: Path) -> bytes:
    corpus = tmp / "corpus.txt"
    corpus.write_text("\n".join(CORPUS * 5), encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(tmp / "sp"), vocab_size=400,
                                   model_type="bpe", byte_fallback=True, minloglevel=2)
    return (tmp / "sp.model").read_bytes()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    tmp = tmp_path_factory.mktemp("hubfiles")
    wp_json, vocab_txt = _wordpiece(tmp)
    return {"bpe": _bpe_json(), "wp_json": wp_json, "vocab_txt": vocab_txt, "sp": _sentencepiece(tmp),
            "tekken": _tekken()}


@pytest.fixture
def hub(files: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    """The local Hub with the test repos, HF_ENDPOINT pointed at it and a fresh client cache (HF_HOME)."""
    with hub_server() as server:
        config = b'{"model_max_length": 4096, "chat_template": "{{ messages }}"}'
        server.repos.update({
            "acme/tiny-bpe": Repo({"tokenizer.json": files["bpe"], "tokenizer_config.json": config,
                                   "config.json": b'{"max_position_embeddings": 8192}', WEIGHTS: b"\0" * 4096},
                                  revisions={"v1.0": ""}),
            "acme/tiny-sp": Repo({"tokenizer.model": files["sp"], "pytorch_model.bin": b"\0" * 64}),
            "acme/tiny-bert": Repo({"tokenizer.json": files["wp_json"], "vocab.txt": files["vocab_txt"],
                                    "config.json": b'{"max_position_embeddings": 512}'}),
            "acme/tiny-tekken": Repo({"tekken.json": files["tekken"], "consolidated.safetensors": b"\0" * 64}),
            "acme/vocab-only": Repo({"vocab.txt": files["vocab_txt"],
                                     "tokenizer_config.json": b'{"do_lower_case": true, "model_max_length": 512}'}),
            "acme/gated": Repo({"tokenizer.json": files["bpe"]}, token="hf_secret"),
            "acme/weights-only": Repo({"config.json": b"{}", WEIGHTS: b"\0" * 64}),
            "solo": Repo({"tokenizer.json": files["bpe"]}),
        })
        server.repos["acme/tiny-bpe"].revisions["v1.0"] = server.repos["acme/tiny-bpe"].sha
        point_client_at(monkeypatch, server.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
        for var in ("HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_CACHE", "HUGGING_FACE_HUB_TOKEN"):
            monkeypatch.delenv(var, raising=False)
        yield server


def _file_requests(server: HubServer) -> list[str]:
    return [p for _, p in server.requests if "/resolve/" in p or p.startswith("/api/models/")]


# -- loads ---------------------------------------------------------------------------------------------------------
@pytest.mark.slow  # 0.6 s measured: the full run has it, the quick loop does not
def test_byte_level_bpe_by_id_gives_tokenizers_ids(hub: HubServer, files: dict[str, bytes]) -> None:
    ref = HfTokenizer.from_str(files["bpe"].decode())
    tok, got = load_hub_tokenizer("hf:acme/tiny-bpe")
    assert tok.name == "hf:acme/tiny-bpe"
    assert got.commit == hub.repos["acme/tiny-bpe"].sha and not got.from_cache
    assert got.model_max_length == 4096  # tokenizer_config's, before config.json's
    for text in TEXTS:
        assert tok.encode(text) == ref.encode(text).ids
    # Only tokenizer files were asked for: never the weights.
    assert not any(WEIGHTS in p for p in _file_requests(hub))
    assert set(got.files) == {"tokenizer.json", "tokenizer_config.json", "config.json"}


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_sentencepiece_model_by_id_gives_sentencepieces_ids(hub: HubServer, files: dict[str, bytes],
                                                            tmp_path: Path) -> None:
    (tmp_path / "ref.model").write_bytes(files["sp"])
    ref = spm.SentencePieceProcessor(model_file=str(tmp_path / "ref.model"))
    tok = load_tokenizer("hf:acme/tiny-sp")
    for text in TEXTS:
        assert tok.encode(text) == ref.encode(text)
    assert not any(".bin" in p for p in _file_requests(hub))


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_wordpiece_by_id_gives_tokenizers_ids(hub: HubServer, files: dict[str, bytes]) -> None:
    ref = HfTokenizer.from_str(files["wp_json"].decode())
    tok, got = load_hub_tokenizer("hf:acme/tiny-bert")
    assert got.model_max_length == 512  # config.json's, where the tokenizer config is missing
    assert set(got.files) == {"tokenizer.json", "vocab.txt", "config.json"}
    for text in TEXTS:
        assert tok.encode(text) == ref.encode(text).ids


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_tekken_by_id_gives_mistral_commons_ids(hub: HubServer, files: dict[str, bytes], tmp_path: Path) -> None:
    tekken = pytest.importorskip("mistral_common.tokens.tokenizers.tekken")
    (tmp_path / "tekken.json").write_bytes(files["tekken"])
    ref = tekken.Tekkenizer.from_file(tmp_path / "tekken.json")
    tok, got = load_hub_tokenizer("hf:acme/tiny-tekken")
    assert got.files == ("tekken.json",) and tok.vocab_size == ref.n_words
    for text in ["hello world", "héllo  wörld 42\n", ""]:
        assert tok.encode(text) == ref.encode(text, bos=False, eos=False)
    assert not any("safetensors" in p for p in _file_requests(hub))


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_a_bert_vocab_txt_alone_by_id_gives_tokenizers_ids(hub: HubServer, files: dict[str, bytes],
                                                           tmp_path: Path) -> None:
    (tmp_path / "vocab.txt").write_bytes(files["vocab_txt"])
    ref = BertWordPieceTokenizer(str(tmp_path / "vocab.txt"), lowercase=True)
    tok, got = load_hub_tokenizer("hf:acme/vocab-only")
    assert set(got.files) == {"vocab.txt", "tokenizer_config.json"} and got.model_max_length == 512
    for text in TEXTS:
        assert encode_as_shown(tok, text) == ref.encode(text, add_special_tokens=False).ids


@pytest.mark.slow  # 0.6 s measured: the full run has it, the quick loop does not
def test_a_repo_without_an_owner_and_a_revision(hub: HubServer, files: dict[str, bytes]) -> None:
    ref = HfTokenizer.from_str(files["bpe"].decode())
    assert load_tokenizer("hf:solo").encode("hello world") == ref.encode("hello world").ids
    sha = hub.repos["acme/tiny-bpe"].sha
    for revision in ("v1.0", sha):
        tok, got = load_hub_tokenizer(f"hf:acme/tiny-bpe@{revision}")
        assert tok.name == f"hf:acme/tiny-bpe@{revision}" and got.commit == sha


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_the_cli_takes_a_hub_id(hub: HubServer, files: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    ref = HfTokenizer.from_str(files["bpe"].decode())
    assert cli_main(["encode", "hello world", "-t", "hf:acme/tiny-bpe"]) == 0
    assert capsys.readouterr().out.split() == [str(i) for i in ref.encode("hello world").ids]
    assert cli_main(["encode", "hello", "-t", "hf:acme/nope"]) == 2
    assert "hf:acme/nope: no such model on the Hub" in capsys.readouterr().err


# -- the cache: a second load needs no network --------------------------------------------------------------------
@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_a_second_load_works_offline_from_the_cache(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_tokenizer("hf:acme/tiny-bpe").encode("hello world")
    load_tokenizer("hf:acme/tiny-sp")
    hub.requests.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tok, got = load_hub_tokenizer("hf:acme/tiny-bpe")
    assert tok.encode("hello world") == first and got.from_cache and got.model_max_length == 4096
    assert load_tokenizer("hf:acme/tiny-sp").vocab_size == 400
    assert hub.requests == []  # not one request reached the server
    with pytest.raises(HubError, match="not in the cache and HF_HUB_OFFLINE is set") as e:
        load_tokenizer("hf:acme/tiny-bert")
    assert e.value.kind == "offline"


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_an_unreachable_hub_falls_back_on_the_cache(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_tokenizer("hf:acme/tiny-bpe").encode("hello world")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    tok, got = load_hub_tokenizer("hf:acme/tiny-bpe")
    assert tok.encode("hello world") == first and got.from_cache
    with pytest.raises(HubError, match=r"cannot be reached and this model is not in the cache") as e:
        load_tokenizer("hf:acme/tiny-bert")
    assert e.value.kind == "offline"
    assert "\n" not in str(e.value)


# -- failures: one line each, saying what to do --------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("spec", "kind", "message"), [
    ("hf:acme/nope", "not_found", r"^hf:acme/nope: no such model on the Hub; check the id"),
    ("hf:acme/tiny-bpe@v9", "not_found", r"no revision 'v9'"),
    ("hf:acme/gated", "gated", r"^hf:acme/gated is gated: accept its licence on https://huggingface.co/acme/gated "
                               r"and give a token of that account \(set HF_TOKEN"),
    ("hf:acme/weights-only", "no_tokenizer", r"^hf:acme/weights-only has no tokenizer files"),
])
@pytest.mark.slow  # 1.5 s measured: the full run has it, the quick loop does not
def test_each_failure_is_one_line(hub: HubServer, spec: str, kind: str, message: str) -> None:
    with pytest.raises(HubError, match=message) as e:
        load_tokenizer(spec)
    assert e.value.kind == kind and isinstance(e.value, ValueError)
    assert "\n" not in str(e.value)
    assert not any(WEIGHTS in p for p in _file_requests(hub))


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_an_unknown_id_answered_401_as_the_hub_does(hub: HubServer) -> None:
    hub.unknown_status = 401
    with pytest.raises(HubError, match=r"^hf:acme/private: no such model, or it is private or gated: check the id on "
                                       r"https://huggingface.co/acme/private") as e:
        load_tokenizer("hf:acme/private")
    assert e.value.kind == "gated" and "\n" not in str(e.value)


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_a_gated_repo_opens_with_a_token(hub: HubServer, files: dict[str, bytes],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    with pytest.raises(HubError, match="is gated"):
        load_tokenizer("hf:acme/gated")
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    ref = HfTokenizer.from_str(files["bpe"].decode())
    assert load_tokenizer("hf:acme/gated").encode("hello world") == ref.encode("hello world").ids


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_a_file_over_the_bound_is_refused_before_download(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKVIZ_HUB_MAX_MB", "0.001")  # 1,000 bytes: every test tokenizer.json is larger
    size = len(hub.repos["acme/tiny-bpe"].files["tokenizer.json"])
    with pytest.raises(HubError, match=rf"tokenizer.json is {size:,} bytes, over this server's bound of 1,000 bytes "
                                       r"for a tokenizer file \(set TOKVIZ_HUB_MAX_MB to raise it\)") as e:
        load_tokenizer("hf:acme/tiny-bpe")
    assert e.value.kind == "too_large"
    assert not any("/resolve/" in p for p in _file_requests(hub))  # refused from the listing, nothing fetched


@pytest.mark.slow  # 1.0 s measured: the full run has it, the quick loop does not
def test_a_slow_hub_is_a_timeout(hub: HubServer) -> None:
    hub.delay = 2.0
    with pytest.raises(HubError, match=r"did not answer within 0.5 s") as e:
        fetch_tokenizer_files(HubRef("acme/tiny-bpe"), timeout=0.5)
    assert e.value.kind == "timeout"
    hub.delay = 0.0


@pytest.mark.parametrize("spec", ["hf:", "hf:a/b/c", "hf:owner/na me", "hf:../x", "hf:a--b/c", "hf:a/b@", "hf:a/b@x y"])
def test_malformed_ids_are_refused(spec: str) -> None:
    if spec == "hf:a/b@":
        assert parse_hub_ref(spec) == HubRef("a/b")  # an empty revision is the default branch
        return
    with pytest.raises(ValueError, match="is not a Hub model id: write hf:owner/name"):
        parse_hub_ref(spec)
