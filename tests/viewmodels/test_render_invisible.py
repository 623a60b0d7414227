"""Every token drawn has something to see: a token whose text draws nothing gets a chip with its name."""

from __future__ import annotations

import pytest
from helpers import Node, parse

from tokviz.formats.pretrained import load_encoding
from tokviz.models.baselines import CharacterTokenizer
from tokviz.viewmodels.display import has_invisible
from tokviz.viewmodels.render import RenderOptions, render_tokens

#: ZWJ, ZWSP, U+FE0F, soft hyphen, BOM, bidi controls (RLO, PDF, LRI, PDI, LRM), tags, lone combining marks.
HARD = ("🌍 👩\u200d💻 🇯🇵\n"
        "a\u200bb ❤️ x\u00ady \ufeffstart\n"
        "\u202eevil\u202c \u2066iso\u2069 \u200emark\n"
        "tag\U000e0067\U000e0062 \U000e0067 \u0301alone \u0301\u0302 \u20e3 \ufe0f\ufe0f end\u0085")


def _visible(node: Node) -> str:
    # what the token draws as text, chips counted as their names
    return node.first("tv-text").text()


def _plain(node: Node) -> str:
    # the token's text outside its chips
    def walk(n: Node) -> str:
        return "".join(c if isinstance(c, str) else "" if "tv-inv" in c.classes else walk(c) for c in n.children)
    return walk(node.first("tv-text"))


@pytest.mark.parametrize("name", ["r50k_base", "cl100k_base", "o200k_base", "chars"])
@pytest.mark.parametrize("show_whitespace", [False, True])
def test_every_token_draws_something(name, show_whitespace):
    tok = CharacterTokenizer() if name == "chars" else load_encoding(name)
    enc = tok.encode_with_offsets(HARD)
    root = parse(render_tokens(enc, HARD, tokenizer=name, options=RenderOptions(show_whitespace=show_whitespace)))
    toks = root.find_all("tok")
    assert len(toks) == len(enc)  # the count drawn is the count stated
    for t in toks:
        shown = _visible(t)
        assert shown.strip() or "\n" in shown or shown == " ", (name, t.attrs, shown)
        assert not has_invisible(_plain(t)), (name, _plain(t))  # nothing left that draws nothing
    # the chips name what they stand for, and the lone token's card spells it out
    names = {c.text() for c in root.find_all("tv-inv")}
    assert {"ZWSP", "SHY", "BOM", "RLO", "PDF", "LRI", "PDI", "LRM"} <= names, names
    zwsp = next(t for t in toks if _visible(t) == "ZWSP")
    assert "U+200B ZERO WIDTH SPACE" in zwsp.first("tv-card").text()


def test_chips_escape_and_keep_the_text_exact():
    text = "<b>\u200b</b>"
    out = render_tokens(CharacterTokenizer().encode_with_offsets(text), text, tokenizer="c")
    assert "<b>" not in out and 'class="tv-inv">ZWSP<' in out
