"""How a merge-replay step is shown: the candidate pairs as table rows, and a sample text before and after the step.

The rows mark the pair the run merged and the pairs that tied with it on the top count, so the tie rule is visible.
The before/after view draws both tokenizations as chips (the same ``.tok`` spans and colours as the rest of the
page, with hover cards) and outlines the tokens the step created; all text goes through :func:`html.escape`.

Example:
    >>> from collections import Counter
    >>> from tokviz.analysis.replay import candidates_at, step_effect
    >>> from tokviz.training.trainer import train_from_counts
    >>> tok = train_from_counts(Counter({"ab": 3, "ba": 3}), vocab_size=258)
    >>> step = candidates_at(tok, Counter({"ab": 3, "ba": 3}), step=0)
    >>> [(r["left"], r["right"], r["note"]) for r in candidate_rows(step)]
    [('b', 'a', 'merged (won the tie)'), ('a', 'b', 'tied')]
    >>> 'class="tok tv-c0 tv-new"' in render_step_effect(step_effect(tok, "ba", step=0), tokenizer="t")
    True
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from tokviz.analysis.replay import ReplayStep, StepEffect
from tokviz.core.encoding import Encoding
from tokviz.models.bpe import Tokenizer
from tokviz.viewmodels.display import hex_bytes, token_label
from tokviz.viewmodels.render import PALETTE

#: Outline of a token the step created; the page's own ``.tok`` styles give the chip its colour and hover card.
NEW_TOKEN_CSS = (
    ".tv-step{margin:2px 0 10px}.tv-step .tv-k{display:inline-block;min-width:4.5em;font-size:13px}"
    ".tok.tv-new{box-shadow:inset 0 0 0 2px #dc2626;font-weight:700}"
)


def candidate_rows(step: ReplayStep) -> list[dict[str, object]]:
    """One row per candidate pair, best first: labels, the merged token, the count, and what happened to it.

    ``note`` is "merged" for the chosen pair ("merged (won the tie)" when others tied), "tied" for pairs with the
    same top count that lost, and "" otherwise.
    """
    rows: list[dict[str, object]] = []
    for i, c in enumerate(step.candidates, start=1):
        if c.chosen:
            note = "merged (won the tie)" if c.tied else "merged"
        else:
            note = "tied" if c.tied else ""
        rows.append({"#": i, "left": token_label(c.left), "right": token_label(c.right),
                     "new token": token_label(c.left + c.right), "count": c.count, "note": note})
    return rows


def _chips(enc: Encoding, *, tokenizer: str, new: list[bool] | None = None) -> str:
    out = []
    for i, (tid, token) in enumerate(zip(enc.ids, enc.tokens)):
        classes = f"tok tv-c{i % len(PALETTE)}" + (" tv-new" if new and new[i] else "")
        card = (f'<span class="tv-card" hidden><span class="tv-k">id</span> {tid}\n<span class="tv-k">bytes</span> '
                f"{html.escape(hex_bytes(token) or '(none)')}\n<span class=\"tv-k\">repr</span> "
                f"{html.escape(repr(token))}</span>")
        out.append(f'<span class="{classes}" data-token-id="{tid}" data-tokenizer="{html.escape(tokenizer)}">'
                   f'<span class="tv-text">{html.escape(token_label(token))}</span>{card}</span>')
    return f'<div class="tv-chips" data-tokenizer="{html.escape(tokenizer)}">{"".join(out)}</div>'


def render_step_effect(effect: StepEffect, *, tokenizer: str) -> str:
    """The sample's tokens before and after the step, the new tokens outlined, with the token counts."""
    before, after = effect.before, effect.after
    return (
        f"<style>{NEW_TOKEN_CSS}</style>"
        f'<div class="tv-step" data-step="before"><span class="tv-k">before</span> {len(before):,} tokens'
        f"{_chips(before, tokenizer=tokenizer)}</div>"
        f'<div class="tv-step" data-step="after"><span class="tv-k">after</span> {len(after):,} tokens'
        f"{_chips(after, tokenizer=tokenizer, new=effect.changed)}</div>"
    )


def sample_for_step(tok: Tokenizer, texts: Iterable[str], *, step: int, max_chars: int = 240,
                    max_lines: int = 200_000) -> str:
    r"""A stretch of the corpus (at most ``max_chars`` characters, centred on the spot) where merge ``step`` applies.

    Holding the pair's bytes is not enough: the pre-tokenizer may cut between them (two spaces before a word are
    two pieces under the gpt2 pattern) or an earlier merge may have taken one side. So each piece holding the bytes
    is run through the first ``step + 1`` merges, and the first piece where merge ``step`` is applied wins.
    Returns "" when none of the first ``max_lines`` lines has one.

    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["x    y\n" * 9], vocab_size=257)
    >>> tok.merges[0], sample_for_step(tok, ["a  b\nthe  end\nx    y\n"], step=0)
    ((b' ', b' '), 'x    y')
    """
    a, b = tok.merges[step]
    needle = a + b
    pt = tok.pretokenizer
    lines = (line for text in texts for line in text.splitlines())
    for n, line in enumerate(lines):
        if n >= max_lines:
            break
        if needle not in line.encode("utf-8"):
            continue
        pos = 0
        for seg, is_special in pt.segments(line):
            if not is_special:
                at = pos
                for piece in pt.findall(seg):
                    raw = piece.encode("utf-8")
                    if needle in raw and step in tok.merge_path(raw, n_merges=step + 1)[1]:
                        start = max(0, min(at + len(piece) // 2 - max_chars // 2, len(line) - max_chars))
                        return line[start:start + max_chars]
                    at += len(piece)
            pos += len(seg)
    return ""
