"""tokviz: see how text becomes tokens. An exact, fast byte-level BPE core (no streamlit here).

>>> from tokviz import train_bpe, Tokenizer
>>> tok = train_bpe(["hello hello world"], vocab_size=260)
>>> tok.decode(tok.encode("hello world"))
'hello world'
"""

from tokviz.core.encoding import Encoding, Piece
from tokviz.formats import load_tokenizer
from tokviz.models.bpe import Tokenizer, TrainingReport
from tokviz.pre_tokenizers.patterns import NAMED_PATTERNS
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.training.merge_loop import Merge
from tokviz.training.trainer import train_bpe

__all__ = [
    "Encoding", "Merge", "NAMED_PATTERNS", "Piece", "PreTokenizer", "Tokenizer", "TrainingReport", "load_tokenizer",
    "train_bpe",
]
__version__ = "0.1.0"
