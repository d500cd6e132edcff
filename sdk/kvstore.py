"""A durable key-value store on SQLite, usable as py-evm's database.

Why SQLite: it ships with Python (nothing to build or install), it is crash-safe with WAL
journaling and explicit transactions, and a devnet or node has one writer. Writes go into an
open transaction; :meth:`SqliteKV.commit` makes everything written so far durable at once, so a
crash loses only work that was never acknowledged.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, MutableMapping
from pathlib import Path

from eth.db.backends.base import BaseDB


class SqliteKV(MutableMapping[bytes, bytes]):
    """``bytes -> bytes`` in one SQLite table, committed explicitly."""

    def __init__(self, path: Path | str, table: str = "kv") -> None:
        if not table.isidentifier():
            raise ValueError(f"bad table name {table!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._table = table
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (k BLOB PRIMARY KEY, v BLOB NOT NULL)"
        )
        self._in_transaction = False

    def _begin(self) -> None:
        if not self._in_transaction:
            self._conn.execute("BEGIN")
            self._in_transaction = True

    def __getitem__(self, key: bytes) -> bytes:
        with self._lock:
            row = self._conn.execute(
                f"SELECT v FROM {self._table} WHERE k = ?", (bytes(key),)
            ).fetchone()
        if row is None:
            raise KeyError(key)
        return bytes(row[0])

    def __setitem__(self, key: bytes, value: bytes) -> None:
        with self._lock:
            self._begin()
            self._conn.execute(
                f"INSERT OR REPLACE INTO {self._table} (k, v) VALUES (?, ?)",
                (bytes(key), bytes(value)),
            )

    def __delitem__(self, key: bytes) -> None:
        with self._lock:
            self._begin()
            cursor = self._conn.execute(f"DELETE FROM {self._table} WHERE k = ?", (bytes(key),))
        if cursor.rowcount == 0:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, bytes | bytearray):
            return False
        with self._lock:
            row = self._conn.execute(
                f"SELECT 1 FROM {self._table} WHERE k = ?", (bytes(key),)
            ).fetchone()
        return row is not None

    def __iter__(self) -> Iterator[bytes]:
        with self._lock:
            keys = [bytes(r[0]) for r in self._conn.execute(f"SELECT k FROM {self._table}")]
        return iter(keys)

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM {self._table}").fetchone()[0])

    def commit(self) -> None:
        """Make every write so far durable."""
        with self._lock:
            if self._in_transaction:
                self._conn.execute("COMMIT")
                self._in_transaction = False

    def rollback(self) -> None:
        """Forget every write since the last commit."""
        with self._lock:
            if self._in_transaction:
                self._conn.execute("ROLLBACK")
                self._in_transaction = False

    def close(self) -> None:
        """Commit and close."""
        with self._lock:
            self.commit()
            self._conn.close()


class PyEvmKV(BaseDB):
    """Adapts any ``MutableMapping[bytes, bytes]`` to py-evm's ``DatabaseAPI``."""

    def __init__(self, mapping: MutableMapping[bytes, bytes]) -> None:
        self.mapping = mapping

    def __getitem__(self, key: bytes) -> bytes:
        return self.mapping[key]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.mapping[key] = value

    def __delitem__(self, key: bytes) -> None:
        del self.mapping[key]

    def _exists(self, key: bytes) -> bool:
        return key in self.mapping
