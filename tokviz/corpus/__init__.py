"""Corpora: reading a corpus from a path or URL, cutting it into byte ranges at safe places, and encoding a whole
corpus to id arrays."""
