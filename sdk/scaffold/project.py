"""``rollupkit scaffold new``: render the rollup template for a set of answers."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak

from rollupkit import __version__
from rollupkit.plugins import PluginRegistry, get_registry
from rollupkit.project.config import L1_KINDS
from rollupkit.scaffold.options import RollupOptions, validate
from rollupkit.scaffold.render import Record, Template, TemplateError, write_record, write_tree
from rollupkit.solidity import Artifact, artifact_json


def default_template() -> Path:
    from rollupkit.templates import ROLLUP_TEMPLATE

    return ROLLUP_TEMPLATE


def rollupkit_source() -> str:
    """What ``pip install`` should name to get this rollupkit: the folder it was installed
    from (a checkout), or the distribution name."""
    try:
        direct = metadata.distribution("rollupkit").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return "rollupkit"
    if direct:
        url = json.loads(direct).get("url", "")
        if url.startswith("file://"):
            return url[len("file://") :]
    return "rollupkit"


def _symbol(parts: list[str]) -> str:
    initials = "".join(p[0] for p in parts)
    return (initials if len(initials) >= 3 else "".join(parts)[:4]).upper()


def rollup_context_versions() -> dict[str, str]:
    """Which rollupkit renders (and where a generated README installs it from)."""
    base_version = re.match(r"\d+(\.\d+)*", __version__)
    return {
        "rollupkit_version": __version__,
        "rollupkit_min_version": base_version.group(0) if base_version else "0.1",
        "rollupkit_source": rollupkit_source(),
    }


def rollup_context(
    options: RollupOptions, template: Template, registry: PluginRegistry | None = None
) -> dict[str, Any]:
    """Every variable the rollup template uses."""
    registry = registry or get_registry()
    names = options.names
    proof = registry.info("proof", options.proof)
    return {
        **options.to_answers(),
        "name": names.name,
        "package": names.package,
        "pascal": names.pascal,
        "title": names.title,
        "symbol": _symbol(names.name.split("-")),
        "treasury": keccak(f"{names.name} treasury".encode())[12:].hex(),
        "l1_kind": options.l1 if options.l1 in L1_KINDS else "url",
        "proof_description": proof.description or options.proof,
        "proof_requires_execute": bool(proof.cls.requires_execute),
        "carrier": registry.get("derivation", options.da).carrier,
        **rollup_context_versions(),
        "template_version": template.version,
    }


def _add_prebuilt(template: Template, context: dict[str, Any], files: dict[str, bytes]) -> None:
    """Write the artifact of each prebuilt contract, named as the project names it."""
    for source_pattern, prebuilt in (template.meta.get("prebuilt") or {}).items():
        from jinja2 import Environment

        source = Environment().from_string(source_pattern).render(context)
        if source not in files:
            continue
        text = files[source].decode()
        match = re.search(r"^contract (\w+)", text, re.MULTILINE)
        if match is None:
            raise TemplateError(f"{source} declares no contract")
        data = json.loads((template.root / prebuilt).read_text())
        artifact = Artifact(
            match.group(1),
            data["abi"],
            bytes.fromhex(data["bytecode"]),
            bytes.fromhex(data["deployedBytecode"]),
        )
        folder, _, file_name = source.rpartition("/")
        digest = hashlib.sha256(text.encode()).hexdigest()
        files[f"{folder}/build/{artifact.name}.json"] = artifact_json(
            artifact, file_name, digest, data["compilerVersion"]
        ).encode()


def render_rollup(
    options: RollupOptions,
    *,
    template_dir: Path | None = None,
    registry: PluginRegistry | None = None,
) -> tuple[Template, dict[str, bytes]]:
    """Check the answers and render the project's files (nothing is written)."""
    validate(options, registry)
    template = Template.load(template_dir or default_template())
    if template.kind != "rollup":
        raise TemplateError(f"{template.root} is a {template.kind or 'unknown'} template")
    context = rollup_context(options, template, registry)
    files = template.render(context)
    _add_prebuilt(template, context, files)
    return template, files


def new_rollup(
    dest: Path,
    options: RollupOptions,
    *,
    force: bool = False,
    template_dir: Path | None = None,
    registry: PluginRegistry | None = None,
) -> dict[str, bytes]:
    """Render the rollup template into ``dest`` and record how (for ``scaffold update``)."""
    template, files = render_rollup(options, template_dir=template_dir, registry=registry)
    write_tree(dest, files, force=force)
    write_record(dest, Record("rollup", template.version, __version__, options.to_answers()), files)
    return files
