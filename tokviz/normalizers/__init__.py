"""Normalizers: text rewritten before it is split (Unicode forms, lowercase, replace, strip, prepend, BERT's), each
with the alignment that maps normalized positions back to the user's text (``components``)."""
