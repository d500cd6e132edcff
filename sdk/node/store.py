"""The node's database: state, chain, mempool, the L1 queue as seen, and batches.

Everything lives in one SQLite file (:class:`rollupkit.kvstore.SqliteDatabase`), so a block
becomes durable in one commit together with everything it changes: its state nodes, its
transactions and receipts, the mempool entries it used up and the queue position it reached.
A transaction is acknowledged (its hash returned to the client) only after it is committed to
the mempool table; after a crash, everything acknowledged is either in a block or still in the
mempool, and nothing is in both.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rlp

from rollupkit.errors import NodeDatabaseError
from rollupkit.interfaces import StateStore
from rollupkit.kvstore import PreimageCache, SqliteDatabase
from rollupkit.types import L1Message, MessageKind

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS blocks (
        number INTEGER PRIMARY KEY, hash BLOB UNIQUE NOT NULL, header BLOB NOT NULL,
        input BLOB NOT NULL, witness BLOB NOT NULL, gas_used INTEGER NOT NULL,
        withdrawals BLOB NOT NULL, l1 BLOB NOT NULL DEFAULT x'')""",
    # gas_before and first_log (the block's gas and logs before the transaction) make a
    # receipt's answer one row's work: -1 in databases made before they were kept.
    """CREATE TABLE IF NOT EXISTS txs (
        hash BLOB PRIMARY KEY, number INTEGER NOT NULL, idx INTEGER NOT NULL,
        raw BLOB NOT NULL, receipt BLOB NOT NULL,
        gas_before INTEGER NOT NULL DEFAULT -1, first_log INTEGER NOT NULL DEFAULT -1)""",
    "CREATE INDEX IF NOT EXISTS txs_by_block ON txs (number, idx)",
    """CREATE TABLE IF NOT EXISTS mempool (
        hash BLOB PRIMARY KEY, sender BLOB NOT NULL, nonce INTEGER NOT NULL,
        raw BLOB NOT NULL, tip INTEGER NOT NULL, gas INTEGER NOT NULL, seq INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS mempool_by_sender ON mempool (sender, nonce)",
    """CREATE TABLE IF NOT EXISTS l1_messages (
        idx INTEGER PRIMARY KEY, message BLOB NOT NULL, l1_block INTEGER NOT NULL,
        l1_hash BLOB NOT NULL, l1_time INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS batches (
        id INTEGER PRIMARY KEY, first_block INTEGER NOT NULL, last_block INTEGER NOT NULL,
        status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '{}')""",
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
]


@dataclass(frozen=True)
class StoredBlock:
    """A block as the node keeps it."""

    number: int
    hash: bytes
    header: bytes
    input: bytes  # rlp of rollupkit.trace.block_fields
    witness: bytes  # rlp [state reads, code reads, node hashes written, oldest ancestor read]
    gas_used: int  # the block's EXECUTE gas (rollupkit.metering), not its L2 gas
    withdrawals: bytes  # rlp list of [nonce, sender, target, value, data]
    #: A booster block's L1 effects (rollupkit.node.l2chain.encode_l1_effects); empty if none.
    l1: bytes = b""


@dataclass(frozen=True)
class QueuedMessage:
    """An L1 message and where on L1 it was seen."""

    message: L1Message
    l1_block: int
    l1_hash: bytes
    l1_time: int


def encode_message(m: L1Message) -> bytes:
    """Storage encoding of an L1 message."""
    return rlp.encode([int(m.kind), m.index, m.sender, m.target, m.value, m.gas_limit, m.data])


def decode_message(raw: bytes) -> L1Message:
    """Inverse of :func:`encode_message`."""
    kind, index, sender, target, value, gas_limit, data = rlp.decode(raw)
    return L1Message(
        MessageKind(int.from_bytes(kind, "big")), int.from_bytes(index, "big"), sender, target,
        int.from_bytes(value, "big"), int.from_bytes(gas_limit, "big"), data,
    )  # fmt: skip


#: Block headers kept in memory by number (see NodeStore.header).
HEADERS_CACHED = 256


class NodeStore:
    """Typed access to the node's SQLite database."""

    def __init__(self, path: Path) -> None:
        try:
            self.db = SqliteDatabase(path)
            if str(path) != ":memory:":
                self._check_integrity(path)
            for statement in SCHEMA:
                self.db.execute(statement)
            self._add_columns("txs", {"gas_before": "INTEGER NOT NULL DEFAULT -1",
                                      "first_log": "INTEGER NOT NULL DEFAULT -1"})  # fmt: skip
            self._add_columns("blocks", {"l1": "BLOB NOT NULL DEFAULT x''"})
            self.db.commit()
        except sqlite3.DatabaseError as exc:
            raise NodeDatabaseError(
                f"the node database {path} cannot be used ({exc}): move it away to resync the node "
                "from L1, or restore a backup"
            ) from None
        # The head and recent headers are read by every request: kept in memory (the SQLite
        # connection is shared under one lock, and threads queued on it were most of the time
        # of an eth_call under load). Writes below keep them right.
        self._head: int | None = None
        self._headers: dict[int, bytes] = {}
        # Trie nodes and codes are content-addressed: cache reads of them in memory.
        self.state = StateStore(
            PreimageCache(self.db.table("state_nodes")), PreimageCache(self.db.table("codes"), 4096)
        )

    def _add_columns(self, table: str, columns: dict[str, str]) -> None:
        """Add ``columns`` (name: type and default) that an older database lacks."""
        have = {str(row[1]) for row in self.db.query(f"PRAGMA table_info({table})")}
        for name, definition in columns.items():
            if name not in have:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")

    def _check_integrity(self, path: Path) -> None:
        """Refuse a damaged file before anything trusts it (a flipped byte otherwise surfaced
        as an error on every poll while the node claimed to be up)."""
        problems = [row[0] for row in self.db.query("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise NodeDatabaseError(
                f"the node database {path} is corrupt ({'; '.join(map(str, problems[:3]))}): move "
                "it away to resync the node from L1, or restore a backup"
            )

    def commit(self) -> None:
        """Make every pending write durable, at once."""
        self.db.commit()

    def rollback(self) -> None:
        """Drop every write since the last commit."""
        with self.db.lock:
            self.db.rollback()
            self._forget_blocks()

    def _forget_blocks(self, after: int = -1) -> None:
        """Drop cached block reads above ``after`` (call holding the database lock)."""
        self._head = None
        for number in [n for n in self._headers if n > after]:
            del self._headers[number]

    def close(self) -> None:
        """Commit and close."""
        self.db.close()

    # --- meta -------------------------------------------------------------------------------

    def get_meta(self, key: str, default: Any = None) -> Any:
        """A JSON value stored under ``key``."""
        rows = self.db.query("SELECT v FROM meta WHERE k = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value (in the open transaction)."""
        self.db.execute(
            "INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", (key, json.dumps(value))
        )

    # --- blocks -----------------------------------------------------------------------------

    def add_block(self, block: StoredBlock, txs: list[tuple[bytes, bytes, bytes]]) -> None:
        """Store a block and its (hash, raw tx, receipt) triples (in the open transaction)."""
        with self.db.lock:
            self._add_block(block, txs)
            self._head = None

    def _add_block(self, block: StoredBlock, txs: list[tuple[bytes, bytes, bytes]]) -> None:
        self.db.execute(
            "INSERT INTO blocks (number, hash, header, input, witness, gas_used, withdrawals, l1) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                block.number,
                block.hash,
                block.header,
                block.input,
                block.witness,
                block.gas_used,
                block.withdrawals,
                block.l1,
            ),
        )
        rows, gas, logs = [], 0, 0
        for index, (tx_hash, raw, receipt) in enumerate(txs):
            rows.append((tx_hash, block.number, index, raw, receipt, gas, logs))
            gas, count = receipt_totals(receipt)
            logs += count
        self.db.executemany(
            "INSERT OR REPLACE INTO txs (hash, number, idx, raw, receipt, gas_before, first_log) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def remove_blocks_after(self, number: int) -> None:
        """Forget blocks above ``number`` (a re-derivation after an L1 reorg)."""
        with self.db.lock:
            self.db.execute("DELETE FROM blocks WHERE number > ?", (number,))
            self.db.execute("DELETE FROM txs WHERE number > ?", (number,))
            self._forget_blocks(after=number)

    def block(self, number: int) -> StoredBlock | None:
        """The block at ``number``."""
        rows = self.db.query(
            "SELECT number, hash, header, input, witness, gas_used, withdrawals, l1 FROM blocks "
            "WHERE number = ?",
            (number,),
        )
        return _stored_block(rows[0]) if rows else None

    def block_l1(self, number: int) -> bytes:
        """Block ``number``'s L1 effects as stored (empty: none, or no such block)."""
        rows = self.db.query("SELECT l1 FROM blocks WHERE number = ?", (number,))
        return bytes(rows[0][0]) if rows else b""

    def block_by_hash(self, block_hash: bytes) -> StoredBlock | None:
        """The block with ``block_hash``."""
        rows = self.db.query(
            "SELECT number, hash, header, input, witness, gas_used, withdrawals, l1 FROM blocks "
            "WHERE hash = ?",
            (block_hash,),
        )
        return _stored_block(rows[0]) if rows else None

    def head_number(self) -> int:
        """The highest stored block number (-1 if none)."""
        head = self._head
        if head is None:
            with self.db.lock:  # a write in between would leave a stale number cached
                rows = self.db.query("SELECT MAX(number) FROM blocks")
                head = self._head = -1 if rows[0][0] is None else int(rows[0][0])
        return head

    def header(self, number: int) -> bytes:
        """The header of block ``number``; raises KeyError if absent."""
        header = self._headers.get(number)
        if header is None:
            with self.db.lock:
                rows = self.db.query("SELECT header FROM blocks WHERE number = ?", (number,))
                if not rows:
                    raise KeyError(number)
                header = self._headers[number] = bytes(rows[0][0])
                while len(self._headers) > HEADERS_CACHED:
                    del self._headers[next(iter(self._headers))]
        return header

    def block_txs(self, number: int) -> list[tuple[bytes, bytes, bytes]]:
        """(hash, raw, receipt) of a block's transactions, in order."""
        rows = self.db.query(
            "SELECT hash, raw, receipt FROM txs WHERE number = ? ORDER BY idx", (number,)
        )
        return [(bytes(h), bytes(r), bytes(c)) for h, r, c in rows]

    def mined_tx(self, tx_hash: bytes) -> MinedTx | None:
        """A mined transaction with its receipt and place in its block, from its own row."""
        rows = self.db.query(
            "SELECT number, idx, raw, receipt, gas_before, first_log FROM txs WHERE hash = ?",
            (tx_hash,),
        )
        if not rows:
            return None
        number, index, raw, receipt, gas_before, first_log = rows[0]
        if gas_before < 0:  # a row from before these were kept: count them from the block
            gas_before = first_log = 0
            for _, _, earlier in self.block_txs(int(number))[: int(index)]:
                gas_before, count = receipt_totals(earlier)
                first_log += count
        return MinedTx(
            int(number), int(index), bytes(raw), bytes(receipt), int(gas_before), int(first_log)
        )

    def tx_location(self, tx_hash: bytes) -> tuple[int, int] | None:
        """(block number, index) of a mined transaction."""
        rows = self.db.query("SELECT number, idx FROM txs WHERE hash = ?", (tx_hash,))
        return (int(rows[0][0]), int(rows[0][1])) if rows else None

    # --- mempool ----------------------------------------------------------------------------

    def add_pending(
        self, tx_hash: bytes, sender: bytes, nonce: int, raw: bytes, tip: int, gas: int
    ) -> None:
        """Add (or replace, for the same sender and nonce) a pending transaction."""
        self.db.execute("DELETE FROM mempool WHERE sender = ? AND nonce = ?", (sender, nonce))
        seq = self.db.query("SELECT COALESCE(MAX(seq), 0) + 1 FROM mempool")[0][0]
        self.db.execute(
            "INSERT INTO mempool (hash, sender, nonce, raw, tip, gas, seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (tx_hash, sender, nonce, raw, tip, gas, seq),
        )

    def remove_pending(self, hashes: list[bytes]) -> None:
        """Drop pending transactions (mined, or no longer valid)."""
        self.db.executemany("DELETE FROM mempool WHERE hash = ?", [(h,) for h in hashes])

    def pending(self) -> list[tuple[bytes, bytes, int, bytes, int, int]]:
        """(hash, sender, nonce, raw, tip, gas) of every pending transaction, oldest first."""
        rows = self.db.query("SELECT hash, sender, nonce, raw, tip, gas FROM mempool ORDER BY seq")
        return [(bytes(h), bytes(s), int(n), bytes(r), int(t), int(g)) for h, s, n, r, t, g in rows]

    def pending_count(self) -> int:
        """How many transactions are pending."""
        return int(self.db.query("SELECT COUNT(*) FROM mempool")[0][0])

    def pending_tip(self, sender: bytes, nonce: int) -> int | None:
        """The tip of the pending transaction of ``sender`` with ``nonce``, if there is one."""
        rows = self.db.query(
            "SELECT tip FROM mempool WHERE sender = ? AND nonce = ?", (sender, nonce)
        )
        return int(rows[0][0]) if rows else None

    def pending_nonces(self, sender: bytes) -> set[int]:
        """The nonces of ``sender``'s pending transactions."""
        rows = self.db.query("SELECT nonce FROM mempool WHERE sender = ?", (sender,))
        return {int(r[0]) for r in rows}

    def pending_tx(self, tx_hash: bytes) -> bytes | None:
        """A pending transaction's raw bytes."""
        rows = self.db.query("SELECT raw FROM mempool WHERE hash = ?", (tx_hash,))
        return bytes(rows[0][0]) if rows else None

    # --- the L1 queue -----------------------------------------------------------------------

    def add_messages(self, messages: list[QueuedMessage]) -> None:
        """Record L1 messages seen (in the open transaction)."""
        self.db.executemany(
            "INSERT OR REPLACE INTO l1_messages (idx, message, l1_block, l1_hash, l1_time) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (q.message.index, encode_message(q.message), q.l1_block, q.l1_hash, q.l1_time)
                for q in messages
            ],
        )

    def messages(self, from_index: int = 0) -> Iterator[QueuedMessage]:
        """Queued messages from ``from_index`` on, in queue order."""
        rows = self.db.query(
            "SELECT message, l1_block, l1_hash, l1_time FROM l1_messages WHERE idx >= ? "
            "ORDER BY idx",
            (from_index,),
        )
        for message, block, block_hash, time in rows:
            yield QueuedMessage(
                decode_message(bytes(message)), int(block), bytes(block_hash), int(time)
            )

    def message_count(self) -> int:
        """How many queued messages are known."""
        return int(self.db.query("SELECT COUNT(*) FROM l1_messages")[0][0])

    def remove_messages_from(self, index: int) -> None:
        """Forget messages from ``index`` on (an L1 reorg removed them)."""
        self.db.execute("DELETE FROM l1_messages WHERE idx >= ?", (index,))

    # --- batches ----------------------------------------------------------------------------

    def add_batch(self, first_block: int, last_block: int) -> int:
        """Record a new batch of blocks (status ``built``); returns its id."""
        cursor = self.db.execute(
            "INSERT INTO batches (first_block, last_block, status) VALUES (?, ?, 'built')",
            (first_block, last_block),
        )
        return int(cursor.lastrowid or 0)

    def update_batch(self, batch_id: int, status: str, **detail: Any) -> None:
        """Set a batch's status and merge ``detail`` into its details."""
        current = self.batch(batch_id)
        merged = {**(current["detail"] if current else {}), **detail}
        self.db.execute(
            "UPDATE batches SET status = ?, detail = ? WHERE id = ?",
            (status, json.dumps(merged), batch_id),
        )

    def extend_batch(self, batch_id: int, last_block: int) -> None:
        """Make a batch reach ``last_block`` (it must be posted again); later batches, which
        it now covers, are forgotten."""
        self.db.execute("DELETE FROM batches WHERE id > ?", (batch_id,))
        self.db.execute(
            "UPDATE batches SET last_block = ?, status = 'built' WHERE id = ?",
            (last_block, batch_id),
        )

    def batch(self, batch_id: int) -> dict[str, Any] | None:
        """One batch as a dict (id, first_block, last_block, status, detail)."""
        rows = self.db.query(
            "SELECT id, first_block, last_block, status, detail FROM batches WHERE id = ?",
            (batch_id,),
        )
        return _batch(rows[0]) if rows else None

    def batches(self, status: str | None = None) -> list[dict[str, Any]]:
        """All batches (or those with ``status``), oldest first."""
        if status is None:
            rows = self.db.query(
                "SELECT id, first_block, last_block, status, detail FROM batches ORDER BY id"
            )
        else:
            rows = self.db.query(
                "SELECT id, first_block, last_block, status, detail FROM batches WHERE status = ? "
                "ORDER BY id",
                (status,),
            )
        return [_batch(r) for r in rows]

    def transaction_count(self, first: int, last: int) -> int:
        """How many transactions blocks ``first``..``last`` hold."""
        rows = self.db.query("SELECT COUNT(*) FROM txs WHERE number BETWEEN ? AND ?", (first, last))
        return int(rows[0][0])

    def batch_of_block(self, number: int) -> dict[str, Any] | None:
        """The batch that holds block ``number``."""
        rows = self.db.query(
            "SELECT id, first_block, last_block, status, detail FROM batches "
            "WHERE first_block <= ? AND last_block >= ? ORDER BY id DESC LIMIT 1",
            (number, number),
        )
        return _batch(rows[0]) if rows else None

    def remove_batches_from_block(self, number: int) -> None:
        """Forget batches that hold blocks above ``number``."""
        self.db.execute("DELETE FROM batches WHERE last_block > ?", (number,))


@dataclass(frozen=True)
class MinedTx:
    """A mined transaction's row: where it is, and the block's gas and logs before it."""

    number: int
    index: int
    raw: bytes
    receipt: bytes
    gas_before: int  # the cumulative gas of the receipt before it (0 for the first)
    first_log: int  # the block-wide index of its first log


def receipt_totals(receipt: bytes) -> tuple[int, int]:
    """(cumulative gas used, number of logs) of an encoded receipt (typed or legacy)."""
    body = receipt[1:] if receipt and receipt[0] < 0xC0 else receipt
    fields = rlp.decode(body)
    return int.from_bytes(fields[1], "big"), len(fields[3])


def _stored_block(row: tuple[Any, ...]) -> StoredBlock:
    number, block_hash, header, block_input, witness, gas_used, withdrawals, l1 = row
    return StoredBlock(
        int(number),
        bytes(block_hash),
        bytes(header),
        bytes(block_input),
        bytes(witness),
        int(gas_used),
        bytes(withdrawals),
        bytes(l1),
    )


def _batch(row: tuple[Any, ...]) -> dict[str, Any]:
    batch_id, first, last, status, detail = row
    return {
        "id": int(batch_id),
        "first_block": int(first),
        "last_block": int(last),
        "status": str(status),
        "detail": json.loads(detail),
    }
