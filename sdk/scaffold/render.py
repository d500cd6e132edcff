"""Render a template folder with jinja2, write it out, and record what was rendered.

Template rules (``templates/rollup`` and ``templates/plugin`` follow them):

* every path component is itself a jinja2 template (``{{ package }}/hooks.py.j2``); a file
  whose path renders to an empty component is left out (how optional files are made);
* a ``.j2`` suffix means the content is rendered and the suffix dropped; other files are
  copied byte for byte;
* a leading ``dot-`` becomes ``.`` (``dot-gitignore``), so packaging tools keep the files;
* ``template.toml`` (version, prebuilt artifacts) and anything starting with ``_`` at the
  template's top are the template's own, not rendered;
* ``overlays`` in ``template.toml`` names folders (paths rendered with the answers, e.g.
  ``_vm/{{ vm }}``) whose files are rendered as if they were at the top, when the folder
  exists: how a template has files for one VM or one plugin kind only.

A rendered project records its answers, the template and its version, and a pristine copy of
every rendered file in ``.rollupkit-template/``; ``rollupkit scaffold update`` merges against
that copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2

from rollupkit.errors import (
    TemplateError,  # re-exported: raised here
)

RECORD_DIR = ".rollupkit-template"
ANSWERS_FILE = "answers.json"
BASE_DIR = "base"
_META = "template.toml"


@dataclass(frozen=True)
class Template:
    """A template folder and its metadata."""

    root: Path
    kind: str  # "rollup" or "plugin"
    version: str
    meta: dict[str, Any]

    @classmethod
    def load(cls, root: Path) -> Template:
        meta_path = Path(root) / _META
        try:
            meta = tomllib.loads(meta_path.read_text())
        except FileNotFoundError:
            raise TemplateError(f"{root} is not a rollupkit template (no {_META})") from None
        except tomllib.TOMLDecodeError as exc:
            raise TemplateError(f"{meta_path}: {exc}") from None
        return cls(Path(root), str(meta.get("kind", "")), str(meta.get("version", "0")), meta)

    def sources(self, context: Mapping[str, Any] | None = None) -> list[tuple[Path, str]]:
        """Every template file for ``context``: (its path, its path relative to the output
        root before rendering), the top folder's and then each existing overlay's."""
        found = []
        folders = [self.root]
        for overlay in self.meta.get("overlays", []):
            folder = self.root / jinja2.Environment().from_string(overlay).render(context or {})
            if folder.is_dir() and folder != self.root:
                folders.append(folder)
        for folder in folders:
            for path in sorted(folder.rglob("*")):
                relative = PurePosixPath(path.relative_to(folder).as_posix())
                if not path.is_file() or (relative.name == _META and len(relative.parts) == 1):
                    continue
                if relative.parts[0].startswith("_") or "__pycache__" in relative.parts:
                    continue
                found.append((path, relative.as_posix()))
        return found

    def render(self, context: Mapping[str, Any]) -> dict[str, bytes]:
        """Every output file: relative POSIX path → content."""
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.root)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
        )
        out: dict[str, bytes] = {}
        for path, source in self.sources(context):
            parts = []
            for part in PurePosixPath(source).parts:
                rendered = env.from_string(part).render(context).strip()
                if part.startswith("dot-"):
                    rendered = "." + rendered[4:]
                parts.append(rendered)
            if any(not p for p in parts):
                continue  # an optional file this project does not get
            target = "/".join(parts)
            try:
                if target.endswith(".j2"):
                    target = target[:-3]
                    template_name = path.relative_to(self.root).as_posix()
                    out[target] = env.get_template(template_name).render(context).encode()
                else:
                    out[target] = path.read_bytes()
            except jinja2.TemplateError as exc:
                raise TemplateError(f"template {source}: {exc}") from None
        return out


def check_destination(dest: Path, *, force: bool = False) -> None:
    """Refuse, before anything is asked or written, a folder the render cannot go into."""
    if dest.exists() and not dest.is_dir():
        raise TemplateError(f"{dest} exists and is not a folder")
    ancestor = dest.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise TemplateError(f"cannot create {dest}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise TemplateError(f"cannot create {dest}: {ancestor} is not writable")
    if dest.is_dir() and any(dest.iterdir()):
        if not force:
            raise TemplateError(
                f"{dest} already exists and is not empty; choose another name or pass --force "
                "to render into it (files the template renders are overwritten)"
            )
        if (dest / RECORD_DIR / ANSWERS_FILE).is_file():
            raise TemplateError(
                f"{dest} is already a rollupkit project; `rollupkit scaffold update` brings it "
                "to the current template and keeps your edits (--force would overwrite them)"
            )


def write_tree(dest: Path, files: Mapping[str, bytes], *, force: bool = False) -> None:
    """Write ``files`` under ``dest``. An existing non-empty folder is refused unless
    ``force`` (then rendered files are overwritten and every other file is left alone)."""
    check_destination(dest, force=force)
    try:
        for relative, content in files.items():
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            if relative.startswith(("bin/", "scripts/")) or relative.endswith(".sh"):
                target.chmod(0o755)
    except OSError as exc:
        raise TemplateError(f"cannot write {dest}: {exc.strerror or exc}") from exc


@dataclass(frozen=True)
class Record:
    """What a project records about its rendering."""

    template: str
    template_version: str
    rollupkit_version: str
    answers: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(
            {
                "template": self.template,
                "template_version": self.template_version,
                "rollupkit_version": self.rollupkit_version,
                "answers": self.answers,
            },
            indent=2,
            sort_keys=True,
        )


def write_record(dest: Path, record: Record, files: Mapping[str, bytes]) -> None:
    """Record the answers and a pristine copy of ``files`` (replacing an older copy)."""
    record_dir = dest / RECORD_DIR
    base = record_dir / BASE_DIR
    if base.exists():
        for old in sorted(base.rglob("*"), reverse=True):
            old.unlink() if old.is_file() else old.rmdir()
    for relative, content in files.items():
        target = base / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    record_dir.mkdir(parents=True, exist_ok=True)
    temporary = record_dir / (ANSWERS_FILE + ".tmp")
    temporary.write_text(record.to_json() + "\n")
    os.replace(temporary, record_dir / ANSWERS_FILE)


def find_rendered(start: Path) -> Path:
    """The nearest folder at or above ``start`` that ``rollupkit scaffold`` rendered."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / RECORD_DIR / ANSWERS_FILE).is_file():
            return folder
    raise TemplateError(
        f"{start} is not in a project rendered by `rollupkit scaffold` (no {RECORD_DIR}/"
        f"{ANSWERS_FILE} here or above)"
    )


def read_record(dest: Path) -> tuple[Record, dict[str, bytes]]:
    """The record and the pristine copy of a rendered project."""
    record_dir = dest / RECORD_DIR
    try:
        data = json.loads((record_dir / ANSWERS_FILE).read_text())
        record = Record(
            data["template"], str(data["template_version"]), data.get("rollupkit_version", ""),
            dict(data["answers"]),
        )  # fmt: skip
    except FileNotFoundError:
        raise TemplateError(
            f"{dest} was not rendered by `rollupkit scaffold` (no {RECORD_DIR}/{ANSWERS_FILE})"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise TemplateError(f"{record_dir / ANSWERS_FILE} is damaged: {exc}") from None
    base_dir = record_dir / BASE_DIR
    base = {
        p.relative_to(base_dir).as_posix(): p.read_bytes()
        for p in sorted(base_dir.rglob("*"))
        if p.is_file()
    }
    return record, base


def digest(files: Mapping[str, bytes]) -> str:
    """A short digest of a rendered tree (for tests and reports)."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()[:16]
