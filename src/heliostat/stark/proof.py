"""The proof object and its versioned binary encoding (no pickle; safe on untrusted bytes).

Every count is read and bounded before anything is allocated, every field element is checked
canonical, and decoding fails with a ``ProofFormatError`` naming the field at fault. The
decoder knows nothing about the AIR: the verifier then checks that the shape fits. The byte
layout is documented in docs/stark.md ("Proof format").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heliostat.stark.config import MAX_CLEAR_LOG_HEIGHT, MAX_QUERIES
from heliostat.stark.errors import ProofFormatError
from heliostat.stark.extension import Ext4
from heliostat.stark.field import P

MAGIC = b"HSTK"
VERSION = 2
ABSENT = 0  # the log height of a table the proof leaves out (tables have at least 4 rows)
MAX_TABLES = 255
MAX_VECTOR = 1 << 20  # opened values per vector, row values per opening
MAX_SIBLINGS = 1 << 16
MAX_FRI_LAYERS = 32
MAX_FINAL_POLY = 1 << 16
MAX_CLEAR_ROWS = 1 << MAX_CLEAR_LOG_HEIGHT
MAX_LEAF_VALUES = 1 << 8  # extension values per FRI leaf (arity ≤ 2^MAX_LOG_ARITY)


@dataclass(frozen=True)
class TableOpenings:
    """A table's committed polynomials at the out-of-domain point ζ (and ζ·ω for `next`).

    Permutation and quotient entries are the values of the base-field coordinate polynomials
    (4 per extension column, 4 per quotient chunk), each an extension element. The `next`
    vectors hold only the columns the table's constraints read on the next row, ascending
    (``CompiledAir.main_next_columns`` and friends). An absent table has empty vectors.
    """

    main_local: tuple[Ext4, ...]
    main_next: tuple[Ext4, ...]
    pre_local: tuple[Ext4, ...]
    pre_next: tuple[Ext4, ...]
    perm_local: tuple[Ext4, ...]
    perm_next: tuple[Ext4, ...]
    quotient: tuple[Ext4, ...]

    def vectors(self) -> tuple[tuple[Ext4, ...], ...]:
        """Return the seven vectors in encoding (and transcript) order."""
        return (
            self.main_local,
            self.main_next,
            self.pre_local,
            self.pre_next,
            self.perm_local,
            self.perm_next,
            self.quotient,
        )


EMPTY_OPENINGS = TableOpenings((), (), (), (), (), (), ())


@dataclass(frozen=True)
class TreeOpening:
    """Rows of every matrix of one commitment at the queries.

    ``rows[j][k]`` is the row of matrix j at the k-th of its sorted distinct row indices (a
    query index shifted down to the matrix's height: a short matrix opens each row once);
    ``siblings`` is the deduplicated Merkle multi-proof (order: see heliostat.stark.merkle).
    """

    rows: tuple[tuple[tuple[int, ...], ...], ...]
    siblings: tuple[bytes, ...]


@dataclass(frozen=True)
class ClearTrace:
    """A trace sent in the clear: its width and its rows up to the last non-zero one."""

    width: int
    rows: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class FriLayerOpening:
    """Opened leaves of one FRI layer (2^arity extension values each) and their proof."""

    leaves: tuple[tuple[Ext4, ...], ...]
    siblings: tuple[bytes, ...]


@dataclass(frozen=True)
class Proof:
    """A multi-table STARK proof. ``log_heights[t]`` is ``ABSENT`` for a table left out."""

    log_heights: tuple[int, ...]
    main_root: bytes
    permutation_root: bytes | None
    logup_sums: tuple[Ext4, ...]
    quotient_root: bytes
    openings: tuple[TableOpenings, ...]
    fri_roots: tuple[bytes, ...]
    final_poly: tuple[Ext4, ...]
    pow_nonce: int
    preprocessed_opening: TreeOpening | None
    main_opening: TreeOpening
    permutation_opening: TreeOpening | None
    quotient_opening: TreeOpening
    fri_openings: tuple[FriLayerOpening, ...]
    # the tables sent in the clear (heliostat.stark.clear), in table order
    clear_traces: tuple[ClearTrace, ...] = ()

    def to_bytes(self) -> bytes:
        """Encode (version 2); ``Proof.from_bytes`` inverts it."""
        w = _Writer()
        w.raw(MAGIC)
        w.u16(VERSION)
        w.u8(len(self.log_heights))
        for h in self.log_heights:
            w.u8(h)
        w.raw(self.main_root)
        w.u8(len(self.clear_traces))
        for trace in self.clear_traces:
            w.matrix(trace.rows, trace.width)
        w.optional_digest(self.permutation_root)
        w.ext_vector(self.logup_sums)
        w.raw(self.quotient_root)
        for k, t in enumerate(self.openings):  # an absent table has no entry
            if k >= len(self.log_heights) or self.log_heights[k] != ABSENT:
                for vector in t.vectors():
                    w.ext_vector(vector)
        w.u8(len(self.fri_roots))
        for root in self.fri_roots:
            w.raw(root)
        w.ext_vector(self.final_poly)
        w.u64(self.pow_nonce)
        w.u8(self.preprocessed_opening is not None)
        if self.preprocessed_opening is not None:
            w.tree_opening(self.preprocessed_opening)
        w.tree_opening(self.main_opening)
        w.u8(self.permutation_opening is not None)
        if self.permutation_opening is not None:
            w.tree_opening(self.permutation_opening)
        w.tree_opening(self.quotient_opening)
        w.u8(len(self.fri_openings))
        for layer in self.fri_openings:
            w.u16(len(layer.leaves))
            w.u16(len(layer.leaves[0]) if layer.leaves else 0)
            for leaf in layer.leaves:
                for v in leaf:
                    w.raw(v.to_bytes())
            w.siblings(layer.siblings)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Proof:
        """Decode untrusted bytes; raise ``ProofFormatError`` on anything malformed."""
        r = _Reader(data)
        if r.raw(4, "magic") != MAGIC:
            raise ProofFormatError("not a Heliostat STARK proof", reason="bad_magic")
        version = r.u16("version")
        if version != VERSION:
            raise ProofFormatError(
                "unsupported proof version", reason="bad_version", expected=VERSION, got=version
            )
        n_tables = r.u8("table count")
        if n_tables == 0:
            raise ProofFormatError("a proof covers at least one table", reason="bad_count")
        log_heights = tuple(r.u8("log height") for _ in range(n_tables))
        if all(h == ABSENT for h in log_heights):
            raise ProofFormatError("a proof includes at least one table", reason="bad_count")
        main_root = r.raw(32, "main root")
        clear_traces = tuple(r.matrix("clear trace") for _ in range(r.u8("clear trace count")))
        permutation_root = r.optional_digest("permutation root")
        logup_sums = r.ext_vector("logup sums", MAX_TABLES)
        quotient_root = r.raw(32, "quotient root")
        openings = tuple(
            TableOpenings(*(r.ext_vector("opened values", MAX_VECTOR) for _ in range(7)))
            if log_n != ABSENT
            else EMPTY_OPENINGS
            for log_n in log_heights
        )
        n_fri = r.u8("FRI layer count")
        if n_fri > MAX_FRI_LAYERS:
            raise ProofFormatError("too many FRI layers", reason="bad_count", got=n_fri)
        fri_roots = tuple(r.raw(32, "FRI root") for _ in range(n_fri))
        final_poly = r.ext_vector("final polynomial", MAX_FINAL_POLY)
        pow_nonce = r.u64("proof-of-work nonce")
        pre_opening = r.tree_opening("preprocessed opening") if r.flag("has fixed") else None
        main_opening = r.tree_opening("main opening")
        perm_opening = r.tree_opening("permutation opening") if r.flag("has perm") else None
        quotient_opening = r.tree_opening("quotient opening")
        n_layers = r.u8("FRI opening count")
        if n_layers > MAX_FRI_LAYERS:
            raise ProofFormatError("too many FRI layers", reason="bad_count", got=n_layers)
        fri_openings = []
        for _ in range(n_layers):
            n_leaves = r.u16("FRI leaf count")
            leaf_len = r.u16("FRI leaf length")
            if not (1 <= n_leaves <= MAX_QUERIES and 1 <= leaf_len <= MAX_LEAF_VALUES):
                raise ProofFormatError(
                    "FRI layer opening too large", reason="bad_count", got=(n_leaves, leaf_len)
                )
            flat = r.elements(n_leaves * leaf_len * 4, "FRI leaves")
            leaves = tuple(
                tuple(
                    Ext4(*flat[(q * leaf_len + k) * 4 : (q * leaf_len + k) * 4 + 4])
                    for k in range(leaf_len)
                )
                for q in range(n_leaves)
            )
            fri_openings.append(FriLayerOpening(leaves, r.siblings("FRI siblings")))
        r.finish()
        return cls(
            log_heights=log_heights,
            main_root=main_root,
            permutation_root=permutation_root,
            logup_sums=logup_sums,
            quotient_root=quotient_root,
            openings=openings,
            fri_roots=fri_roots,
            final_poly=final_poly,
            pow_nonce=pow_nonce,
            preprocessed_opening=pre_opening,
            main_opening=main_opening,
            permutation_opening=perm_opening,
            quotient_opening=quotient_opening,
            fri_openings=tuple(fri_openings),
            clear_traces=clear_traces,
        )


class _Writer:
    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def raw(self, data: bytes) -> None:
        self._parts.append(data)

    def u8(self, v: int) -> None:
        self._parts.append(int(v).to_bytes(1, "big"))

    def u16(self, v: int) -> None:
        self._parts.append(int(v).to_bytes(2, "big"))

    def u32(self, v: int) -> None:
        self._parts.append(int(v).to_bytes(4, "big"))

    def u64(self, v: int) -> None:
        self._parts.append(int(v).to_bytes(8, "big"))

    def optional_digest(self, d: bytes | None) -> None:
        self.u8(d is not None)
        if d is not None:
            self.raw(d)

    def ext_vector(self, values: tuple[Ext4, ...]) -> None:
        self.u32(len(values))
        self._parts.extend(v.to_bytes() for v in values)

    def siblings(self, siblings: tuple[bytes, ...]) -> None:
        self.u32(len(siblings))
        self._parts.extend(siblings)

    def matrix(self, rows: tuple[tuple[int, ...], ...], width: int) -> None:
        self.u16(len(rows))
        self.u32(width)
        self._parts.append(np.array(rows, dtype=">u4").reshape(-1).tobytes())

    def tree_opening(self, t: TreeOpening) -> None:
        self.u8(len(t.rows))
        for matrix_rows in t.rows:
            width = len(matrix_rows[0]) if matrix_rows else 0
            self.u16(len(matrix_rows))
            self.u32(width)
            flat = np.array(matrix_rows, dtype=">u4").reshape(-1)
            self._parts.append(flat.tobytes())
        self.siblings(t.siblings)

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


class _Reader:
    def __init__(self, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ProofFormatError("a proof is bytes", reason="bad_type", got=type(data).__name__)
        self._data = bytes(data)
        self._pos = 0

    def _take(self, n: int, what: str) -> bytes:
        if n < 0 or self._pos + n > len(self._data):
            raise ProofFormatError(
                f"truncated proof while reading {what}",
                reason="truncated",
                expected=self._pos + n,
                got=len(self._data),
            )
        out = self._data[self._pos : self._pos + n]
        self._pos += n
        return out

    def raw(self, n: int, what: str) -> bytes:
        return self._take(n, what)

    def u8(self, what: str) -> int:
        return self._take(1, what)[0]

    def u16(self, what: str) -> int:
        return int.from_bytes(self._take(2, what), "big")

    def u32(self, what: str) -> int:
        return int.from_bytes(self._take(4, what), "big")

    def u64(self, what: str) -> int:
        return int.from_bytes(self._take(8, what), "big")

    def flag(self, what: str) -> bool:
        v = self.u8(what)
        if v > 1:
            raise ProofFormatError(f"{what} flag must be 0 or 1", reason="bad_flag", got=v)
        return v == 1

    def optional_digest(self, what: str) -> bytes | None:
        return self.raw(32, what) if self.flag(what) else None

    def elements(self, count: int, what: str) -> list[int]:
        raw = self._take(4 * count, what)  # bounds the allocation below
        values = np.frombuffer(raw, dtype=">u4")
        if values.size and int(values.max()) >= P:
            raise ProofFormatError(
                f"non-canonical field element in {what}",
                reason="not_canonical",
                expected=P,
                got=int(values.max()),
            )
        return [int(v) for v in values]

    def ext_vector(self, what: str, limit: int) -> tuple[Ext4, ...]:
        n = self.u32(what)
        if n > limit:
            raise ProofFormatError(f"{what}: too many values", reason="bad_count", got=n)
        flat = self.elements(4 * n, what)
        return tuple(Ext4(*flat[4 * i : 4 * i + 4]) for i in range(n))

    def siblings(self, what: str) -> tuple[bytes, ...]:
        n = self.u32(what)
        if n > MAX_SIBLINGS:
            raise ProofFormatError(f"{what}: too many siblings", reason="bad_count", got=n)
        raw = self._take(32 * n, what)
        return tuple(raw[32 * i : 32 * i + 32] for i in range(n))

    def matrix(self, what: str) -> ClearTrace:
        n_rows, width = self.u16(what), self.u32(what)
        if not 0 <= n_rows <= MAX_CLEAR_ROWS or not 1 <= width <= MAX_VECTOR:
            raise ProofFormatError(
                f"{what}: size out of range", reason="bad_count", got=(n_rows, width)
            )
        flat = self.elements(n_rows * width, what)
        if n_rows and not any(flat[-width:]):  # trailing zero rows are never sent
            raise ProofFormatError(f"{what}: ends with a zero row", reason="not_canonical")
        return ClearTrace(
            width, tuple(tuple(flat[k * width : (k + 1) * width]) for k in range(n_rows))
        )

    def tree_opening(self, what: str) -> TreeOpening:
        n_matrices = self.u8(what)
        if n_matrices < 1:
            raise ProofFormatError(f"{what}: no matrix", reason="bad_count", got=n_matrices)
        rows = []
        for _ in range(n_matrices):
            n_rows = self.u16(what)
            if not 1 <= n_rows <= MAX_QUERIES:
                raise ProofFormatError(
                    f"{what}: row count out of range", reason="bad_count", got=n_rows
                )
            width = self.u32(what)
            if width > MAX_VECTOR:
                raise ProofFormatError(f"{what}: row too wide", reason="bad_count", got=width)
            flat = self.elements(n_rows * width, what)
            rows.append(tuple(tuple(flat[k * width : (k + 1) * width]) for k in range(n_rows)))
        return TreeOpening(tuple(rows), self.siblings(what))

    def finish(self) -> None:
        if self._pos != len(self._data):
            raise ProofFormatError(
                "trailing bytes after the proof",
                reason="trailing_bytes",
                expected=self._pos,
                got=len(self._data),
            )
