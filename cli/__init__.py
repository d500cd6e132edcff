"""The ``rollupkit`` command line: a thin typer layer over the ``rollupkit`` SDK."""
