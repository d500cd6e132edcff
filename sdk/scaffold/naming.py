"""Project and plugin names, and the names derived from them for the generated code."""

from __future__ import annotations

import keyword
import re
import sys
from dataclasses import dataclass

from rollupkit.errors import RollupkitError

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
MAX_NAME = 40
#: Import names a generated package must not shadow.
_TAKEN = {"rollupkit", "rollupkit_cli", "tests", "test", "contracts", "templates"}


class InvalidNameError(RollupkitError):
    """A project or plugin name that cannot be used."""


@dataclass(frozen=True)
class Names:
    """A name and what the generated code calls things after it."""

    name: str  # my-rollup: the folder, the distribution, the chain's label
    package: str  # my_rollup: the Python package
    pascal: str  # MyRollup: class and contract names
    title: str  # My Rollup: prose


def derive_names(name: str, *, what: str = "project") -> Names:
    """Check ``name`` and derive the others; raise saying what a valid name looks like."""
    if not _NAME.match(name) or len(name) > MAX_NAME:
        raise InvalidNameError(
            f"invalid {what} name {name!r}: use lowercase letters, digits and single hyphens, "
            f"starting with a letter, at most {MAX_NAME} characters (e.g. my-rollup)"
        )
    package = name.replace("-", "_")
    if (
        keyword.iskeyword(package)
        or package in _TAKEN
        or package.startswith("rollupkit")
        or package in sys.stdlib_module_names
    ):
        raise InvalidNameError(
            f"invalid {what} name {name!r}: its Python package {package!r} would shadow an "
            "existing module; choose another name"
        )
    parts = name.split("-")
    return Names(
        name=name,
        package=package,
        pascal="".join(p.capitalize() for p in parts),
        title=" ".join(p.capitalize() for p in parts),
    )
