"""Pipelines: a model with what surrounds it. Added tokens, the ``tokenizer.json`` pipelines (byte-level and the
vocabulary families), decoders, GPT-2's add-prefix-space, and encoding a long text by segments."""
