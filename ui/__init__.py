"""Streamlit views beyond the first two, one module each (``view(tokenizers, chosen)``), registered in app.py.

Like app.py, these modules only lay out widgets and call :mod:`tokviz`, which holds all logic and never imports
streamlit.
"""
