"""The ``soleflip-analytics`` command: one module per group of verbs.

``common`` holds what every verb shares (the database option, the connection
helper, the error style and the exit codes); ``main`` puts the verbs together.
"""

from soleflip_analytics.cli.main import main

__all__ = ["main"]
