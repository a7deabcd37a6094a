"""The command line: read options, call the library, pick a format, map outcomes to exit codes. No logic.

One module per command; ``app`` is what they register on, ``main`` the console script.
"""

from migration_archaeologist.cli.group import app
from migration_archaeologist.cli.entry import main

__all__ = ["app", "main"]
