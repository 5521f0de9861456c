"""Proof bytes are pinned: speed work on the prover must not change a single byte.

The digests below are SHA-256 of ``proof.to_bytes()`` for proof format version 2 (absent
tables, tables in the clear, per-matrix opened rows, next-row openings only for the columns
read there, the LogUp running sum of the rows before). Version 1's pins (commit e00a0f0, the
first landed STARK) were replaced with the version bump, as they must be: pins change only
if the protocol, the proof format or the transcript changes, which needs a new proof version.
The cases cover every prover path: one table and several of different heights, fixed
columns, LogUp, public bus terms, quotient domains that are a prefix of the LDE and ones that
need their own extension, traces tall enough to split every parallel kernel into chunks, and
a table left out and one sent in the clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import pytest

from heliostat.stark.air import compile_machine
from heliostat.stark.config import COMPACT, DEFAULT, FAST_TEST, StarkConfig
from heliostat.stark.examples import fibonacci, lookup, range_counter, synthetic
from heliostat.stark.prover import prove, setup
from heliostat.stark.verifier import verify

P = 2013265921


class _PowerAir:
    """y = x^d on every row: one constraint of degree d."""

    name, width = "power", 2

    def __init__(self, degree: int) -> None:
        self.degree = degree

    def preprocessed_trace(self) -> None:
        return None

    def eval(self, ab) -> None:  # type: ignore[no-untyped-def]
        x, y = ab.main.local
        ab.assert_eq(y, x**self.degree)


def _fibonacci() -> tuple:
    trace, publics = fibonacci.generate_trace(5)
    return compile_machine([fibonacci.FibonacciAir()], 3), FAST_TEST, [trace], publics


def _lookup() -> tuple:
    reader, counts = lookup.generate_traces(10, np.random.default_rng(7))
    machine = compile_machine([lookup.ReaderAir(), lookup.ByteTableAir()])
    return machine, FAST_TEST, [reader, counts], []


class _OffsetCounter(range_counter.RangeCounterAir):
    """The range counter's step and boundaries, reading its publics at offsets 3 and 4."""

    def eval(self, ab) -> None:  # type: ignore[no-untyped-def]
        c = ab.main.local[0]
        ab.when_transition().assert_eq(ab.main.next[0], c + 1)
        ab.when_first_row().assert_eq(c, ab.public(3))
        ab.when_last_row().assert_eq(c, ab.public(4))


def _three_tables_fast_test() -> tuple:
    """Blowup 2 with a degree-4 table: its quotient domain is a separate 4n-point LDE."""
    rng = np.random.default_rng(3)
    fib, fib_pub = fibonacci.generate_trace(3)
    counter, counter_pub = range_counter.generate_trace(5)
    airs = [fibonacci.FibonacciAir(), synthetic.SyntheticAir(7), _OffsetCounter()]
    traces = [fib, synthetic.generate_trace(6, 7, rng), counter]
    return compile_machine(airs, 5), FAST_TEST, traces, fib_pub + counter_pub


def _synthetic(log_n: int, width: int, config: StarkConfig) -> Callable[[], tuple]:
    def case() -> tuple:
        rng = np.random.default_rng(log_n * 1000 + width)
        trace = synthetic.generate_trace(log_n, width, rng)
        return compile_machine([synthetic.SyntheticAir(width)]), config, [trace], []

    return case


def _power(degree: int, config: StarkConfig) -> Callable[[], tuple]:
    def case() -> tuple:
        x = np.random.default_rng(degree).integers(0, P, 1 << 8, dtype=np.uint64)
        y = x.copy()
        for _ in range(degree - 1):
            y = y * x % P
        trace = np.stack([x, y], axis=1).astype(np.uint32)
        return compile_machine([_PowerAir(degree)]), config, [trace], []

    return case


class _SecondReader(lookup.ReaderAir):
    name = "second reader"


def _absent_and_clear() -> tuple:
    """Default parameters: a 16-row reader goes in the clear, an all-zero one is left out."""
    reader, counts = lookup.generate_traces(4, np.random.default_rng(11))
    machine = compile_machine([lookup.ReaderAir(), _SecondReader(), lookup.ByteTableAir()])
    return machine, DEFAULT, [reader, np.zeros((8, 2), np.uint32), counts], []


CASES: dict[str, Callable[[], tuple]] = {
    "fibonacci": _fibonacci,
    "lookup": _lookup,
    "three_tables_fast_test": _three_tables_fast_test,
    "synthetic_2p9_default": _synthetic(9, 12, DEFAULT),
    "synthetic_2p14_default": _synthetic(14, 16, DEFAULT),
    "synthetic_2p8_compact": _synthetic(8, 10, COMPACT),
    "power8_default": _power(8, DEFAULT),
    "absent_and_clear_default": _absent_and_clear,
}
# SHA-256 of each case's proof bytes (proof format version 2)
PINNED = {
    "fibonacci": "fe9bc556898c2fc6b691c45d93f5adc6527fa2c6e20ac7774b81d7b2ffdaf610",
    "lookup": "44748daca09971649fe01789b921502ba9c5a26c84ea7546fff0193cf47c8781",
    "three_tables_fast_test": "ddcb39b39f92024fd8348cf11cfe986bc63d61fb3c4bd21f1354bc8855836b18",
    "synthetic_2p9_default": "408404f11dcfb57714396fea9810c08dc6e050f9c31e7202a9ea6378c5c4db65",
    "synthetic_2p14_default": "f960610cab4d1d944f3ba96b8d00367ffcd35b8fcd862dbe281a0cf54f029657",
    "synthetic_2p8_compact": "071db1a1d3c0dec0e35cba33d10c57c76f3c8254985c8982ec53588f76ad863a",
    "power8_default": "77e68953db3d324cbc35e8a6bf2549a5eb5ce847504e72d4caa1aec99b9759e7",
    "absent_and_clear_default": "c09de2769e46524defac475425b76ca42144b0a45ea10a449731d3b80561ee86",
}


@pytest.mark.parametrize("name", list(CASES))
def test_proof_bytes_are_unchanged(name: str) -> None:
    machine, config, traces, publics = CASES[name]()
    pk = setup(machine, config)
    proof = prove(pk, traces, publics)
    verify(pk.vk, proof, publics)
    if name == "absent_and_clear_default":
        assert proof.log_heights[1] == 0 and len(proof.clear_traces) == 1
    assert hashlib.sha256(proof.to_bytes()).hexdigest() == PINNED[name]
