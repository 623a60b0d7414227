"""Chat templates: conversations rendered as a model's own template writes them (jinja2 sandbox, as transformers),
OpenAI's harmony and ChatML formats built in, and the token breakdown the app draws.

See :mod:`tokviz.chat.apply` (``apply_chat_template``, ``chat_breakdown``), :mod:`tokviz.chat.jinja_render` and
:mod:`tokviz.chat.openai_formats`.
"""

from tokviz.chat.apply import ChatBreakdown, apply_chat_template, chat_breakdown, choose_template, render_chat
from tokviz.chat.jinja_render import TemplateError, render_template
from tokviz.chat.openai_formats import CHATML_TEMPLATE, cl100k_im, o200k_harmony, render_harmony

__all__ = ["CHATML_TEMPLATE", "ChatBreakdown", "TemplateError", "apply_chat_template", "chat_breakdown",
           "choose_template", "cl100k_im", "o200k_harmony", "render_chat", "render_harmony", "render_template"]
