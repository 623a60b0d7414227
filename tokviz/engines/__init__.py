"""Engines: native encoders run under a tokenizer when they are proven to give its ids, so encoding is fast while
the pure-Python engine stays the reference that explains (anatomy, replay, step-by-step views).

:func:`tokviz.engines.choose.accelerate` checks a tokenizer at load (:mod:`tokviz.engines.plan`), picks the fastest
installed engine that runs it exactly (``fastokens``, else ``tiktoken``) and attaches it; with none installed, or for
a tokenizer no engine runs exactly, nothing changes. ``docs/engines.md`` gives the evidence behind the choice."""
