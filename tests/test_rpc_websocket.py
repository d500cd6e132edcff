"""JSON-RPC over WebSocket and eth_subscribe (newHeads, logs, newPendingTransactions), on the
embedded L1: what a subscriber receives, and what a hostile client cannot do."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from rollupkit.l1.node import start_devnet
from rollupkit.rpc.subscriptions import MAX_SUBSCRIPTIONS

TOPIC = "0x" + "cd" * 32
EMITTER = bytes.fromhex("602a5f527f" + "cd" * 32 + "60205fa100")  # LOG1(42, TOPIC)


class Client:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.next_id, self.notes = ws, 0, []

    async def call(self, method: str, *params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.ws.send_str(
            json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.receive_str(), 10))
            if message.get("id") == self.next_id:
                return message
            self.notes.append(message)

    async def note(self) -> dict[str, Any]:
        if self.notes:
            return self.notes.pop(0)
        return json.loads(await asyncio.wait_for(self.ws.receive_str(), 10))


async def _session(url: str, body: Any) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        await body(Client(ws))


@pytest.fixture(scope="module")
def l1():  # type: ignore[no-untyped-def]
    with start_devnet() as running:
        yield running


def test_subscriptions_deliver_heads_logs_and_pending_transactions(l1: Any) -> None:
    sender = l1.devnet.accounts[0].address

    async def body(c: Client) -> None:
        assert (await c.call("eth_chainId"))["result"] == "0x539"  # plain methods work too
        init = bytes.fromhex(f"60{len(EMITTER):02x}600c60003960{len(EMITTER):02x}6000f3")
        deployed = await c.call(
            "eth_sendTransaction", {"from": sender, "data": "0x" + (init + EMITTER).hex()}
        )
        receipt = (await c.call("eth_getTransactionReceipt", deployed["result"]))["result"]
        emitter = receipt["contractAddress"]
        heads = (await c.call("eth_subscribe", "newHeads"))["result"]
        logs = (await c.call("eth_subscribe", "logs", {"address": emitter, "topics": [TOPIC]}))[
            "result"
        ]
        other = (await c.call("eth_subscribe", "logs", {"address": "0x" + "99" * 20}))["result"]
        pending = (await c.call("eth_subscribe", "newPendingTransactions"))["result"]
        sent = (await c.call("eth_sendTransaction", {"from": sender, "to": emitter}))["result"]
        seen: dict[str, list[Any]] = {heads: [], logs: [], other: [], pending: []}
        while not (seen[heads] and seen[logs] and seen[pending]):
            note = await c.note()
            assert note["method"] == "eth_subscription"
            seen[note["params"]["subscription"]].append(note["params"]["result"])
        assert seen[pending] == [sent]
        assert seen[logs][0]["transactionHash"] == sent and seen[logs][0]["topics"] == [TOPIC]
        mined = (await c.call("eth_getTransactionReceipt", sent))["result"]
        assert seen[heads][-1]["hash"] == mined["blockHash"]
        assert "transactions" not in seen[heads][-1]
        assert seen[other] == []
        assert (await c.call("eth_unsubscribe", heads))["result"] is True
        assert (await c.call("eth_unsubscribe", heads))["result"] is False

    asyncio.run(_session(l1.server.ws_url, body))


def test_bad_subscriptions_are_refused_and_capped(l1: Any) -> None:
    async def body(c: Client) -> None:
        assert (await c.call("eth_subscribe", "everything"))["error"]["code"] == -32602
        assert (await c.call("eth_subscribe", "logs", {"address": "0x12"}))["error"][
            "code"
        ] == -32602
        assert (await c.call("eth_subscribe"))["error"]["code"] == -32602
        for _ in range(MAX_SUBSCRIPTIONS):
            assert "result" in await c.call("eth_subscribe", "newPendingTransactions")
        refused = await c.call("eth_subscribe", "newPendingTransactions")
        assert refused["error"]["message"] == "too many subscriptions"
        # A message nested past the parser's limit is a parse error; the connection stays.
        await c.ws.send_str("[" * 100_000 + "]" * 100_000)
        assert (await c.note())["error"]["code"] == -32700
        assert (await c.call("eth_blockNumber"))["result"].startswith("0x")

    asyncio.run(_session(l1.server.ws_url, body))
