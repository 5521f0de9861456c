"""Shared pieces of the state-tree tests: keys, account strategies, a naive root, verdicts."""

from __future__ import annotations

from hypothesis import strategies as st

from heliostat.primitives.poseidon2 import compress as reference_compress
from heliostat.runtime.state_tree import (
    DEFAULT_ACCOUNT,
    DEPTH,
    ZERO_DIGEST,
    ZERO_KEY,
    AccountValue,
    StateTree,
    compress,
    digest_bytes,
    leaf_hash,
)
from heliostat.runtime.state_witness import (
    FinalValue,
    WitnessError,
    WitnessErrorCode,
    commit,
    decode,
    initial_values,
)

MAX_KEY = b"\xff" * 32


def key(n: int) -> bytes:
    """A key whose big-endian order follows n (n < 2^16), away from 0 and 0xff..ff."""
    return bytes([1]) + n.to_bytes(2, "big") + bytes(29)


# Keys from a small pool so that batches hit the same keys again (updates, re-creations),
# plus the extremes: key 0 (always present) and the largest key.
keys = st.one_of(st.integers(0, 40).map(lambda n: key(n * 7)), st.just(MAX_KEY), st.just(ZERO_KEY))
datas = st.one_of(
    st.just(b""),
    st.binary(min_size=1, max_size=64),
    st.sampled_from([29, 30, 31, 119, 120, 121, 165, 241]).map(lambda n: bytes([n % 251]) * n),
)
values = st.builds(
    AccountValue,
    lamports=st.one_of(st.integers(1, 10**12), st.just(2**64 - 1)),
    owner=st.sampled_from([ZERO_KEY, key(1), MAX_KEY]),
    executable=st.booleans(),
    rent_epoch=st.sampled_from([0, 361, 2**64 - 1]),
    data=datas,
)
changes = st.dictionaries(keys, st.one_of(values, st.none()), min_size=1, max_size=6)


def naive_root(tree: StateTree, model: dict[bytes, AccountValue]) -> bytes:
    """The root from first principles: the model's keys (tombstones included) as a sorted
    linked list, at the leaves the tree chose, hashed level by level; the empty subtrees come
    from the reference permutation (the numba one is checked against it elsewhere)."""
    ordered = sorted(model)
    leaves = {}
    for i, k in enumerate(ordered):
        following = ordered[i + 1] if i + 1 < len(ordered) else ZERO_KEY
        record = tree.record(k)
        assert record is not None
        assert record.index not in leaves
        leaves[record.index] = leaf_hash(k, following, model[k])
    assert tree.record(ZERO_KEY).index == 0
    empty = ZERO_DIGEST
    level = leaves
    for _ in range(DEPTH):
        parents = {}
        for index in sorted({i >> 1 for i in level}):
            left = level.get(2 * index, empty)
            right = level.get(2 * index + 1, empty)
            parents[index] = compress(left, right)
        level = parents
        empty = reference_compress(empty, empty)
    return digest_bytes(level[0])


def apply_to_model(model: dict[bytes, AccountValue], batch: dict) -> None:
    """Deleted or zero-lamport accounts stay as tombstones (the default account)."""
    for k, value in batch.items():
        if value is None or value.lamports == 0:
            if k in model:
                model[k] = DEFAULT_ACCOUNT
        else:
            model[k] = value


def python_verdict(
    witness: bytes, finals: list[tuple[int, FinalValue]], old_root: bytes
) -> tuple[WitnessErrorCode, bytes | None]:
    """What the Python reference says: (code, new root or None)."""
    try:
        parsed = decode(witness)
        full = initial_values(parsed)
        for position, final in finals:
            full[position] = final
        return WitnessErrorCode.OK, commit(parsed, full, old_root).new_root
    except WitnessError as error:
        return error.code, None
