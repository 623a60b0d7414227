"""User-supplied text made safe for plotly, which draws its own subset of HTML (``<b>``, ``<i>``, ``<a href>``,
``<br>``, ``<sup>``, ``<span style>``...) in legends, titles, axis labels, point labels, hover labels and
annotations: a tokenizer named ``<b>B</b>`` would be drawn bold and ``<a href="//host">L</a>`` as a live link.

:func:`plot_text` escapes ``&``, ``<`` and ``>`` (plotly turns the entities back into the characters when it draws),
so the text shows exactly as written. Inside a ``hovertemplate``, ``%{...}`` is also a reference to the point's data:
:func:`template_text` breaks that too (``{`` as an entity), so a name holding ``%{x}`` is not filled in.

Example:
    >>> plot_text('<a href="//127.0.0.1:8000/a">L</a> & co')
    '&lt;a href="//127.0.0.1:8000/a"&gt;L&lt;/a&gt; &amp; co'
    >>> template_text("%{x} <b>")
    '%&#123;x} &lt;b&gt;'
"""

from __future__ import annotations


def plot_text(text: str) -> str:
    """``text`` with ``&``, ``<`` and ``>`` as entities, for any string plotly draws."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def template_text(text: str) -> str:
    """``text`` for the literal part of a ``hovertemplate``: :func:`plot_text`, and ``%{`` kept from naming data."""
    return plot_text(text).replace("%{", "%&#123;")
