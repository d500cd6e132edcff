"""The templates ``rollupkit scaffold`` renders (package data of rollupkit).

* ``rollup/``: a rollup project (``rollupkit scaffold new``);
* ``plugin/``: a plugin package (``rollupkit scaffold plugin``).

See :mod:`rollupkit.scaffold.render` for the rules a template follows.
"""

from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent
ROLLUP_TEMPLATE = TEMPLATES_DIR / "rollup"
PLUGIN_TEMPLATE = TEMPLATES_DIR / "plugin"
