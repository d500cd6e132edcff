"""Rebuild a template's prebuilt contract artifacts: ``python -m rollupkit.scaffold.prebuilt``.

Scaffolded projects get their contract artifacts without a compiler: the template carries one
build of each contract (``[prebuilt]`` in ``template.toml``), which holds for every project
because bytecode is compiled without metadata and so does not depend on the names a project
gives its contracts. Run this after editing such a contract in the template; a test fails
until you do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from jinja2 import Environment

from rollupkit.plugins import get_registry
from rollupkit.scaffold.options import RollupOptions
from rollupkit.scaffold.project import default_template, rollup_context
from rollupkit.scaffold.render import Template
from rollupkit.solidity import compile_sources, compiler_version


def prebuilt_artifacts(template_dir: Path | None = None) -> dict[str, str]:
    """Compile each prebuilt contract of the template: prebuilt file → its JSON content."""
    template = Template.load(template_dir or default_template())
    # Each VM's render holds its own contracts (the booster's ballot, the EVM's token).
    files: dict[str, bytes] = {}
    for vm in get_registry().names("vm"):
        options = RollupOptions(name="example-rollup", vm=vm)
        files.update(template.render(rollup_context(options, template)))
    context = rollup_context(RollupOptions(name="example-rollup"), template)
    out = {}
    for pattern, prebuilt in (template.meta.get("prebuilt") or {}).items():
        source = Environment().from_string(pattern).render(context)
        text = files[source].decode()
        name = re.search(r"^contract (\w+)", text, re.MULTILINE)
        assert name is not None, f"{source} declares no contract"
        artifact = compile_sources({source.rpartition("/")[2]: text})[name.group(1)]
        out[prebuilt] = (
            json.dumps(
                {
                    "abi": artifact.abi,
                    "bytecode": artifact.bytecode.hex(),
                    "deployedBytecode": artifact.deployed_bytecode.hex(),
                    "compilerVersion": compiler_version(),
                },
                indent=2,
                sort_keys=True,
            )
            + "\n"
        )
    return out


def main() -> None:
    template = default_template()
    for relative, content in prebuilt_artifacts(template).items():
        (template / relative).write_text(content)
        print(f"wrote {template / relative}")


if __name__ == "__main__":
    main()
