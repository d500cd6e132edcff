"""The contracts plugins implement: one abstract base class per plugin kind.

Read this file top to bottom to learn what a plugin must do. A plugin registers *classes*
(see ``rollupkit.hookspecs``); rollupkit instantiates them with no arguments. Registration
fails loudly if a class leaves any abstract method here unimplemented.

Four kinds:

* :class:`VM` executes one L2 block against a :class:`StateView`.
* :class:`StateModel` builds state views from a full store or from a witness, computes roots
  and produces and checks eth_getProof-style proofs.
* :class:`Derivation` turns L2 blocks into L1 data and back.
* :class:`ProofBackend` settles batches on L1: submit, an optional challenge window, finalize.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, TypeVar

from rollupkit.errors import ProofError, UnsupportedCombinationError
from rollupkit.types import (
    Account,
    AccountProof,
    BlockInput,
    BlockResult,
    GenesisAccount,
    HeaderInfo,
    L1Message,
    PublicOutputs,
    Withdrawal,
    Witness,
)

if TYPE_CHECKING:
    from rollupkit.metering import ExecutionMeter
    from rollupkit.steps import BatchSteps

#: A decoded, signature-checked Ethereum transaction (py-evm's signed transaction classes:
#: ``sender``, ``nonce``, ``gas``, ``to``, ``value``, ``data``, ``intrinsic_gas``, ...), as
#: :func:`rollupkit.ethtx.decode_signed_transaction` returns it.
SignedTransaction = Any

#: A key-value store of hash-addressed preimages (trie nodes or codes).
KeyValueStore = MutableMapping[bytes, bytes]
#: A capability a state view may offer (see :meth:`StateView.capability`).
C = TypeVar("C")


@dataclass
class StateStore:
    """A full state database: trie nodes and contract codes, each keyed by their hash."""

    nodes: KeyValueStore = field(default_factory=dict)
    codes: KeyValueStore = field(default_factory=dict)


class L1StateSource(Protocol):
    """L1 trie nodes and codes (and headers, keyed by hash) a VM that reads L1 loads as its
    blocks are built; the builder's store falls back to them, so the witness records them."""

    nodes: MutableMapping[bytes, bytes]
    codes: MutableMapping[bytes, bytes]


class AncestorHashes(ABC):
    """Answers BLOCKHASH for the block being executed."""

    @abstractmethod
    def hashes_back_from(self, number: int) -> Iterator[bytes]:
        """Yield the hashes of block ``number``, ``number - 1``, ... down to genesis.

        Raises :class:`rollupkit.errors.MissingWitnessError` when a hash is asked for that the
        witness does not hold (never a silent zero).
        """


# --- state models ---------------------------------------------------------------------------


class StateView(ABC):
    """The state at some root, readable and writable, in Ethereum's account model.

    A view over a witness raises :class:`rollupkit.errors.MissingWitnessError` on any read
    the witness cannot answer. Writes stay in the view until :meth:`commit`.
    """

    @property
    @abstractmethod
    def root(self) -> bytes:
        """The root as of the last :meth:`commit` (or the root the view was opened at)."""

    @abstractmethod
    def get_account(self, address: bytes) -> Account | None:
        """The account at ``address``, or None if it does not exist."""

    @abstractmethod
    def get_storage(self, address: bytes, slot: int) -> int:
        """Storage ``slot`` of ``address`` (0 if unset)."""

    @abstractmethod
    def get_code(self, address: bytes) -> bytes:
        """The code of ``address`` (empty if none)."""

    @abstractmethod
    def set_account(self, address: bytes, *, nonce: int, balance: int) -> None:
        """Create or update an account's nonce and balance, keeping its code and storage."""

    @abstractmethod
    def set_storage(self, address: bytes, slot: int, value: int) -> None:
        """Write storage ``slot`` of ``address`` (0 deletes it)."""

    @abstractmethod
    def set_code(self, address: bytes, code: bytes) -> None:
        """Set the code of ``address``."""

    @abstractmethod
    def commit(self) -> bytes:
        """Apply pending writes and return the new root."""

    @abstractmethod
    def witness(self) -> Witness:
        """For a recording view, the nodes and codes read from the underlying store so far
        (exactly what stateless re-execution of the same work needs). Empty otherwise."""

    @abstractmethod
    def flush(self) -> None:
        """Write every node and code created through this view into the underlying store."""

    def created_preimages(self) -> tuple[bytes, ...]:
        """For a recording view: the hashes of the nodes and codes this view created (and has
        not flushed yet). A node that builds blocks one at a time uses it to merge per-block
        witnesses into a batch witness. Empty for other views."""
        return ()

    def capability(self, kind: type[C]) -> C | None:
        """This view seen as ``kind``, a more direct way into its state that some VM can use
        (e.g. :class:`rollupkit.ethstate.HexaryNodeStore`, the hash-keyed trie nodes an engine
        with its own Ethereum trie code drives), or None if it offers none. The default is
        the view itself when it is a ``kind``; a view may return an adapter instead."""
        return self if isinstance(self, kind) else None


class StateModel(ABC):
    """A way of committing to state: the Ethereum hexary trie, a binary tree, ..."""

    #: One line shown by ``rollupkit plugins list``.
    description: ClassVar[str] = ""
    #: The capabilities (:meth:`StateView.capability`) every view of this model offers.
    capabilities: ClassVar[tuple[type, ...]] = ()

    def supports_vm(self, vm: VM) -> bool:
        """Whether ``vm`` can run over this model's views (default: any VM that says it can,
        :meth:`VM.supports_state_model`). A model made for one VM (zkpay's) refuses others."""
        return True

    @abstractmethod
    def empty_root(self) -> bytes:
        """The root of the empty state."""

    @abstractmethod
    def open(self, store: StateStore, root: bytes, *, record: bool = False) -> StateView:
        """A view of the full ``store`` at ``root``. With ``record=True`` the view remembers
        every node and code it reads from ``store``, and keeps its own writes in an overlay
        until :meth:`StateView.flush`."""

    @abstractmethod
    def open_witness(self, root: bytes, witness: Witness) -> StateView:
        """A stateless view at ``root`` backed only by ``witness``. Never trusts the witness:
        nodes are found by their hash, so a node that does not hash to what its parent names
        is simply missing."""

    def witness_node_gas(self, node: bytes) -> int:
        """EXECUTE gas for indexing one state node of a trace's witness, beyond its bytes
        (which every trace pays for): a model whose hash costs far more than Keccak's
        (zkpay's Poseidon) charges it here, for every node the trace carries, read or not.
        Charged by EXECUTE before the witness is opened, counted in the builder's claim
        (0 by default)."""
        return 0

    @abstractmethod
    def get_proof(
        self, store: StateStore, root: bytes, address: bytes, slots: Sequence[int] = ()
    ) -> AccountProof:
        """An eth_getProof (EIP-1186) style proof of ``address`` and ``slots`` at ``root``."""

    @abstractmethod
    def verify_proof(self, root: bytes, proof: AccountProof) -> bool:
        """True if every value in ``proof`` (account and slots) is proven against ``root``.
        Never raises on a malformed proof."""


# --- VMs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextBlock:
    """The header fields of a child block that its parent fixes."""

    number: int
    parent_hash: bytes
    base_fee: int


@dataclass(frozen=True)
class AccountState:
    """What the transaction rules read of a sender."""

    nonce: int
    balance: int
    code: bytes = b""


@dataclass(frozen=True)
class CallResult:
    """The outcome of a read-only call (eth_call, gas estimation)."""

    success: bool
    output: bytes  # return data, or revert data when ``reverted``
    gas_used: int
    reverted: bool = False  # the code reverted (as opposed to an exceptional halt)
    error: str = ""


@dataclass(frozen=True)
class AccessListResult:
    """What eth_createAccessList answers: the accounts and storage slots a call touches
    (besides its sender, its target and the precompiles, as geth leaves those out) and the
    gas the call uses with that access list; ``error`` if it fails even so."""

    access_list: tuple[tuple[bytes, tuple[int, ...]], ...]
    gas_used: int
    error: str = ""


class BlockExecution(ABC):
    """One block being executed by a VM, driven step by step by the core block loop
    (:func:`rollupkit.block.execute_block`): L1 messages, then transactions, then the seal.

    The core decides *what* a block does (the order, which transaction is valid, the gas
    budgets, the system-account write); an execution only applies one step at a time to its
    state. Every step reads state through the view the block was opened on and raises
    :class:`rollupkit.errors.MissingWitnessError`, untouched, when that view lacks data. Code
    that runs reports the gas it burns to the block's :class:`~rollupkit.metering.ExecutionMeter`
    as it goes, so a step stops (:class:`~rollupkit.errors.GasCapExceeded`) as soon as the trace
    has used more than its claim.
    """

    @abstractmethod
    def account_state(self, address: bytes) -> AccountState:
        """Nonce, balance and code of ``address`` as this block has left them so far."""

    @abstractmethod
    def apply_deposit(self, message: L1Message, gas: int) -> int:
        """Without ``message.data``: credit ``message.value`` to ``message.target``. With data:
        credit the value to ``message.sender``, then (if ``gas`` > 0) call ``message.target``
        from ``message.sender`` with that value, the data and ``gas`` gas at gas price 0 (the
        depositor paid on L1); a failed call leaves the value with the sender. Return the gas
        the call used."""

    @abstractmethod
    def apply_transaction(self, tx: SignedTransaction) -> int:
        """Apply ``tx``, which the core has found valid against Ethereum's rules
        (:func:`rollupkit.block.transaction_problem`), and return the gas it used (after
        refunds). If the VM still refuses it, raise
        :class:`rollupkit.errors.InvalidTransactionError` and leave the state exactly as it
        was before the call."""

    @abstractmethod
    def pending_header(self) -> bytes:
        """The block's RLP header with every field final but the state root (which cannot be
        known before the system-account write). Called once, after the last transaction."""

    @abstractmethod
    def seal(self, system_storage: Mapping[int, int]) -> BlockResult:
        """Write ``system_storage`` to :data:`rollupkit.system.SYSTEM_ADDRESS` at no gas
        (giving the account nonce 1 if it has 0, so it is never cleaned up as empty), commit
        the state view and return the sealed block."""

    def intermediate_root(self) -> bytes:
        """The state root as the block has left it so far (its L1 messages and the
        transactions applied; no system write, no seal): the state a dispute bisects to
        (:mod:`rollupkit.steps`). The block can go on after it. A VM that cannot stop
        mid-block keeps this default, and its chains cannot be disputed transaction by
        transaction."""
        raise NotImplementedError(f"{type(self).__name__} has no intermediate state roots")


class VM(ABC):
    """An execution engine for L2 blocks.

    A VM keeps Ethereum's account model and signed-transaction format, whatever code it runs.
    It must be deterministic: the same state and block give the same result everywhere. The
    order of a block is not the VM's to choose: rollupkit's core runs every block
    (:mod:`rollupkit.block`) and asks the VM, through :meth:`open_block`, to apply each step.
    """

    #: One line shown by ``rollupkit plugins list``.
    description: ClassVar[str] = ""
    #: The execution client this class is (``py-evm``, ``revm``, ``unicorn``...): a VM can
    #: have several independent clients, registered as plugins of kind ``client``.
    client: ClassVar[str] = ""
    #: For a class registered as a client: the name of the VM it implements (an independent
    #: implementation of the same state transition, e.g. ``evm``).
    implements: ClassVar[str] = ""
    #: EIP-2718 transaction types this VM executes (0 is legacy); others are invalid.
    transaction_types: ClassVar[frozenset[int]] = frozenset({0, 1, 2})
    #: Whether its blocks read L1 state (booster rollups, seed 000): they need an L1 to build
    #: them, and report :class:`~rollupkit.types.L1Effects`.
    reads_l1: ClassVar[bool] = False
    #: Whether forced transactions (L1 messages carrying a signed transaction) are applied.
    #: A VM whose settlement cannot bind them to L1 data (zkpay's circuit has no slot for them)
    #: says False: the core then consumes every one as a no-op, as it does an invalid one.
    applies_forced_transactions: ClassVar[bool] = True

    def decode_transaction(self, raw: bytes, chain_id: int) -> SignedTransaction:
        """Decode and check one of this VM's signed transactions for chain ``chain_id``: its
        signature verified and its sender known; raise
        :class:`rollupkit.errors.InvalidTransactionError` on anything else. The core's block
        loop, the mempool and the sequencer decode through this. The result has the fields
        the core's rules read (``hash``, ``sender``, ``nonce``, ``gas``, ``intrinsic_gas``,
        ``to``, ``value``, ``data``, and ``gas_price`` or the EIP-1559 fee fields). By default
        Ethereum's signed transactions (:func:`rollupkit.ethtx.decode_signed_transaction`);
        a VM whose owners sign otherwise (zkpay's EdDSA) decodes its own."""
        from rollupkit.ethtx import decode_signed_transaction

        return decode_signed_transaction(raw, chain_id)

    def new_wallet(self, private_key: bytes, chain_id: int) -> Any:
        """A wallet that signs this VM's transactions with ``private_key`` (32 bytes): an
        object like :class:`rollupkit.wallets.Wallet` (``address``, ``checksum_address``,
        ``nonce``, ``sign(to=, value=, gas=)`` for a transfer and ``withdrawal(value,
        target)``). By default an Ethereum wallet."""
        from rollupkit.wallets import Wallet

        return Wallet(private_key, chain_id)

    def transaction_object(self, raw: bytes) -> Any:
        """A transaction this VM included, as the RPC shows it: an object with py-evm's
        signed-transaction fields (``hash``, ``sender``, ``nonce``, ``to``, ``value``,
        ``gas``, ``data``, ``r``, ``s``, ``v``, ``gas_price``, ``chain_id``; ``type_id`` and the
        typed fields for typed transactions). By default py-evm's decoding."""
        from eth.vm.forks.prague.transactions import PragueTransactionBuilder

        return PragueTransactionBuilder.decode(raw)

    def l1_predeploys(self, l1_chain_id: int) -> Mapping[bytes, GenesisAccount]:
        """Accounts a chain on this VM that :attr:`reads_l1` holds at genesis, given its L1's
        chain id (what CHAINID answers in L1 frames)."""
        return {}

    def l1_source(self, l1: Any) -> L1StateSource:
        """For a VM that :attr:`reads_l1`: where its builder gets L1 state from the L1 node
        at web3 ``l1`` (set on this VM instance, and returned so the builder's store can fall
        back to what it loads)."""
        raise UnsupportedCombinationError(f"{type(self).__name__} does not read L1 state")

    def refunds_of(self, message: L1Message, withdrawals: Sequence[Withdrawal]) -> list[int]:
        """Positions, among ``withdrawals`` (all those of the block that applied L1 message
        ``message``, in order), of the refunds applying it made: a deposit this VM could not
        credit, paid back on L1 (what ``rollup_getDepositRefundProof`` finds). By default none:
        an EVM deposit's value is credited to its target whatever its call does."""
        return []

    def supports_state_model(self, model: StateModel) -> bool:
        """Whether this VM can execute over ``model``'s state views (default: yes)."""
        return True

    def check_proof(self, proof: str) -> str | None:
        """Why chains of this VM cannot settle with the proof backend named ``proof``, in one
        clause; None when they can (default: any backend that takes the chain)."""
        return None

    def witness_code_gas(self, code: bytes) -> int:
        """EXECUTE gas for getting a contract code of a trace's witness ready to run, beyond
        its bytes (which every trace pays for): a VM that compiles code charges the compile
        here, once per trace per code, whether the code then runs once or a thousand times.
        Charged by EXECUTE and counted in the builder's claim (0 by default)."""
        return 0

    @classmethod
    def scaffold_files(cls) -> Mapping[str, bytes]:
        """Files ``rollupkit scaffold new`` adds to a project on this VM, by path in the
        project (e.g. a guest SDK and example contracts); the template's own files win."""
        return {}

    def predeploys(self, chain_id: int) -> Mapping[bytes, GenesisAccount]:
        """Accounts every chain on this VM holds at genesis (e.g. the L2 bridge contract of an
        EVM chain). A project's own genesis allocation may not use these addresses."""
        return {}

    @abstractmethod
    def genesis_header(
        self, *, chain_id: int, state_root: bytes, timestamp: int, gas_limit: int, base_fee: int
    ) -> bytes:
        """The RLP-encoded header of block 0 over ``state_root``."""

    @abstractmethod
    def decode_header(self, raw: bytes) -> HeaderInfo:
        """Decode an RLP header this VM produced; raise
        :class:`rollupkit.errors.TraceError` if it is malformed."""

    @abstractmethod
    def header_commitment(self, header: bytes) -> bytes:
        """A 32-byte hash of every field of ``header`` except its state root (which cannot
        be known while the state is still being written). Stored in the system account at
        the end of each block, it lets EXECUTE check a parent header against the pre-state."""

    @abstractmethod
    def next_block(self, parent_header: bytes) -> NextBlock:
        """Number, parent hash and base fee that a child of ``parent_header`` must carry."""

    @abstractmethod
    def call(
        self,
        state: StateView,
        *,
        chain_id: int,
        parent_header: bytes,
        sender: bytes,
        to: bytes | None,
        value: int,
        data: bytes,
        gas: int,
        timeout: float | None = None,
    ) -> CallResult:
        """Run a call (or, with ``to`` None, a contract creation) from ``sender`` in the
        context of a child of ``parent_header``, at gas price zero, on ``state`` (a view the
        caller throws away). Never raises for a failing call: that is ``success`` False. With
        ``timeout`` (seconds), running code reports its gas to a
        :class:`~rollupkit.metering.DeadlineMeter`, which raises
        :class:`rollupkit.errors.CallTimeout` once the time is up."""

    def access_list(
        self,
        state: StateView,
        *,
        chain_id: int,
        parent_header: bytes,
        sender: bytes,
        to: bytes | None,
        value: int,
        data: bytes,
        gas: int,
        timeout: float | None = None,
    ) -> AccessListResult:
        """The EIP-2930 access list of a call (eth_createAccessList), as :meth:`call` runs it.
        Optional: a VM without access lists leaves it out (the RPC then says so)."""
        raise NotImplementedError(f"{type(self).__name__} has no EIP-2930 access lists")

    @abstractmethod
    def open_block(
        self,
        state: StateView,
        *,
        chain_id: int,
        parent_header: bytes,
        block: BlockInput,
        ancestors: AncestorHashes,
        meter: ExecutionMeter,
    ) -> BlockExecution:
        """Start executing ``block`` as a child of ``parent_header`` on ``state``.

        Check the block's own fields against its parent (number, parent hash, base fee,
        timestamp, gas limit, extra data) and raise
        :class:`rollupkit.errors.InvalidBlockError` if one is wrong. Running code reports its
        gas to ``meter`` (see :class:`BlockExecution`).
        """


# --- derivation and proof backends ----------------------------------------------------------


class Derivation(ABC):
    """Turns L2 blocks into L1 data (the batcher's side) and L1 data back into blocks (the
    follower's side). ``carrier`` says where the data travels: ``calldata`` or ``blobs``."""

    description: ClassVar[str] = ""
    carrier: ClassVar[str] = "calldata"

    @abstractmethod
    def encode_batch(
        self, chain_id: int, blocks: Sequence[BlockInput], *, compression: str = "none"
    ) -> list[bytes]:
        """Encode ``blocks`` into L1 payloads: calldata strings, or 131,072-byte blobs."""

    @abstractmethod
    def decode_batch(
        self,
        chain_id: int,
        payloads: Sequence[bytes],
        message_at: Callable[[int], L1Message],
    ) -> list[BlockInput]:
        """The inverse of :meth:`encode_batch`, with L1 messages taken from the queue by
        index; raise :class:`rollupkit.errors.TraceError` on data it cannot decode."""


@dataclass(frozen=True)
class SettlementContext:
    """Where a batch settles: what every proof backend needs besides the batch. A backend's
    own settings (keys, thresholds, bonds) come from :meth:`ProofBackend.configure`."""

    l1_chain_id: int
    verifier: str  # the L1 verifier contract's address
    vm: str = "evm"
    state: str = "mpt"
    #: For a backend that sends L1 transactions of its own (an optimistic claim's bond): the
    #: node's :class:`rollupkit.l1.contracts.RollupContracts` (web3, account, ``transact``).
    l1: Any = field(default=None, compare=False, hash=False)
    #: The batch position by position as the node's chain has it (:mod:`rollupkit.steps`),
    #: for a backend that defends its claim in a dispute; computed on the first call.
    steps: Callable[[], BatchSteps] | None = field(default=None, compare=False, hash=False)


#: What a watchtower's chain says about the blocks a claim is about, given the claim's fields
#: by name (:data:`rollupkit.types.CLAIM_FIELDS`) and how many blocks after its parent it names:
#: their :class:`rollupkit.steps.BatchSteps`, or None while the chain cannot tell (it has not
#: derived those blocks yet, or does not hold the claim's parent).
ClaimJudge = Callable[[dict[str, Any], int], "BatchSteps | None"]


class Watcher(Protocol):
    """A proof backend's watchtower (:meth:`ProofBackend.watchtower`)."""

    #: What it did, one line per action, oldest first.
    log: list[str]

    def poll(self) -> None:
        """Look at L1's new claims and make every move that is the watchtower's."""


@dataclass(frozen=True)
class ClaimedBatch:
    """A batch as its settlement claims it: the transition (roots, trace, EXECUTE gas) and the
    public outputs the settlement contract binds."""

    pre_state_root: bytes
    post_state_root: bytes
    trace: bytes  # the encoded trace (see rollupkit.trace), whether or not it goes to L1
    gas_used: int
    outputs: PublicOutputs


@dataclass(frozen=True)
class Submission:
    """What a proof backend made of a batch (:meth:`ProofBackend.submit`): what
    ``NativeRollup.submitBatch`` will carry, and from when. The node stores it with the batch,
    so a node restarting before the batch settles resumes from it."""

    #: What ``submitBatch`` carries as its trace argument (the trace itself when the L1
    #: re-executes it; empty when the evidence covers the claim alone).
    trace: bytes
    #: What ``submitBatch`` carries as its evidence argument (signatures, a proof, a claim id).
    evidence: bytes
    #: The L1 timestamp from which the batch may be finalised (0: at once).
    final_at: int = 0
    #: What else the backend wants to remember or show about it (JSON-able: stored by the
    #: node with the batch, shown by ``rollup_getBatch``).
    detail: Mapping[str, Any] = field(default_factory=dict)


#: Why a backend whose settlement does not carry the trace cannot use the ``settlement``
#: derivation (:meth:`ProofBackend.check_setup`).
NO_TRACE_IN_SETTLEMENT = (
    "its settlement does not carry the batch's trace, so followers could not derive the chain "
    "from it (the settlement derivation); post batches (calldata or blobs)"
)


class ProofBackend(ABC):
    """Settles batches on L1 through one verifier contract (an artifact of
    ``rollupkit.contracts`` implementing ``IVerifier``), with a lifecycle that fits
    re-execution, attestations, optimistic claims and validity proofs alike:

    1. :meth:`configure` once, with the deployment's ``proof_options`` (rollup.toml's
       ``[l1.proof_options]`` table);
    2. :meth:`submit` a batch the node posted: make its evidence, or propose its claim;
    3. wait until the L1's clock reaches the submission's ``final_at`` (the end of a
       challenge window; 0 for backends that settle at once);
       meanwhile :meth:`tend` is called on every settler step (a disputed claim is defended
       there);
    4. :meth:`finalize`: the submission to send, or None while it cannot be sent yet;
    5. the node calls ``NativeRollup.submitBatch(claim, submission.trace, submission.evidence)``,
       and the verifier contract's ``verify`` decides, as :meth:`verify` does off-chain.
    """

    description: ClassVar[str] = ""
    #: The verifier contract this backend settles through.
    verifier_contract: ClassVar[str] = ""
    #: Seconds between a submission and its earliest finalisation, during which it can be
    #: challenged (0: none). :meth:`submit` sets ``final_at`` from it.
    challenge_window: ClassVar[int] = 0
    #: The options :meth:`configure` takes: name -> what it is (shown to people, and the
    #: default :meth:`configure` refuses any other).
    known_options: ClassVar[Mapping[str, str]] = {}
    #: Why this backend's settlement must stay with the chain's own batcher (a deployment
    #: with ``permissionless = true`` is refused, saying this); None when anyone may settle.
    permissionless_refusal: ClassVar[str | None] = None

    @classmethod
    def configured(cls, options: Mapping[str, Any] | None = None) -> Self:
        """A new instance, configured with ``options`` (see :meth:`configure`)."""
        backend = cls()
        backend.configure(dict(options or {}))
        return backend

    def configure(self, options: Mapping[str, Any]) -> None:
        """Take the deployment's backend-specific ``options`` (JSON-able values: the
        ``[l1.proof_options]`` table of rollup.toml or of the node's settings), once, after
        creation; raise :class:`rollupkit.errors.ProofError` naming what is wrong. This
        default takes none beyond :attr:`known_options` and refuses others by name; a
        backend with options overrides it (calling it first) and keeps what it needs."""
        unknown = sorted(set(options) - set(self.known_options))
        if unknown:
            takes = ", ".join(self.known_options) or "none"
            raise ProofError(
                f"unknown proof option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                f"for {type(self).__name__} (it takes: {takes})"
            )

    def dev_options(self) -> dict[str, Any]:
        """Options for a development chain on an L1 rollupkit starts (dev keys, short
        windows): what ``rollupkit scaffold new`` writes into ``[l1.proof_options]``. None by
        default."""
        return {}

    def check_setup(self, *, l1: str, carrier: str) -> str | None:
        """Why this backend cannot settle on the L1 ``l1`` (``embedded``, ``anvil`` or a
        JSON-RPC URL) with batch data carried by ``carrier`` (``calldata``, ``blobs``, or
        ``settlement``: nothing posted apart, followers derive from the settlement's trace),
        in one clause a person can act on; None when it can. Project checks and the
        scaffolder's choices come from this. Every setup works by default but ``settlement``,
        which only a backend whose settlement carries the whole trace takes."""
        return NO_TRACE_IN_SETTLEMENT if carrier == "settlement" else None

    def check_chain(self, *, vm: str, state: str) -> str | None:
        """Why this backend cannot settle a chain of ``vm`` over ``state``, in one clause;
        None when it can (by default, any chain: re-execution and attestations settle every
        VM). A backend made for one VM (``groth16`` proves zkpay) refuses the others."""
        return None

    @abstractmethod
    def verifier_arguments(self, *, vm: str, state: str) -> list[object]:
        """Constructor arguments of :attr:`verifier_contract` for a chain of ``vm`` over
        ``state`` (anything else comes from :meth:`configure`); raise
        :class:`rollupkit.errors.ProofError` when the options cannot make one."""

    @abstractmethod
    def submit(self, batch: ClaimedBatch, context: SettlementContext) -> Submission:
        """Start settling ``batch``: make its evidence (or post its claim), and say from when
        it may be finalised. Raise :class:`rollupkit.errors.ProofError` when it does not hold
        or cannot be submitted. After a crash before its result was stored the node calls it
        again for the same batch: a backend that acts on L1 here finds its earlier action
        instead of repeating it."""

    def finalize(
        self, batch: ClaimedBatch, submission: Submission, context: SettlementContext
    ) -> Submission | None:
        """Called once the L1's clock reached ``submission.final_at``: the submission to send
        to ``submitBatch`` (by default ``submission``, as it is), or None while it cannot be
        sent yet (asked again later). Raise :class:`rollupkit.errors.ProofError` when it never
        will (its claim was challenged and lost): the node then submits the batch afresh."""
        return submission

    def tend(self, batch: ClaimedBatch, submission: Submission, context: SettlementContext) -> None:
        """Called on every settler step while ``submission`` waits to be finalised: a backend
        whose claims can be disputed answers a dispute here (with ``context.steps``). Raise
        :class:`rollupkit.errors.ProofError` on what the node should report; nothing by
        default."""
        return None

    def watchtower(self, context: SettlementContext, judge: ClaimJudge) -> Watcher:
        """A watchtower for this backend's verifier (``context.l1`` acting for it): it
        judges each claim posted to L1 by ``judge`` and disputes the wrong ones. Raise
        :class:`rollupkit.errors.ProofError` when the backend has no claims to watch."""
        raise ProofError(
            f"{type(self).__name__} settles each batch when it is submitted: there is no claim "
            "to watch (a watchtower is for optimistic backends)"
        )

    @abstractmethod
    def verify(
        self, batch: ClaimedBatch, submission: Submission, context: SettlementContext
    ) -> bool:
        """Whether the verifier contract accepts ``batch`` with ``submission``'s trace and
        evidence, checked off-chain as the L1 does it; never raises."""


#: Plugin kind name → (base class, registration hook name). The CLI and docs read this.
PLUGIN_KINDS: dict[str, tuple[type, str]] = {
    "vm": (VM, "rollupkit_register_vms"),
    "client": (VM, "rollupkit_register_clients"),
    "state": (StateModel, "rollupkit_register_state_models"),
    "derivation": (Derivation, "rollupkit_register_derivations"),
    "proof": (ProofBackend, "rollupkit_register_proof_backends"),
}
