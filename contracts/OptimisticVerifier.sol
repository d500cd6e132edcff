// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BatchClaim, IVerifier, VERDICT_FIELDS, firstMismatch} from "./IVerifier.sol";
import {checkSignatures} from "./Signatures.sol";

/// Optimistic settlement (seed 001: "the EXECUTE precompile only needs to be called once on a
/// small EVM segment to settle a fraud proof challenge").
///
/// A proposer posts a batch claim with a bond and the batch's layout (each block's input hash
/// and transaction count, which pins the claim to the posted data). Unchallenged, the claim is
/// final after `window` seconds: `verify` then says true and NativeRollup settles it. Anyone
/// may challenge with a bond; the two then bisect over the batch's positions, one per
/// transaction (rollupkit.steps: each block's transactions, then its end), the proposer
/// posting the commitment at the middle and the challenger saying whether it agrees, until
/// one step separates an agreed position from a disputed one. That step is executed once by
/// EXECUTE_STEP; the loser's bond goes to the winner. A party that does not move in
/// `moveTime` loses (in the last phase, proving the step is on the challenger). Claims whose
/// dispute is not about a step (a wrong withdrawals root with every state right, an invalid
/// block) are settled by `resolveWhole`: EXECUTE over the whole batch, whose trace must hold
/// the proposal's blocks (TRACE_LAYOUT says which it holds).
///
/// A proposal is the claim *and* its layout (`proposalId`): a claim proposed over blocks that
/// are not the posted ones, and lost on purpose, does not bar the same claim over the right
/// blocks. NativeRollup's `verify` names the layout in its evidence.
///
/// On an L1 without those precompiles (a stock L1) a step committee judges instead: k of its
/// n members (verifier services, each re-executing with its own client) sign what one step
/// reaches (`resolveStepSigned`), or which claim a batch's blocks make (`resolveWholeSigned`).
contract OptimisticVerifier is IVerifier {
    address public constant EXECUTE = address(0x0101);
    address public constant EXECUTE_STEP = address(0x0102);
    address public constant TRACE_LAYOUT = address(0x0103);

    string public vm;
    string public stateModel;
    uint256 public immutable bond;
    uint256 public immutable window;
    uint256 public immutable moveTime;

    bytes32 public constant STEP_DOMAIN = keccak256("rollupkit.step.v1");
    bytes32 public constant WHOLE_DOMAIN = keccak256("rollupkit.whole.v1");
    mapping(address => bool) public isCommitteeMember;
    /// Signatures the committee's word needs; 0: no committee (EXECUTE_STEP and EXECUTE judge).
    uint256 public immutable committeeThreshold;

    enum Status {
        None,
        Pending,
        Rejected,
        Settled
    }

    struct Proposal {
        address proposer;
        uint64 deadline;
        Status status;
        bytes32 layout; // keccak(abi.encode(inputs, counts))
        uint256 positions;
        bytes32 startCommitment;
        bytes32 finalCommitment;
    }

    struct Game {
        address challenger;
        uint256 lo;
        uint256 hi;
        bytes32 loCommitment;
        bytes32 hiCommitment;
        bytes32 midCommitment;
        bool midPosted;
        uint64 moveDeadline;
    }

    mapping(bytes32 => Proposal) public proposals;
    mapping(bytes32 => Game) public games;

    event Proposed(
        bytes32 indexed id, address indexed proposer, uint256 positions, bytes32 layout, BatchClaim claim
    );
    event Challenged(bytes32 indexed id, address indexed challenger);
    event Bisected(bytes32 indexed id, uint256 mid, bytes32 midCommitment);
    event Responded(bytes32 indexed id, bool agree, uint256 lo, uint256 hi);
    event Resolved(bytes32 indexed id, bool proposerWon, address winner);

    error WrongBond(uint256 expected);
    error AlreadyProposed();
    error NotPending();
    error WindowClosed();
    error GameOpen();
    error NoGame();
    error NotYourMove();
    error TooLate();
    error NotYet();
    error NotAStep();
    error BadLayout();
    error BadPosition();
    error StepFailed();
    error WholeFailed();
    error NotTheProposedBlocks();
    error BadEvidence();
    error NoCommittee();
    error UseTheCommittee();

    constructor(
        string memory vm_,
        string memory stateModel_,
        uint256 bond_,
        uint256 window_,
        uint256 moveTime_,
        address[] memory committee,
        uint256 committeeThreshold_
    ) {
        vm = vm_;
        stateModel = stateModel_;
        bond = bond_;
        window = window_;
        moveTime = moveTime_;
        bool none = committee.length == 0 && committeeThreshold_ == 0;
        require(none || (committeeThreshold_ > 0 && committeeThreshold_ <= committee.length), "bad threshold");
        for (uint256 i = 0; i < committee.length; i++) {
            require(committee[i] != address(0) && !isCommitteeMember[committee[i]], "bad committee");
            isCommitteeMember[committee[i]] = true;
        }
        committeeThreshold = committeeThreshold_;
    }

    function claimHash(BatchClaim calldata claim) public pure returns (bytes32) {
        return keccak256(abi.encode(claim));
    }

    /// A proposal: a claim over the blocks of `layout` (keccak(abi.encode(inputs, counts))).
    function proposalId(BatchClaim calldata claim, bytes32 layout) public pure returns (bytes32) {
        return keccak256(abi.encode(claimHash(claim), layout));
    }

    /// The commitment of a position (rollupkit.steps.StepState.commitment).
    function commitment(bytes32 blockPre, bytes32 stateRoot, bytes32 blockHash, bytes32 input, uint256 txs, bool end)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(end ? bytes32(0) : blockPre, stateRoot, blockHash, input, txs, end));
    }

    // --- the claim ---------------------------------------------------------------------------

    function propose(BatchClaim calldata claim, bytes32[] calldata inputs, uint256[] calldata counts)
        external
        payable
        returns (bytes32 id)
    {
        if (msg.value != bond) revert WrongBond(bond);
        if (inputs.length == 0 || inputs.length != counts.length) revert BadLayout();
        bytes32 layout = keccak256(abi.encode(inputs, counts));
        id = proposalId(claim, layout);
        if (proposals[id].status != Status.None) revert AlreadyProposed();
        uint256 positions = 0;
        for (uint256 i = 0; i < counts.length; i++) {
            positions += counts[i] + 1;
        }
        uint256 last = inputs.length - 1;
        proposals[id] = Proposal(
            msg.sender,
            uint64(block.timestamp + window),
            Status.Pending,
            layout,
            positions,
            commitment(0, claim.preStateRoot, claim.parentHash, 0, 0, true),
            commitment(0, claim.postStateRoot, claim.blockHash, inputs[last], counts[last], true)
        );
        emit Proposed(id, msg.sender, positions, layout, claim);
    }

    /// NativeRollup's check: the claim was proposed over the layout the evidence names
    /// (`abi.encode(bytes32 layout, uint256 chainId, address verifier)`: this L1 and this
    /// contract), its window has passed, no dispute is open and none was lost. Settling it
    /// returns the proposer's bond.
    function verify(BatchClaim calldata claim, bytes calldata, bytes calldata evidence) external returns (bool) {
        if (evidence.length != 96) revert BadEvidence();
        (bytes32 layout, uint256 chainId, address at) = abi.decode(evidence, (bytes32, uint256, address));
        if (chainId != block.chainid || at != address(this)) revert BadEvidence();
        bytes32 id = proposalId(claim, layout);
        Proposal storage p = proposals[id];
        if (p.status != Status.Pending) revert NotPending();
        if (games[id].challenger != address(0)) revert GameOpen();
        if (block.timestamp < p.deadline) revert NotYet();
        p.status = Status.Settled;
        payable(p.proposer).transfer(bond);
        return true;
    }

    // --- the dispute -------------------------------------------------------------------------

    function challenge(bytes32 id) external payable {
        Proposal storage p = proposals[id];
        if (msg.value != bond) revert WrongBond(bond);
        if (p.status != Status.Pending) revert NotPending();
        if (block.timestamp >= p.deadline) revert WindowClosed();
        if (games[id].challenger != address(0)) revert GameOpen();
        games[id] = Game(
            msg.sender, 0, p.positions, p.startCommitment, p.finalCommitment, 0, false,
            uint64(block.timestamp + moveTime)
        );
        emit Challenged(id, msg.sender);
    }

    /// The proposer's commitment at the middle of the disputed range.
    function bisect(bytes32 id, bytes32 midCommitment) external {
        Game storage g = _game(id);
        if (msg.sender != proposals[id].proposer || g.midPosted || g.hi - g.lo < 2) revert NotYourMove();
        if (block.timestamp > g.moveDeadline) revert TooLate();
        g.midCommitment = midCommitment;
        g.midPosted = true;
        g.moveDeadline = uint64(block.timestamp + moveTime);
        emit Bisected(id, (g.lo + g.hi) / 2, midCommitment);
    }

    /// The challenger agrees with the middle (the dispute is after it) or not (before it).
    function respond(bytes32 id, bool agree) external {
        Game storage g = _game(id);
        if (msg.sender != g.challenger || !g.midPosted) revert NotYourMove();
        if (block.timestamp > g.moveDeadline) revert TooLate();
        uint256 mid = (g.lo + g.hi) / 2;
        if (agree) {
            (g.lo, g.loCommitment) = (mid, g.midCommitment);
        } else {
            (g.hi, g.hiCommitment) = (mid, g.midCommitment);
        }
        g.midPosted = false;
        g.moveDeadline = uint64(block.timestamp + moveTime);
        emit Responded(id, agree, g.lo, g.hi);
    }

    /// The state at a position, as `resolveStep` is given the agreed one.
    struct State {
        bytes32 blockPre;
        bytes32 stateRoot;
        bytes32 blockHash;
    }

    /// One step, from the agreed position `lo` (its state given, checked against the agreed
    /// commitment) to `hi = lo + 1`, executed by EXECUTE_STEP with the one-block `trace`.
    function resolveStep(
        bytes32 id,
        bytes32[] calldata inputs,
        uint256[] calldata counts,
        State calldata agreed,
        bytes calldata trace,
        uint256 gas
    ) external {
        if (committeeThreshold != 0) revert UseTheCommittee();
        Game storage g = _game(id);
        if (g.hi != g.lo + 1) revert NotAStep();
        if (keccak256(abi.encode(inputs, counts)) != proposals[id].layout) revert BadLayout();
        bytes32 pre = _stepPreState(inputs, counts, g.lo, g.loCommitment, agreed);
        bytes32 reached = _step(_at(inputs, counts, g.hi), pre, trace, gas);
        _settle(id, reached == g.hiCommitment);
    }

    /// What the committee signs for a step: from `pre`, the block of input hash `input`
    /// (`txs` of its transactions, or sealed if `end`) reaches the commitment `reached`.
    function stepDigest(bytes32 pre, bytes32 input, uint256 txs, bool end, bytes32 reached)
        public
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encode(STEP_DOMAIN, block.chainid, address(this), vm, stateModel, pre, input, txs, end, reached)
        );
    }

    /// `resolveStep` on a stock L1: the committee's signatures (sorted by signer) say what the
    /// step reaches.
    function resolveStepSigned(
        bytes32 id,
        bytes32[] calldata inputs,
        uint256[] calldata counts,
        State calldata agreed,
        bytes32 reached,
        bytes[] calldata signatures
    ) external {
        if (committeeThreshold == 0) revert NoCommittee();
        Game storage g = _game(id);
        if (g.hi != g.lo + 1) revert NotAStep();
        if (keccak256(abi.encode(inputs, counts)) != proposals[id].layout) revert BadLayout();
        bytes32 pre = _stepPreState(inputs, counts, g.lo, g.loCommitment, agreed);
        Position memory to = _at(inputs, counts, g.hi);
        bytes32 hash = stepDigest(pre, to.input, to.txs, to.end, reached);
        checkSignatures(hash, signatures, isCommitteeMember, committeeThreshold);
        _settle(id, reached == g.hiCommitment);
    }

    /// What the committee signs for a whole batch: the blocks of `layout` make the claim
    /// whose `claimHash` is `rightClaim`.
    function wholeDigest(bytes32 layout, bytes32 rightClaim) public view returns (bytes32) {
        return keccak256(abi.encode(WHOLE_DOMAIN, block.chainid, address(this), vm, stateModel, layout, rightClaim));
    }

    /// `resolveWhole` on a stock L1: the committee says which claim the proposal's blocks make.
    function resolveWholeSigned(
        BatchClaim calldata claim,
        bytes32 layout,
        bytes32 rightClaim,
        bytes[] calldata signatures
    ) external {
        if (committeeThreshold == 0) revert NoCommittee();
        bytes32 id = proposalId(claim, layout);
        if (proposals[id].status != Status.Pending) revert NotPending();
        checkSignatures(wholeDigest(layout, rightClaim), signatures, isCommitteeMember, committeeThreshold);
        bool holds = claimHash(claim) == rightClaim;
        if (holds && games[id].challenger == address(0)) revert NoGame(); // nothing to settle
        _settle(id, holds);
    }

    /// The whole batch, by EXECUTE over a trace of the proposal's blocks: settles any
    /// dispute (and a claim no one bisects over).
    function resolveWhole(BatchClaim calldata claim, bytes32 layout, bytes calldata trace) external {
        if (committeeThreshold != 0) revert UseTheCommittee();
        bytes32 id = proposalId(claim, layout);
        if (proposals[id].status != Status.Pending) revert NotPending();
        (bool read, bytes memory held) = TRACE_LAYOUT.call(trace);
        if (!read || held.length != 32 || abi.decode(held, (bytes32)) != layout) revert NotTheProposedBlocks();
        bytes memory input =
            abi.encode(claim.preStateRoot, claim.postStateRoot, claim.gasUsed, vm, stateModel, trace);
        (bool success, bytes memory output) = EXECUTE.call(input);
        if (!success || output.length != (2 + VERDICT_FIELDS) * 32) revert WholeFailed();
        (bool ok,) = abi.decode(output, (bool, uint8));
        bool holds = ok && firstMismatch(claim, output) == VERDICT_FIELDS;
        if (holds && games[id].challenger == address(0)) revert NoGame(); // nothing to settle
        _settle(id, holds);
    }

    /// A party that did not move in time loses; in the last phase the step is the
    /// challenger's to prove.
    function timeout(bytes32 id) external {
        Game storage g = _game(id);
        if (block.timestamp <= g.moveDeadline) revert NotYet();
        bool proposerToMove = g.hi - g.lo >= 2 && !g.midPosted;
        _settle(id, !proposerToMove);
    }

    // --- internals ---------------------------------------------------------------------------

    function _game(bytes32 id) private view returns (Game storage g) {
        g = games[id];
        if (g.challenger == address(0)) revert NoGame();
    }

    /// Position `k` (1-based; 0 is the start) as (block, transactions, end).
    function _position(uint256[] calldata counts, uint256 k) private pure returns (uint256, uint256, bool) {
        if (k == 0) return (0, 0, true);
        for (uint256 b = 0; b < counts.length; b++) {
            if (k <= counts[b] + 1) {
                return (b + 1, k <= counts[b] ? k : counts[b], k == counts[b] + 1);
            }
            k -= counts[b] + 1;
        }
        revert BadPosition();
    }

    /// The state the step after `lo` starts from: `agreed` checked against the agreed
    /// commitment; a block's pre-state inside a block, its state root after an end.
    function _stepPreState(
        bytes32[] calldata inputs,
        uint256[] calldata counts,
        uint256 lo,
        bytes32 agreedCommitment,
        State calldata agreed
    ) private pure returns (bytes32) {
        (uint256 b, uint256 txs, bool end) = _position(counts, lo);
        bytes32 input = lo == 0 ? bytes32(0) : inputs[b - 1];
        if (commitment(agreed.blockPre, agreed.stateRoot, agreed.blockHash, input, txs, end) != agreedCommitment) {
            revert BadPosition();
        }
        return end ? agreed.stateRoot : agreed.blockPre;
    }

    /// A position's block input hash, transaction count and end flag.
    struct Position {
        bytes32 input;
        uint256 txs;
        bool end;
    }

    function _at(bytes32[] calldata inputs, uint256[] calldata counts, uint256 k)
        private
        pure
        returns (Position memory)
    {
        (uint256 b, uint256 txs, bool end) = _position(counts, k);
        return Position(inputs[b - 1], txs, end);
    }

    /// EXECUTE_STEP to position `to` from `pre`: the commitment of the state it reaches.
    function _step(Position memory to, bytes32 pre, bytes calldata trace, uint256 gas)
        private
        returns (bytes32 reached)
    {
        (bool success, bytes memory output) =
            EXECUTE_STEP.call(abi.encode(pre, to.txs, to.end, gas, vm, stateModel, trace));
        if (!success || output.length != 5 * 32) revert StepFailed();
        bool ok;
        bytes32 input;
        (ok, reached,,, input) = abi.decode(output, (bool, bytes32, bytes32, bytes32, bytes32));
        if (!ok || input != to.input) revert StepFailed();
    }

    function _settle(bytes32 id, bool proposerWon) private {
        Proposal storage p = proposals[id];
        address challenger = games[id].challenger;
        delete games[id];
        address winner;
        if (proposerWon) {
            winner = p.proposer;
            if (challenger != address(0)) payable(p.proposer).transfer(bond); // the challenger's bond
        } else {
            p.status = Status.Rejected;
            winner = challenger != address(0) ? challenger : msg.sender;
            payable(winner).transfer(challenger != address(0) ? 2 * bond : bond);
        }
        emit Resolved(id, proposerWon, winner);
    }
}
