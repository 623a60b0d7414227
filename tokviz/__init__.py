"""tokviz: see how text becomes tokens. An exact, fast byte-level BPE core (no streamlit here).

>>> from tokviz import train_bpe, Tokenizer
>>> tok = train_bpe(["hello hello world"], vocab_size=260)
>>> tok.decode(tok.encode("hello world"))
'hello world'
"""

from tokviz.bpe import Merge
from tokviz.encoding import Encoding, Piece
from tokviz.formats import load_tokenizer
from tokviz.pretokenize import NAMED_PATTERNS, PreTokenizer
from tokviz.tokenizer import Tokenizer, TrainingReport
from tokviz.trainer import train_bpe

__all__ = [
    "Encoding", "Merge", "NAMED_PATTERNS", "Piece", "PreTokenizer", "Tokenizer", "TrainingReport", "load_tokenizer",
    "train_bpe",
]
__version__ = "0.1.0"
