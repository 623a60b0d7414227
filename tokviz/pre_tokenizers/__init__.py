"""Pre-tokenizers: where text is split before the model sees it. Named patterns (GPT-2, GPT-4, GPT-4o), vetting of a
user's own pattern, special tokens, the ``PreTokenizer`` itself, the places a stream can be cut, and the components a
``tokenizer.json`` names (splits, Metaspace, ByteLevel and its byte-to-character table)."""
