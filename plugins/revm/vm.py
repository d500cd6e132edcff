"""The ``revm`` client of the ``evm`` VM: the same blocks, executed by revm (through pyrevm).

Everything around the EVM is rollupkit's own account logic (:class:`~rollupkit.accountvm.
AccountVM`: the overlay over the state view, fees, receipts, headers); what runs a transaction
or a deposit's call is revm, not py-evm. The two clients share the transaction format, the
core's block loop and validity rules, and nothing of the interpreter.

pyrevm 0.3.7 exposes a "message call" that skips revm's fee handling and does not finalise
the journal, over an in-memory database with no way to fetch missing state. So this client:

* **charges fees itself**, as Ethereum does: it bumps the sender's nonce and takes
  ``gas * price`` before the call (revm sees the balance the EVM would), then refunds the
  unused gas, pays the tip to the coinbase and applies the EIP-7623 calldata floor (revm here
  is Cancun; the L2 is Prague);
* **discovers the state a transaction reads**: a stateless trace does not list the accounts
  and slots it touches (the witness holds hashed trie paths), so the transaction runs on what
  is known, the journal (:mod:`rollupkit_revm.journal`) says what revm loaded, and anything
  that was not known *and differs from what revm assumed* (an account that exists, a slot
  that is not zero) is loaded from the witness and the transaction runs again, from a fresh
  EVM, until nothing new turns up (usually 1 round for a transfer, 2 for a token call);
* **abstains** (:class:`~rollupkit.errors.ClientUnsupported`) where revm 0.3.7 cannot give
  the L2's answer: EIP-7702 transactions or delegated code, the EIP-2537 precompiles
  (``0x0b``-``0x11``, absent in Cancun), code containing ``BASEFEE`` (pyrevm's message call
  zeroes the base fee) or ``BLOCKHASH`` (its database cannot be given block hashes), a
  contract creating a contract (the init code it runs is out of sight, so the two opcodes
  above cannot be ruled out), deleting an account that existed before, and a sender with
  less than twice the gas it buys (revm's own balance check would see the bought gas twice),
  account accesses in a deposit's call (revm warms its caller and target, the L2 does not),
  and state the witness does not hold (revm reads an account before charging for the access,
  so an access that runs out of gas reads what py-evm, charging first, never needed);
* **cannot count call frames**, which EXECUTE gas charges for (:data:`~rollupkit.metering.
  ExecuteGasSchedule.call_frame`): it counts the frames that committed (revm's journal keeps
  one entry list per committed checkpoint) and bounds the rest by the gas spent (a frame costs
  its caller at least 100 gas), and EXECUTE accepts a claim within that range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyrevm
from eth_hash.auto import keccak

from rollupkit.accountvm import (
    AccountVM,
    BlockContext,
    Frame,
    Log,
    Outcome,
    StateOverlay,
    call_intrinsic_gas,
)
from rollupkit.block import DELEGATION_PREFIX, calldata_floor, fees
from rollupkit.errors import ClientUnsupported, MissingWitnessError
from rollupkit.metering import ExecutionMeter
from rollupkit.types import GenesisAccount
from rollupkit.wallets import contract_address
from rollupkit_revm.journal import (
    JournalFormatError,
    LoadedAccount,
    parse_journal,
    parse_reads,
)

#: revm's fork in pyrevm 0.3.7 (it has no Prague: see the module docstring).
SPEC = "CANCUN"
#: Precompiles Prague added (EIP-2537, BLS12-381) that revm here lacks.
PRAGUE_PRECOMPILES = frozenset((0x0B + i).to_bytes(20, "big") for i in range(7))
#: Opcodes whose answer pyrevm cannot give: BLOCKHASH (no block hashes in its database) and
#: BASEFEE (its message call zeroes the block's base fee).
UNANSWERED_OPCODES = {0x40: "BLOCKHASH", 0x48: "BASEFEE"}
#: A deposit's call runs with the deposit's sender as revm's coinbase (revm loads its coinbase,
#: which a deposit's call need not touch, so the witness may not hold it): COINBASE is then
#: the one more opcode it cannot answer.
DEPOSIT_UNANSWERED = {**UNANSWERED_OPCODES, 0x41: "COINBASE"}
#: revm warms a message's caller, target and the precompiles before it runs, as for a
#: transaction; the L2 runs a deposit's call with nothing warm (rollupkit_evm's
#: ``_apply_deposit``). So a deposit's call that accesses another account could cost
#: differently: this client abstains from those.
for _op, _name in {0x31: "BALANCE", 0x3B: "EXTCODESIZE", 0x3C: "EXTCODECOPY",
                   0x3F: "EXTCODEHASH", 0xF1: "CALL", 0xF2: "CALLCODE", 0xF4: "DELEGATECALL",
                   0xFA: "STATICCALL", 0xFF: "SELFDESTRUCT"}.items():  # fmt: skip
    DEPOSIT_UNANSWERED[_op] = f"{_name} in a deposit's call"
#: Discovery rounds before giving up on a transaction (each round finds at least one new
#: account or slot; a chain of dependent reads could otherwise take one round per read).
MAX_ROUNDS = 16
#: A contract's storage the block already knows goes into revm whole up to this many slots;
#: past it, only the slots a Solidity mapping keyed by the message's words would use.
SEED_ALL_SLOTS = 32
#: Mapping positions (declaration order in a contract) guessed at, and message words used.
SEED_MAPPINGS, SEED_WORDS = 16, 8
#: The least gas a call frame costs its caller (a warm CALL): bounds the frames not seen.
MIN_FRAME_GAS = 100
EMPTY_CODE_HASH = keccak(b"")
_PUSH1, _PUSH32, _JUMPDEST = 0x60, 0x7F, 0x5B
#: STOP, JUMP, RETURN, REVERT, INVALID, SELFDESTRUCT: the next instruction is not reached
#: from these (a byte no opcode has halts too: it is an invalid instruction).
_NO_FALL_THROUGH = frozenset({0x00, 0x56, 0xF3, 0xFD, 0xFE, 0xFF})


def unanswered_opcode(code: bytes, opcodes: Mapping[int, str] = UNANSWERED_OPCODES) -> str | None:
    """The first opcode this client cannot answer that ``code`` could execute, or None.

    Sound without following jumps: an executed instruction is reached either by falling
    through from an executed one or by a jump to a JUMPDEST. So the linear runs from offset 0
    and from every valid JUMPDEST, each ending at an instruction that cannot fall through,
    cover all that can execute, and none of the data (metadata, constructor arguments, an
    embedded contract's bytes) that follows a terminating instruction."""
    starts = [0, *_jumpdests(code)]
    seen: set[int] = set()
    end = len(code)
    for i in starts:
        while i < end and i not in seen:
            seen.add(i)
            op = code[i]
            if op in opcodes:
                return opcodes[op]
            if op in _NO_FALL_THROUGH:
                break
            i += op - _PUSH1 + 2 if _PUSH1 <= op <= _PUSH32 else 1
    return None


def _jumpdests(code: bytes) -> list[int]:
    """Offsets of JUMPDEST instructions (not PUSH data), as the EVM's jump analysis finds."""
    found, i, end = [], 0, len(code)
    while i < end:
        op = code[i]
        if op == _JUMPDEST:
            found.append(i)
        i += op - _PUSH1 + 2 if _PUSH1 <= op <= _PUSH32 else 1
    return found


@dataclass
class Job:
    """One message for revm: a transaction's, or a deposit's call."""

    caller: bytes
    to: bytes | None
    value: int
    data: bytes
    gas: int
    gas_price: int
    access_list: Sequence[tuple[bytes, Sequence[int]]] = ()
    deposit: bool = False  # a deposit's call: the coinbase is not to be read


@dataclass
class Ran:
    """What revm did with a job."""

    result: Any  # pyrevm.ExecutionResult
    accounts: dict[bytes, LoadedAccount]
    codes: dict[bytes, bytes]  # code of every account revm created
    frames: int  # call frames that committed (the top one included)


class RevmVM(AccountVM):
    """The EVM executed by revm (pyrevm) with rollupkit's own account logic around it."""

    client = "revm"
    implements = "evm"
    description = "EVM on revm (pyrevm): an independent client of the evm VM, for k-of-n"
    transaction_types = frozenset({0, 1, 2, 4})  # as the evm VM: 4 is then abstained from

    def __init__(self) -> None:
        self._checked_codes: dict[bytes, str | None] = {}  # by code hash (+ "d": deposits)

    def predeploys(self, chain_id: int) -> Mapping[bytes, GenesisAccount]:
        from rollupkit_evm.vm import EvmVM

        return EvmVM().predeploys(chain_id)

    def run_code(self, frame: Frame) -> Outcome:  # revm runs whole messages (see _message)
        raise NotImplementedError("the revm client runs whole messages, not frames")

    # --- transactions and deposit calls ----------------------------------------------------

    def _apply(
        self, state: StateOverlay, block: BlockContext, tx: Any, meter: ExecutionMeter | None
    ) -> tuple[int, Outcome]:
        if getattr(tx, "type_id", None) == 4:
            raise ClientUnsupported("revm (pyrevm 0.3.7) has no EIP-7702 transactions")
        sender = bytes(tx.sender)
        max_fee, tip = fees(tx)
        price = min(max_fee, block.base_fee + tip)
        nonce, balance = state.account(sender) or (0, 0)
        bought = tx.gas * price
        access = [(bytes(a), [int(s) for s in keys]) for a, keys in getattr(tx, "access_list", ())]
        job = Job(sender, bytes(tx.to) if tx.to else None, tx.value, bytes(tx.data), tx.gas,
                  price, access)  # fmt: skip
        if job.to is None:
            # pyrevm runs a creation as a whole transaction: revm buys the gas, bumps the
            # nonce, refunds and pays the coinbase the full price (its base fee is 0).
            self._check_opcodes(job.data)
            ran = self._run(state, block, job)
            used = int(ran.result.gas_used)
            state.add_balance(block.coinbase, -used * block.base_fee)
        else:
            # A message call: the sender's nonce and gas are this client's to take.
            if balance - bought < bought + tx.value:
                raise ClientUnsupported("revm would count the bought gas twice: sender too poor")
            state.set_account(sender, nonce=nonce + 1, balance=balance - bought)
            ran = self._run(state, block, job)
            used = int(ran.result.gas_used)
            state.add_balance(sender, (tx.gas - used) * price)
            state.add_balance(block.coinbase, used * (price - block.base_fee))
        floor = calldata_floor(tx)  # EIP-7623 (Prague): revm here is Cancun
        if used < floor:
            state.add_balance(sender, -(floor - used) * price)
            state.add_balance(block.coinbase, (floor - used) * (price - block.base_fee))
            used = floor
        self._count_frames(meter, ran, used)
        return used, _outcome(ran, used)

    def _message(
        self,
        state: StateOverlay,
        block: BlockContext,
        origin: bytes,
        sender: bytes,
        to: bytes | None,
        value: int,
        data: bytes,
        gas: int,
        creator_nonce: int,
        meter: ExecutionMeter | None = None,
    ) -> Outcome:
        """A deposit's call (or an eth_call): ``gas`` for the call itself, no intrinsic gas,
        no refund (as py-evm's ``apply_message``). revm's message call charges a
        transaction's intrinsic gas, so it is given that much more and it is taken back."""
        if to is None:
            raise ClientUnsupported("the revm client runs creations only as transactions")
        intrinsic = call_intrinsic_gas(data, create=False)
        if gas + intrinsic > block.gas_limit:
            raise ClientUnsupported("revm would refuse a call over the block's gas limit")
        frame_state = state.child()
        job = Job(sender, to, value, data, gas + intrinsic, 0, deposit=True)
        ran = self._run(frame_state, block, job)
        result = ran.result
        refunded = int(result.gas_refunded) if result.is_success else 0
        used = int(result.gas_used) + refunded - intrinsic
        self._count_frames(meter, ran, used)
        outcome = _outcome(ran, used)
        if outcome.success:
            frame_state.commit()
        return outcome

    @staticmethod
    def _count_frames(meter: ExecutionMeter | None, ran: Ran, gas: int) -> None:
        """Charge the child frames revm committed; note how many more there may have been."""
        if meter is None:
            return
        seen = max(ran.frames - 1, 0)
        for _ in range(seen):
            meter.frame()
        meter.unseen_frames += max(gas // MIN_FRAME_GAS - seen, 0)

    # --- running revm ----------------------------------------------------------------------

    def _run(self, state: StateOverlay, block: BlockContext, job: Job) -> Ran:
        """Run ``job`` in revm over ``state`` (discovering what it reads), write its effects
        into ``state`` and return what it did."""
        known: dict[bytes, tuple[int, int, bytes] | None] = {}
        slots: dict[tuple[bytes, int], int] = {}
        coinbase = job.caller if job.deposit else block.coinbase
        try:
            for address in (job.caller, job.to, coinbase, *(a for a, _ in job.access_list)):
                if address is not None:
                    known[address] = _account(state, address)
            for address, keys in job.access_list:
                for slot in keys:
                    slots[(address, slot)] = state.get_storage(address, slot)
        except MissingWitnessError as exc:
            if job.caller not in known:
                if not job.deposit:
                    raise  # the core has read a transaction's sender: the witness lacks it
                # revm loads a message's caller; a deposit's call without value need not
                # (nor did the builder), so the witness may well not hold it.
                raise ClientUnsupported("a deposit's sender is not in the witness") from None
            # revm loads these before it runs; py-evm may never read them (the code of a
            # target called with no gas left, an access list's accounts and slots).
            raise ClientUnsupported(f"revm read state the witness does not hold: {exc}") from None
        seeded: set[bytes] = set()
        for _ in range(MAX_ROUNDS):
            # What the block already knows of a contract's storage (what earlier transactions
            # read or wrote) goes in up front: a token's balances would otherwise be found
            # one run at a time, each run on a fresh EVM.
            for address, account in known.items():
                if address not in seeded and account is not None and account[2]:
                    seeded.add(address)
                    for slot, value in _likely_slots(job, state.known_storage(address)):
                        slots.setdefault((address, slot), value)
            evm = _evm(block, coinbase, known, slots)
            result = _execute(evm, job)
            # The database cache holds every read, reverted frames' too; the journal holds
            # what the committed frames changed.
            reads = parse_reads(str(evm))
            if not self._discover(state, reads, known, slots):
                accounts = parse_journal(evm.journal_str)
                self._check_supported(reads, accounts, known, job)
                codes = {a: _created_code(evm, loaded) for a, loaded in accounts.items()
                         if loaded.created}  # fmt: skip
                ran = Ran(result, accounts, codes, max(evm.journal_len - 1, 0))
                _write_back(state, ran, known)
                return ran
        raise ClientUnsupported(f"state discovery took over {MAX_ROUNDS} rounds")

    @staticmethod
    def _discover(
        state: StateOverlay,
        reads: Mapping[bytes, set[int]],
        known: dict[bytes, tuple[int, int, bytes] | None],
        slots: dict[tuple[bytes, int], int],
    ) -> bool:
        """Learn what revm read that was not known; True if revm assumed wrong (an unknown
        account exists, an unknown slot is not zero), so the job must run again.

        A run on a wrong assumption may read what the real execution never does, and the
        witness need not hold it: such a read is only an error if the run that reads it
        assumed nothing wrong."""
        again = False
        missing: MissingWitnessError | None = None
        for address, read_slots in reads.items():
            if address not in known:
                try:
                    known[address] = found = _account(state, address)
                except MissingWitnessError as exc:
                    missing = exc
                    continue
                again = again or found is not None
            for slot in read_slots:
                if (address, slot) not in slots:
                    try:
                        slots[(address, slot)] = value = state.get_storage(address, slot)
                    except MissingWitnessError as exc:
                        missing = exc
                        continue
                    again = again or value != 0
        if missing is not None and not again:
            # revm reads an account before charging for the access (py-evm charges first),
            # so a call that runs out of gas there reads what the witness never needed.
            raise ClientUnsupported(f"revm read state the witness does not hold: {missing}")
        return again

    def _check_supported(
        self,
        reads: Mapping[bytes, set[int]],
        accounts: Mapping[bytes, LoadedAccount],
        known: Mapping[bytes, tuple[int, int, bytes] | None],
        job: Job,
    ) -> None:
        """Abstain from what revm cannot answer as the L2 does (module docstring)."""
        for address in reads:
            if address in PRAGUE_PRECOMPILES:
                raise ClientUnsupported(f"precompile 0x{address.hex()} is Prague's (EIP-2537)")
            before = known.get(address)
            if before is not None and before[2]:
                self._check_opcodes(before[2], DEPOSIT_UNANSWERED if job.deposit else None)
        created = _created_by(job, known)
        for address, loaded in accounts.items():
            before = known.get(address)
            # A creation bumps its creator's nonce even when it reverts: a contract whose
            # nonce moved ran CREATE or CREATE2, whose init code this client cannot vet.
            creator = before is not None and before[2] and loaded.nonce != before[0]
            if creator or (loaded.created and address != created):
                raise ClientUnsupported("a contract created a contract (its init code is unseen)")

    def _check_opcodes(self, code: bytes, opcodes: Mapping[int, str] | None = None) -> None:
        key = keccak(code) + (b"d" if opcodes else b"")
        if key not in self._checked_codes:
            if code.startswith(DELEGATION_PREFIX):
                self._checked_codes[key] = "EIP-7702 delegated code"
            else:
                op = unanswered_opcode(code, opcodes or UNANSWERED_OPCODES)
                self._checked_codes[key] = f"code using {op}" if op else None
        problem = self._checked_codes[key]
        if problem:
            raise ClientUnsupported(f"revm (pyrevm 0.3.7) cannot run {problem}")


def _likely_slots(job: Job, known: Mapping[int, int]) -> list[tuple[int, int]]:
    """Of the ``known`` slots of a contract, those the job is likely to read: all of them
    when there are few; otherwise the low slots, and those of ``mapping[word]`` for mappings
    at the low positions and words of the message (its caller, target and call data), the
    slots an ERC-20's balances and allowances use. A guess only saves discovery rounds (a
    slot left out is found as any other); its values are the state's."""
    if len(known) <= SEED_ALL_SLOTS:
        return list(known.items())
    words = [job.caller.rjust(32, b"\0")]
    if job.to is not None:
        words.append(job.to.rjust(32, b"\0"))
    data = job.data
    words += [data[i : i + 32] for i in range(4, len(data) - 31, 32)][:SEED_WORDS]
    guesses = {*range(SEED_MAPPINGS)}
    for word in words:
        guesses.update(_mapping_slots(word))
    return [(slot, known[slot]) for slot in guesses if slot in known]


@lru_cache(maxsize=4096)
def _mapping_slots(word: bytes) -> tuple[int, ...]:
    """The slots of ``mapping[word]`` for mappings at the first positions (the same words
    come back transaction after transaction: senders, tokens, recipients)."""
    return tuple(int.from_bytes(keccak(word + position.to_bytes(32, "big")), "big")
                 for position in range(SEED_MAPPINGS))  # fmt: skip


def _account(state: StateOverlay, address: bytes) -> tuple[int, int, bytes] | None:
    found = state.account(address)
    if found is None:
        return None
    return found[0], found[1], state.get_code(address)


def _created_code(evm: Any, loaded: LoadedAccount) -> bytes:
    """The code revm deployed: pyrevm returns it padded for analysis (zeros after the end),
    so it is the prefix with the code hash revm recorded."""
    padded = bytes(evm.get_code("0x" + loaded.address.hex()) or b"")
    for end in range(len(padded), max(len(padded) - 66, -1), -1):
        if keccak(padded[:end]) == loaded.code_hash:
            return padded[:end]
    raise JournalFormatError(f"no prefix of 0x{loaded.address.hex()}'s code has its hash")


def _created_by(job: Job, known: Mapping[bytes, tuple[int, int, bytes] | None]) -> bytes | None:
    """The address a creation transaction creates (None for a call)."""
    if job.to is not None:
        return None
    return contract_address(job.caller, (known.get(job.caller) or (0, 0, b""))[0])


def _evm(
    block: BlockContext,
    coinbase: bytes,
    known: Mapping[bytes, tuple[int, int, bytes] | None],
    slots: Mapping[tuple[bytes, int], int],
) -> Any:
    env = pyrevm.Env(
        cfg=pyrevm.CfgEnv(chain_id=block.chain_id),
        block=pyrevm.BlockEnv(
            number=block.number, coinbase="0x" + coinbase.hex(),
            timestamp=block.timestamp, difficulty=0, prevrandao=block.prev_randao,
            basefee=block.base_fee, gas_limit=block.gas_limit, excess_blob_gas=0,
        ),
    )  # fmt: skip
    # GASLIMIT answers the EVM's gas limit, not the block's: make them one.
    evm = pyrevm.EVM(env=env, gas_limit=block.gas_limit, spec_id=SPEC)
    for address, account in known.items():
        if account is not None:
            nonce, balance, code = account
            evm.insert_account_info(
                "0x" + address.hex(),
                pyrevm.AccountInfo(balance=balance, nonce=nonce, code=code or None),
            )
    for (address, slot), value in slots.items():
        if value and known.get(address) is not None:
            # pyrevm writes a slot into revm's journal (warm, and "changed" from 0) once the
            # account is loaded there, which its first slot does; reverting a checkpoint
            # around each write leaves only the database's copy: cold, original value.
            checkpoint = evm.snapshot()
            evm.insert_account_storage("0x" + address.hex(), slot, value)
            evm.revert(checkpoint)
    return evm


def _execute(evm: Any, job: Job) -> Any:
    """Run ``job``; revm's result (pyrevm raises on a revert or halt, with the result kept)."""
    if job.access_list:
        evm.set_tx_env(pyrevm.TxEnv(access_list=[
            ("0x" + a.hex(), list(keys)) for a, keys in job.access_list
        ]))  # fmt: skip
    caller = "0x" + job.caller.hex()
    try:
        if job.to is None:
            evm.deploy(caller, job.data, job.value, job.gas, job.gas_price)
        else:
            evm.message_call(caller, "0x" + job.to.hex(), job.data, job.value, job.gas,
                             job.gas_price)  # fmt: skip
    except RuntimeError as exc:
        if evm.result is None:  # refused before running: a rule revm has that the core has not
            raise ClientUnsupported(f"revm refused the message: {exc}") from exc
    if evm.result is None:
        raise ClientUnsupported("revm gave no result")
    return evm.result


def _write_back(
    state: StateOverlay, ran: Ran, known: Mapping[bytes, tuple[int, int, bytes] | None]
) -> None:
    """Put what revm changed into ``state``: accounts revm touched, slots it wrote, codes it
    created. An account left empty that did not exist is not made (EIP-161); one created and
    self-destructed in the transaction never existed."""
    for address, loaded in ran.accounts.items():
        before = known.get(address)
        if loaded.self_destructed:
            if before is not None:
                raise ClientUnsupported("deleting an account that existed")
            continue
        code = ran.codes.get(address) if loaded.created else None
        empty = loaded.nonce == 0 and loaded.balance == 0 and not code
        if loaded.touched and empty and not loaded.created:
            if before is not None and (before[0] or before[1] or before[2]):
                raise ClientUnsupported("deleting an account that existed (EIP-161)")
            continue
        if before is None and not loaded.touched:
            continue
        if before is None or (before[0], before[1]) != (loaded.nonce, loaded.balance):
            state.set_account(address, nonce=loaded.nonce, balance=loaded.balance)
        if code is not None and code != (before[2] if before else b""):
            state.set_code(address, code)
        for slot, (_, now) in loaded.storage.items():
            if now != state.get_storage(address, slot):
                state.set_storage(address, slot, now)


def _outcome(ran: Ran, used: int) -> Outcome:
    result = ran.result
    if not result.is_success:
        return Outcome(False, used, reverted=not result.is_halt, error=str(result.reason))
    logs = tuple(
        Log(bytes.fromhex(log.address[2:]),
            tuple(bytes.fromhex(t[2:]) for t in log.topics), bytes(log.data[1]))
        for log in result.logs
    )  # fmt: skip
    return Outcome(True, used, logs=logs)


__all__ = ["JournalFormatError", "RevmVM", "unanswered_opcode"]
