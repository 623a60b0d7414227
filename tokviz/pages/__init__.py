"""The Streamlit pages: one module per page, plus the frame (:mod:`tokviz.pages.app`) that navigates between them.

The top floor (see ``docs/architecture.md``): only widgets and layout live here. Everything a page shows is computed
by :mod:`tokviz.viewmodels` over :mod:`tokviz`; no module below this package imports streamlit.
"""
