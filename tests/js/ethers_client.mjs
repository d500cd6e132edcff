// Drives an Ethereum JSON-RPC endpoint with ethers v6, the way a dapp would, and prints what it
// saw as JSON. Usage: node ethers_client.mjs URL PRIVATE_KEY STORE_ARTIFACT_JSON
import { readFileSync } from "node:fs";
import { ethers } from "ethers";

const [url, key, artifactPath] = process.argv.slice(2);
const artifact = JSON.parse(readFileSync(artifactPath, "utf8"));
// cacheTimeout -1: ethers otherwise reuses a nonce it read under 250 ms ago, and this devnet
// mines faster than that.
const provider = new ethers.JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 });
const wallet = new ethers.Wallet(key, provider);
const out = {};

out.chainId = Number((await provider.getNetwork()).chainId);
out.blockBefore = await provider.getBlockNumber();
const factory = new ethers.ContractFactory(artifact.abi, "0x" + artifact.bytecode, wallet);
const store = await factory.deploy();
await store.waitForDeployment();
out.storeAddress = await store.getAddress();
out.estimate = Number(await store.set.estimateGas(5, 99));
const tx = await store.set(5, 99);
const receipt = await tx.wait();
out.status = receipt.status;
out.logs = receipt.logs.length;
out.value = Number(await store.values(5));
const events = await store.queryFilter(store.filters.Set(), 0, "latest");
out.eventValue = Number(events[0].args.value);
const proof = await provider.send("eth_getProof", [out.storeAddress, ["0x0"], "latest"]);
out.proofNodes = proof.accountProof.length;
try {
  await store.fail.staticCall(1);
  out.revert = "none";
} catch (error) {
  out.revert = error.reason;
}
const block = await provider.getBlock("latest", true);
out.blockTransactions = block.prefetchedTransactions.length;
out.blockAfter = await provider.getBlockNumber();
console.log(JSON.stringify(out));
