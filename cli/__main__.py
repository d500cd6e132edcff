"""``python -m rollupkit_cli``: the same as the ``rollupkit`` command."""

from rollupkit_cli.main import run

run()
