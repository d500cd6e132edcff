"""``rollupkit scaffold new``: every supported combination renders the files it should, the
rendered configuration says what was asked, names derive from the project name, the shipped
contract artifacts match their rendered sources, and bad input is one line, exit non-zero."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from test_cli import assert_one_line_error, cli

from rollupkit.errors import RollupkitError
from rollupkit.project.config import load_project
from rollupkit.scaffold.naming import InvalidNameError, derive_names
from rollupkit.scaffold.options import RollupOptions, supported_combinations, validate
from rollupkit.scaffold.prebuilt import prebuilt_artifacts
from rollupkit.scaffold.project import default_template, new_rollup, render_rollup
from rollupkit.scaffold.render import RECORD_DIR
from rollupkit.solidity import build_artifacts

#: What every rollup project gets, for the project name "example-rollup".
COMMON_FILES = {
    ".github/workflows/ci.yml",
    ".gitignore",
    "README.md",
    "example_rollup/__init__.py",
    "example_rollup/hooks.py",
    "pyproject.toml",
    "rollup.toml",
    "tests/conftest.py",
    "tests/test_end_to_end.py",
    "tests/test_hooks.py",
}
#: What each VM adds: Solidity contracts and their build, or a guest SDK and example contracts.
VM_FILES = {
    "evm": {"contracts/ExampleRollupToken.sol", "contracts/build/ExampleRollupToken.json",
            "tests/test_token.py"},
    "riscv": {"guest/README.md", "guest/Makefile", "guest/rollupkit.h", "guest/link.ld",
              "tests/test_token.py"}
    | {f"guest/{name}.{ext}" for name in ("token", "counter", "caller", "spin")
       for ext in ("c", "elf")},
    "wasm": {"guest/README.md", "guest/Makefile", "guest/rollupkit.h", "guest/counter_wat.wat",
             "guest/counter_wat.wasm", "tests/test_token.py"}
    | {f"guest/{name}.{ext}" for name in ("token", "counter", "caller", "spin")
       for ext in ("c", "wasm")},
}  # fmt: skip
#: A chain of all three: the EVM's files, both guest SDKs in folders of their own, and a test
#: of calls between the VMs.
VM_FILES["multi"] = (
    VM_FILES["evm"] | {"tests/test_multivm.py"}
    | {f"guest/riscv/{p.removeprefix('guest/')}" for p in VM_FILES["riscv"] if "test" not in p}
    | {f"guest/wasm/{p.removeprefix('guest/')}" for p in VM_FILES["wasm"] if "test" not in p}
)  # fmt: skip
#: A booster chain: the EVM's files, and a ballot on L1 voted on from L2.
#: A zkpay payments chain: no contracts, a test of its payments.
VM_FILES["zkpay"] = {"tests/test_payments.py"}
VM_FILES["booster"] = VM_FILES["evm"] | {
    "contracts/ExampleRollupBallot.sol", "contracts/build/ExampleRollupBallot.json",
    "tests/test_ballot.py",
}  # fmt: skip

COMBINATIONS = supported_combinations()


def _id(o: RollupOptions) -> str:
    return f"{o.vm}-{o.state}-{o.da}-{o.proof}-{o.l1}"


def test_the_supported_combinations_are_the_ones_that_can_run() -> None:
    found = {(o.vm, o.state, o.da, o.proof, o.l1) for o in COMBINATIONS}
    assert ("evm", "mpt", "calldata", "reexec", "embedded") in found
    assert ("evm", "mpt", "calldata", "multiclient", "embedded") in found
    assert ("evm", "mpt", "blobs", "multiclient", "anvil") in found
    # EXECUTE re-execution reads the trace from calldata on an L1 with the precompile: never
    # with blobs, never on anvil.
    assert not any(o.proof == "reexec" and (o.da == "blobs" or o.l1 != "embedded")
                   for o in COMBINATIONS)  # fmt: skip


@pytest.mark.parametrize("options", COMBINATIONS, ids=_id)
def test_every_combination_renders_its_files(options: RollupOptions, tmp_path: Path) -> None:
    dest = tmp_path / options.name
    files = new_rollup(dest, options)
    assert set(files) == COMMON_FILES | VM_FILES[options.vm]
    on_disk = {
        p.relative_to(dest).as_posix()
        for p in dest.rglob("*")
        if p.is_file() and RECORD_DIR not in p.parts
    }
    assert on_disk == COMMON_FILES | VM_FILES[options.vm]
    # The configuration is what was asked, and rollupkit loads it.
    config = load_project(dest)
    assert (config.vm, config.state, config.l1.derivation, config.l1.proof, config.l1.kind) == (
        options.vm, options.state, options.da, options.proof, options.l1,
    )  # fmt: skip
    assert config.chain_id == options.chain_id and config.hooks == "example_rollup.hooks"
    # Only an anvil project's CI installs anvil.
    ci = (dest / ".github/workflows/ci.yml").read_text()
    assert ("anvil-linux-amd64" in ci) == (options.l1 == "anvil")
    # The record holds the answers and a pristine copy of every file.
    answers = json.loads((dest / RECORD_DIR / "answers.json").read_text())
    assert answers["answers"] == options.to_answers()
    for name, content in files.items():
        assert (dest / RECORD_DIR / "base" / name).read_bytes() == content


def test_generated_python_and_toml_parse(tmp_path: Path) -> None:
    for options in COMBINATIONS:
        _, files = render_rollup(options)
        for name, content in files.items():
            if name.endswith(".py"):
                compile(content, name, "exec")
            elif name.endswith(".toml"):
                tomllib.loads(content.decode())


def test_names_derive_from_the_project_name(tmp_path: Path) -> None:
    files = new_rollup(tmp_path / "zk-fast-chain", RollupOptions(name="zk-fast-chain"))
    assert "zk_fast_chain/hooks.py" in files
    assert "contracts/ZkFastChainToken.sol" in files
    assert b"contract ZkFastChainToken {" in files["contracts/ZkFastChainToken.sol"]
    assert b'name = "zk-fast-chain"' in files["rollup.toml"]
    assert b'hooks = "zk_fast_chain.hooks"' in files["rollup.toml"]
    assert b"from zk_fast_chain import hooks" in files["tests/test_hooks.py"]
    assert b"# Zk Fast Chain" in files["README.md"]
    assert b'"ZFC"' in files["tests/test_token.py"]  # the token symbol, from the initials


def test_shipped_artifacts_match_what_the_rendered_sources_compile_to(tmp_path: Path) -> None:
    # The template's prebuilt artifact is current ...
    for relative, content in prebuilt_artifacts().items():
        assert (default_template() / relative).read_text() == content, (
            "run `python -m rollupkit.scaffold.prebuilt`"
        )
    # ... and a project's own `rollupkit contracts build --check` holds for it.
    dest = tmp_path / "other-name"
    new_rollup(dest, RollupOptions(name="other-name"))
    assert build_artifacts(dest / "contracts", check=True) == []


@pytest.mark.parametrize(
    "name",
    ["My-Rollup", "1rollup", "my_rollup", "my--rollup", "-rollup", "x" * 41, "json", "rollupkit-x",
     "class", "tests"],
)  # fmt: skip
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidNameError):
        derive_names(name)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("web3", "would shadow an installed module"), ("eth-hash", "'eth_hash' would shadow"),
     ("pytest", "would shadow"), ("import", "is a Python keyword")],
)  # fmt: skip
def test_a_new_package_may_not_hide_an_installed_module(name: str, fragment: str) -> None:
    """A project called web3 would import itself as web3 (and break rollupkit)."""
    with pytest.raises(InvalidNameError, match=fragment):
        derive_names(name, new=True)
    assert derive_names("my-rollup", new=True).package == "my_rollup"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"vm": "nope"}, "no vm plugin named 'nope'"),
        ({"state": "binary-x"}, "no state plugin named 'binary-x'"),
        ({"proof": "reexec", "l1": "anvil"}, "needs an L1 with the EXECUTE precompile"),
        ({"da": "blobs", "proof": "multiclient"}, "embedded L1 does not take blob transactions"),
        ({"da": "blobs", "proof": "reexec", "l1": "embedded"}, "blob"),
        ({"compression": "lz4"}, "unknown compression 'lz4'"),
        ({"l1": "ftp://x"}, "L1 must be embedded, anvil or an http(s):// URL"),
        ({"chain_id": 0}, "chain id"),
        ({"chain_id": 1}, "chain id 1 is Ethereum mainnet's"),
        ({"chain_id": 1337}, "chain id 1337 is the embedded L1's own"),
        ({"chain_id": 31337, "l1": "anvil", "proof": "multiclient"}, "the anvil L1's own"),
        ({"l1": "https://user:secret@rpc.example/x", "proof": "multiclient"}, "credentials"),
    ],
)
def test_invalid_options_are_refused(changes: dict[str, object], fragment: str) -> None:
    options = RollupOptions(name="example-rollup", **changes)  # type: ignore[arg-type]
    with pytest.raises(RollupkitError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        validate(options)


# --- the command line ---------------------------------------------------------------------


def test_scaffold_new_from_the_command_line(tmp_path: Path) -> None:
    done = cli("scaffold", "new", "cli-rollup", "--l1", "anvil", "--da", "blobs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "proof multiclient" in done.stdout  # the default proof where EXECUTE is absent
    config = load_project(tmp_path / "cli-rollup")
    assert (config.l1.kind, config.l1.derivation, config.l1.proof) == ("anvil", "blobs",
                                                                       "multiclient")  # fmt: skip


def test_scaffold_new_prompts_when_asked(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rollupkit_cli.main import app

    answers = "\n".join(["embedded", "evm", "mpt", "calldata", "zstd", "nope", "multiclient",
                         "777", "0.5"]) + "\n"  # fmt: skip
    result = CliRunner().invoke(
        app, ["scaffold", "new", "asked-rollup", "--interactive", "--dir",
              str(tmp_path / "asked-rollup")], input=answers,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "choose one of" in result.output  # "nope" was not a proof backend
    config = load_project(tmp_path / "asked-rollup")
    assert (config.l1.compression, config.l1.proof, config.chain_id, config.block_time) == (
        "zstd", "multiclient", 777, 0.5,
    )  # fmt: skip


def test_prompts_skip_the_flags_given_and_offer_only_what_can_work(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rollupkit_cli.main import app

    # --l1 anvil and --chain-id are given: asked are vm, state, da, compression, proof, block time
    answers = "\n".join(["evm", "mpt", "blobs", "none", "reexec", "multiclient", "2"]) + "\n"
    result = CliRunner().invoke(
        app, ["scaffold", "new", "flagged", "-i", "--l1", "anvil", "--chain-id", "5",
              "--dir", str(tmp_path / "flagged")], input=answers,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "chain id" not in result.output and "L1 (" not in result.output
    assert "data availability (blobs, calldata)" in result.output  # anvil takes blobs
    assert "proof backend (multiclient)" in result.output  # reexec needs EXECUTE: not offered
    assert "choose one of: multiclient" in result.output  # so "reexec" was refused at once,
    refusal = next(line for line in result.output.splitlines() if "not 'reexec'" in line)
    assert "EXECUTE" in refusal, refusal  # saying why
    config = load_project(tmp_path / "flagged")
    assert (config.chain_id, config.l1.kind, config.l1.derivation, config.block_time) == (
        5, "anvil", "blobs", 2.0,
    )  # fmt: skip


def test_the_embedded_l1_is_not_offered_blobs(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rollupkit_cli.main import app

    result = CliRunner().invoke(
        app, ["scaffold", "new", "asked", "-i", "--dir", str(tmp_path / "asked")],
        input="\n" * 8,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "data availability (calldata, settlement) [settlement]" in result.output


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["ok-name", "-i", "--no-input"], ["--interactive and --no-input"]),
        (["ok-name", "--chain-id", "1337"], ["embedded L1's own"]),
        (["web3"], ["'web3' would shadow an installed module"]),
        (["ok-name", "--dir", "afile/sub"], ["afile is a file, not a folder"]),
        (["Bad_Name"], ["invalid project name 'Bad_Name'"]),
        (["ok-name", "--vm", "nope"], ["no vm plugin named 'nope'", "evm, multi, riscv, wasm"]),
        (["ok-name", "--proof", "nope"], ["no proof plugin named 'nope'"]),
        (["ok-name", "--l1", "anvil", "--proof", "reexec"], ["EXECUTE precompile"]),
        (["ok-name", "--da", "blobs"], ["blob transactions"]),
    ],
)
def test_bad_input_is_one_line_and_creates_nothing(
    tmp_path: Path, args: list[str], fragments: list[str]
) -> None:
    (tmp_path / "afile").write_text("")
    done = cli("scaffold", "new", *args, cwd=tmp_path)
    assert_one_line_error(done, *fragments)
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_an_existing_folder_is_not_overwritten_unless_forced(tmp_path: Path) -> None:
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    done = cli("scaffold", "new", "taken", cwd=tmp_path)
    assert_one_line_error(done, "already exists", "--force")
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    forced = cli("scaffold", "new", "taken", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert (dest / "notes.txt").read_text() == "mine" and (dest / "rollup.toml").is_file()
    # Once it is a project, --force would destroy edits: update is the way.
    again = cli("scaffold", "new", "taken", "--force", cwd=tmp_path)
    assert_one_line_error(again, "already a rollupkit project", "scaffold update")


def test_a_booster_vm_is_offered_on_the_mpt_state_model_only() -> None:
    from rollupkit.scaffold.options import choices

    assert "booster" in choices()["vm"]
    assert {o.state for o in COMBINATIONS if o.vm == "booster"} == {"mpt"}
    # Its L1 state comes in the same hash-keyed node store as the L2's.
    with pytest.raises(RollupkitError, match="cannot execute over the 'binary' state model"):
        validate(RollupOptions(name="boosted", vm="booster", state="binary"))
