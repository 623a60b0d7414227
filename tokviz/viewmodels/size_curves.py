"""Every series of the "Vocab sizes" charts, the real tokenizers' rank files as curves among them.

:mod:`tokviz.viewmodels.size_runs` trains the pattern runs and measures them with the baselines; here a rank-rule
tokenizer (GPT-2, GPT-4's cl100k, GPT-4o's o200k, any tiktoken file loaded) joins them as a curve over every size
from 256 up to its full size: its first ``k`` ranks are a tokenizer of their own
(:func:`tokviz.analysis.rank_prefix.prefix_curve`). The runs' size choices here reach 64k, so that on a corpus big
enough to allow it our curves meet the 50k-200k tokenizers they are compared with.

Example:
    >>> from tokviz.formats.pretrained import load_encoding
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> chart_kinds({"GPT-2": load_encoding("gpt2"), "bytes": ByteTokenizer()})
    {'GPT-2': 'ranks', 'bytes': 'point'}
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from threading import Lock
from typing import Any, Literal

from tokviz.analysis.rank_prefix import prefix_curve, rank_table
from tokviz.analysis.sweep import SizeComparison
from tokviz.models.bpe import Tokenizer
from tokviz.viewmodels.size_runs import CURVE_POINTS, Comparison, compare_on_text, series_kinds

#: Largest sizes a user can train to: up to 64k, where GPT-2's 50k is within reach of our curves (the built-in
#: corpus stops near 9k: every pre-token of its 420k characters is a single token by then, and the page says so).
MAX_SIZES: tuple[int, ...] = (2048, 4096, 8192, 16384, 32768, 65536)
DEFAULT_MAX_SIZE = 65536
#: Sizes offered for the side by side and the length histograms.
NICE_SIZES: tuple[int, ...] = (256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576,
                               32768, 49152, 65536)
#: Points of a rank file's curve: its counts are exact at each, the line between them smooth on a log axis.
RANK_CURVE_POINTS = 60

ChartKind = Literal["curve", "ranks", "point"]


def chart_kinds(tokenizers: Mapping[str, Any]) -> dict[str, ChartKind]:
    """How each tokenizer joins the charts: ``"curve"`` for a BPE trained here, ``"ranks"`` for a rank-rule
    tokenizer (a curve over its first k ranks), ``"point"`` for any other; objects that cannot encode are left out.
    """
    kinds: dict[str, ChartKind] = {}
    for name, kind in series_kinds(tokenizers).items():
        tok = tokenizers[name]
        kinds[name] = "ranks" if isinstance(tok, Tokenizer) and tok.rule == "ranks" else kind
    return kinds


def kind_text(kind: ChartKind) -> str:
    """What the "Also on the charts" box says of a tokenizer of this kind.

    >>> kind_text("ranks"), kind_text("point")
    ('every size: its first k ranks', 'one point')
    """
    return {"curve": "every size", "ranks": "every size: its first k ranks", "point": "one point"}[kind]


class _RankTables:
    """Rank tables of the last few tokenizers measured (building o200k's takes about 0.2 s), shared by sessions.

    Keyed by the object itself (kept alive here), so a table never outlives a tokenizer it could be mistaken for.
    """

    def __init__(self, limit: int = 6) -> None:
        self._tables: OrderedDict[int, tuple[Tokenizer, dict[bytes, int]]] = OrderedDict()
        self._limit = limit
        self._lock = Lock()

    def get(self, tok: Tokenizer) -> dict[bytes, int]:
        with self._lock:
            kept = self._tables.get(id(tok))
            if kept is not None and kept[0] is tok:
                self._tables.move_to_end(id(tok))
                return kept[1]
        table = rank_table(tok)
        with self._lock:
            self._tables[id(tok)] = (tok, table)
            while len(self._tables) > self._limit:
                self._tables.popitem(last=False)
        return table


_tables = _RankTables()


def compare_all(
    text: str,
    runs: Sequence[Tokenizer],
    *,
    baselines: Sequence[Any] = (),
    extras: Mapping[str, Any] | None = None,
    own_texts: Mapping[str, str] | None = None,
    n_points: int = CURVE_POINTS,
) -> Comparison:
    """:func:`tokviz.viewmodels.size_runs.compare_on_text`, with each rank-rule extra as a curve over its first k
    ranks (labelled by its key, measured on ``text``) after the other curves.

    >>> from tokviz.formats.pretrained import load_encoding
    >>> from tokviz.viewmodels.size_runs import pattern_runs
    >>> runs = pattern_runs("low lower lowest\\n" * 20, source="x", max_size=264, patterns=("gpt2",)).runs
    >>> out = compare_all("lower", runs, extras={"GPT-2": load_encoding("gpt2")}).comparison
    >>> [(c.label, c.sizes[0], c.sizes[-1], c.tokens[0], c.tokens[-1]) for c in out.curves]
    [('bpe gpt2', 256, 263, 5, 2), ('GPT-2', 256, 50256, 5, 1)]
    """
    extras = dict(extras or {})
    kinds = chart_kinds(extras)
    ranked = {n: extras[n] for n, k in kinds.items() if k == "ranks"}
    rest = {n: t for n, t in extras.items() if n not in ranked}
    base = compare_on_text(text, runs, baselines=baselines, extras=rest, own_texts=own_texts, n_points=n_points)
    curves = list(base.comparison.curves)
    problems = list(base.problems)
    for name, tok in ranked.items():
        try:
            curves.append(prefix_curve(tok, text, n_points=RANK_CURVE_POINTS, label=name, ranks=_tables.get(tok)))
        except ValueError as e:
            problems.append(f"{name}: {e}")
    return Comparison(SizeComparison(tuple(curves), base.comparison.points), tuple(problems))
