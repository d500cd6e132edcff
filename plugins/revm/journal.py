"""Reading what revm did: its journaled state and its database cache, as pyrevm prints them.

pyrevm 0.3.7 runs a message without finalising revm's journal and exposes no structured view
of it beyond account infos; the storage a transaction touched is only in the journal's
``Debug`` text (``EVM.journal_str``). This module parses that text for one transaction (a fresh
EVM per transaction keeps it small): every account revm loaded, its nonce, balance and code
hash, the status flags revm keeps for it, and every storage slot it loaded or wrote with the
value it had and has.

The format is Rust's derived ``Debug`` of ``JournaledState`` (revm 9-era)::

    JournaledState { state: {0xab..: Account { info: AccountInfo { balance: 5, nonce: 0,
    code_hash: 0x.., code: Some(Bytecode { .. }) }, storage: {1: StorageSlot {
    previous_or_original_value: 0, present_value: 12 }}, status: AccountStatus(Touched) },
    ..}, transient_storage: ..

What revm *read* is in another place: the journal forgets the loads of a frame that reverted,
but the in-memory database (``CacheDB``) under it keeps every account and slot it was asked
for, reverted or not. ``str(EVM)`` prints it (:func:`parse_reads`).

Anything that does not match is an error (:class:`JournalFormatError`), never a guess: a
client that cannot read its own result must not vouch for one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: An account's code as revm prints it: the bytes, then how far revm analysed them (``Raw``,
#: ``Checked { len: .. }``, ``Analysed { len: .., jump_map: JumpMap { map: ".." } }``: no
#: parentheses in any). Spelt out, the hex is one scan of a character class: a lazy ``.*?``
#: over it was most of the time spent parsing. Text this does not match is parsed again
#: with the lazy pattern (``_ANY_CODE``) before it is called an error.
_CODE = r"(?:None|Some\(Bytecode \{ bytecode: 0x[0-9a-f]*, state: [^()]*? \}\))"
_ANY_CODE = r"(?:None|Some\(.*?\))"
_ACCOUNT, _ACCOUNT_ANY_CODE = (
    re.compile(
        r"(0x[0-9a-fA-F]{40}): Account \{ info: AccountInfo \{ balance: (\d+), nonce: (\d+), "
        r"code_hash: (0x[0-9a-f]{64}), code: " + code + r" \}, "
        r"storage: \{(.*?)\}, status: AccountStatus\(([^)]*)\) \}",
        re.DOTALL,
    )
    for code in (_CODE, _ANY_CODE)
)
#: Slots start where a number does: ``(?<!\d)`` stops a search from trying every digit of
#: a 78-digit slot or value as the start of a slot (each such try backtracks the whole number).
_SLOT = re.compile(
    r"(?<!\d)(\d+): StorageSlot \{ previous_or_original_value: (\d+), present_value: (\d+) \}"
)
_STATE_START = "JournaledState { state: {"


class JournalFormatError(Exception):
    """pyrevm printed its journal in a shape this parser does not know."""


@dataclass
class LoadedAccount:
    """One account as revm's journal holds it after a transaction."""

    address: bytes
    balance: int
    nonce: int
    code_hash: bytes
    status: frozenset[str]
    #: slot -> (value when loaded, value now)
    storage: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def created(self) -> bool:
        return "Created" in self.status

    @property
    def self_destructed(self) -> bool:
        return "SelfDestructed" in self.status

    @property
    def touched(self) -> bool:
        return "Touched" in self.status or self.created


def parse_journal(text: str) -> dict[bytes, LoadedAccount]:
    """Every account of ``text`` (``EVM.journal_str``), by 20-byte address."""
    try:
        return _parse_journal(text, _ACCOUNT)
    except JournalFormatError:
        return _parse_journal(text, _ACCOUNT_ANY_CODE)


def _parse_journal(text: str, pattern: re.Pattern[str]) -> dict[bytes, LoadedAccount]:
    if not text.startswith(_STATE_START):
        raise JournalFormatError(f"unexpected journal start {text[:40]!r}")
    end = text.find("}, transient_storage:")
    if end < 0:
        raise JournalFormatError("no transient_storage after the state map")
    body = text[len(_STATE_START) : end]
    accounts: dict[bytes, LoadedAccount] = {}
    position = 0
    for match in pattern.finditer(body):
        if body[position : match.start()].strip(", "):
            raise JournalFormatError(
                f"unparsed journal text {body[position : match.start()][:60]!r}"
            )
        position = match.end()
        address, balance, nonce, code_hash, storage, status = match.groups()
        flags = frozenset(f.strip() for f in status.split("|") if f.strip() not in ("", "0x0"))
        account = LoadedAccount(
            bytes.fromhex(address[2:]), int(balance), int(nonce), bytes.fromhex(code_hash[2:]),
            flags,
        )  # fmt: skip
        slots = _SLOT.findall(storage)
        if len(slots) != storage.count("StorageSlot"):
            raise JournalFormatError(f"unparsed storage of {address}")
        for slot, before, now in slots:
            account.storage[int(slot)] = (int(before), int(now))
        accounts[account.address] = account
    if body[position:].strip(", "):
        raise JournalFormatError(f"unparsed journal text {body[position:][:60]!r}")
    return accounts


_DB_ACCOUNT, _DB_ACCOUNT_ANY_CODE = (
    re.compile(
        r"(0x[0-9a-fA-F]{40}): DbAccount \{ info: AccountInfo \{ balance: \d+, nonce: \d+, "
        r"code_hash: 0x[0-9a-f]{64}, code: " + code + r" \}, account_state: (\w+), "
        r"storage: \{([0-9:, ]*)\} \}",
        re.DOTALL,
    )
    for code in (_CODE, _ANY_CODE)
)
_DB_SLOT = re.compile(r"(?<!\d)(\d+): (\d+)")
_DB_START = "db: Memory(CacheDB { accounts: {"
_DB_END = "}, contracts: {"


def parse_reads(text: str) -> dict[bytes, set[int]]:
    """Every account revm's database was asked for, with the storage slots asked for, from
    ``str(EVM)``: the complete read set of what ran, reverted frames included."""
    try:
        return _parse_reads(text, _DB_ACCOUNT)
    except JournalFormatError:
        return _parse_reads(text, _DB_ACCOUNT_ANY_CODE)


def _parse_reads(text: str, pattern: re.Pattern[str]) -> dict[bytes, set[int]]:
    start = text.find(_DB_START)
    if start < 0:
        raise JournalFormatError("no in-memory database in the EVM's text")
    start += len(_DB_START)
    end = text.find(_DB_END, start)
    if end < 0:
        raise JournalFormatError("no end to the database's accounts")
    body = text[start:end]
    reads: dict[bytes, set[int]] = {}
    position = 0
    for match in pattern.finditer(body):
        if body[position : match.start()].strip(", "):
            raise JournalFormatError(
                f"unparsed database text {body[position : match.start()][:60]!r}"
            )
        position = match.end()
        address, _, storage = match.groups()
        reads[bytes.fromhex(address[2:])] = {int(k) for k, _ in _DB_SLOT.findall(storage)}
    if body[position:].strip(", "):
        raise JournalFormatError(f"unparsed database text {body[position:][:60]!r}")
    return reads
