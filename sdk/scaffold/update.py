"""``rollupkit scaffold update``: bring a newer template into a project without losing edits.

A three-way merge per file, with ``merge3`` (the merge Bazaar and Breezy use): *base* is the
pristine render recorded in ``.rollupkit-template/base``, *yours* is the file as it is now,
*theirs* is the new template rendered with the recorded answers.

Why not copier, which has updates built in: copier takes the old template from a git tag of
the template's repository and applies the diff with git, so it needs the template to be a git
repository and the project to be a clean git work tree. rollupkit's templates ship inside
its wheel, with no history; recording the pristine render in the project makes the merge
work from the wheel alone, in any folder, and keeps rollupkit's dependencies small.

File by file:

========================  ==================================================================
case                      what happens
========================  ==================================================================
template unchanged        your file is left as it is (edited, or even deleted)
you did not edit it       it becomes the new template's (added, updated or removed)
both changed it           merged; overlapping changes are a conflict: the file gets
                          ``<<<<<<< yours`` / ``>>>>>>> template vN`` markers and is reported
you deleted it            left deleted, reported
template removed it       removed if you had not edited it, else kept and reported
========================  ==================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from merge3 import Merge3

from rollupkit import __version__
from rollupkit.scaffold.options import RollupOptions
from rollupkit.scaffold.project import render_rollup
from rollupkit.scaffold.render import Record, TemplateError, read_record, write_record


@dataclass
class UpdateReport:
    """What an update did (or, dry, would do), by file."""

    old_version: str
    new_version: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # yours wins: deleted or template-removed
    conflicts: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not (self.added or self.updated or self.merged or self.removed or self.conflicts)


def _lines(content: bytes) -> list[str] | None:
    try:
        return content.decode().splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def merge_file(
    base: bytes, yours: bytes, theirs: bytes, *, theirs_label: str
) -> tuple[bytes, bool]:
    """Three-way merge of one file: (result, whether it has conflicts)."""
    lines = [_lines(base), _lines(yours), _lines(theirs)]
    if lines[0] is None or lines[1] is None or lines[2] is None:
        return yours, True  # binary, changed on both sides: keep yours, report it
    merger = Merge3(lines[0], lines[1], lines[2])
    merged = list(merger.merge_lines(name_a="yours", name_b=theirs_label))
    conflicted = any(kind == "conflict" for kind, *_ in merger.merge_regions())
    return "".join(merged).encode(), conflicted


def _has_conflict_markers(path: Path) -> bool:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return False
    return "\n<<<<<<< yours" in "\n" + text and "\n>>>>>>> template v" in text


def _version_key(version: str) -> tuple[int, ...]:
    """Template versions are dotted integers ("1", "1.2")."""
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (0,)


def update_project(
    project: Path, *, template_dir: Path | None = None, dry_run: bool = False
) -> UpdateReport:
    """Merge the current template into ``project`` (see the module docstring)."""
    record, base = read_record(project)
    if record.template != "rollup":
        raise TemplateError(
            f"{project} is a {record.template} package; `scaffold update` updates rollup "
            "projects (a generated plugin's code is yours to change)"
        )
    unresolved = [path for path in sorted(base) if _has_conflict_markers(project / path)]
    if unresolved:
        raise TemplateError(
            "the last update left conflicts unresolved in " + ", ".join(unresolved)
            + ": resolve the <<<<<<< / >>>>>>> markers there first"
        )  # fmt: skip
    options = RollupOptions.from_answers(record.answers)
    template, theirs = render_rollup(options, template_dir=template_dir)
    if _version_key(record.template_version) > _version_key(template.version):
        raise TemplateError(
            f"{project} was rendered with template version {record.template_version} (rollupkit "
            f"{record.rollupkit_version or '?'}), newer than this rollupkit's "
            f"({template.version}, rollupkit {__version__}); upgrade rollupkit to update it"
        )
    report = UpdateReport(record.template_version, template.version)
    label = f"template v{template.version}"
    writes: dict[str, bytes | None] = {}  # None: delete
    for path in sorted(set(base) | set(theirs)):
        old, new = base.get(path), theirs.get(path)
        target = project / path
        mine = target.read_bytes() if target.is_file() else None
        if old == new or mine == new:
            continue  # the template did not change it, or you already have the new one
        if mine == old:  # untouched by you: take the template's
            writes[path] = new
            (report.removed if new is None else report.updated if old else report.added).append(
                path
            )
        elif mine is None:
            report.kept.append(f"{path} (you deleted it; the template changed it)")
        elif new is None:
            report.kept.append(f"{path} (the template removed it; you edited it)")
        elif old is None:  # both created it, differently
            writes[path] = merge_file(b"", mine, new, theirs_label=label)[0]
            report.conflicts.append(path)
        else:
            merged, conflicted = merge_file(old, mine, new, theirs_label=label)
            writes[path] = merged
            (report.conflicts if conflicted else report.merged).append(path)
    if dry_run:
        return report
    for path, content in writes.items():
        target = project / path
        if content is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    answers = {**record.answers, **options.to_answers()}
    write_record(project, Record("rollup", template.version, __version__, answers), theirs)
    return report
