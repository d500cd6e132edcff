"""``rollupkit scaffold plugin``: a plugin package of one kind, with a working implementation
and tests that subclass rollupkit's conformance suite."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rollupkit import __version__
from rollupkit.errors import RollupkitError
from rollupkit.interfaces import PLUGIN_KINDS
from rollupkit.plugins import PluginRegistry, get_registry
from rollupkit.scaffold.naming import derive_names
from rollupkit.scaffold.project import rollup_context_versions
from rollupkit.scaffold.render import (
    Record,
    Template,
    TemplateError,
    check_destination,
    write_record,
    write_tree,
)

#: Per kind: (label, module, class-name suffix, what the starting implementation is).
KINDS: dict[str, tuple[str, str, str, str]] = {
    "vm": ("VM", "vm", "VM", "a stack machine: 256-bit words, storage, logs, jumps"),
    "state": ("state model", "state", "StateModel",
              "a two-level hash commitment: root list, accounts, storage"),
    "derivation": ("derivation", "derivation", "Derivation",
                   "batches as JSON in L1 calldata, easy to read on a block explorer"),
    "proof": ("proof backend", "proof", "ProofBackend",
              "one operator re-executes each batch and signs it (AttestationVerifier, 1 of 1)"),
}  # fmt: skip


#: Words a plugin name may end with that the class name's suffix says already.
_KIND_WORDS = {
    "vm": ("vm",),
    "state": ("statemodel", "state"),
    "derivation": ("derivation",),
    "proof": ("proofbackend", "backend", "proof"),
}


def default_plugin_template() -> Path:
    from rollupkit.templates import PLUGIN_TEMPLATE

    return PLUGIN_TEMPLATE


@dataclass(frozen=True)
class PluginOptions:
    """What ``scaffold plugin`` asks."""

    name: str
    kind: str

    def validate(self, registry: PluginRegistry | None = None) -> None:
        derive_names(self.name, what="plugin", new=True)
        if self.kind not in KINDS:
            raise RollupkitError(
                f"unknown plugin kind {self.kind!r} (choose one of: {', '.join(KINDS)})"
            )
        registry = registry or get_registry()
        if self.name in registry.names(self.kind):
            origin = registry.info(self.kind, self.name).origin
            raise RollupkitError(
                f"a {self.kind} plugin named {self.name!r} is already installed ({origin}); "
                "choose another name"
            )


def plugin_context(options: PluginOptions, template: Template) -> dict[str, Any]:
    names = derive_names(options.name, what="plugin")
    label, module, suffix, summary = KINDS[options.kind]
    # my-vm -> MyVM, my-state -> MyStateModel, fast-proof -> FastProofBackend: no "StateState"
    base = names.pascal
    for word in _KIND_WORDS[options.kind]:
        if base.lower().endswith(word) and len(base) > len(word):
            base = base[: -len(word)]
            break
    base_class, hook = PLUGIN_KINDS[options.kind][0].__name__, PLUGIN_KINDS[options.kind][1]
    return {
        **asdict(options),
        "package": names.package,
        "pascal": names.pascal,
        "title": names.title,
        "kind_label": label,
        "module": module,
        "class_name": base + suffix,
        "base_class": base_class,
        "hook": hook,
        "summary": summary[0].upper() + summary[1:],
        **rollup_context_versions(),
        "template_version": template.version,
    }


def new_plugin(
    dest: Path,
    options: PluginOptions,
    *,
    force: bool = False,
    template_dir: Path | None = None,
    registry: PluginRegistry | None = None,
) -> dict[str, bytes]:
    """Render the plugin template into ``dest`` and record how."""
    options.validate(registry)
    check_destination(dest, force=force)
    template = Template.load(template_dir or default_plugin_template())
    if template.kind != "plugin":
        raise TemplateError(f"{template.root} is a {template.kind or 'unknown'} template")
    files = template.render(plugin_context(options, template))
    write_tree(dest, files, force=force)
    write_record(dest, Record("plugin", template.version, __version__, asdict(options)), files)
    return files
