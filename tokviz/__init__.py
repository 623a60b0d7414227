"""tokviz: see how text becomes tokens. An exact, fast byte-level BPE core (no streamlit here).

>>> import tempfile, pathlib
>>> from tokviz import load_tokenizer, save_tokenizer, train_bpe
>>> tok = train_bpe(["hello hello world"], vocab_size=260)
>>> tok.decode(tok.encode("hello world"))
'hello world'
>>> with tempfile.TemporaryDirectory() as d:
...     _ = save_tokenizer(tok, pathlib.Path(d) / "tok.json")
...     load_tokenizer(pathlib.Path(d) / "tok.json").encode("hello world") == tok.encode("hello world")
True

Files are read and written by :mod:`tokviz.formats` (``save_tokenizer`` and ``load_tokenizer`` here): the
``Tokenizer.save``/``Tokenizer.load``/``Tokenizer.from_files`` methods of earlier releases are gone, since a model
never reaches up into the file formats.
"""

from tokviz.core.encoding import Encoding, Piece
from tokviz.engines import choose as _engines  # noqa: F401  (registers the native engines' factory)
from tokviz.formats import load_tokenizer
from tokviz.formats.cs336 import CS336Tokenizer
from tokviz.formats.dispatch import save as save_tokenizer
from tokviz.models.bpe import Tokenizer, TrainingReport
from tokviz.pre_tokenizers.patterns import NAMED_PATTERNS
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.training.merge_loop import Merge
from tokviz.training.trainer import train_bpe

__all__ = [
    "CS336Tokenizer", "Encoding", "Merge", "NAMED_PATTERNS", "Piece", "PreTokenizer", "Tokenizer", "TrainingReport",
    "load_tokenizer", "save_tokenizer", "train_bpe",
]
__version__ = "0.1.0"
