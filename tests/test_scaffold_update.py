"""``rollupkit scaffold update``: a newer template reaches a project without losing its edits;
edits that collide with template changes are reported as conflicts, with markers."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from test_cli import cli

from rollupkit.scaffold.options import RollupOptions
from rollupkit.scaffold.project import default_template, new_rollup
from rollupkit.scaffold.render import RECORD_DIR
from rollupkit.scaffold.update import update_project

GAS_COMMENT = "# Gas limit of every L2 block.\n"


def _template(tmp_path: Path, version: str) -> Path:
    """A copy of rollupkit's rollup template, as version ``version``."""
    copy = tmp_path / f"template-v{version}"
    shutil.copytree(default_template(), copy)
    meta = copy / "template.toml"
    meta.write_text(re.sub(r'(?m)^version = "[^"]*"', f'version = "{version}"', meta.read_text()))
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """A project rendered from template v1, then edited by its owner."""
    v1 = _template(tmp_path, "1")
    dest = tmp_path / "my-rollup"
    new_rollup(dest, RollupOptions(name="my-rollup"), template_dir=v1)
    _edit(dest / "rollup.toml", "block_time = 1.0", "block_time = 3.0")
    hooks = dest / "my_rollup" / "hooks.py"
    hooks.write_text(hooks.read_text() + "\n\nEXTRA_RULE = 'mine'\n")
    (dest / "tests" / "test_token.py").unlink()
    return dest, tmp_path


def test_update_keeps_edits_and_brings_template_changes(project: tuple[Path, Path]) -> None:
    dest, tmp_path = project
    v2 = _template(tmp_path, "2")
    _edit(v2 / "rollup.toml.j2", GAS_COMMENT, "# Gas limit of every L2 block (v2 wording).\n")
    _edit(v2 / "README.md.j2", "## Test it", "## Test it (v2)")
    (v2 / "OPERATIONS.md.j2").write_text("# Operating {{ title }}\n")
    _edit(
        v2 / "_vm" / "evm" / "tests" / "test_token.py.j2",
        "SUPPLY = 1_000_000",
        "SUPPLY = 2_000_000",
    )

    report = update_project(dest, template_dir=v2)

    rollup_toml = (dest / "rollup.toml").read_text()
    assert "block_time = 3.0" in rollup_toml  # the owner's edit survives ...
    assert "(v2 wording)" in rollup_toml  # ... and the template's change arrives
    assert "EXTRA_RULE = 'mine'" in (dest / "my_rollup" / "hooks.py").read_text()
    assert "## Test it (v2)" in (dest / "README.md").read_text()  # untouched: replaced
    assert (dest / "OPERATIONS.md").read_text() == "# Operating My Rollup\n"  # new: added
    assert not (dest / "tests" / "test_token.py").exists()  # deleted by the owner: stays so
    assert report.merged == ["rollup.toml"]
    assert report.added == ["OPERATIONS.md"] and report.updated == ["README.md"]
    assert report.conflicts == [] and len(report.kept) == 1 and "test_token.py" in report.kept[0]
    record = json.loads((dest / RECORD_DIR / "answers.json").read_text())
    assert record["template_version"] == "2"
    assert "(v2 wording)" in (dest / RECORD_DIR / "base" / "rollup.toml").read_text()
    # Nothing left to do the second time.
    assert update_project(dest, template_dir=v2).up_to_date


def test_colliding_edits_are_reported_with_markers(project: tuple[Path, Path]) -> None:
    dest, tmp_path = project
    _edit(dest / "rollup.toml", GAS_COMMENT, "# Our gas limit, agreed with ops.\n")
    v2 = _template(tmp_path, "2")
    _edit(v2 / "rollup.toml.j2", GAS_COMMENT, "# Gas limit per block (v2).\n")

    done = cli("scaffold", "update", "--dir", str(dest), "--template", str(v2))

    assert done.returncode != 0
    assert "CONFLICT: rollup.toml" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: 1 file(s) have conflicts")
    text = (dest / "rollup.toml").read_text()
    assert "<<<<<<< yours\n# Our gas limit, agreed with ops.\n=======\n" in text
    assert "# Gas limit per block (v2).\n>>>>>>> template v2\n" in text
    assert "block_time = 3.0" in text  # the rest of the file merged cleanly

    # Until the markers are gone, another update refuses instead of calling it up to date.
    again = cli("scaffold", "update", "--dir", str(dest), "--template", str(v2))
    assert again.returncode == 1
    assert "conflicts unresolved in rollup.toml" in again.stderr
    resolved = (
        text.replace("<<<<<<< yours\n", "").split("=======\n")[0]
        + text.split(">>>>>>> template v2\n")[1]
    )
    (dest / "rollup.toml").write_text(resolved)
    done = cli("scaffold", "update", "--template", str(v2), cwd=dest / "tests")  # from inside
    assert done.returncode == 0, done.stderr
    assert "up to date with template version 2" in done.stdout
    assert "# Our gas limit, agreed with ops." in (dest / "rollup.toml").read_text()


def test_dry_run_reports_a_conflict_without_writing(project: tuple[Path, Path]) -> None:
    dest, tmp_path = project
    _edit(dest / "rollup.toml", GAS_COMMENT, "# Ours.\n")
    v2 = _template(tmp_path, "2")
    _edit(v2 / "rollup.toml.j2", GAS_COMMENT, "# Theirs.\n")
    before = (dest / "rollup.toml").read_bytes()
    done = cli("scaffold", "update", "--dir", str(dest), "--template", str(v2), "--dry-run")
    assert done.returncode == 1
    assert "WOULD CONFLICT: rollup.toml" in done.stderr
    assert "would conflict" in done.stderr and "nothing was written" in done.stderr
    assert (dest / "rollup.toml").read_bytes() == before


def test_a_project_from_a_newer_template_is_not_downgraded(project: tuple[Path, Path]) -> None:
    dest, _ = project
    answers = dest / RECORD_DIR / "answers.json"
    record = json.loads(answers.read_text())
    answers.write_text(json.dumps({**record, "template_version": "99"}))
    done = cli("scaffold", "update", "--dir", str(dest))
    assert done.returncode == 1
    assert "rendered with template version 99" in done.stderr
    assert "upgrade rollupkit" in done.stderr
    assert json.loads(answers.read_text())["template_version"] == "99"


def test_dry_run_writes_nothing(project: tuple[Path, Path]) -> None:
    dest, tmp_path = project
    v2 = _template(tmp_path, "2")
    _edit(v2 / "README.md.j2", "## Test it", "## Test it (v2)")
    before = {p: p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    done = cli("scaffold", "update", "--dir", str(dest), "--template", str(v2), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "would update: README.md" in done.stdout
    assert {p: p.read_bytes() for p in dest.rglob("*") if p.is_file()} == before


def test_a_folder_not_made_by_scaffold_is_refused(tmp_path: Path) -> None:
    done = cli("scaffold", "update", "--dir", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: {tmp_path} is not in a project rendered by `rollupkit scaffold` "
        f"(no {RECORD_DIR}/answers.json here or above)"
    )
