"""Key-value stores of hash-addressed preimages (trie nodes, codes), shared by state models:
a recording overlay for the builder and a witness-backed store for stateless execution."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping

from eth_hash.auto import keccak

from rollupkit.types import Witness


class RecordingStore(MutableMapping[bytes, bytes]):
    """An overlay over a base store that records every value read *from the base*.

    Writes land in the overlay, so the base is the pre-state for as long as the view lives and
    the recorded reads are exactly the pre-state preimages the work needed. Reads of values the
    work wrote itself are not recorded: a re-executor recreates those.
    """

    def __init__(self, base: MutableMapping[bytes, bytes]) -> None:
        self._base = base
        self._overlay: dict[bytes, bytes] = {}
        self.reads: dict[bytes, bytes] = {}

    def __getitem__(self, key: bytes) -> bytes:
        try:
            return self._overlay[key]
        except KeyError:
            pass
        value = self._base[key]
        self.reads[key] = value
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._overlay[key] = value

    def __delitem__(self, key: bytes) -> None:
        # Preimages are content-addressed: another trie may still point at this one, and the
        # engine only deletes to prune. Keeping it is always safe.
        pass

    def __contains__(self, key: object) -> bool:
        if key in self._overlay:
            return True
        if key in self._base:
            assert isinstance(key, bytes)
            self.reads[key] = self._base[key]
            return True
        return False

    def __iter__(self) -> Iterator[bytes]:
        yield from self._overlay
        yield from (k for k in self._base if k not in self._overlay)

    def __len__(self) -> int:
        return len(self._overlay) + sum(1 for k in self._base if k not in self._overlay)

    def created(self) -> list[bytes]:
        """Keys written through this store and not flushed yet."""
        return list(self._overlay)

    def flush(self) -> None:
        """Write the overlay into the base store."""
        # A database-backed base may write a batch in one statement.
        getattr(self._base, "update_many", self._base.update)(self._overlay)
        self._overlay.clear()


def preimage_store(preimages: Iterable[bytes]) -> dict[bytes, bytes]:
    """A store holding each preimage under its keccak hash: nothing else can be found in it,
    so a forged or mislabelled witness entry is simply unreachable."""
    return {keccak(item): item for item in preimages}


class RecordingStores:
    """What a state view whose nodes and codes sit in two stores (``_nodes``, ``_codes``)
    does for recording: a mixin, ahead of :class:`~rollupkit.interfaces.StateView` in the
    bases, for views that wrap their stores in :class:`RecordingStore` when recording."""

    _nodes: MutableMapping[bytes, bytes]
    _codes: MutableMapping[bytes, bytes]

    def witness(self) -> Witness:
        """The nodes and codes read from the underlying stores (empty when not recording)."""
        nodes = self._nodes.reads if isinstance(self._nodes, RecordingStore) else {}
        codes = self._codes.reads if isinstance(self._codes, RecordingStore) else {}
        return Witness(state_nodes=tuple(nodes.values()), codes=tuple(codes.values()))

    def created_preimages(self) -> tuple[bytes, ...]:
        """The hashes of the nodes and codes written and not flushed yet."""
        created: list[bytes] = []
        for store in (self._nodes, self._codes):
            if isinstance(store, RecordingStore):
                created.extend(store.created())
        return tuple(created)

    def flush(self) -> None:
        """Write what was written into the underlying stores."""
        for store in (self._nodes, self._codes):
            if isinstance(store, RecordingStore):
                store.flush()
