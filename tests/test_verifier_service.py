"""k-of-n settlement through verifier services, each running its own client (issue 14).

Three verifiers on anvil (a stock L1: attestations are how it settles): py-evm, revm, and a
revm patched to miscompute (one wei too many to the coinbase of every transaction). 2-of-3
settles with the honest two and the bad one raises an alert; with two bad ones, settlement
stops instead of accepting a root; a claim of a wrong root gets no honest signature.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
import requests
from l1_env import ATTESTER_KEYS, ATTESTERS, Rollup, deploy, running_l1, with_outputs
from test_l1_contracts import _anvil_available

from rollupkit.errors import ProofError
from rollupkit.interfaces import ClaimedBatch, SettlementContext
from rollupkit.plugins import get_registry, hookimpl
from rollupkit.verifier import VerifierSettings, outputs_json, serve
from rollupkit_multiclient import MulticlientBackend
from rollupkit_revm import RevmVM

pytestmark = pytest.mark.skipif(not _anvil_available(), reason="npm install provides anvil")


class MiscomputingRevm(RevmVM):
    """revm with a bug: the coinbase gets one wei more per transaction."""

    client = "revm-miscomputing"

    def _apply(self, state: Any, block: Any, tx: Any, meter: Any) -> Any:
        used, outcome = super()._apply(state, block, tx, meter)
        state.add_balance(block.coinbase, 1)
        return used, outcome


@pytest.fixture(scope="module", autouse=True)
def miscomputing_client() -> Iterator[None]:
    plugin = types.ModuleType("miscomputing_plugin")
    plugin.rollupkit_register_clients = hookimpl(  # type: ignore[attr-defined]
        lambda: [("revm-miscomputing", MiscomputingRevm)]
    )
    registry = get_registry()
    registry.register(plugin, name="miscomputing")
    yield
    registry._unregister(plugin, "miscomputing")


@contextmanager
def verifiers(rollup: Rollup, clients: list[str | None]) -> Iterator[list[Any]]:
    """One verifier service per client, signing with the attester keys in order."""
    with ExitStack() as stack:
        servers = []
        for key, client in zip(ATTESTER_KEYS, clients, strict=False):
            settings = VerifierSettings(
                key, rollup.l1.url, rollup.contracts.deployment.rollup, client=client
            )
            server = serve(settings)
            stack.callback(server.stop)
            servers.append(server)
        yield servers


def backend(servers: list[Any], **options: Any) -> MulticlientBackend:
    return MulticlientBackend.configured({
        "verifiers": [s.url for s in servers], "attesters": ATTESTERS, "threshold": 2,
        "timeout": 120, **options,
    })  # fmt: skip


def claim(rollup: Rollup, built: Any) -> tuple[ClaimedBatch, SettlementContext]:
    batch = ClaimedBatch(
        built.pre_state_root, built.post_state_root, built.encoded, built.gas_used, built.outputs
    )
    context = SettlementContext(
        l1_chain_id=rollup.l1.w3.eth.chain_id, verifier=rollup.contracts.deployment.verifier
    )
    return batch, context


def token_batch(rollup: Rollup) -> Any:
    s = rollup.l2
    txs = [s.token_transfer(s.wallets[0], w.address, 7) for w in s.wallets[1:4]]
    return s.chain.build(transactions=txs)


def status(server: Any) -> dict[str, Any]:
    request = {"jsonrpc": "2.0", "id": 1, "method": "verifier_status", "params": []}
    answer = requests.post(server.url, json=request, timeout=30).json()
    return dict(answer["result"])


def test_two_of_three_settle_and_the_miscomputing_verifier_raises_an_alert() -> None:
    with running_l1("anvil") as l1:
        rollup = deploy(l1)
        with verifiers(rollup, [None, "revm", "revm-miscomputing"]) as servers:
            built = token_batch(rollup)
            batch, context = claim(rollup, built)
            chosen = backend(servers, distinct_clients=2)
            submission = chosen.submit(batch, context)
            assert submission.detail["signatures"] == 2
            assert submission.detail["clients"] == ["py-evm", "revm"]
            assert chosen.verify(batch, submission, context)
            rollup.contracts.submit_batch(built.outputs, submission.trace, submission.evidence)
            assert rollup.contracts.state()["state_root"] == built.post_state_root
            bad = status(servers[2])
            assert bad["client"] == "revm-miscomputing" and bad["alert"] is True
            assert "post-state-mismatch" in bad["alerts"][0]["reason"]
            assert status(servers[0])["attested"] == 1 and status(servers[1])["alert"] is False
            assert any("refused (alert)" in r for r in submission.detail["refusals"])


def test_two_miscomputing_verifiers_stop_settlement() -> None:
    with running_l1("anvil") as l1:
        rollup = deploy(l1)
        before = rollup.contracts.state()["state_root"]
        with verifiers(rollup, [None, "revm-miscomputing", "revm-miscomputing"]) as servers:
            built = token_batch(rollup)
            batch, context = claim(rollup, built)
            with pytest.raises(ProofError, match="1 of 2 signatures"):
                backend(servers).submit(batch, context)
            assert rollup.contracts.state()["state_root"] == before
            # A claim of another root (the one the bad clients compute or any other) gets no
            # honest signature either.
            wrong = with_outputs(built, post_state_root=b"\x01" * 32)
            wrong_batch = ClaimedBatch(built.pre_state_root, b"\x01" * 32, built.encoded,
                                       built.gas_used, wrong.outputs)  # fmt: skip
            with pytest.raises(ProofError, match="signatures"):
                backend(servers).submit(wrong_batch, context)
            assert status(servers[0])["refused"] >= 1


def test_policy_of_distinct_clients_and_a_verifier_that_is_down() -> None:
    with running_l1("anvil") as l1:
        rollup = deploy(l1)
        with verifiers(rollup, [None, None, "revm"]) as servers:
            built = token_batch(rollup)
            batch, context = claim(rollup, built)
            down = "http://127.0.0.1:9"  # nobody listens: refused connection, not a hang
            chosen = MulticlientBackend.configured({
                "verifiers": [servers[0].url, servers[1].url, down], "attesters": ATTESTERS,
                "threshold": 2, "distinct_clients": 2, "timeout": 60,
            })  # fmt: skip
            with pytest.raises(ProofError, match="1 of 2 clients"):
                chosen.submit(batch, context)  # two py-evm signatures are one client
            submission = backend(servers, distinct_clients=2).submit(batch, context)
            assert submission.detail["signatures"] == 3
            rollup.contracts.submit_batch(built.outputs, submission.trace, submission.evidence)
            assert rollup.contracts.state()["state_root"] == built.post_state_root


def test_a_claim_that_does_not_continue_l1_is_refused_without_executing() -> None:
    with running_l1("anvil") as l1:
        rollup = deploy(l1)
        with verifiers(rollup, [None]) as servers:
            first = token_batch(rollup)
            second = token_batch(rollup)  # its pre-state is not what L1 has settled yet
            batch, context = claim(rollup, second)
            with pytest.raises(ProofError, match="does not continue"):
                backend(servers, threshold=1).submit(batch, context)
            assert first.post_state_root == second.pre_state_root


def test_the_verifier_is_a_process_started_from_the_command_line() -> None:
    import subprocess
    import sys

    from test_cli import assert_one_line_error, cli

    with running_l1("anvil") as l1:
        rollup = deploy(l1)
        address = rollup.contracts.deployment.rollup
        command = [sys.executable, "-m", "rollupkit_cli", "verifier", "serve", "--key",
                   "0x" + ATTESTER_KEYS[1].hex(), "--l1", l1.url, "--rollup", address,
                   "--client", "revm", "--port", "0"]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(2)]
            assert "revm client for evm over mpt" in lines[0]
            url = lines[1].split()[-1]
            server = types.SimpleNamespace(url=url)
            built = token_batch(rollup)
            batch, context = claim(rollup, built)
            one = MulticlientBackend.configured(
                {"verifiers": [url], "attesters": ATTESTERS, "threshold": 1}
            )
            submission = one.submit(batch, context)  # L1 wants 2: one signature is checked here
            assert one.verify(batch, submission, context)
            assert status(server)["attested"] == 1 and status(server)["client"] == "revm"
        finally:
            process.terminate()
            process.wait(timeout=30)
            if process.stdout is not None:
                process.stdout.close()
        assert_one_line_error(
            cli("verifier", "serve", "--key", "0x12", "--l1", l1.url, "--rollup", address),
            "a private key is 32 bytes",
        )
        assert_one_line_error(
            cli(
                "verifier",
                "serve",
                "--key",
                "0x" + "11" * 32,
                "--l1",
                l1.url,
                "--rollup",
                address,
                "--client",
                "nope",
            ),
            "no client plugin named 'nope'",
        )


def test_malformed_requests_get_a_clear_error_and_no_signature() -> None:
    with running_l1("anvil") as l1:
        rollup = deploy(l1)
        with verifiers(rollup, ["revm"]) as servers:
            built = token_batch(rollup)
            good = {
                "pre": "0x" + built.pre_state_root.hex(),
                "post": "0x" + built.post_state_root.hex(), "gas": built.gas_used,
                "trace": "0x" + built.encoded.hex(),
                "outputs": outputs_json(built.outputs),
            }  # fmt: skip
            bad_requests = [
                [],
                "x",
                {**good, "gas": -1},
                {**good, "gas": True},
                {**good, "pre": "0x12"},
                {**good, "trace": "zz"},
                {**good, "outputs": {}},
                {**good, "outputs": {**good["outputs"], "block_hash": 5.5}},
            ]
            for request in bad_requests:
                answer = requests.post(servers[0].url, json={
                    "jsonrpc": "2.0", "id": 1, "method": "verifier_attest", "params": [request],
                }, timeout=30).json()  # fmt: skip
                assert answer["error"]["code"] == -32602, (request, answer)
            garbage = {**good, "trace": "0x" + b"\xc0\x01".hex()}
            answer = requests.post(servers[0].url, json={
                "jsonrpc": "2.0", "id": 1, "method": "verifier_attest", "params": [garbage],
            }, timeout=30).json()  # fmt: skip
            assert "malformed-trace" in answer["error"]["message"]
            assert status(servers[0])["attested"] == 0
