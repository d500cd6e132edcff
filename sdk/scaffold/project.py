"""``rollupkit scaffold new``: render the rollup template for a set of answers."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import tomli_w
from eth_hash.auto import keccak

from rollupkit import __version__
from rollupkit.plugins import PluginRegistry, get_registry
from rollupkit.project.config import L1_KINDS
from rollupkit.scaffold.naming import derive_names
from rollupkit.scaffold.options import RollupOptions, validate
from rollupkit.scaffold.render import (
    Record,
    Template,
    TemplateError,
    check_destination,
    write_record,
    write_tree,
)
from rollupkit.solidity import Artifact, artifact_json


def default_template() -> Path:
    from rollupkit.templates import ROLLUP_TEMPLATE

    return ROLLUP_TEMPLATE


@dataclass(frozen=True)
class InstallSource:
    """How ``pip`` gets an installed distribution: ``requirement`` is what to pass to
    ``pip install``; ``kind`` is "index" (a package index), "vcs" (a git URL, usable in CI
    too) or "path" (a folder on this machine: fine here, meaningless elsewhere)."""

    name: str
    kind: str
    requirement: str


def install_source(distribution: str = "rollupkit") -> InstallSource:
    """Where ``distribution`` was installed from, read from its ``direct_url.json`` (PEP 610)."""
    # Several metadata folders may answer to the name (an editable install's egg-info in the
    # working directory, say); the installer's own record is the one with direct_url.json.
    direct = next(
        (
            text
            for found in metadata.distributions(name=distribution)
            if (text := found.read_text("direct_url.json"))
        ),
        None,
    )
    if direct:
        info = json.loads(direct)
        url = info.get("url", "")
        vcs = info.get("vcs_info")
        if vcs and vcs.get("vcs") == "git":
            commit = vcs.get("commit_id", "")
            pin = f"@{commit}" if commit else ""
            return InstallSource(distribution, "vcs", f"{distribution} @ git+{url}{pin}")
        if url.startswith("file://"):
            return InstallSource(distribution, "path", unquote(url[len("file://") :]))
    return InstallSource(distribution, "index", distribution)


def rollupkit_source() -> InstallSource:
    """Where this rollupkit was installed from."""
    return install_source("rollupkit")


def _ci_requirements(sources: list[InstallSource]) -> str:
    """The CI workflow's ``pip install`` arguments: the repository variable ROLLUPKIT_SOURCE
    if set, else each package from git if it came from there, else by name from the index
    (a folder on this machine means nothing on a CI runner)."""
    words = " ".join(shlex.quote(s.requirement if s.kind == "vcs" else s.name) for s in sources)
    return "${{ vars.ROLLUPKIT_SOURCE || '" + words.replace("'", "''") + "' }}"


def plugin_distributions(options: RollupOptions, registry: PluginRegistry) -> list[str]:
    """The installed packages (not rollupkit) providing the plugins a project uses: the
    project depends on them."""
    used = (("vm", options.vm), ("state", options.state), ("derivation", options.da),
            ("proof", options.proof))  # fmt: skip
    origins = {registry.info(kind, name).origin for kind, name in used}
    return sorted(origins - {"built-in", "local"})  # "local": registered in code, not installed


def _proof_options_toml(options: dict[str, Any]) -> str:
    """``options`` as a TOML ``[l1.proof_options]`` table (empty when there are none)."""
    return tomli_w.dumps({"l1": {"proof_options": options}}).strip() if options else ""


def _symbol(parts: list[str]) -> str:
    initials = "".join(p[0] for p in parts)
    return (initials if len(initials) >= 3 else "".join(parts)[:4]).upper()


def rollup_context_versions() -> dict[str, str]:
    """Which rollupkit renders (and where a generated README installs it from)."""
    base_version = re.match(r"\d+(\.\d+)*", __version__)
    source = rollupkit_source()
    return {
        "rollupkit_version": __version__,
        "rollupkit_min_version": base_version.group(0) if base_version else "0.1",
        "rollupkit_source": source.requirement,
        "rollupkit_source_kind": source.kind,
    }


def rollup_context(
    options: RollupOptions, template: Template, registry: PluginRegistry | None = None
) -> dict[str, Any]:
    """Every variable the rollup template uses."""
    registry = registry or get_registry()
    names = options.names
    proof = registry.info("proof", options.proof)
    plugin_packages = plugin_distributions(options, registry)
    sources = [install_source(dist) for dist in plugin_packages]
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
        # the backend's development options, as rollup.toml's [l1.proof_options] table
        "proof_options_toml": _proof_options_toml(proof.cls().dev_options()),
        "carrier": registry.get("derivation", options.da).carrier,
        # the example token's build, for VMs that run rollupkit's C examples
        "guest_token": {"riscv": "token.elf", "wasm": "token.wasm"}.get(options.vm, ""),
        **rollup_context_versions(),
        "plugin_packages": plugin_packages,
        # what a fresh environment must install first, from where they came from here
        "plugin_sources": [s.requirement for s in sources if s.kind != "index"],
        "plugin_sources_local": any(s.kind == "path" for s in sources),
        "ci_requirements": _ci_requirements([rollupkit_source(), *sources]),
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
    vm_files = (registry or get_registry()).get("vm", options.vm).scaffold_files()
    files.update({path: data for path, data in vm_files.items() if path not in files})
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
    derive_names(options.name, new=True)
    check_destination(dest, force=force)
    template, files = render_rollup(options, template_dir=template_dir, registry=registry)
    write_tree(dest, files, force=force)
    write_record(dest, Record("rollup", template.version, __version__, options.to_answers()), files)
    return files
