"""Test configuration: only rollupkit's own plugins, whatever else is installed."""

from __future__ import annotations

import os

os.environ["ROLLUPKIT_PLUGINS"] = "builtin"
os.environ.pop("ROLLUPKIT_TRACE_PLUGINS", None)
