"""The answers a rollup project is rendered from, their choices and their checks."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from rollupkit.batchcodec import COMPRESSIONS
from rollupkit.chain import DEFAULT_CHAIN_ID
from rollupkit.errors import (
    OptionsError,  # re-exported: raised here
    RollupkitError,
)
from rollupkit.plugins import PluginRegistry, get_registry
from rollupkit.project.config import L1_KINDS, check_chain_id, check_combination, proofs_for
from rollupkit.scaffold.naming import Names, derive_names


@dataclass(frozen=True)
class RollupOptions:
    """Everything ``scaffold new`` asks (flags, or prompts in a terminal)."""

    name: str
    vm: str = "evm"
    state: str = "mpt"
    #: Empty: the proof backend's default (default_da_for: one posting with re-execution,
    #: the settlement's trace, which followers derive from; else calldata batches).
    da: str = ""
    compression: str = "zstd"
    proof: str = "reexec"
    l1: str = "embedded"  # embedded, anvil, or an http(s) JSON-RPC URL
    chain_id: int = DEFAULT_CHAIN_ID
    block_time: float = 1.0

    def __post_init__(self) -> None:
        if not self.da:
            object.__setattr__(self, "da", default_da_for(self.proof, self.l1))

    @property
    def names(self) -> Names:
        return derive_names(self.name)

    def to_answers(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_answers(cls, answers: dict[str, Any]) -> RollupOptions:
        """Answers recorded by an earlier render (unknown keys are ignored, missing ones take
        today's defaults: a newer rollupkit may ask more)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in answers.items() if k in known})


#: The range fresh chain ids are drawn from: clear of the small ids public networks and dev
#: tools use, and small enough for every wallet (JavaScript numbers, EIP-155 signatures).
FRESH_CHAIN_IDS = range(1_000_000, 4_000_000_000)


def fresh_chain_id() -> int:
    """A chain id for a new rollup, drawn at random: with one default for everyone, a
    transaction (and its withdrawal) signed for one rollup replayed on another on the same L1.
    ``rollupkit up`` also refuses a chain id another rollupkit rollup on its L1 uses."""
    while True:
        candidate = FRESH_CHAIN_IDS.start + secrets.randbelow(len(FRESH_CHAIN_IDS))
        try:
            for l1 in L1_KINDS:
                check_chain_id(candidate, l1)
        except RollupkitError:
            continue
        return candidate


def choices(registry: PluginRegistry | None = None) -> dict[str, list[str]]:
    """What each plugin-backed option may be, from the installed plugins."""
    registry = registry or get_registry()
    return {
        "vm": registry.names("vm"),
        "state": registry.names("state"),
        "da": registry.names("derivation"),
        "proof": registry.names("proof"),
        "compression": list(COMPRESSIONS),
        "l1": [*L1_KINDS, "http(s)://URL"],
    }


def default_proof_for(
    l1: str,
    registry: PluginRegistry | None = None,
    *,
    carrier: str = "calldata",
    vm: str = "evm",
    state: str = "mpt",
) -> str:
    """The proof a chain of ``vm`` on ``l1`` settles with by default: re-execution through
    EXECUTE where it can run (the embedded L1), else the first backend that can settle such a
    chain there."""
    registry = registry or get_registry()
    names = registry.names("proof")
    usable = proofs_for(l1, carrier, registry, vm=vm, state=state)
    if "reexec" in usable:
        return "reexec"
    return usable[0] if usable else names[0] if names else "reexec"


def default_da_for(proof: str, l1: str = "embedded", registry: PluginRegistry | None = None) -> str:
    """Where a chain settled by ``proof`` on ``l1`` puts its blocks by default: nowhere apart
    when the settlement carries the trace (re-execution: the ``settlement`` derivation), else
    in calldata batches."""
    registry = registry or get_registry()
    try:
        backend = registry.create("proof", proof)
    except RollupkitError:
        return "calldata"  # an unknown backend: validation names it
    settles_here = backend.check_setup(l1=l1, carrier="settlement") is None
    return "settlement" if settles_here else "calldata"


def validate(options: RollupOptions, registry: PluginRegistry | None = None) -> None:
    """Raise one sentence for a bad name, an unknown plugin or a combination that cannot run."""
    options.names  # noqa: B018 - validates the name
    check_chain_id(options.chain_id, options.l1)
    if "@" in urlsplit(options.l1).netloc:
        raise OptionsError(
            "the L1 URL carries credentials, which would be written into rollup.toml, the README "
            "and the recorded answers; scaffold with the URL without them"
        )
    if not 0 < options.block_time <= 3600:
        raise OptionsError(f"block time must be in (0, 3600] seconds, not {options.block_time}")
    check_combination(
        vm=options.vm, state=options.state, derivation=options.da, proof=options.proof,
        l1=options.l1, compression=options.compression, registry=registry,
    )  # fmt: skip


def supported_combinations(registry: PluginRegistry | None = None) -> list[RollupOptions]:
    """Every vm x state x da x proof (with an L1 that suits it) that :func:`validate` takes."""
    registry = registry or get_registry()
    found = []
    options = choices(registry)
    for vm in options["vm"]:
        for state in options["state"]:
            for da in options["da"]:
                for proof in options["proof"]:
                    for l1 in L1_KINDS:
                        candidate = RollupOptions(
                            name="example-rollup", vm=vm, state=state, da=da, proof=proof, l1=l1
                        )
                        try:
                            validate(candidate, registry)
                        except RollupkitError:
                            continue
                        found.append(candidate)
                        break  # one L1 per combination is enough
    return found


#: The order ``scaffold new`` asks in: the L1 first, since what settles there depends on it.
QUESTIONS = ("l1", "vm", "state", "da", "compression", "proof")


def viable_choices(
    question: str, decided: dict[str, str], registry: PluginRegistry | None = None
) -> list[str]:
    """The answers to ``question`` that some completion of the undecided plugin choices
    makes a working chain with the ``decided`` ones (so a prompt offers only those)."""
    registry = registry or get_registry()
    options = choices(registry)
    candidates = L1_KINDS if question == "l1" else tuple(options[question])
    open_questions = [q for q in ("vm", "state", "da", "proof") if q not in decided]
    viable = []
    for candidate in candidates:
        fixed = {**decided, question: candidate}
        pending = [q for q in open_questions if q != question]
        if any(_works(fixed, pending, options, registry)):
            viable.append(candidate)
    return viable


def why_not(
    question: str, answer: str, decided: dict[str, str], registry: PluginRegistry | None = None
) -> str:
    """Why ``answer`` to ``question`` cannot work with the ``decided`` answers (for a prompt
    that refuses it): the first reason a completion of the other choices fails."""
    registry = registry or get_registry()
    options = choices(registry)
    known = L1_KINDS if question == "l1" else tuple(options[question])
    if answer not in known:
        return f"{answer!r} is not one of {', '.join(known)}"
    fixed = {**decided, question: answer}
    pending = [q for q in ("vm", "state", "da", "proof") if q not in fixed]
    for values in itertools.product(*(options[q] for q in pending)):
        answers = {**fixed, **dict(zip(pending, values, strict=True))}
        try:
            _check(answers, registry)
        except RollupkitError as exc:
            return str(exc)
    return f"{answer!r} does not work with {decided}"


def _check(answers: dict[str, str], registry: PluginRegistry) -> None:
    check_combination(
        vm=answers.get("vm", "evm"), state=answers.get("state", "mpt"),
        derivation=answers.get("da", "calldata"), proof=answers.get("proof", "reexec"),
        l1=answers.get("l1", "embedded"), compression=answers.get("compression", "none"),
        registry=registry,
    )  # fmt: skip


def _works(
    fixed: dict[str, str],
    pending: list[str],
    options: dict[str, list[str]],
    registry: PluginRegistry,
) -> Iterator[bool]:
    for values in itertools.product(*(options[q] for q in pending)):
        answers = {**fixed, **dict(zip(pending, values, strict=True))}
        try:
            _check(answers, registry)
        except RollupkitError:
            yield False
            continue
        yield True
