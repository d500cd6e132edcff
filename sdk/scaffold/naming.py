"""Project and plugin names, and the names derived from them for the generated code."""

from __future__ import annotations

import importlib.util
import keyword
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from rollupkit.errors import (
    InvalidNameError,  # re-exported: raised here
)

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
MAX_NAME = 40
#: Import names a generated package must not shadow.
_TAKEN = {"rollupkit", "rollupkit_cli", "tests", "test", "contracts", "templates"}


@dataclass(frozen=True)
class Names:
    """A name and what the generated code calls things after it."""

    name: str  # my-rollup: the folder, the distribution, the chain's label
    package: str  # my_rollup: the Python package
    pascal: str  # MyRollup: class and contract names
    title: str  # My Rollup: prose


def _shadows_installed_module(package: str) -> bool:
    """Whether an importable module (rollupkit's dependencies, anything installed) has this
    name: the generated package would hide it, or be hidden by it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return True
    # A namespace package is only a folder of that name (often the project's own, here).
    if spec is None or spec.origin is None:
        return False
    # Another scaffolded project's own package (importable once its hooks were loaded in this
    # process) is no dependency to hide.
    project_root = Path(spec.origin).parent.parent
    return not (project_root / ".rollupkit-template").is_dir()


def derive_names(name: str, *, what: str = "project", new: bool = False) -> Names:
    """Check ``name`` and derive the others; raise saying what a valid name looks like.

    ``new``: the name is for something about to be created, so its package must not be the
    name of a module already installed (once the project is installed, its own package is)."""
    if not _NAME.match(name) or len(name) > MAX_NAME:
        raise InvalidNameError(
            f"invalid {what} name {name!r}: use lowercase letters, digits and single hyphens, "
            f"starting with a letter, at most {MAX_NAME} characters (e.g. "
            f"{'my-rollup' if what == 'project' else 'my-vm'})"
        )
    example = "my-rollup" if what == "project" else "my-vm"
    package = name.replace("-", "_")
    if keyword.iskeyword(package):
        raise InvalidNameError(
            f"invalid {what} name {name!r}: {package!r} is a Python keyword, so it cannot name "
            f"the package; choose another name (e.g. {example})"
        )
    if (
        package in _TAKEN
        or package.startswith("rollupkit")
        or package in sys.stdlib_module_names
        or (new and _shadows_installed_module(package))
    ):
        raise InvalidNameError(
            f"invalid {what} name {name!r}: its Python package {package!r} would shadow an "
            f"installed module of that name; choose another name (e.g. {example})"
        )
    parts = name.split("-")
    return Names(
        name=name,
        package=package,
        pascal="".join(p.capitalize() for p in parts),
        title=" ".join(p.capitalize() for p in parts),
    )
