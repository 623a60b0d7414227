"""tokviz: paste text and see how tokenizers cut it, side by side. Run with ``streamlit run app.py``.

The app lives in the package (:mod:`tokviz.pages.app`, so that ``pip install .`` ships it too, as ``tokviz app``);
this file is only the entry point Streamlit runs.
"""

from tokviz.pages.app import main

# Streamlit runs this file as __main__; a child process started with spawn (the chat-template sandbox, the anatomy
# warmer) imports it as __mp_main__ and must not start the app again.
if __name__ == "__main__":
    main()
