"""The ``tokviz`` command line (``tokviz.cli.main``); the Dask subcommands live in ``tokviz.cli.scale``."""

from tokviz.cli.main import main

__all__ = ["main"]
