"""The command line (``bench ...``): the only layer that writes to the terminal."""

from bench.cli.main import cli, main

__all__ = ["cli", "main"]
