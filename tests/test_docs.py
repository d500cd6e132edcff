"""The README stays true: its Python example runs, and every hook is documented."""

from __future__ import annotations

import re
from pathlib import Path

from rollupkit.interfaces import PLUGIN_KINDS
from rollupkit.plugins import valid_hook_names

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_hook_and_base_class_is_in_the_readme() -> None:
    for hook in valid_hook_names():
        assert f"`{hook}`" in README, hook
    for base, _ in PLUGIN_KINDS.values():
        assert f"`{base.__name__}`" in README, base.__name__


def test_readme_python_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    example = next(b for b in blocks if "execute_detailed" in b)
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    result = namespace["result"]
    assert result.reason.value == "gas-mismatch"  # type: ignore[attr-defined]


def test_readme_names_the_two_setup_commands() -> None:
    assert "make demo" in README and "make test" in README
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "make test" in ci
