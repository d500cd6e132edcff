"""Compile Solidity with the npm ``solc`` package (solcjs) and keep artifacts in the repo.

Artifacts are committed so that nothing compiles at run time. :func:`build_artifacts` writes
``<dir>/build/<Contract>.json`` for every ``<dir>/*.sol``; ``check=True`` compares instead of
writing, so CI fails when a source was edited without regenerating.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak

from rollupkit.errors import (
    CompilerError,  # re-exported: raised here
)

EVM_VERSION = "cancun"
NODE_MODULES_ENV = "ROLLUPKIT_NODE_MODULES"

# Read standard JSON on stdin and write solc's answer on stdout. Going through the module (not
# the solcjs CLI) keeps stdout pure JSON.
_COMPILE_JS = (
    "const solc = require('solc'); let input = '';"
    "process.stdin.on('data', d => input += d);"
    "process.stdin.on('end', () => process.stdout.write(solc.compile(input)));"
)


@dataclass(frozen=True)
class Artifact:
    """A compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes

    def event_topic(self, name: str) -> str:
        """The 0x-hex topic 0 (keccak of the signature) of event ``name``."""
        for item in self.abi:
            if item.get("type") == "event" and item.get("name") == name:
                types = ",".join(_abi_type(i) for i in item["inputs"])
                return "0x" + keccak(f"{name}({types})".encode()).hex()
        raise KeyError(f"{self.name} has no event {name}")

    @classmethod
    def load(cls, path: Path) -> Artifact:
        """Read an artifact JSON file written by :func:`build_artifacts`."""
        data = json.loads(Path(path).read_text())
        return cls(
            data["contractName"],
            data["abi"],
            bytes.fromhex(data["bytecode"]),
            bytes.fromhex(data["deployedBytecode"]),
        )


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + item["type"][5:]
    return str(item["type"])


def node_modules_candidates() -> list[Path]:
    """Where npm packages may be, in order: ``$ROLLUPKIT_NODE_MODULES``, then every
    ``node_modules`` above the working directory, then above this source file."""
    candidates = []
    if os.environ.get(NODE_MODULES_ENV):
        candidates.append(Path(os.environ[NODE_MODULES_ENV]))
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        candidates.extend(p / "node_modules" for p in [start, *start.parents])
    return candidates


def find_node_modules() -> Path:
    """The ``node_modules`` folder holding ``solc``: ``$ROLLUPKIT_NODE_MODULES``, else the
    nearest one above the working directory or above this source file."""
    for candidate in node_modules_candidates():
        if (candidate / "solc" / "package.json").is_file():
            return candidate
    raise CompilerError(
        "the npm package 'solc' is not installed: run `npm install` in the rollupkit checkout "
        f"(or point {NODE_MODULES_ENV} at a node_modules folder that has it)"
    )


def compile_standard_json(standard_input: dict[str, Any]) -> dict[str, Any]:
    """Run solc on a standard-JSON input and return its output; raise on compile errors."""
    node = shutil.which("node")
    if node is None:
        raise CompilerError("Node.js is not installed (`node` is not on PATH)")
    env = dict(os.environ, NODE_PATH=str(find_node_modules()))
    proc = subprocess.run(
        [node, "-e", _COMPILE_JS],
        input=json.dumps(standard_input),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise CompilerError(f"solc failed: {proc.stderr.strip() or proc.stdout.strip()}")
    output: dict[str, Any] = json.loads(proc.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompilerError(
            "; ".join(e.get("formattedMessage", e["message"]).strip() for e in errors)
        )
    return output


def compiler_version() -> str:
    """The version string of the installed solc package."""
    package = json.loads((find_node_modules() / "solc" / "package.json").read_text())
    return str(package["version"])


def compile_sources(
    sources: dict[str, str], *, evm_version: str = EVM_VERSION
) -> dict[str, Artifact]:
    """Compile ``{file name: source}`` and return every contract by name."""
    output = compile_standard_json(
        {
            "language": "Solidity",
            "sources": {name: {"content": text} for name, text in sources.items()},
            "settings": {
                "evmVersion": evm_version,
                "optimizer": {"enabled": True, "runs": 200},
                # No CBOR metadata: bytecode then depends only on the code, not on comments or
                # contract names, so a scaffolded project's renamed contracts can ship artifacts
                # built once (and `contracts build --check` still holds for them).
                "metadata": {"appendCBOR": False},
                "outputSelection": {
                    "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
                },
            },
        }
    )
    artifacts = {}
    for contracts in output.get("contracts", {}).values():
        for name, data in contracts.items():
            artifacts[name] = Artifact(
                name,
                data["abi"],
                bytes.fromhex(data["evm"]["bytecode"]["object"]),
                bytes.fromhex(data["evm"]["deployedBytecode"]["object"]),
            )
    return artifacts


def artifact_json(artifact: Artifact, source_file: str, source_hash: str, version: str) -> str:
    """The committed artifact file of ``artifact`` (compiled by solc ``version``)."""
    return (
        json.dumps(
            {
                "contractName": artifact.name,
                "sourceName": source_file,
                "sourceSha256": source_hash,
                "compiler": (
                    f"solc {version} (npm), evmVersion {EVM_VERSION}, optimizer 200 runs, "
                    "no metadata"
                ),
                "abi": artifact.abi,
                "bytecode": artifact.bytecode.hex(),
                "deployedBytecode": artifact.deployed_bytecode.hex(),
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )


def build_artifacts(source_dir: Path, *, check: bool = False) -> list[str]:
    """Compile every ``*.sol`` in ``source_dir`` into ``source_dir/build``.

    With ``check``, write nothing and return the artifact files that are missing or differ
    from what the sources compile to (an empty list means up to date).
    """
    source_dir = Path(source_dir)
    files = sorted(source_dir.glob("*.sol"))
    if not files:
        raise CompilerError(f"no .sol files in {source_dir}")
    sources = {f.name: f.read_text() for f in files}
    artifacts = compile_sources(sources)
    version = compiler_version()
    build = source_dir / "build"
    stale = []
    expected_files = set()
    for file in files:
        text = sources[file.name]
        digest = hashlib.sha256(text.encode()).hexdigest()
        for name, artifact in sorted(artifacts.items()):
            if f"contract {name} " not in text and f"contract {name}{{" not in text:
                continue
            target = build / f"{name}.json"
            expected_files.add(target.name)
            content = artifact_json(artifact, file.name, digest, version)
            if check:
                if not target.is_file() or target.read_text() != content:
                    stale.append(str(target))
            else:
                build.mkdir(exist_ok=True)
                target.write_text(content)
    if check and build.is_dir():
        stale.extend(str(p) for p in sorted(build.glob("*.json")) if p.name not in expected_files)
    return stale


def load_artifact(source_dir: Path, name: str) -> Artifact:
    """The committed artifact of contract ``name`` built from ``source_dir``."""
    path = Path(source_dir) / "build" / f"{name}.json"
    if not path.is_file():
        raise CompilerError(f"no artifact {path}: run `rollupkit contracts build {source_dir}`")
    return Artifact.load(path)
