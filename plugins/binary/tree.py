"""EIP-7864's binary tree over a hash-keyed node store: reads, batched updates and proofs.

Node records, each stored under its EIP-7864 hash:

* an **internal node** is ``left_hash || right_hash`` (64 bytes), hashed as
  ``tree_hash(left || right)``;
* a **stem node** is ``stem (31) || bitmap (32) || present values (32 each)``. Its hash is the
  EIP's ``tree_hash(stem || 0x00 || root of its 256 leaves)``, a leaf hashing to
  ``tree_hash(value)`` when present and to zero when absent (and two zero hashes to zero).

The EIP hashes a stem node's 64 bytes ``stem || 0x00 || leaves root`` exactly as it hashes an
internal node's 64 bytes ``left || right``, so a hash alone does not say which kind of node it
names, and a forged witness could try either confusion:

* *an internal node passed off as a stem node*, with some other stem, "proving" that every
  key below it is absent. A stem node is therefore stored, witnessed and proven *with its
  values*, and its hash recomputed from them: the forgery would need a 32-byte BLAKE3
  preimage of a hash whose preimage is 64 bytes. (Stem records and internal records never
  have the same length, 64 vs 31 modulo 32, so the length says the kind.)
* *a stem node passed off as an internal node*: its 64-byte EIP preimage, read as
  ``left || right``, leads (right) into the stem's sparse leaf subtree, where an empty child
  would "prove" a present key absent. Such a record has a zero byte 31, and its "left child"
  ``stem || 0x00`` has no known preimage. So before anything goes through a 64-byte record
  whose byte 31 is zero, its left child must be found too (:meth:`BinaryTree._node`): an
  honest internal node has one (1 in 256 do; the builder records it, so the witness has it),
  a disguised stem node never does. (A stem of 31 zero bytes, whose "left child" would be the
  empty hash, is out of reach: derived stems are BLAKE3 outputs.)

The tree is canonical: a subtree holding one stem is that stem node, an empty one is the
zero hash, and a deletion that leaves one stem under an internal node lifts it back up, so a
root depends only on the contents, never on the order of writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence

from rollupkit.errors import MissingWitnessError
from rollupkit_binary.embedding import tree_hash

ZERO = b"\x00" * 32
STEM_BYTES = 31
INTERNAL_RECORD_BYTES = 64
_STEM_BITS = 8 * STEM_BYTES
_EMPTY, _STEM, _INTERNAL = 0, 1, 2

#: A stem's values by sub-index (a missing sub-index is an absent leaf).
StemValues = Mapping[int, bytes]
#: Changes to a stem: sub-index -> new value, or None to remove the leaf.
StemChanges = Mapping[int, bytes | None]


def pair_hash(left: bytes, right: bytes) -> bytes:
    """The hash of two sibling hashes; two empty siblings are empty (EIP-7864)."""
    if left == ZERO and right == ZERO:
        return ZERO
    return tree_hash(left + right)


def leaves_root(values: StemValues) -> bytes:
    """The root of a stem's 256 leaves (sparse: only present leaves cost a hash)."""
    level = {index: tree_hash(value) for index, value in values.items()}
    for _ in range(8):
        parents: dict[int, bytes] = {}
        for index in level:
            parent = index >> 1
            if parent not in parents:
                parents[parent] = tree_hash(
                    level.get(2 * parent, ZERO) + level.get(2 * parent + 1, ZERO)
                )
        level = parents
    return level.get(0, ZERO)


def stem_hash(stem: bytes, values: StemValues) -> bytes:
    """A stem node's EIP-7864 hash."""
    return tree_hash(stem + b"\x00" + leaves_root(values))


def encode_stem(stem: bytes, values: StemValues) -> bytes:
    """A stem node's record: stem, bitmap of present leaves, their values in order."""
    bitmap = 0
    for index in values:
        bitmap |= 1 << (255 - index)
    return stem + bitmap.to_bytes(32, "big") + b"".join(values[i] for i in sorted(values))


def decode_stem(record: bytes) -> tuple[bytes, dict[int, bytes]]:
    """(stem, values) of a stem node record; ValueError if it is not one."""
    if len(record) < STEM_BYTES + 32 + 32 or (len(record) - STEM_BYTES) % 32:
        raise ValueError(f"a stem node record cannot be {len(record)} bytes long")
    bitmap = int.from_bytes(record[STEM_BYTES : STEM_BYTES + 32], "big")
    indices = []
    while bitmap:  # the set bits, highest (sub-index 0) first: O(values), not O(256)
        top = bitmap.bit_length() - 1
        indices.append(255 - top)
        bitmap ^= 1 << top
    body = record[STEM_BYTES + 32 :]
    if len(indices) * 32 != len(body):
        raise ValueError("a stem node record's bitmap does not match its values")
    values = {index: body[32 * n : 32 * n + 32] for n, index in enumerate(indices)}
    return record[:STEM_BYTES], values


def record_hash(record: bytes) -> bytes | None:
    """The hash a node record is stored under, or None if ``record`` is not a node record."""
    if len(record) == INTERNAL_RECORD_BYTES:
        digest = pair_hash(record[:32], record[32:])
        return None if digest == ZERO else digest
    try:
        stem, values = decode_stem(record)
    except ValueError:
        return None
    return stem_hash(stem, values)


def record_store(records: Iterable[bytes]) -> dict[bytes, bytes]:
    """A node store holding each record under its hash. A record can only be found under the
    hash it has, so a forged or malformed witness entry is simply unreachable."""
    store = {}
    for record in records:
        digest = record_hash(record)
        if digest is not None:
            store[digest] = record
    return store


def _bit(stem: bytes, depth: int) -> int:
    return stem[depth >> 3] >> (7 - (depth & 7)) & 1


class BinaryTree:
    """Reads and batched updates of the tree whose nodes are in ``nodes``."""

    def __init__(self, nodes: MutableMapping[bytes, bytes]) -> None:
        self.nodes = nodes

    def _record(self, digest: bytes) -> bytes:
        try:
            return self.nodes[digest]
        except KeyError:
            raise MissingWitnessError(f"missing binary tree node 0x{digest.hex()}") from None

    def _node(self, digest: bytes, path: list[bytes] | None = None) -> bytes:
        """The record of node ``digest`` (appended to ``path`` if given), proven to be what
        it reads as: a 64-byte record with a zero byte 31 could be a stem node's EIP
        preimage, so its left child is looked up too (see the module docstring)."""
        record = self._record(digest)
        if path is not None:
            path.append(record)
        if len(record) == INTERNAL_RECORD_BYTES and record[31] == 0 and record[:32] != ZERO:
            left = self._record(record[:32])
            if path is not None:
                path.append(left)
        return record

    # --- reads -----------------------------------------------------------------------------

    def walk(self, root: bytes, stem: bytes) -> tuple[list[bytes], dict[int, bytes]]:
        """The records from ``root`` towards ``stem`` and the stem's values ({} if it is
        absent: the walk met an empty subtree or another stem)."""
        path: list[bytes] = []
        node, depth = root, 0
        while node != ZERO:
            record = self._node(node, path)
            if len(record) != INTERNAL_RECORD_BYTES:
                found, values = decode_stem(record)
                return path, (values if found == stem else {})
            if depth == _STEM_BITS:
                raise MissingWitnessError("binary tree deeper than a stem has bits")
            node = record[32:] if _bit(stem, depth) else record[:32]
            depth += 1
        return path, {}

    def stem_values(self, root: bytes, stem: bytes) -> dict[int, bytes]:
        """The values of ``stem`` in the tree at ``root``."""
        return self.walk(root, stem)[1]

    # --- updates ---------------------------------------------------------------------------

    def update(self, root: bytes, changes: Mapping[bytes, StemChanges]) -> bytes:
        """Apply ``changes`` (stem -> sub-index -> value or None) to the tree at ``root``,
        write the new nodes, and return the new root."""
        if not changes:
            return root
        ops = sorted(changes.items())
        return self._update(root, 0, ops)[0]

    def _kind(self, digest: bytes) -> int:
        if digest == ZERO:
            return _EMPTY
        return _INTERNAL if len(self._node(digest)) == INTERNAL_RECORD_BYTES else _STEM

    def _update(
        self, node: bytes, depth: int, ops: Sequence[tuple[bytes, StemChanges]]
    ) -> tuple[bytes, int]:
        if node == ZERO:
            return self._build(depth, [(stem, _apply({}, changes)) for stem, changes in ops])
        record = self._node(node)
        if len(record) != INTERNAL_RECORD_BYTES:
            existing, values = decode_stem(record)
            entries = [
                (stem, _apply(values if stem == existing else {}, changes)) for stem, changes in ops
            ]
            if all(stem != existing for stem, _ in ops):
                entries.append((existing, values))
                entries.sort()
            return self._build(depth, entries)
        left_ops = [op for op in ops if not _bit(op[0], depth)]
        right_ops = [op for op in ops if _bit(op[0], depth)]
        left, left_kind = (
            self._update(record[:32], depth + 1, left_ops) if left_ops else (record[:32], None)
        )
        right, right_kind = (
            self._update(record[32:], depth + 1, right_ops) if right_ops else (record[32:], None)
        )
        return self._join(left, left_kind, right, right_kind)

    def _build(self, depth: int, entries: Sequence[tuple[bytes, StemValues]]) -> tuple[bytes, int]:
        """The canonical subtree at ``depth`` holding ``entries`` (sorted; empty ones drop)."""
        present = [(stem, values) for stem, values in entries if values]
        if not present:
            return ZERO, _EMPTY
        if len(present) == 1:
            stem, values = present[0]
            record = encode_stem(stem, values)
            digest = stem_hash(stem, values)
            self.nodes[digest] = record
            return digest, _STEM
        left, left_kind = self._build(depth + 1, [e for e in present if not _bit(e[0], depth)])
        right, right_kind = self._build(depth + 1, [e for e in present if _bit(e[0], depth)])
        return self._join(left, left_kind, right, right_kind)

    def _join(
        self, left: bytes, left_kind: int | None, right: bytes, right_kind: int | None
    ) -> tuple[bytes, int]:
        if left == ZERO and right == ZERO:
            return ZERO, _EMPTY
        # One stem alone under this node moves up to its place (the tree stays canonical).
        if left == ZERO:
            kind = right_kind if right_kind is not None else self._kind(right)
            if kind == _STEM:
                return right, _STEM
        elif right == ZERO:
            kind = left_kind if left_kind is not None else self._kind(left)
            if kind == _STEM:
                return left, _STEM
        record = left + right
        digest = tree_hash(record)
        self.nodes[digest] = record
        return digest, _INTERNAL


def _apply(values: StemValues, changes: StemChanges) -> dict[int, bytes]:
    updated = dict(values)
    for index, value in changes.items():
        if value is None:
            updated.pop(index, None)
        else:
            updated[index] = value
    return updated
