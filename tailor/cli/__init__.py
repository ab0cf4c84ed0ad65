"""The `tailor` command line, one module per command group."""

from tailor.cli.app import main

__all__ = ["main"]
