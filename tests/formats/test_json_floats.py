"""tokviz.formats.json_floats: numbers read as `tokenizers` (serde_json) reads them, checked against `tokenizers`
itself: a Unigram file's scores go in as text, and `to_str()` writes back the doubles it holds (shortest round-trip
form, which Python's json reads exactly)."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.formats.json_floats import score_as_tokenizers_reads_it, serde_f64

tokenizers = pytest.importorskip("tokenizers")


def _held_by_tokenizers(numbers: list[str]) -> list[float]:
    """The scores `tokenizers` holds after reading a Unigram file whose vocabulary scores are ``numbers``."""
    vocab = ",".join(f'["p{i}", {t}]' for i, t in enumerate(numbers))
    raw = ('{"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null, "post_processor": null,'
           ' "decoder": null, "model": {"type": "Unigram", "unk_id": 0, "vocab": [' + vocab + '],'
           ' "byte_fallback": false}}')
    back = json.loads(tokenizers.Tokenizer.from_str(raw).to_str())
    return [s for _, s in back["model"]["vocab"]]


EDGES = ["-7.2217645489529705", "0.1", "-0", "5", "-12", "1E+2", "1e-320", "-4.9e-324", "123.456e-30",
         "-0.000012345678901234567", "12345678901234567890123", "18446744073709551615.5", "18446744073709551616.123",
         "1844674407370955161.59", "99999999999999999999.99999", "0.00000000000000000000000000001"]


def test_edge_numbers_equal_tokenizers() -> None:
    held = _held_by_tokenizers(EDGES)
    assert [serde_f64(t) for t in EDGES] == held


def test_log_probabilities_equal_tokenizers_where_python_differs() -> None:
    rng = random.Random(7)
    texts = [repr(-rng.random() * 20) for _ in range(2000)] + [repr(rng.uniform(-1e-3, 0)) for _ in range(500)]
    held = _held_by_tokenizers(texts)
    assert [serde_f64(t) for t in texts] == held
    # The reason the module exists: Python's correctly rounded reading differs for a good share of such scores.
    assert sum(float(t) != h for t, h in zip(texts, held)) > 100


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=40))
def test_drawn_doubles_as_python_writes_them(values: list[float]) -> None:
    held = _held_by_tokenizers([repr(v) for v in values])
    assert [score_as_tokenizers_reads_it(v) for v in values] == held


def test_integers_and_bad_numbers() -> None:
    assert score_as_tokenizers_reads_it(-3) == -3.0
    assert score_as_tokenizers_reads_it(float("-inf")) == float("-inf")
    for bad in ("", "1.", ".5", "01", "+1", "1e", "abc"):
        with pytest.raises(ValueError, match="not a JSON number"):
            serde_f64(bad)
    with pytest.raises(ValueError, match="out of the range"):
        serde_f64("1e309")
