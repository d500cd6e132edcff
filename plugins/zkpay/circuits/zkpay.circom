pragma circom 2.1.0;

// zkpay's batch circuit: N operations applied in order to the accounts tree, each one slot of
//   kind 0: nothing (padding),
//   kind 1: a deposit from L1 (credit `to` with `amount`, or bounce it back to L1),
//   kind 2: a signed transfer to an L2 account,
//   kind 3: a signed withdrawal to an L1 address.
//   kind 4: a deposit refunded whole on L1, nothing changing here: 2^93 wei or more (more
//           than a balance may hold), or one L1 says no zkpay key could use (with data, or
//           to its own sender: rollupkit_zkpay.transition.refunded_whole).
// It is the circuit form of rollupkit_zkpay.transition, which re-executes the same operations
// (and is what EXECUTE runs): the two must agree on every root and every rejection (the
// differential tests check it). Accounts live in a Poseidon Merkle tree of fixed depth DEPTH:
// account `address` (160 bits, the low bits of Poseidon(Ax, Ay) of its owner's Baby Jubjub key)
// sits at leaf `address mod 2^DEPTH`, as Poseidon(address, balance, nonce); an empty leaf is 0.
//
// Public signals, in this order: the state root before and after (Poseidon of the accounts
// root and the chain's system digest, which the circuit carries but does not interpret), per
// slot two "L1 effects" the settlement contract checks against L1, and last the chain id (a
// public input: one setup serves every chain of the same shape):
//   deposit:    a = to * 2^93 + amount,     b = 1 (credited) or 2 (bounced back to L1)
//   withdrawal: a = to * 2^93 + amount,     b = (from * 2^64 + nonce) * 4 + 3
//   refunded:   a = to,                     b = 4 (L1 takes the amount from the message)
//   otherwise:  a = 0,                      b = 0

include "poseidon.circom";
include "bitify.circom";
include "comparators.circom";
include "eddsaposeidon.circom";

// 2^93 wei is more than all the ether there is: balances and amounts stay below it, so an
// address and an amount pack into one field element.
function AMOUNT_BITS() { return 93; }

// enabled * (point is on Baby Jubjub) — circomlib's BabyCheck, but switchable.
template OnCurveIfEnabled() {
    signal input enabled;
    signal input x;
    signal input y;
    signal x2 <== x * x;
    signal y2 <== y * y;
    signal x2y2 <== x2 * y2;
    enabled * (168700 * x2 + y2 - 1 - 168696 * x2y2) === 0;
}

// The roots a leaf gives before and after it changes, from its position's bits and siblings.
template MerkleUpdate(DEPTH) {
    signal input oldLeaf;
    signal input newLeaf;
    signal input bits[DEPTH];
    signal input siblings[DEPTH];
    signal output oldRoot;
    signal output newRoot;

    component oldHash[DEPTH];
    component newHash[DEPTH];
    signal oldNode[DEPTH + 1];
    signal newNode[DEPTH + 1];
    signal oldLeft[DEPTH];
    signal newLeft[DEPTH];
    oldNode[0] <== oldLeaf;
    newNode[0] <== newLeaf;
    for (var i = 0; i < DEPTH; i++) {
        bits[i] * (bits[i] - 1) === 0;
        // bit 0: the node is the left child; bit 1: the right one.
        oldLeft[i] <== oldNode[i] + bits[i] * (siblings[i] - oldNode[i]);
        oldHash[i] = Poseidon(2);
        oldHash[i].inputs[0] <== oldLeft[i];
        oldHash[i].inputs[1] <== oldNode[i] + siblings[i] - oldLeft[i];
        oldNode[i + 1] <== oldHash[i].out;
        newLeft[i] <== newNode[i] + bits[i] * (siblings[i] - newNode[i]);
        newHash[i] = Poseidon(2);
        newHash[i].inputs[0] <== newLeft[i];
        newHash[i].inputs[1] <== newNode[i] + siblings[i] - newLeft[i];
        newNode[i + 1] <== newHash[i].out;
    }
    oldRoot <== oldNode[DEPTH];
    newRoot <== newNode[DEPTH];
}

template Slot(DEPTH) {
    signal input chainId;
    signal input root;
    signal input kind;
    signal input to;
    signal input amount;
    // The signer (transfers and withdrawals).
    signal input Ax;
    signal input Ay;
    signal input R8x;
    signal input R8y;
    signal input S;
    signal input nonce;
    signal input senderBalance;
    signal input senderSiblings[DEPTH];
    // The receiving leaf as it is before (deposits and transfers): empty, or whose it is.
    signal input receiverEmpty;
    signal input receiverAddress;
    signal input receiverBalance;
    signal input receiverNonce;
    signal input receiverSiblings[DEPTH];

    signal output newRoot;
    signal output effectA;
    signal output effectB;

    // --- which kind -------------------------------------------------------------------------
    signal isDeposit <== IsEqual()([kind, 1]);
    signal isTransfer <== IsEqual()([kind, 2]);
    signal isWithdrawal <== IsEqual()([kind, 3]);
    signal isOversized <== IsEqual()([kind, 4]);
    signal isNothing <== IsZero()(kind);
    isDeposit + isTransfer + isWithdrawal + isOversized + isNothing === 1;
    signal signed <== isTransfer + isWithdrawal;
    signal receives <== isDeposit + isTransfer;

    signal toBits[160] <== Num2Bits(160)(to);
    signal amountBits[AMOUNT_BITS()] <== Num2Bits(AMOUNT_BITS())(amount);

    // --- the signer: its key gives its address, it signed (chain, kind, to, amount, nonce) ----
    OnCurveIfEnabled()(signed, Ax, Ay);
    OnCurveIfEnabled()(signed, R8x, R8y);
    signal keyHash <== Poseidon(2)([Ax, Ay]);
    signal keyBits[254] <== Num2Bits_strict()(keyHash);
    signal fromBits[160];
    for (var i = 0; i < 160; i++) { fromBits[i] <== keyBits[i]; }
    signal from <== Bits2Num(160)(fromBits);
    signal message <== Poseidon(5)([chainId, kind - 1, to, amount, nonce]);
    EdDSAPoseidonVerifier()(signed, Ax, Ay, S, R8x, R8y, message);

    // --- the sender's leaf: its nonce goes up by one, its balance down by the amount --------
    signal nonceBits[64] <== Num2Bits(64)(nonce + 1);  // the nonce stays below 2^64 - 1
    signal left <== senderBalance - amount;
    signal leftBits[AMOUNT_BITS()] <== Num2Bits(AMOUNT_BITS())(left * signed);  // no overdraft
    signal senderOld <== Poseidon(3)([from, senderBalance, nonce]);
    signal senderNew <== Poseidon(3)([from, left, nonce + 1]);
    signal senderPosition[DEPTH];
    for (var i = 0; i < DEPTH; i++) { senderPosition[i] <== fromBits[i]; }
    component sender = MerkleUpdate(DEPTH);
    sender.oldLeaf <== senderOld;
    sender.newLeaf <== senderNew;
    sender.bits <== senderPosition;
    sender.siblings <== senderSiblings;
    signed * (sender.oldRoot - root) === 0;
    signal afterSender <== root + signed * (sender.newRoot - root);

    // --- the receiving leaf ------------------------------------------------------------------
    receiverEmpty * (receiverEmpty - 1) === 0;
    // An empty leaf is 0, with nothing in it.
    receiverEmpty * receiverAddress === 0;
    receiverEmpty * receiverBalance === 0;
    receiverEmpty * receiverNonce === 0;
    signal receiverHash <== Poseidon(3)([receiverAddress, receiverBalance, receiverNonce]);
    signal receiverOld <== (1 - receiverEmpty) * receiverHash;
    // Held by another address: a deposit bounces, a transfer is invalid.
    signal sameOwner <== IsEqual()([receiverAddress, to]);
    signal held <== (1 - receiverEmpty) * (1 - sameOwner);
    signal total <== receiverBalance + amount;
    signal totalBits[AMOUNT_BITS() + 2] <== Num2Bits(AMOUNT_BITS() + 2)(total * receives);
    signal highBoth <== totalBits[AMOUNT_BITS()] * totalBits[AMOUNT_BITS() + 1];
    signal overflow <== totalBits[AMOUNT_BITS()] + totalBits[AMOUNT_BITS() + 1] - highBoth;
    signal refused <== 1 - (1 - held) * (1 - overflow);
    isTransfer * refused === 0;
    signal bounced <== isDeposit * refused;
    signal credited <== receives - bounced;
    signal receiverNew <== Poseidon(3)([to, total, receiverNonce]);
    signal receiverPosition[DEPTH];
    for (var i = 0; i < DEPTH; i++) { receiverPosition[i] <== toBits[i]; }
    component receiver = MerkleUpdate(DEPTH);
    receiver.oldLeaf <== receiverOld;
    receiver.newLeaf <== receiverNew;
    receiver.bits <== receiverPosition;
    receiver.siblings <== receiverSiblings;
    receives * (receiver.oldRoot - afterSender) === 0;
    newRoot <== afterSender + credited * (receiver.newRoot - afterSender);

    // --- what L1 sees ------------------------------------------------------------------------
    signal moves <== isDeposit + isWithdrawal;
    signal packed <== moves * (to * (1 << AMOUNT_BITS()) + amount);
    effectA <== packed + isOversized * to;
    signal withdrawalTag <== isWithdrawal * ((from * (1 << 64) + nonce) * 4 + 3);
    effectB <== isDeposit * (1 + bounced) + withdrawalTag + isOversized * 4;
}

template ZkPayBatch(N, DEPTH) {
    signal input chainId;  // public: what every signature in the batch was made for
    signal input accountsRoot;
    signal input systemBefore;
    signal input systemAfter;
    signal input kind[N];
    signal input to[N];
    signal input amount[N];
    signal input Ax[N];
    signal input Ay[N];
    signal input R8x[N];
    signal input R8y[N];
    signal input S[N];
    signal input nonce[N];
    signal input senderBalance[N];
    signal input senderSiblings[N][DEPTH];
    signal input receiverEmpty[N];
    signal input receiverAddress[N];
    signal input receiverBalance[N];
    signal input receiverNonce[N];
    signal input receiverSiblings[N][DEPTH];

    signal output preStateRoot;
    signal output postStateRoot;
    signal output effects[N][2];

    component slots[N];
    signal roots[N + 1];
    roots[0] <== accountsRoot;
    for (var i = 0; i < N; i++) {
        slots[i] = Slot(DEPTH);
        slots[i].chainId <== chainId;
        slots[i].root <== roots[i];
        slots[i].kind <== kind[i];
        slots[i].to <== to[i];
        slots[i].amount <== amount[i];
        slots[i].Ax <== Ax[i];
        slots[i].Ay <== Ay[i];
        slots[i].R8x <== R8x[i];
        slots[i].R8y <== R8y[i];
        slots[i].S <== S[i];
        slots[i].nonce <== nonce[i];
        slots[i].senderBalance <== senderBalance[i];
        slots[i].senderSiblings <== senderSiblings[i];
        slots[i].receiverEmpty <== receiverEmpty[i];
        slots[i].receiverAddress <== receiverAddress[i];
        slots[i].receiverBalance <== receiverBalance[i];
        slots[i].receiverNonce <== receiverNonce[i];
        slots[i].receiverSiblings <== receiverSiblings[i];
        roots[i + 1] <== slots[i].newRoot;
        effects[i][0] <== slots[i].effectA;
        effects[i][1] <== slots[i].effectB;
    }
    preStateRoot <== Poseidon(2)([accountsRoot, systemBefore]);
    postStateRoot <== Poseidon(2)([roots[N], systemAfter]);
}
