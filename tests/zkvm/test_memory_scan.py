"""The numba memory scan against the readable reference, on random access sequences."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from heliostat.zkvm.buses import REGION_HEAP, REGION_INPUT, REGION_PROGRAM, REGION_SHIFT
from heliostat.zkvm.memory_scan import AccessBatch, InitialMemory, scan, scan_reference

MEMORY = InitialMemory(tuple(range(100, 111)), bytes(range(1, 30)), 64, bytes(range(50, 70)))
ADDRESSES = [
    0,
    3,
    10,
    REGION_PROGRAM * REGION_SHIFT + 2,
    REGION_PROGRAM * REGION_SHIFT + 3,
    REGION_HEAP * REGION_SHIFT,
    REGION_HEAP * REGION_SHIFT + 7,
    REGION_INPUT * REGION_SHIFT + 2,
    2 * REGION_SHIFT + 5,
]


@st.composite
def batches(draw: st.DrawFn) -> AccessBatch:
    n = draw(st.integers(0, 40))
    addr = draw(st.lists(st.sampled_from(ADDRESSES), min_size=n, max_size=n))
    times = draw(st.lists(st.integers(0, 300_000), min_size=n, max_size=n, unique=True))
    mask = draw(st.lists(st.integers(0, 255), min_size=n, max_size=n))
    value = draw(st.lists(st.integers(0, 2**64 - 1), min_size=n, max_size=n))
    return AccessBatch(
        np.array(addr, np.int64),
        np.array(times, np.int64),
        np.array(mask, np.uint8),
        np.array(value, np.uint64),
    )


@settings(deadline=None)
@given(batches())
def test_scan_matches_reference(batch: AccessBatch) -> None:
    fast, ref = scan(batch, MEMORY), scan_reference(batch, MEMORY)
    for name in fast.__dataclass_fields__:
        assert np.array_equal(getattr(fast, name), getattr(ref, name)), name


def test_scan_bridges_long_gaps_and_returns_latest_writes() -> None:
    batch = AccessBatch(
        np.array([5, 5, 5]),
        np.array([10, 200_000, 200_001]),
        np.array([0xFF, 0, 0x0F], np.uint8),
        np.array([0x1122334455667788, 0, 0xAAAAAAAAAAAAAAAA], np.uint64),
    )
    res = scan(batch, MEMORY)
    assert res.old.tolist() == [105, 0x1122334455667788, 0x1122334455667788]
    assert res.new[2] == 0x11223344AAAAAAAA
    assert (res.keep_t - res.keep_t_prev <= 1 << 16).all() and len(res.keep_t) == 3
