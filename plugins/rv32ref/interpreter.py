"""Running a contract: blocks of decoded instructions, the instruction meter, host calls.

**Blocks.** A contract's code is decoded lazily, once per program (:class:`Code`, cached by
content): the first time execution reaches an address, the straight-line run of instructions
from there up to the next jump, branch or ``ecall`` (at most :data:`MAX_BLOCK` instructions)
becomes a :class:`Block`, kept for every later call. The interpreter loop then runs a block's
closures one after the other, and asks its last instruction where to go next. Nothing in it
recurses: a guest decides how long the loop runs, never how deep Python's stack goes (only a
host CALL nests, at most ``MAX_CALL_DEPTH`` deep, as in every VM).

**Gas** is :data:`INSTRUCTION_GAS` an instruction, charged for a whole block before it runs,
as the Unicorn client charges a translated block. That gives the same result as charging each
instruction as it runs: a block runs to its end unless it faults (and a fault, like running
out of gas, fails the call with all its gas), and its only instruction with effects outside the
call, ``ecall``, is its last. Charges go to the frame in batches: the loop counts instructions
against a limit, the instructions the frame (and under EXECUTE, the trace's claim) can still
pay for, and settles with the frame at each host call and whenever a block would pass the limit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from rollupkit.accountvm import Frame, Outcome
from rollupkit.hostabi import GuestExit, Host
from rollupkit_rv32ref.elf import EXECUTE, STACK_TOP, Program, parse
from rollupkit_rv32ref.isa import MASK, REGISTERS, GuestFailed, Instruction, decode
from rollupkit_rv32ref.memory import Layout, Memory

INSTRUCTION_GAS = 1  # the riscv VM's price of an instruction: part of the chain's rules
MAX_BLOCK = 64  # bounds the blocks a program can make (jumps into a block start new ones)
SP = 2
A0, A1, A7 = 10, 11, 17


@dataclass(frozen=True, slots=True)
class Block:
    """Straight-line instructions from ``start``: ``body`` runs in order, then ``last``, the
    instruction that ends the block (a jump, a branch, ``ecall``, one that always fails), at
    address ``end``. A block cut short (at :data:`MAX_BLOCK` instructions, or where the code
    ends) has no ``last``, and goes on at ``end``. ``count`` instructions in all."""

    start: int
    body: tuple[Any, ...]
    last: Instruction | None
    end: int
    count: int


class Code:
    """A program's instructions and blocks, decoded when execution first reaches them."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.layout = Layout.of(program)
        self.words = _code_words(program)
        self.instructions: dict[int, Instruction] = {}
        self.blocks: dict[int, Block] = {}

    def instruction(self, address: int) -> Instruction:
        """The instruction at ``address`` (a key of ``words``), decoded once."""
        found = self.instructions.get(address)
        if found is None:
            found = self.instructions[address] = decode(self.words[address], address)
        return found

    def block(self, pc: int, memory: Memory) -> Block:
        """The block starting at ``pc``, decoded on first use; GuestFailed if ``pc`` is not the
        address of an instruction."""
        block = self.blocks.get(pc)
        if block is not None:
            return block
        if pc & 3:
            raise GuestFailed(f"jump to an address that is not 4-byte aligned (0x{pc:x})")
        if pc not in self.words:
            mapped = memory.executable(pc) is not None
            what = "jump to memory that is not code" if mapped else "jump outside memory"
            raise GuestFailed(f"{what} (0x{pc:x})")
        body: list[Any] = []
        address, last = pc, None
        while address in self.words and len(body) < MAX_BLOCK:
            instruction = self.instruction(address)
            if instruction.ends_block:
                last = instruction
                break
            body.append(instruction.run)
            address += 4
        block = Block(pc, tuple(body), last, address, len(body) + (last is not None))
        self.blocks[pc] = block
        return block


def _code_words(program: Program) -> dict[int, int]:
    """Every word of the code pages by address, the zero padding around the code included
    (a jump there runs an illegal instruction, as on the real machine)."""
    words = {}
    for segment in program.segments:
        if segment.flags & EXECUTE:
            for address in range(segment.first_page, segment.end_page, 4):
                offset = address - segment.address
                word = segment.data[offset : offset + 4] if offset >= 0 else b""
                words[address] = int.from_bytes(word.ljust(4, b"\0"), "little")
    return words


@functools.lru_cache(maxsize=256)
def compile_code(code: bytes) -> Code:
    """The :class:`Code` of a contract (ElfError if it is not one); cached by content, so a
    contract's blocks are decoded once however often it runs."""
    return Code(parse(code))


class Machine:
    """One call of a contract: registers, memory, the meter, and the host that serves its
    ``ecall``s."""

    def __init__(self, code: Code, frame: Frame) -> None:
        self.code = code
        self.frame = frame
        self.memory = Memory(code.layout)
        self.registers = [0] * REGISTERS
        self.registers[SP] = STACK_TOP
        self.host = Host(frame, self.memory, self.settle)
        self.executed = 0  # instructions whose blocks have run (or are running)
        self.charged = 0  # instructions charged to the frame
        self.limit = 0  # executed may not pass this without asking the frame

    # --- the meter --------------------------------------------------------------------------

    def settle(self) -> None:
        """Charge the frame for the instructions run since the last charge, then set how many
        more it (and the trace's claim) can pay for without being asked."""
        frame = self.frame
        if self.executed > self.charged:
            frame.use_gas((self.executed - self.charged) * INSTRUCTION_GAS)
            self.charged = self.executed
        allowance = frame.gas_left
        if frame.meter is not None:
            allowance = min(allowance, frame.meter.running_limit - frame.meter.running)
        self.limit = self.charged + max(allowance, 0) // INSTRUCTION_GAS

    def pay_ahead(self, count: int) -> None:
        """A block of ``count`` instructions would pass the limit: charge it before it runs.
        The frame raises OutOfGas if it cannot pay, GasCapExceeded past the trace's claim,
        CallTimeout past a read-only call's deadline; otherwise the block runs."""
        self.settle()
        self.frame.use_gas(count * INSTRUCTION_GAS)
        self.executed += count
        self.charged = self.executed
        self.settle()

    # --- running ------------------------------------------------------------------------------

    def run(self) -> Outcome:
        """Run the call to its RETURN or REVERT. Raises GuestFailed, GuestFault or OutOfGas
        when the call fails, and lets trace-level errors through."""
        frame, code, memory, r = self.frame, self.code, self.memory, self.registers
        blocks = code.blocks
        self.settle()
        pc = code.program.entry
        # The loop keeps the meter's counts in locals (the hot path), and hands them back to
        # the machine before anything that charges gas.
        executed, limit = self.executed, self.limit
        try:
            while True:
                block = blocks.get(pc) or code.block(pc, memory)
                count = block.count
                if executed + count > limit:
                    self.executed = executed
                    self.pay_ahead(count)
                    executed, limit = self.executed, self.limit
                else:
                    executed += count
                for run in block.body:
                    run(r, memory)
                last = block.last
                if last is None:
                    pc = block.end
                elif last.is_ecall:
                    self.executed = executed
                    self.ecall()
                    executed, limit = self.executed, self.limit
                    pc = block.end + 4
                else:
                    pc = last.run(r, memory)
        except GuestExit as exit:
            self.settle()
            logs = () if exit.reverted else tuple(frame.logs)
            return Outcome(not exit.reverted, frame.gas_used, exit.output, logs,
                           reverted=exit.reverted)  # fmt: skip

    def ecall(self) -> None:
        """A host call: function number in a7, arguments in a0..a4, the 64-bit answer in a0
        (low half) and a1 (high half)."""
        r = self.registers
        answer = self.host.dispatch(r[A7], r[A0 : A0 + 5])
        r[A0], r[A1] = answer & MASK, answer >> 32
        self.settle()  # the host call spent gas: fewer instructions are left
