"""Models: how one pre-token becomes ids. Byte-level BPE with its rank and merge rules (``Tokenizer``), WordPiece,
Unigram, SentencePiece-style BPE, and the lecture's character, byte and word baselines."""
