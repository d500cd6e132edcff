"""The ``rollupkit`` command line: a thin typer layer over the ``rollupkit`` SDK."""

import time

#: When the command started (before rollupkit's imports), for end-to-end timings.
COMMAND_STARTED = time.monotonic()
