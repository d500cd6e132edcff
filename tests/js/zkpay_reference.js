// circomlibjs (iden3's JavaScript Poseidon and EdDSA) as an independent reference for zkpay's
// Python ones. Reads a JSON request on stdin, writes the answers as JSON on stdout:
//   {"poseidon": [[inputs...], ...],                      -> hashes, decimal strings
//    "verify": [{"A": [x, y], "R8": [x, y], "S": s, "msg": m}, ...],   -> booleans
//    "sign": [{"key": hex32, "msg": m}, ...]}             -> {A, R8, S} from circomlibjs' keys
const { buildPoseidon, buildEddsa } = require("circomlibjs");

async function main() {
    const request = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const poseidon = await buildPoseidon();
    const eddsa = await buildEddsa();
    const F = poseidon.F;
    const E = eddsa.F;
    const point = (p) => [E.e(BigInt(p[0])), E.e(BigInt(p[1]))];
    const answer = {};
    answer.poseidon = (request.poseidon || []).map((inputs) =>
        F.toString(poseidon(inputs.map(BigInt))));
    answer.verify = (request.verify || []).map((item) => {
        try {
            return eddsa.verifyPoseidon(E.e(BigInt(item.msg)),
                { R8: point(item.R8), S: BigInt(item.S) }, point(item.A));
        } catch (e) {
            return false;
        }
    });
    answer.sign = (request.sign || []).map((item) => {
        const key = Buffer.from(item.key, "hex");
        const A = eddsa.prv2pub(key);
        const sig = eddsa.signPoseidon(key, E.e(BigInt(item.msg)));
        return { A: [E.toString(A[0]), E.toString(A[1])],
                 R8: [E.toString(sig.R8[0]), E.toString(sig.R8[1])], S: sig.S.toString() };
    });
    process.stdout.write(JSON.stringify(answer));
}

main().catch((e) => { console.error(e); process.exit(1); });
