r"""The token anatomy card and the encode trace, as table rows and escaped HTML for the pages to lay out.

Example:
    >>> from tokviz import Tokenizer
    >>> from tokviz.analysis.anatomy import anatomy, trace
    >>> tok = Tokenizer({i: bytes([i]) for i in range(256)} | {256: b"<a"}, [(b"<", b"a")], pattern=r"\S+|\s+")
    >>> a = anatomy(tok, 256)
    >>> card_rows(a)[:3]
    [('Id', '256'), ('Kind', 'merge'), ('Rank', '0')]
    >>> "&lt;a" in merge_tree_html(a), "<a" not in merge_tree_html(a).replace("<a ", "")
    (True, True)
    >>> trace_rows(trace(tok, "<a"), tok.vocab)[0]["merged"]
    "'<' + 'a'"
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from tokviz.analysis.anatomy import EncodeTrace, MergeNode, TokenAnatomy, TraceStep, quoted, readable
from tokviz.viewmodels.display import char_names, has_invisible, name_invisibles


def _fmt(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def token_label(token: bytes) -> str:
    """A token as shown in tables: its readable text quoted, spaces kept visible by the quotes."""
    return quoted(token)


def _text(text: str) -> str:
    # A character that draws nothing (ZWJ, ZWSP, a bidi control) is named, with its code point and Unicode name.
    return f"{name_invisibles(text)}  ({char_names(text)})" if has_invisible(text) else text


def card_rows(a: TokenAnatomy, *, occurrences: int | None = None) -> list[tuple[str, str]]:
    """``(label, value)`` rows of the anatomy card; ``occurrences`` (in the current text) when known."""
    rows = [
        ("Id", f"{a.id}"), ("Kind", a.kind), ("Rank", _fmt(a.rank)),
        ("Text", _text(a.text) if a.text is not None else f"(not whole UTF-8) {a.display}"),
        ("Bytes (hex)", a.hex), ("Length", f"{a.n_bytes} byte{'s' if a.n_bytes != 1 else ''}"),
    ]
    if a.merge_index is not None:
        rows.append(("Built by merge", f"{a.merge_index + 1:,}"))
    if a.pair_count is not None:
        rows.append(("Pair count when merged", f"{a.pair_count:,}"))
    if a.tree is not None:
        rows.append(("Merge tree height", str(a.tree.height)))
    rows.append(("Part of longer tokens", f"{len(a.used_by):,}"))
    if occurrences is not None:
        rows.append(("In this text", f"{occurrences:,} time{'s' if occurrences != 1 else ''}"))
    rows.append(("Note", a.note))
    return rows


def merge_tree_rows(a: TokenAnatomy) -> list[dict[str, object]]:
    """The merge tree top-down, one row per node: depth, id, text, hex, rank, merge number, pair count."""
    if a.tree is None:
        return []
    return [{"depth": d, "id": n.id, "token": token_label(n.token_bytes), "hex": n.token_bytes.hex(" "),
             "rank": n.rank, "merge": None if n.merge_index is None else n.merge_index + 1, "pair count": n.pair_count}
            for d, n in a.tree.walk()]


def _node_html(node: MergeNode) -> str:
    rank = "" if node.rank is None else f' <span class="tv-rank">rank {node.rank:,}</span>'
    count = "" if node.pair_count is None else f' <span class="tv-count">{node.pair_count:,}×</span>'
    label = (f'<span class="tv-node" data-token-id="{node.id}">{html.escape(token_label(node.token_bytes))}'
             f"</span>{rank}{count}")
    if node.left is None or node.right is None:
        return f"<li>{label}</li>"
    return f"<li>{label}<ul>{_node_html(node.left)}{_node_html(node.right)}</ul></li>"


def merge_tree_html(a: TokenAnatomy) -> str:
    """The merge tree as nested lists (every text escaped); a note instead where the token has no tree."""
    if a.tree is None:
        return f'<p class="tv-note">{html.escape(a.note)}</p>'
    if a.tree.height > 60:
        # Deep trees (long runs of spaces) would nest past what a browser draws usefully: show them as rows.
        return '<p class="tv-note">The merge tree is too deep to draw; see its rows.</p>'
    return f'<ul class="tv-merge-tree">{_node_html(a.tree)}</ul>'


def used_by_rows(a: TokenAnatomy, vocab: Mapping[int, bytes], *, limit: int = 100) -> list[dict[str, object]]:
    """The longer tokens built from this one (first ``limit``), with their text."""
    return [{"id": i, "token": token_label(vocab[i])} for i in a.used_by[:limit]]


def _tokens(ids: tuple[int, ...], vocab: Mapping[int, bytes]) -> str:
    return " · ".join(readable(vocab[i]) for i in ids)


def trace_rows(t: EncodeTrace, vocab: Mapping[int, bytes]) -> list[dict[str, object]]:
    """One row per step: the tokens before it, the pair merged, its rank, the number of candidates, and why."""
    return [{"step": s.index + 1, "before": _tokens(s.before, vocab), "merged": s.chosen.label,
             "rank": s.chosen.rank, "candidates": s.n_candidates, "why": s.reason} for s in t.steps]


def candidate_rows(step: TraceStep) -> list[dict[str, object]]:
    """The ranked candidate pairs of one step (the chosen one first and marked)."""
    return [{"pair": c.label, "position": c.position, "rank": c.rank, "makes": c.result, "chosen": c == step.chosen}
            for c in step.candidates]


def trace_summary(t: EncodeTrace) -> str:
    """One sentence: the piece, how many steps, how many tokens it ends in, and why BPE stopped."""
    if t.special:
        return f"{t.piece!r} is a special token: {t.stop_reason}"
    n = len(t.ids)
    return (f"{t.piece!r} starts as {len(t.start)} byte{'s' if len(t.start) != 1 else ''}; {t.n_steps} merge"
            f"{'s' if t.n_steps != 1 else ''} leave {n} token{'s' if n != 1 else ''}. {t.stop_reason}")
