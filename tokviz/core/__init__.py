"""What every stage shares: the ``Encoding`` result, the ``TokenizerLike`` protocol, checked readers of text and JSON
files, Oniguruma-compatible regex classes, the regex budget, and small ratios over encodings."""
