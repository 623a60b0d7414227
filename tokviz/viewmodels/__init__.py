"""The app's view models: pure functions and dataclasses that the Streamlit pages call.

The middle floor (see ``docs/architecture.md``): HTML for tokenizations (with its styles in ``tokviz.css`` beside
this file), observations, charts, the display of tokens, size runs, training input and summaries, replay display,
exports, uploads, the built-in defaults and samples, and the link state. These modules may use plotly and pandas,
never streamlit, and may change with the app; a library user relies on :mod:`tokviz` instead.
"""
