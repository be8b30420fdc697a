"""The ``munibond`` command line: ``munibond --help`` lists the commands.

See :mod:`munibond.cli.app` for the global options and the exit codes.
"""

from __future__ import annotations

from munibond.cli.app import cli, main

__all__ = ["cli", "main"]
