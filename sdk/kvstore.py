"""Durable storage on SQLite, usable as py-evm's database and as the node's database.

Why SQLite: it ships with Python (nothing to build or install), it is crash-safe with WAL
journaling and explicit transactions, and a devnet or node has one writer. ``synchronous=
NORMAL`` in WAL mode keeps every committed transaction across a crash of the process (kill -9
included): what is committed is in the WAL file, which the OS writes out even if the process
dies. Only a power cut or OS crash can lose the last commits; ``durable=True`` fsyncs every
commit against that too, at several milliseconds a commit. Every table of a
:class:`SqliteDatabase` shares one connection, so a block's state, its chain data and the
mempool changes it causes become durable together in one :meth:`SqliteDatabase.commit`: a
crash loses only work that was never acknowledged, and never half of a block.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

from eth.db.backends.base import BaseDB


class SqliteDatabase:
    """One SQLite file; writes collect in an open transaction until :meth:`commit`."""

    def __init__(self, path: Path | str, *, durable: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self._in_transaction = False

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Run a statement; writes join the open transaction."""
        with self.lock:
            if not self._in_transaction and not sql.lstrip().upper().startswith("SELECT"):
                self._conn.execute("BEGIN")
                self._in_transaction = True
            return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run a write statement for each row, in the open transaction."""
        with self.lock:
            if not self._in_transaction:
                self._conn.execute("BEGIN")
                self._in_transaction = True
            self._conn.executemany(sql, rows)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """All rows of a SELECT."""
        with self.lock:
            return list(self._conn.execute(sql, params).fetchall())

    def table(self, name: str) -> SqliteTable:
        """A ``bytes -> bytes`` table in this database (created if missing)."""
        return SqliteTable(self, name)

    def commit(self) -> None:
        """Make every write so far durable, all at once."""
        with self.lock:
            if self._in_transaction:
                self._conn.execute("COMMIT")
                self._in_transaction = False

    def rollback(self) -> None:
        """Forget every write since the last commit."""
        with self.lock:
            if self._in_transaction:
                self._conn.execute("ROLLBACK")
                self._in_transaction = False

    def close(self) -> None:
        """Commit and close."""
        with self.lock:
            self.commit()
            self._conn.close()


class SqliteTable(MutableMapping[bytes, bytes]):
    """``bytes -> bytes`` in one table of a :class:`SqliteDatabase`."""

    def __init__(self, db: SqliteDatabase, name: str) -> None:
        if not name.isidentifier():
            raise ValueError(f"bad table name {name!r}")
        self.db = db
        self.name = name
        db.execute(f"CREATE TABLE IF NOT EXISTS {name} (k BLOB PRIMARY KEY, v BLOB NOT NULL)")
        db.commit()

    def __getitem__(self, key: bytes) -> bytes:
        rows = self.db.query(f"SELECT v FROM {self.name} WHERE k = ?", (bytes(key),))
        if not rows:
            raise KeyError(key)
        return bytes(rows[0][0])

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.db.execute(
            f"INSERT OR REPLACE INTO {self.name} (k, v) VALUES (?, ?)", (bytes(key), bytes(value))
        )

    def __delitem__(self, key: bytes) -> None:
        if self.db.execute(f"DELETE FROM {self.name} WHERE k = ?", (bytes(key),)).rowcount == 0:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, bytes | bytearray):
            return False
        return bool(self.db.query(f"SELECT 1 FROM {self.name} WHERE k = ?", (bytes(key),)))

    def __iter__(self) -> Iterator[bytes]:
        return iter([bytes(r[0]) for r in self.db.query(f"SELECT k FROM {self.name}")])

    def __len__(self) -> int:
        return int(self.db.query(f"SELECT COUNT(*) FROM {self.name}")[0][0])

    def update_many(self, items: dict[bytes, bytes]) -> None:
        """Write many entries with one statement."""
        if items:
            self.db.executemany(
                f"INSERT OR REPLACE INTO {self.name} (k, v) VALUES (?, ?)",
                [(bytes(k), bytes(v)) for k, v in items.items()],
            )


class PreimageCache(MutableMapping[bytes, bytes]):
    """A bounded read cache in front of a table of content-addressed preimages (trie nodes,
    codes: the value is a pure function of the key), so hot state is read from memory.

    Entries are never wrong: a key names its value. An entry whose write was rolled back may
    outlive it here, which is harmless for the same reason.
    """

    def __init__(self, table: SqliteTable, size: int = 65_536) -> None:
        self.table = table
        self._size = size
        self._cache: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def _remember(self, key: bytes, value: bytes) -> None:
        with self._lock:
            self._cache[key] = value
            self._cache.move_to_end(key)
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)

    def __getitem__(self, key: bytes) -> bytes:
        with self._lock:
            value = self._cache.get(key)
        if value is not None:
            return value
        value = self.table[key]
        self._remember(bytes(key), value)
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.table[key] = value
        self._remember(bytes(key), bytes(value))

    def __delitem__(self, key: bytes) -> None:
        with self._lock:
            self._cache.pop(bytes(key), None)
        del self.table[key]

    def __contains__(self, key: object) -> bool:
        with self._lock:
            if key in self._cache:
                return True
        return key in self.table

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)

    def update_many(self, items: dict[bytes, bytes]) -> None:
        """Write many entries with one statement (and remember them)."""
        self.table.update_many(items)
        for key, value in items.items():
            self._remember(bytes(key), bytes(value))


class SqliteKV(SqliteTable):
    """A single-table store in its own file (the devnet's py-evm database)."""

    def __init__(self, path: Path | str, table: str = "kv") -> None:
        super().__init__(SqliteDatabase(path), table)
        self.path = self.db.path

    def commit(self) -> None:
        """Make every write so far durable."""
        self.db.commit()

    def rollback(self) -> None:
        """Forget every write since the last commit."""
        self.db.rollback()

    def close(self) -> None:
        """Commit and close."""
        self.db.close()


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
