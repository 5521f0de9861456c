"""The authenticated account tree: an indexed Merkle tree over Poseidon2/BabyBear, node side.

Depth 32, 8-element digests, `compress` = Plonky3's TruncatedPermutation. Each non-empty leaf
holds one account and the next larger key present, so the leaves form a sorted linked list
and a key's absence is proven by its "low leaf". The exact encoding (what the runtime's C and
the L1 escape hatch recompute) is docs/state.md; batch witnesses are `state_witness`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.primitives.poseidon2_fast import compress_rows
from heliostat.runtime.errors import RuntimeLayerError
from heliostat.stark.poseidon2 import compress_batch

DEPTH = 32
DIGEST_WIDTH = 8
KEY_BYTES = 32
HEADER_BYTES = 120  # four 30-byte blocks
BLOCK_BYTES = 30  # 240 bits = eight 30-bit limbs
LEAF_VERSION = 1
DATA_TAG = 0x44415441  # "DATA": the data hash's domain
MASK30 = (1 << 30) - 1
MAX_DATA_LEN = (1 << 32) - 1
ZERO_KEY = bytes(KEY_BYTES)
# Above this many rows the prover's two-thread kernel beats the single-state one.
_PARALLEL_ROWS = 2048

Digest = tuple[int, ...]
ZERO_DIGEST: Digest = (0,) * DIGEST_WIDTH


class StateTreeError(RuntimeLayerError):
    """Base of the state tree's errors (bad keys, values the tree cannot hold, bad proofs)."""

    reason = "state_tree"


class ProofError(StateTreeError):
    """A membership or absence proof does not hold against the root it was checked with."""

    reason = "state_proof_invalid"


@dataclass(frozen=True, slots=True)
class AccountValue:
    """An account's committed fields (Solana's `Account` without the key)."""

    lamports: int
    owner: bytes = ZERO_KEY
    executable: bool = False
    rent_epoch: int = 0
    data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.lamports < 1 << 64 or not 0 <= self.rent_epoch < 1 << 64:
            raise StateTreeError("lamports and rent_epoch are u64")
        if len(self.owner) != KEY_BYTES or len(self.data) > MAX_DATA_LEN:
            raise StateTreeError("owner is 32 bytes and data shorter than 2^32")

    @classmethod
    def of(cls, account: Account) -> AccountValue:
        """Convert a solders `Account`."""
        return cls(
            account.lamports, bytes(account.owner), account.executable, account.rent_epoch,
            bytes(account.data),
        )  # fmt: skip

    def to_account(self) -> Account:
        """Convert to a solders `Account`."""
        return Account(self.lamports, self.data, Pubkey(self.owner), self.executable,
                       self.rent_epoch)  # fmt: skip

    @property
    def is_default(self) -> bool:
        """True for the default account, which is how an absent or deleted account reads."""
        return self == DEFAULT_ACCOUNT


DEFAULT_ACCOUNT = AccountValue(0)


def as_key(key: bytes | Pubkey) -> bytes:
    """Return a 32-byte key from bytes or a `Pubkey`."""
    raw = bytes(key)
    if len(raw) != KEY_BYTES:
        raise StateTreeError(f"a key is {KEY_BYTES} bytes, got {len(raw)}")
    return raw


# ---------------------------------------------------------------------------------------------
# Encoding (readable): docs/state.md "Leaf encoding" word for word.


def compress(left: Sequence[int], right: Sequence[int]) -> Digest:
    """Poseidon2 2-to-1 compression of two digests (first 8 words of permute(left ‖ right))."""
    out = compress_rows(np.array([left], dtype=np.uint32), np.array([right], dtype=np.uint32))
    return tuple(int(x) for x in out[0])


def pack30(block: bytes) -> Digest:
    """30 bytes, read as a 240-bit little-endian integer, as eight 30-bit limbs."""
    value = int.from_bytes(block, "little")
    return tuple((value >> (30 * j)) & MASK30 for j in range(8))


def header_bytes(
    key: bytes, next_key: bytes, owner: bytes, lamports: int, rent_epoch: int, data_len: int,
    executable: bool,
) -> bytes:  # fmt: skip
    """Return the 120 bytes of a leaf before its data hash."""
    return b"".join((
        key, next_key, owner, lamports.to_bytes(8, "little"), rent_epoch.to_bytes(8, "little"),
        data_len.to_bytes(4, "little"), bytes((int(executable), LEAF_VERSION, 0, 0)),
    ))  # fmt: skip


def leaf_header(key: bytes, next_key: bytes, value: AccountValue) -> bytes:
    """Return the 120 bytes of an account's leaf before its data hash."""
    return header_bytes(
        key, next_key, value.owner, value.lamports, value.rent_epoch, len(value.data),
        value.executable,
    )  # fmt: skip


def data_hash(data: bytes) -> Digest:
    """Zero digest for empty data; else a compression chain from a length-tagged start."""
    if not data:
        return ZERO_DIGEST
    n = len(data)
    h: Digest = (n & MASK30, n >> 30, DATA_TAG, 0, 0, 0, 0, 0)
    padded = data + bytes(-n % BLOCK_BYTES)
    for start in range(0, len(padded), BLOCK_BYTES):
        h = compress(h, pack30(padded[start : start + BLOCK_BYTES]))
    return h


def leaf_hash_of_header(header: bytes, data_digest: Sequence[int]) -> Digest:
    """compress(compress(compress(compress(B0, B1), B2), B3), D) over the header's blocks."""
    blocks = [pack30(header[i : i + BLOCK_BYTES]) for i in range(0, HEADER_BYTES, BLOCK_BYTES)]
    h = compress(blocks[0], blocks[1])
    h = compress(h, blocks[2])
    h = compress(h, blocks[3])
    return compress(h, data_digest)


def leaf_hash(key: bytes, next_key: bytes, value: AccountValue) -> Digest:
    """Return the leaf digest of an account."""
    return leaf_hash_of_header(leaf_header(key, next_key, value), data_hash(value.data))


def _empty_subtrees() -> tuple[Digest, ...]:
    levels = [ZERO_DIGEST]
    for _ in range(DEPTH):
        levels.append(compress(levels[-1], levels[-1]))
    return tuple(levels)


EMPTY_SUBTREE: tuple[Digest, ...] = _empty_subtrees()  # [h] = root of an empty height-h subtree


def key_in_gap(key: bytes, low_key: bytes, next_key: bytes) -> bool:
    """Tell whether ``key`` lies strictly between a leaf's key and its next key (0: none)."""
    return low_key < key and (next_key == ZERO_KEY or key < next_key)


def digest_bytes(digest: Sequence[int]) -> bytes:
    """Encode a digest as 32 bytes (8 × u32 little-endian), as roots and siblings travel."""
    return b"".join(int(x).to_bytes(4, "little") for x in digest)


def digest_from_bytes(raw: bytes) -> Digest:
    """Inverse of `digest_bytes` (no canonicity check)."""
    return tuple(int.from_bytes(raw[i : i + 4], "little") for i in range(0, 32, 4))


# ---------------------------------------------------------------------------------------------
# Encoding in bulk (numpy), for genesis and batch updates; tests compare it with the above.


def _compress_many(left: NDArray[np.uint32], right: NDArray[np.uint32]) -> NDArray[np.uint32]:
    if len(left) >= _PARALLEL_ROWS:
        return compress_batch(left, right)
    return compress_rows(left, right)


def pack30_rows(blocks: NDArray[np.uint8]) -> NDArray[np.uint32]:
    """(n, 30) bytes → (n, 8) limbs, as `pack30` row by row."""
    wide = np.zeros((len(blocks), 32), dtype=np.uint64)
    wide[:, :BLOCK_BYTES] = blocks
    out = np.empty((len(blocks), 8), dtype=np.uint32)
    for j in range(8):
        start, shift = divmod(30 * j, 8)
        word = np.zeros(len(blocks), dtype=np.uint64)
        for k in range(5):  # a limb spans at most 5 bytes
            word |= wide[:, start + k] << np.uint64(8 * k)
        out[:, j] = (word >> np.uint64(shift)) & np.uint64(MASK30)
    return out


def data_hashes(datas: Sequence[bytes]) -> NDArray[np.uint32]:
    """`data_hash` of many byte strings: their chains advance in lockstep, one call a step."""
    out = np.zeros((len(datas), 8), dtype=np.uint32)
    blocks = [-(-len(d) // BLOCK_BYTES) for d in datas]
    live = sorted((i for i, d in enumerate(datas) if d), key=lambda i: -blocks[i])
    if not live:
        return out
    packed = [
        pack30_rows(
            np.frombuffer(datas[i] + bytes(-len(datas[i]) % BLOCK_BYTES), dtype=np.uint8)
            .reshape(-1, BLOCK_BYTES)
        )
        for i in live
    ]  # fmt: skip
    state = np.zeros((len(live), 8), dtype=np.uint32)
    lengths = np.array([len(datas[i]) for i in live], dtype=np.uint64)
    state[:, 0] = lengths & np.uint64(MASK30)
    state[:, 1] = lengths >> np.uint64(30)
    state[:, 2] = DATA_TAG
    for step in range(blocks[live[0]]):
        active = sum(1 for i in live if blocks[i] > step)  # live is sorted by block count
        rows = np.stack([packed[r][step] for r in range(active)])
        state[:active] = _compress_many(state[:active], rows)
    out[live] = state
    return out


def leaf_hashes(headers: Sequence[bytes], data_digests: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """`leaf_hash_of_header` of many leaves."""
    limbs = pack30_rows(
        np.frombuffer(b"".join(headers), dtype=np.uint8).reshape(-1, BLOCK_BYTES)
    ).reshape(len(headers), 4, 8)
    h = _compress_many(np.ascontiguousarray(limbs[:, 0]), np.ascontiguousarray(limbs[:, 1]))
    h = _compress_many(h, np.ascontiguousarray(limbs[:, 2]))
    h = _compress_many(h, np.ascontiguousarray(limbs[:, 3]))
    return _compress_many(h, np.ascontiguousarray(data_digests, dtype=np.uint32))


# ---------------------------------------------------------------------------------------------
# The tree


@dataclass(frozen=True, slots=True)
class LeafRecord:
    """One non-empty leaf: its index, the next larger key present (0: none), its account."""

    index: int
    next_key: bytes
    value: AccountValue
    data_hash: Digest


class StateTree:
    """The rollup's accounts as an indexed Merkle tree of depth 32, every node hash cached.

    Node hashes live in one (rows, 8) uint32 array per height (0 = leaves); rows past the
    occupied leaves hold the empty-subtree digest of their height. Writing k leaves rehashes
    their paths height by height, k rows per kernel call. Leaf 0 always holds key 0;
    `StateTree()` is the empty state (key 0 with the default account).
    A deleted account stays as a tombstone leaf holding the default account.
    """

    def __init__(self) -> None:
        # The empty state: leaf 0 holds key 0 with the default account.
        self._reset(1)
        self.write_leaves([(0, ZERO_KEY, ZERO_KEY, DEFAULT_ACCOUNT)])

    def _reset(self, leaves: int) -> None:
        self._records: dict[bytes, LeafRecord] = {}
        self._keys: list[bytes] = []  # sorted: the linked list
        self._free: list[int] = []  # sorted empty slots below _high
        self._high = 0  # every slot from here on is empty
        self._levels: list[NDArray[np.uint32]] = []
        self._capacity = 0
        self._grow(max(1024, leaves))

    @classmethod
    def from_accounts(
        cls, accounts: Mapping[bytes, AccountValue] | Mapping[Pubkey, Account]
    ) -> StateTree:
        """Genesis: key 0 at leaf 0, the other accounts with lamports at 1, 2, ... in key order."""
        values = {
            as_key(k): v if isinstance(v, AccountValue) else AccountValue.of(v)
            for k, v in accounts.items()
        }
        keys = sorted(k for k, v in values.items() if v.lamports or k == ZERO_KEY)
        if not keys or keys[0] != ZERO_KEY:
            keys.insert(0, ZERO_KEY)
        tree = cls.__new__(cls)
        tree._reset(len(keys))
        nexts = [*keys[1:], ZERO_KEY]
        tree.write_leaves(
            [
                (i, k, n, values.get(k, DEFAULT_ACCOUNT))
                for i, (k, n) in enumerate(zip(keys, nexts, strict=True))
            ]
        )
        return tree

    @classmethod
    def from_leaves(cls, leaves: Iterable[tuple[int, bytes, AccountValue]]) -> StateTree:
        """Rebuild a tree from its stored layout: (leaf index, key, value) of every leaf.

        The root depends on where each key sits (the order of creations), so a node that
        restarts must restore the layout (`leaves()`), not only the accounts.
        """
        placed = sorted((as_key(k), i, v) for i, k, v in leaves)
        if not placed or placed[0][:2] != (ZERO_KEY, 0):
            raise StateTreeError("leaf 0 must hold key 0")
        if len({i for _, i, _ in placed}) != len(placed) or len({k for k, *_ in placed}) != len(
            placed
        ):
            raise StateTreeError("every key and every leaf index appears once")
        tree = cls.__new__(cls)
        tree._reset(max(i for _, i, _ in placed) + 1)
        nexts = [k for k, *_ in placed[1:]] + [ZERO_KEY]
        tree.write_leaves([(i, k, n, v) for (k, i, v), n in zip(placed, nexts, strict=True)])
        return tree

    def leaves(self) -> list[tuple[int, bytes, AccountValue]]:
        """Return the layout to store: (leaf index, key, value) of every leaf, by key."""
        return [(self._records[k].index, k, self._records[k].value) for k in self._keys]

    # -- reading ---------------------------------------------------------------------------

    def root(self) -> bytes:
        """Return the 32-byte root (8 × u32 little-endian)."""
        return bytes(self._levels[DEPTH][0].astype("<u4").tobytes())

    def root_digest(self) -> Digest:
        """Return the root as 8 field elements."""
        return tuple(int(x) for x in self._levels[DEPTH][0])

    def __len__(self) -> int:
        """Return the number of non-empty leaves (tombstones included)."""
        return len(self._records)

    def get(self, key: bytes | Pubkey) -> AccountValue | None:
        """Return the account at ``key``, or None when absent or deleted (it reads as default)."""
        record = self._records.get(as_key(key))
        if record is None or record.value.is_default:
            return None
        return record.value

    def record(self, key: bytes) -> LeafRecord | None:
        """Return the leaf holding ``key`` (tombstones included), or None."""
        return self._records.get(key)

    def keys(self) -> list[bytes]:
        """Every key with a leaf, ascending."""
        return list(self._keys)

    def low_key(self, key: bytes) -> bytes:
        """Return the low leaf's key of an absent ``key``: the largest present key below it."""
        position = bisect.bisect_left(self._keys, key)
        if position < len(self._keys) and self._keys[position] == key:
            raise StateTreeError("the key is present: it has no low leaf")
        return self._keys[position - 1]  # key 0 is always present and below any absent key

    def node(self, height: int, index: int) -> Digest:
        """Return the digest of node ``index`` at ``height`` (0 = leaves)."""
        level = self._levels[height]
        if index >= len(level):
            return EMPTY_SUBTREE[height]
        return tuple(int(x) for x in level[index])

    def path(self, index: int) -> tuple[Digest, ...]:
        """Return the 32 siblings of leaf ``index``, leaf level first."""
        return tuple(self.node(h, (index >> h) ^ 1) for h in range(DEPTH))

    def free_slots(self, count: int) -> list[int]:
        """Return the ``count`` lowest empty leaf indices (a query: nothing is reserved)."""
        slots = self._free[:count]
        return slots + list(range(self._high, self._high + count - len(slots)))

    # -- writing ---------------------------------------------------------------------------

    def write_leaves(self, leaves: Iterable[tuple[int, bytes, bytes, AccountValue]]) -> None:
        """Store leaves (index, key, next key, value) and rehash their paths.

        Low level: the caller keeps the linked list consistent (`state_witness.apply` does).
        A key keeps its index; a new key must take an empty slot.
        """
        batch = list(leaves)
        if not batch:
            return
        if max(i for i, *_ in batch) >= 1 << DEPTH:
            raise StateTreeError(f"leaf indices are below 2^{DEPTH}")
        digests = data_hashes([value.data for *_, value in batch])
        headers = [leaf_header(key, nxt, value) for _, key, nxt, value in batch]
        hashes = leaf_hashes(headers, digests)
        self._grow(max(i for i, *_ in batch) + 1)
        for (index, key, nxt, value), dh in zip(batch, digests, strict=True):
            old = self._records.get(key)
            if old is not None and old.index != index:
                raise StateTreeError("a key cannot move to another leaf")
            if old is None:
                self._claim(index)
                bisect.insort(self._keys, key)
            self._records[key] = LeafRecord(index, nxt, value, tuple(int(x) for x in dh))
        indices = np.array([i for i, *_ in batch], dtype=np.int64)
        self._levels[0][indices] = hashes
        self._rehash(indices)

    def _claim(self, index: int) -> None:
        if index >= self._high:
            self._free.extend(range(self._high, index))
            self._high = index + 1
            return
        position = bisect.bisect_left(self._free, index)
        if position == len(self._free) or self._free[position] != index:
            raise StateTreeError(f"leaf {index} is not empty")
        del self._free[position]

    def _grow(self, leaves: int) -> None:
        capacity = max(self._capacity, 1)
        while capacity < leaves:
            capacity *= 2
        if capacity == self._capacity:
            return
        levels = []
        for h in range(DEPTH + 1):
            rows = max(capacity >> h, 2) if h < DEPTH else 1
            level = np.empty((rows, DIGEST_WIDTH), dtype=np.uint32)
            level[:] = EMPTY_SUBTREE[h]
            if self._levels:
                old = self._levels[h]
                level[: len(old)] = old
            levels.append(level)
        self._levels, self._capacity = levels, capacity

    def _rehash(self, leaf_indices: NDArray[np.int64]) -> None:
        nodes = np.unique(leaf_indices)
        for h in range(DEPTH):
            nodes = np.unique(nodes >> 1)
            child = self._levels[h]
            self._levels[h + 1][nodes] = _compress_many(child[2 * nodes], child[2 * nodes + 1])


# ---------------------------------------------------------------------------------------------
# Proofs of one key (RPC, the L1 escape hatch)


@dataclass(frozen=True, slots=True)
class LeafOpening:
    """A leaf's fields with the data replaced by its hash: what a verifier recomputes."""

    index: int
    key: bytes
    next_key: bytes
    lamports: int
    owner: bytes
    executable: bool
    rent_epoch: int
    data_len: int
    data_hash: Digest

    def digest(self) -> Digest:
        """Return the leaf digest."""
        header = header_bytes(
            self.key, self.next_key, self.owner, self.lamports, self.rent_epoch, self.data_len,
            self.executable,
        )  # fmt: skip
        return leaf_hash_of_header(header, self.data_hash)


@dataclass(frozen=True, slots=True)
class MembershipProof:
    """The leaf holding ``leaf.key`` and its 32 siblings, leaf level first."""

    leaf: LeafOpening
    siblings: tuple[Digest, ...]

    def root(self) -> Digest:
        """Return the root this leaf and these siblings imply."""
        if len(self.siblings) != DEPTH or not 0 <= self.leaf.index < 1 << DEPTH:
            raise ProofError(f"a path has {DEPTH} siblings and an index below 2^{DEPTH}")
        h, index = self.leaf.digest(), self.leaf.index
        for sibling in self.siblings:
            h = compress(sibling, h) if index & 1 else compress(h, sibling)
            index >>= 1
        return h


@dataclass(frozen=True, slots=True)
class AbsenceProof:
    """``key`` is absent: ``low`` is a member with low.key < key < low.next_key (0 = none)."""

    key: bytes
    low: MembershipProof


def prove(tree: StateTree, key: bytes | Pubkey) -> MembershipProof | AbsenceProof:
    """Prove that ``key`` has a leaf (tombstones included), or that it has none."""
    raw = as_key(key)
    record = tree.record(raw)
    if record is None:
        return AbsenceProof(raw, prove(tree, tree.low_key(raw)))  # type: ignore[arg-type]
    value = record.value
    opening = LeafOpening(
        record.index, raw, record.next_key, value.lamports, value.owner, value.executable,
        value.rent_epoch, len(value.data), record.data_hash,
    )  # fmt: skip
    return MembershipProof(opening, tree.path(record.index))


def verify_proof(root: bytes, proof: MembershipProof | AbsenceProof) -> LeafOpening | None:
    """Check a proof against a 32-byte root: the opened leaf, or None for a proven absence."""
    membership = proof.low if isinstance(proof, AbsenceProof) else proof
    if isinstance(proof, AbsenceProof):
        low = proof.low.leaf
        if not key_in_gap(proof.key, low.key, low.next_key):
            raise ProofError("the low leaf does not bracket the key", reason="state_false_absence")
    if digest_bytes(membership.root()) != root:
        raise ProofError("the path does not lead to the root", reason="state_root_mismatch")
    return None if isinstance(proof, AbsenceProof) else proof.leaf
