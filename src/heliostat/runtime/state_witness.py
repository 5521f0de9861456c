"""The batch witness: the accounts a batch touches, with one multiproof against the old root.

The runtime reads it (the bytes of `BatchWitness.encode`); the node builds it (`make_witness`)
and commits the batch to its own tree (`apply`). `decode` and `commit` are the readable
reference of the C library (c/lib/state_tree): same checks, same order, same error codes.
Format: docs/state.md.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from solders.pubkey import Pubkey

from heliostat.primitives.poseidon2 import P
from heliostat.runtime.state_tree import (
    DEFAULT_ACCOUNT,
    DEPTH,
    MAX_DATA_LEN,
    ZERO_DIGEST,
    ZERO_KEY,
    AccountValue,
    Digest,
    StateTree,
    StateTreeError,
    as_key,
    compress,
    data_hash,
    digest_bytes,
    digest_from_bytes,
    header_bytes,
    key_in_gap,
    leaf_hash_of_header,
)

VERSION = 1
HEADER = struct.Struct("<IIII")  # version, depth, records, siblings
PRESENT = struct.Struct("<32sBBHI32s32sQQII")  # 128 bytes, then the data or its hash
ABSENT = struct.Struct("<32sBBHIII")  # 48 bytes
KIND_ABSENT, KIND_PRESENT = 0, 1
FLAG_EXECUTABLE, FLAG_ELIDED = 1, 2


class WitnessErrorCode(IntEnum):
    """Why a witness or a commit was refused; the C library returns the same numbers."""

    OK = 0
    TRUNCATED = 1  # the bytes end inside the structure
    TRAILING = 2  # bytes after the siblings
    FORMAT = 3  # version, depth, kind, flags, or a padding byte that is not zero
    ORDER = 4  # keys not strictly ascending
    NONCANONICAL = 5  # a digest word >= p
    LOW_LEAF = 6  # a false absence claim
    INDEX_ORDER = 7  # the index order is not strictly ascending (a duplicate leaf)
    SIBLINGS = 8  # too few or too many siblings
    ROOT = 9  # the old root is not what the witness hashes to
    MEMORY = 10  # (C only) the scratch memory is too small
    VALUE = 11  # a final value the tree cannot hold


class Status(IntEnum):
    """What a commit did to a record's account (the leaf may change for linking alone)."""

    UNCHANGED = 0
    UPDATED = 1
    CREATED = 2
    EMPTIED = 3  # lamports went to 0: the leaf becomes a tombstone
    ABSENT = 4  # absent before and after


class WitnessError(StateTreeError):
    """A witness (or a commit over it) is refused; ``code`` is the C library's return value."""

    def __init__(self, code: WitnessErrorCode, message: str) -> None:
        super().__init__(f"{code.name}: {message}", reason=f"witness_{code.name.lower()}")
        self.code = code


# ---------------------------------------------------------------------------------------------
# The batch witness


@dataclass(frozen=True, slots=True)
class PresentRecord:
    """A touched key with a leaf. ``data`` is None when elided; then ``data_hash`` is given."""

    key: bytes
    index: int
    next_key: bytes
    lamports: int
    owner: bytes
    executable: bool
    rent_epoch: int
    data_len: int
    data: bytes | None
    data_hash: Digest | None = None


@dataclass(frozen=True, slots=True)
class AbsentRecord:
    """A touched key without a leaf: ``low`` (a record position) brackets it, ``slot`` is free."""

    key: bytes
    slot: int
    low: int


Record = PresentRecord | AbsentRecord


@dataclass(frozen=True, slots=True)
class BatchWitness:
    """Records ascending by key, their positions in leaf order, the multiproof's siblings."""

    records: tuple[Record, ...]
    order: tuple[int, ...]
    siblings: tuple[Digest, ...]

    def leaf_index(self, position: int) -> int:
        """Return the leaf a record occupies (present) or reserves (absent)."""
        record = self.records[position]
        return record.index if isinstance(record, PresentRecord) else record.slot

    def encode(self) -> bytes:
        """Return the bytes the runtime reads (docs/state.md, "Batch witness")."""
        out = [HEADER.pack(VERSION, DEPTH, len(self.records), len(self.siblings))]
        for r in self.records:
            if isinstance(r, AbsentRecord):
                out.append(ABSENT.pack(r.key, KIND_ABSENT, 0, 0, r.slot, r.low, 0))
                continue
            flags = (FLAG_EXECUTABLE if r.executable else 0) | (
                FLAG_ELIDED if r.data is None else 0
            )
            out.append(PRESENT.pack(
                r.key, KIND_PRESENT, flags, 0, r.index, r.next_key, r.owner, r.lamports,
                r.rent_epoch, r.data_len, 0,
            ))  # fmt: skip
            if r.data is None:
                out.append(digest_bytes(r.data_hash or ZERO_DIGEST))
            else:
                out.append(r.data + bytes(-len(r.data) % 8))
        out.append(struct.pack(f"<{len(self.order)}I", *self.order))
        out.append(bytes(4 * (len(self.order) % 2)))
        out.extend(digest_bytes(s) for s in self.siblings)
        return b"".join(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def peek(self, n: int, what: str) -> bytes:
        if len(self.data) - self.at < n:
            raise WitnessError(WitnessErrorCode.TRUNCATED, f"{what}: need {n} bytes at {self.at}")
        return self.data[self.at : self.at + n]

    def take(self, n: int, what: str) -> bytes:
        chunk = self.peek(n, what)
        self.at += n
        return chunk

    def digest(self, what: str) -> Digest:
        digest = digest_from_bytes(self.take(32, what))
        if max(digest) >= P:
            raise WitnessError(WitnessErrorCode.NONCANONICAL, f"{what} has a word >= p")
        return digest


def decode(data: bytes) -> BatchWitness:
    """Parse and check a witness as `st_open` does (everything but the root)."""
    reader = _Reader(data)
    version, depth, n_records, n_siblings = HEADER.unpack(reader.take(HEADER.size, "header"))
    if version != VERSION or depth != DEPTH:
        raise WitnessError(WitnessErrorCode.FORMAT, f"version {version}, depth {depth}")
    records: list[Record] = []
    for i in range(n_records):
        head = reader.peek(33, "record")  # the key and the kind say how long the record is
        key, kind = head[:32], head[32]
        if kind == KIND_ABSENT:
            _, _, pad1, pad2, slot, low, pad3 = ABSENT.unpack(reader.take(ABSENT.size, "record"))
            if pad1 or pad2 or pad3:
                raise WitnessError(WitnessErrorCode.FORMAT, f"record {i}: padding")
        elif kind == KIND_PRESENT:
            (_, _, flags, pad2, index, next_key, owner, lamports, rent_epoch, data_len,
             pad3) = PRESENT.unpack(reader.take(PRESENT.size, "record"))  # fmt: skip
            if flags & ~(FLAG_EXECUTABLE | FLAG_ELIDED) or pad2 or pad3:
                raise WitnessError(WitnessErrorCode.FORMAT, f"record {i}: flags or padding")
        else:
            raise WitnessError(WitnessErrorCode.FORMAT, f"record {i}: kind {kind}")
        if records and records[-1].key >= key:
            raise WitnessError(WitnessErrorCode.ORDER, f"record {i}: keys are not ascending")
        if kind == KIND_ABSENT:
            lower = records[low] if low < i else None
            if not isinstance(lower, PresentRecord) or not key_in_gap(
                key, lower.key, lower.next_key
            ):
                raise WitnessError(
                    WitnessErrorCode.LOW_LEAF, f"record {i}: record {low} is no low leaf"
                )
            records.append(AbsentRecord(key, slot, low))
            continue
        digest, payload = None, None
        if flags & FLAG_ELIDED:
            digest = reader.digest(f"record {i} data hash")
        else:
            padded = reader.take(data_len + (-data_len % 8), f"record {i} data")
            payload = padded[:data_len]
            if any(padded[data_len:]):
                raise WitnessError(WitnessErrorCode.FORMAT, f"record {i}: data padding")
        records.append(PresentRecord(
            key, index, next_key, lamports, owner, bool(flags & FLAG_EXECUTABLE), rent_epoch,
            data_len, payload, digest,
        ))  # fmt: skip
    order = struct.unpack(f"<{n_records}I", reader.take(4 * n_records, "order"))
    witness = BatchWitness(tuple(records), order, ())
    previous = -1
    for position in order:
        if position >= n_records or witness.leaf_index(position) <= previous:
            raise WitnessError(
                WitnessErrorCode.INDEX_ORDER, "leaf indices are not strictly ascending"
            )
        previous = witness.leaf_index(position)
    if any(reader.take(4 * (n_records % 2), "order padding")):
        raise WitnessError(WitnessErrorCode.FORMAT, "order padding")
    siblings = tuple(reader.digest(f"sibling {s}") for s in range(n_siblings))
    if reader.at != len(data):
        raise WitnessError(
            WitnessErrorCode.TRAILING, f"{len(data) - reader.at} bytes after the end"
        )
    return BatchWitness(witness.records, order, siblings)


# ---------------------------------------------------------------------------------------------
# Commit: the reference of st_commit


@dataclass(frozen=True, slots=True)
class FinalValue:
    """An account's value at the end of the batch, as the runtime hands it to `st_commit`.

    ``data`` is None only for an elided account whose data did not change (then ``data_len``
    must be the old length). Lamports 0 means deleted, or still absent: the rest is ignored.
    """

    lamports: int
    owner: bytes = ZERO_KEY
    executable: int = 0
    rent_epoch: int = 0
    data: bytes | None = b""
    data_len: int = 0

    @classmethod
    def of(cls, value: AccountValue) -> FinalValue:
        """Return the final value of an account held in full."""
        return cls(value.lamports, value.owner, int(value.executable), value.rent_epoch,
                   value.data, len(value.data))  # fmt: skip


DEFAULT_FINAL = FinalValue.of(DEFAULT_ACCOUNT)


def initial_values(witness: BatchWitness) -> list[FinalValue]:
    """Each record's value at the start of the batch (what `st_open` puts in `.old`)."""
    return [
        DEFAULT_FINAL if isinstance(r, AbsentRecord) else FinalValue(
            r.lamports, r.owner, int(r.executable), r.rent_epoch, r.data, r.data_len
        )
        for r in witness.records
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class CommitResult:
    """The new root, each record's status, and each changed leaf (position, next key, value)."""

    new_root: bytes
    statuses: tuple[Status, ...]
    leaves: tuple[tuple[int, bytes, FinalValue], ...]


def _value_error(i: int, old: FinalValue, new: FinalValue, record: Record) -> str | None:
    if new.executable not in (0, 1) or not 0 <= new.data_len <= MAX_DATA_LEN:
        return f"record {i}: executable {new.executable}, data length {new.data_len}"
    if new.lamports == 0:
        return None
    if isinstance(record, PresentRecord) and record.data is None:
        if new.data is not None or new.data_len != old.data_len:
            return f"record {i}: the data of an elided account cannot change"
    elif new.data is None and new.data_len:
        return f"record {i}: no data for a length of {new.data_len}"
    elif new.data is not None and len(new.data) != new.data_len:  # C cannot tell: Python only
        return f"record {i}: {len(new.data)} bytes of data for a length of {new.data_len}"
    return None


def _same_data(a: FinalValue, b: FinalValue) -> bool:
    # No data reads the same whether it is b"" or None (an elided empty account).
    return a.data_len == b.data_len and (a.data_len == 0 or a.data == b.data)


def _same_value(a: FinalValue, b: FinalValue) -> bool:
    return (a.lamports, a.owner, a.executable, a.rent_epoch) == (
        b.lamports, b.owner, b.executable, b.rent_epoch
    ) and _same_data(a, b)  # fmt: skip


def _leaf(key: bytes, next_key: bytes, value: FinalValue, digest: Digest) -> Digest:
    header = header_bytes(key, next_key, value.owner, value.lamports, value.rent_epoch,
                          value.data_len, bool(value.executable))  # fmt: skip
    return leaf_hash_of_header(header, digest)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a commit does before any hashing: statuses, next keys, the leaves that change."""

    statuses: tuple[Status, ...]
    nexts: tuple[bytes, ...]
    values: tuple[FinalValue, ...]  # normalized: lamports 0 is the default account
    rewrite: tuple[bool, ...]  # the leaf changes (its value or its next key)


def _plan(witness: BatchWitness, finals: Sequence[FinalValue]) -> _Plan:
    records = witness.records
    if len(finals) != len(records):
        raise StateTreeError(f"{len(records)} records but {len(finals)} final values")
    olds = initial_values(witness)
    for i, (record, old, new) in enumerate(zip(records, olds, finals, strict=True)):
        if (error := _value_error(i, old, new, record)) is not None:
            raise WitnessError(WitnessErrorCode.VALUE, error)
    # Link creations in key order: each after the last key already linked behind its low leaf.
    nexts = [r.next_key if isinstance(r, PresentRecord) else ZERO_KEY for r in records]
    tails: dict[int, int] = {}
    for i, (record, new) in enumerate(zip(records, finals, strict=True)):
        if isinstance(record, AbsentRecord) and new.lamports:
            before = tails.get(record.low, record.low)
            nexts[i], nexts[before] = nexts[before], record.key
            tails[record.low] = i
    statuses, values, rewrite = [], [], []
    for i, (record, old, new) in enumerate(zip(records, olds, finals, strict=True)):
        value = new if new.lamports else DEFAULT_FINAL
        if isinstance(record, AbsentRecord):
            statuses.append(Status.CREATED if new.lamports else Status.ABSENT)
            rewrite.append(bool(new.lamports))
        else:
            same = _same_value(value, old)
            statuses.append(Status.UNCHANGED if same else
                            Status.EMPTIED if new.lamports == 0 else Status.UPDATED)  # fmt: skip
            rewrite.append(not same or nexts[i] != record.next_key)
        values.append(value)
    return _Plan(tuple(statuses), tuple(nexts), tuple(values), tuple(rewrite))


def commit(witness: BatchWitness, finals: Sequence[FinalValue], old_root: bytes) -> CommitResult:
    """Verify the witness against ``old_root`` and compute the new root, as `st_commit` does."""
    plan = _plan(witness, finals)
    olds = initial_values(witness)
    leaves, nodes = [], {}
    for i, (record, old) in enumerate(zip(witness.records, olds, strict=True)):
        value, next_key = plan.values[i], plan.nexts[i]
        old_leaf = new_leaf = ZERO_DIGEST
        old_digest: Digest | None = None
        if isinstance(record, PresentRecord):
            old_digest = record.data_hash if record.data is None else data_hash(record.data)
            if old_digest is None:
                raise StateTreeError(f"record {i}: elided without a data hash")
            old_leaf = new_leaf = _leaf(record.key, record.next_key, old, old_digest)
        if plan.rewrite[i]:
            keep = old_digest is not None and _same_data(value, old)
            digest = old_digest if keep and old_digest is not None else data_hash(value.data or b"")
            new_leaf = _leaf(record.key, next_key, value, digest)
            leaves.append((i, next_key, value))
        nodes[witness.leaf_index(i)] = (old_leaf, new_leaf)
    in_leaf_order = [witness.leaf_index(i) for i in witness.order]
    root_old, root_new = _multiproof([(i, *nodes[i]) for i in in_leaf_order], witness.siblings)
    if not witness.records:  # nothing to verify, nothing changed
        root_old = root_new = digest_from_bytes(old_root)
    if digest_bytes(root_old) != old_root:
        raise WitnessError(WitnessErrorCode.ROOT, "the witness does not hash to the old root")
    return CommitResult(digest_bytes(root_new), plan.statuses, tuple(leaves))


def _multiproof(
    leaves: list[tuple[int, Digest, Digest]], siblings: Sequence[Digest]
) -> tuple[Digest, Digest]:
    """Hash known leaves (index-ascending) up to the root, old and new values side by side."""
    nodes, used = leaves, 0
    for _ in range(DEPTH):
        parents, k = [], 0
        while k < len(nodes):
            index, old, new = nodes[k]
            if index % 2 == 0 and k + 1 < len(nodes) and nodes[k + 1][0] == index + 1:
                (_, old_r, new_r), k = nodes[k + 1], k + 2
                pair = (old, old_r, new, new_r)
            else:
                if used == len(siblings):
                    raise WitnessError(WitnessErrorCode.SIBLINGS, f"only {used} siblings")
                sibling, used, k = siblings[used], used + 1, k + 1
                pair = ((old, sibling, new, sibling) if index % 2 == 0
                        else (sibling, old, sibling, new))  # fmt: skip
            parent_old = compress(pair[0], pair[1])
            changed = pair[2] != pair[0] or pair[3] != pair[1]
            parents.append((index >> 1, parent_old,
                            compress(pair[2], pair[3]) if changed else parent_old))  # fmt: skip
        nodes = parents
    if used != len(siblings):
        raise WitnessError(WitnessErrorCode.SIBLINGS, f"{len(siblings) - used} siblings left over")
    return (nodes[0][1], nodes[0][2]) if nodes else (ZERO_DIGEST, ZERO_DIGEST)


# ---------------------------------------------------------------------------------------------
# The node's side: building witnesses and applying batches


def make_witness(
    tree: StateTree,
    keys: Iterable[bytes | Pubkey],
    *,
    elide: Iterable[bytes | Pubkey] = (),
    siblings: bool = True,
) -> BatchWitness:
    """Build the witness of a batch touching ``keys``; ``elide``: accounts sent without data.

    Absent keys bring their low leaves in and get the lowest free slots in key order.
    ``siblings=False`` leaves the multiproof out (enough for the node's own `apply`).
    """
    touched = {as_key(k) for k in keys}
    elided = {as_key(k) for k in elide}
    absent = sorted(k for k in touched if tree.record(k) is None)
    touched.update(tree.low_key(k) for k in absent)
    ordered = sorted(touched)
    position = {k: i for i, k in enumerate(ordered)}
    slots = dict(zip(absent, tree.free_slots(len(absent)), strict=True))
    records: list[Record] = []
    for key in ordered:
        rec = tree.record(key)
        if rec is None:
            records.append(AbsentRecord(key, slots[key], position[tree.low_key(key)]))
            continue
        v, hidden = rec.value, key in elided
        records.append(PresentRecord(
            key, rec.index, rec.next_key, v.lamports, v.owner, v.executable, v.rent_epoch,
            len(v.data), None if hidden else v.data, rec.data_hash if hidden else None,
        ))  # fmt: skip
    witness = BatchWitness(tuple(records), (), ())
    order = tuple(sorted(range(len(records)), key=witness.leaf_index))
    known = [witness.leaf_index(i) for i in order] if siblings else []
    path: list[Digest] = []
    for h in range(DEPTH):
        k = 0
        while k < len(known):
            if known[k] % 2 == 0 and k + 1 < len(known) and known[k + 1] == known[k] + 1:
                k += 2
                continue
            path.append(tree.node(h, known[k] ^ 1))
            k += 1
        known = sorted({i >> 1 for i in known})
    return BatchWitness(tuple(records), order, tuple(path))


def finals_for(
    tree: StateTree, witness: BatchWitness, changes: Mapping[bytes, AccountValue | None]
) -> list[FinalValue]:
    """Return final values for `commit` from the node's changes (None: deleted)."""
    out = initial_values(witness)
    if missing := set(changes) - {r.key for r in witness.records}:
        raise StateTreeError(f"{len(missing)} changed keys are not in the witness")
    for i, record in enumerate(witness.records):
        if record.key not in changes:
            continue
        value = changes[record.key] or DEFAULT_ACCOUNT
        final = FinalValue.of(value)
        if isinstance(record, PresentRecord) and record.data is None and value.lamports:
            stored = tree.record(record.key)
            if stored is None or stored.value.data != value.data:
                raise StateTreeError("the data of an elided account cannot change in a batch")
            final = FinalValue(value.lamports, value.owner, int(value.executable),
                               value.rent_epoch, None, len(value.data))  # fmt: skip
        out[i] = final
    return out


def apply(
    tree: StateTree,
    witness: BatchWitness,
    changes: Mapping[bytes, AccountValue | None],
    *,
    verify: bool = False,
) -> CommitResult:
    """Commit a batch to the node's tree as the runtime commits it (same statuses, same root).

    The node writes the changed leaves straight into its tree (batched hashing); with
    ``verify`` it also runs the reference `commit` and checks both roots agree.
    """
    finals = finals_for(tree, witness, changes)
    plan = _plan(witness, finals)
    expected = commit(witness, finals, tree.root()).new_root if verify else None
    writes, leaves = [], []
    for i, record in enumerate(witness.records):
        if not plan.rewrite[i]:
            continue
        final, next_key = plan.values[i], plan.nexts[i]
        data = final.data
        if data is None:  # elided and unchanged: the node holds the bytes
            stored = tree.record(record.key)
            data = stored.value.data if stored is not None else b""
        value = AccountValue(final.lamports, final.owner, bool(final.executable),
                             final.rent_epoch, data)  # fmt: skip
        writes.append((witness.leaf_index(i), record.key, next_key, value))
        leaves.append((i, next_key, final))
    tree.write_leaves(writes)
    if expected is not None and tree.root() != expected:
        raise StateTreeError("the tree and the reference commit disagree on the new root")
    return CommitResult(tree.root(), plan.statuses, tuple(leaves))


def update(tree: StateTree, changes: Mapping[bytes | Pubkey, AccountValue | None]) -> bytes:
    """Set accounts (None or zero lamports: delete) and return the new root."""
    normalized = {as_key(k): v for k, v in changes.items()}
    apply(tree, make_witness(tree, normalized, siblings=False), normalized)
    return tree.root()
