"""Other families drawn like the rest: each token over the user's own characters with its ▁/## mark apart, a hover
card naming the family and the rule, unknown tokens marked, and the panel's note on what decoding gives back.

The tokenizers are small tokenizer.json files that `tokenizers` trains here (tests/helpers.py), loaded by tokviz.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from helpers import parse, train_family_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import load_tokenizer
from tokviz.models.baselines import ByteTokenizer
from tokviz.viewmodels.family_views import (
    BYTE_FALLBACK_RULE,
    FamilyDescriber,
    describer,
    family_label,
    render_round_trip,
    round_trip,
)
from tokviz.viewmodels.render import RenderOptions, render_tokens

pytest.importorskip("tokenizers")

FAMILIES = ("wordpiece", "unigram", "bpe-sp")
CARD = re.compile(r'<span class="tv-text">(.*?)</span><span class="tv-card" hidden>(.*?)</span>', re.S)
TEXT = " Héllo  World, hello! 龘 1234"


@pytest.fixture(scope="module")
def toks(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("fam")
    return {f: load_tokenizer(train_family_json(d / f"{f}.json", f)) for f in FAMILIES}


def _cards(markup: str) -> list[tuple[str, str]]:
    """(drawn text with marks as ‹mark›, card text) of every token span, in order."""
    out = []
    for inner, card in CARD.findall(markup):
        inner = re.sub(r'<span class="tv-mark-piece">(.*?)</span>', r"‹\1›", inner)
        out.append((html.unescape(inner), html.unescape(card)))
    return out


def _draw(tok, text: str, **kw) -> str:
    return render_tokens(tok.encode_with_offsets(text), text, tokenizer=tok.name, describe=describer(tok),
                         unknown_id=tok.unk_id, **kw)


def test_only_the_other_families_get_a_describer(toks) -> None:
    assert describer(ByteTokenizer()) is None and family_label(ByteTokenizer()) is None
    assert [family_label(toks[f]) for f in FAMILIES] == ["WordPiece", "Unigram", "SentencePiece BPE"]
    with pytest.raises(ValueError, match="not a WordPiece, Unigram or SentencePiece BPE"):
        FamilyDescriber(ByteTokenizer())  # type: ignore[arg-type]


@pytest.mark.parametrize("family", FAMILIES)
def test_spans_hold_the_users_characters_with_the_marks_apart(toks, family: str) -> None:
    tok = toks[family]
    enc = tok.encode_with_offsets(TEXT)
    cards = _cards(_draw(tok, TEXT))
    assert len(cards) == len(enc)
    # Without the marks, the drawn texts are the user's characters: each token's span, minus the space a ▁ replaced.
    for i, (drawn, card) in enumerate(cards):
        s, e = enc.char_spans[i]
        piece = tok.piece(enc.ids[i])
        mark = "‹▁›" if piece.startswith("▁") else "‹##›" if piece.startswith("##") and len(piece) > 2 else ""
        covered = TEXT[s:e]
        if mark == "‹▁›" and covered[:1] == " ":
            covered = covered[1:]
        if enc.partial[i]:
            assert f"part of {TEXT[s:e]!r}" in card
        else:
            assert drawn == mark + covered, (i, piece)
        assert f"piece {piece!r}" in card


def test_wordpiece_cards_name_the_rule(toks) -> None:
    tok = toks["wordpiece"]
    cards = _cards(_draw(tok, "Hello 龘"))
    pieces = [tok.piece(i) for i in tok.encode("Hello 龘")]
    assert pieces[-1] == "[UNK]" and pieces[0] == "h" and pieces[1].startswith("##")  # the trained vocabulary
    assert "rule WordPiece · start of a word (the longest piece that starts it)" in cards[0][1]
    assert "normalized 'H' → 'h'" in cards[0][1] and cards[0][0] == "H"
    assert all("rule WordPiece · continuation of a word (##)" in c for _, c in cards[1:-1])
    assert "rule WordPiece · unknown word: [UNK] replaces it, its text is lost" in cards[-1][1]
    assert cards[-1][0] == "龘"


def test_unknown_tokens_are_marked_as_the_word_baselines_are(toks) -> None:
    for family in ("wordpiece", "unigram"):
        tree = parse(_draw(toks[family], "a 龘"))
        unk = [n for n in tree.find_all("tok") if "tv-unk" in n.attrs.get("class", "")]
        assert [int(n.attrs["data-token-id"]) for n in unk] == [toks[family].unk_id]


def test_unigram_cards_say_best_scoring_with_the_score(toks) -> None:
    tok = toks["unigram"]
    cards = _cards(_draw(tok, "hello world"))
    scores = tok.unigram.scores
    for (_, card), tid in zip(cards, tok.encode("hello world")):
        assert "rule Unigram · best-scoring segmentation" in card
        assert f"score {scores[tid]:.4g}" in card


def test_byte_fallback_pieces_stay_grouped_and_say_so(toks) -> None:
    tok = toks["bpe-sp"]
    markup = _draw(tok, "a 龘")
    tree = parse(markup)
    groups = tree.find_all("tv-group")
    assert [g.attrs["data-chars"] for g in groups] == ["龘"]
    parts = groups[0].find_all("tok")
    assert [tok.piece(int(p.attrs["data-token-id"])) for p in parts] == ["<0xE9>", "<0xBE>", "<0x98>"]
    for p in parts:
        card = p.first("tv-card").text()
        assert f"rule SentencePiece BPE · {BYTE_FALLBACK_RULE}" in card and "part of '龘'" in card
    assert "�" not in markup


def test_sentencepiece_bpe_names_the_merge_that_built_a_token(toks) -> None:
    tok = toks["bpe-sp"]
    enc = tok.encode_with_offsets("hello hello")
    d = describer(tok)
    assert d is not None
    for i, tid in enumerate(enc.ids):
        piece = tok.piece(tid)
        rule = d.note(enc, i, "hello hello").rule
        if len(piece) == 1:
            assert rule.endswith("a character in the vocabulary, no merge applied")
        else:
            k = next(k for k, (a, b) in enumerate(tok.bpe.merge_pieces) if a + b == piece)
            assert rule.endswith(f"(the last is merge #{k + 1:,})")


def test_marks_and_text_are_escaped(toks) -> None:
    for tok in toks.values():
        markup = _draw(tok, "<b>x</b> & 'q'")
        # WordPiece cuts '<' and '>' apart: what matters is that no tag of the text reaches the markup.
        assert "<b" not in markup and "</b" not in markup and "&lt;" in markup and "&amp;" in markup
        assert "b" in "".join(n.text() for n in parse(markup).find_all("tv-text"))


def test_whitespace_mode_draws_the_users_spaces(toks) -> None:
    markup = _draw(toks["wordpiece"], "a\tb  c", options=RenderOptions(show_whitespace=True))
    # WordPiece drops the tab and the spaces: no token holds them, they are drawn between the tokens.
    tree = parse(markup)
    assert "".join(n.text() for n in tree.find_all("tv-text")) == "abc"
    assert [n.text() for n in tree.find_all("tv-gap")] == ["→", "··"]


def _drawn_text(markup: str) -> str:
    """The text a reader sees, in order: token texts without their marks, and the gaps between tokens."""
    tree = parse(re.sub(r'<span class="tv-mark-piece">.*?</span>', "", markup))
    out = []

    def walk(node) -> None:
        for child in node.children:
            if isinstance(child, str):
                continue
            if child.classes & {"tv-text", "tv-gap", "tv-glyph"}:
                out.append(child.text())
            elif "tv-card" not in child.classes and "tv-parts" not in child.classes:
                walk(child)

    walk(tree)
    return "".join(out)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("aAbéÉ 中🌍\t\n!,1_")), max_size=30))
def test_every_character_of_the_text_is_drawn_once(toks, text: str) -> None:
    """Tokens over the user's characters, marks apart, dropped characters between: the drawing reads as the text."""
    for name, tok in toks.items():
        drawn = _drawn_text(_draw(tok, text))
        if name == "wordpiece":
            assert drawn == text, (name, text, drawn)
        else:
            # A space that became ▁ is drawn as the mark (removed above): every other character is there, in order.
            assert drawn.replace(" ", "") == text.replace(" ", ""), (name, text, drawn)


# -- decoding back ----------------------------------------------------------------------------------------------------
def test_round_trip_says_what_wordpiece_lost(toks) -> None:
    tok = toks["wordpiece"]
    rt = round_trip(tok, TEXT, tok.encode_with_offsets(TEXT))
    assert rt is not None and not rt.exact
    assert rt.decoded == tok.decode(tok.encode(TEXT))
    lost = " ; ".join(rt.lost)
    assert "capitals: 'H', 'W' became lowercase" in lost
    assert "accents: 'é' lost their marks" in lost
    assert "the spaces" in lost
    assert "'龘' became [UNK]" in lost
    assert rt.sentence.startswith(f"WordPiece does not keep the text: decoding gives {rt.decoded!r}.")


def test_round_trip_exact_where_nothing_is_lost(toks) -> None:
    tok = toks["bpe-sp"]
    text = "Hello  world 龘"  # byte fallback keeps the rare character; no leading space for the ▁ to swallow
    rt = round_trip(tok, text, tok.encode_with_offsets(text))
    assert rt is not None and rt.exact and rt.decoded == text
    assert render_round_trip(rt) == ('<div class="tv-roundtrip" data-tokenizer="bpe-sp">SentencePiece BPE: '
                                     "decoding the ids gives the text back exactly.</div>")


def test_round_trip_names_the_leading_space_and_unknown_pieces(toks) -> None:
    rt = round_trip(toks["bpe-sp"], " hi", toks["bpe-sp"].encode_with_offsets(" hi"))
    assert rt is not None and rt.lost == ("the leading space: the decoder drops the first ▁",)
    rt = round_trip(toks["unigram"], "a 龘", toks["unigram"].encode_with_offsets("a 龘"))
    assert rt is not None and rt.lost == ("'龘' became <unk>",)
    assert 'class="tv-roundtrip tv-lossy"' in render_round_trip(rt)


def test_round_trip_note_is_escaped(toks) -> None:
    tok = toks["wordpiece"]
    rt = round_trip(tok, "<B>", tok.encode_with_offsets("<B>"))
    note = render_round_trip(rt)
    assert rt is not None and "<B" not in note and "<b" not in note and "&lt;" in note
    assert html.unescape(note).count("<") == 2 + rt.sentence.count("<")  # the div's two tags, then the text's


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("aAbé 中🌍\t!1")), max_size=20))
def test_round_trip_is_exact_exactly_when_decoding_gives_the_text(toks, text: str) -> None:
    for tok in toks.values():
        enc = tok.encode_with_offsets(text)
        rt = round_trip(tok, text, enc)
        assert rt is not None
        assert rt.exact == (tok.decode(enc.ids) == text)
        assert rt.exact or rt.lost
        markup = _draw(tok, text)
        assert markup.count('class="tok ') == len(enc)


def test_describer_reads_a_sentencepiece_model(tmp_path: Path) -> None:
    spm = pytest.importorskip("sentencepiece")
    corpus = tmp_path / "c.txt"
    corpus.write_text("hello world, the world says hello\n" * 50 + "你好世界\n" * 5, encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(tmp_path / "m"), vocab_size=300,
                                   hard_vocab_limit=False, model_type="unigram", byte_fallback=True, minloglevel=2)
    tok = load_tokenizer(tmp_path / "m.model")
    assert family_label(tok) == "Unigram"
    cards = _cards(_draw(tok, "hello 龘"))
    assert "rule Unigram · best-scoring segmentation" in cards[0][1]
    assert any(f"rule Unigram · {BYTE_FALLBACK_RULE}" in c for _, c in cards)


MISTRAL = Path(__file__).resolve().parents[1] / "_data" / "packages" / "mistral_common" / "data" / "tokenizer.model.v1"


def test_mistrals_real_model_is_drawn_with_its_rules() -> None:
    """A real SentencePiece BPE model (Mistral 7B's, from mistral-common): ▁ marks, byte-fallback groups with the
    rule, merges by piece score, and the round trip of sentencepiece's own decoding."""
    spm = pytest.importorskip("sentencepiece")
    if not MISTRAL.is_file():
        msg = f"{MISTRAL} not found: run python3 scripts/fetch_test_data.py (downloads mistral-common, which ships it)."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    tok = load_tokenizer(MISTRAL)
    ref = spm.SentencePieceProcessor(model_file=str(MISTRAL))
    text = "Hello wörld \U00013000 12"  # an Egyptian hieroglyph: no piece, so its four bytes
    enc = tok.encode_with_offsets(text)
    markup = _draw(tok, text)
    cards = _cards(markup)
    assert [int(i) for i in re.findall(r'data-token-id="(\d+)"', markup)] == ref.encode(text)
    d = describer(tok)
    assert d is not None
    for i, (_, card) in enumerate(cards):
        piece = ref.id_to_piece(enc.ids[i])
        assert f"piece {piece!r}" in card
        if ref.is_byte(enc.ids[i]):
            assert f"rule SentencePiece BPE · {BYTE_FALLBACK_RULE}" in card and "part of '\U00013000'" in card
        elif len(piece) > 1:
            assert "the pair whose merged piece scores highest first" in card
            assert f"score {ref.get_score(enc.ids[i]):.4g}" in card
    assert [g.attrs["data-chars"] for g in parse(markup).find_all("tv-group")] == ["\U00013000"]
    rt = round_trip(tok, text, enc)
    assert rt is not None and rt.decoded == ref.decode(ref.encode(text)) and rt.exact == (rt.decoded == text)


SPM_TESTS = Path(__file__).resolve().parents[1] / "_data" / "packages" / "test"


@pytest.mark.parametrize("name", ["test_model.model", "test_ja_model.model"])
def test_real_unigram_models_are_drawn_with_their_rules(name: str) -> None:
    """Real Unigram models (SentencePiece's own test models: NFKC, spaces squeezed, no byte pieces): scores in the
    cards, unknown pieces marked, and a round-trip note that names what their normalization lost."""
    spm = pytest.importorskip("sentencepiece")
    path = SPM_TESTS / name
    if not path.is_file():
        msg = f"{path} not found: run python3 scripts/fetch_test_data.py (downloads sentencepiece's sdist)."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    tok = load_tokenizer(path)
    ref = spm.SentencePieceProcessor(model_file=str(path))
    assert family_label(tok) == "Unigram"
    text = "  Ｈｅｌｌｏ   wörld 東京 🌍  "
    enc = tok.encode_with_offsets(text)
    assert enc.ids == ref.encode(text)
    markup = _draw(tok, text)
    cards = _cards(markup)
    for i, (_, card) in enumerate(cards):
        tid = enc.ids[i]
        if tid == ref.unk_id():
            assert "rule Unigram · unknown piece: <unk> replaces it, its text is lost" in card
        else:
            assert "rule Unigram · best-scoring segmentation" in card
            assert f"score {ref.get_score(tid):.4g} (log probability of the piece)" in card
    unk = [n for n in parse(markup).find_all("tok") if "tv-unk" in n.classes]
    assert len(unk) == enc.ids.count(ref.unk_id()) > 0  # the emoji has no piece in either model
    rt = round_trip(tok, text, enc)
    assert rt is not None and not rt.exact and rt.decoded == ref.decode(enc.ids)
    assert "characters the normalizer changed: 'Ｈ', 'ｅ', 'ｌ', 'ｏ'" in rt.sentence
    for tid, (s, e) in zip(enc.ids, enc.char_spans):
        if tid == ref.unk_id():
            assert f"{text[s:e]!r} became <unk>" in rt.lost


def test_round_trip_names_a_few_unknown_texts_and_counts_the_rest(toks) -> None:
    from tokviz.viewmodels.family_views import UNKNOWN_NAMED

    tok = toks["unigram"]
    rare = "龘齉靐鱻麤爩驫厵"  # none is in the trained vocabulary
    text = " ".join(rare)
    rt = round_trip(tok, text, tok.encode_with_offsets(text))
    assert rt is not None
    named = [x for x in rt.lost if x.endswith("became <unk>")]
    assert named == [f"{c!r} became <unk>" for c in rare[:UNKNOWN_NAMED]]
    assert rt.lost[-1] == f"{len(rare) - UNKNOWN_NAMED:,} more texts became unknown"
