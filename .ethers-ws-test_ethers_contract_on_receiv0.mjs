// ethers v6 over WebSocket against an L2 node: deploy Store, listen with contract.on("Set"),
// provider.on("block") and provider.on("pending"), then set a value; print what arrived.
import { readFileSync } from "node:fs";
import { ContractFactory, WebSocketProvider, Wallet } from "ethers";

const [wsUrl, key, artifactPath] = process.argv.slice(2);
const artifact = JSON.parse(readFileSync(artifactPath, "utf8"));
const provider = new WebSocketProvider(wsUrl);
const wallet = new Wallet(key, provider);
const seen = { events: [], blocks: 0, pending: 0 };

const factory = new ContractFactory(artifact.abi, artifact.bytecode, wallet);
const store = await factory.deploy();
await store.waitForDeployment();

const gotEvent = new Promise((resolve) => {
  store.on("Set", (key, value) => {
    seen.events.push([Number(key), Number(value)]);
    resolve();
  });
});
const gotBlock = new Promise((resolve) => provider.on("block", () => { seen.blocks += 1; resolve(); }));
const gotPending = new Promise((resolve) => provider.on("pending", () => { seen.pending += 1; resolve(); }));
await new Promise((r) => setTimeout(r, 500)); // the subscriptions are set up

const tx = await store.set(7, 99);
await tx.wait();
const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")), 20000));
await Promise.race([Promise.all([gotEvent, gotBlock, gotPending]), timeout]);
console.log(JSON.stringify(seen));
await provider.destroy();
