"""Proof bytes are pinned: speed work on the prover must not change a single byte.

The digests below are SHA-256 of ``proof.to_bytes()`` as produced by the prover of commit
e00a0f0 (the first landed STARK), before any speed work. They change only if the protocol,
the proof format or the transcript changes, which needs a new proof version, not a new pin.
The cases cover every prover path: one table and several of different heights, fixed
columns, LogUp, public bus terms, quotient domains that are a prefix of the LDE and ones that
need their own extension, and traces tall enough to split every parallel kernel into chunks.
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


CASES: dict[str, Callable[[], tuple]] = {
    "fibonacci": _fibonacci,
    "lookup": _lookup,
    "three_tables_fast_test": _three_tables_fast_test,
    "synthetic_2p9_default": _synthetic(9, 12, DEFAULT),
    "synthetic_2p14_default": _synthetic(14, 16, DEFAULT),
    "synthetic_2p8_compact": _synthetic(8, 10, COMPACT),
    "power8_default": _power(8, DEFAULT),
}
# SHA-256 of each case's proof bytes (commit e00a0f0, before the speed work)
PINNED = {
    "fibonacci": "4ea321a2270ea42fa48e7ddc1b027f967d3c2ecdeeb55392cf40d32796a3aca9",
    "lookup": "4aa9b1e4e40113bb3e0c6370a1c8404b14d9191b040d7343a81388a9bdabeb8d",
    "three_tables_fast_test": "83b6acbf963084354179b077e67e632437227bcc30ef7c7c44e5143d70439786",
    "synthetic_2p9_default": "b2101f17dc35fd04a3b7f56d42ec9ef5f29911158ec911bec53fb47344127ad7",
    "synthetic_2p14_default": "850fe7beeb7a5e82844486cd8577368896b115053707071d95a4dd76e10317a2",
    "synthetic_2p8_compact": "229d66335cd246cdcb00771be5289734ab4491d465f797c4a386c9664e07cd80",
    "power8_default": "d9a89cdee642255a35e1cf3d70df7dc73fad2cff1a04d5ffeecc4b5758ba8c9a",
}


@pytest.mark.parametrize("name", list(CASES))
def test_proof_bytes_are_unchanged(name: str) -> None:
    machine, config, traces, publics = CASES[name]()
    pk = setup(machine, config)
    proof = prove(pk, traces, publics)
    verify(pk.vk, proof, publics)
    assert hashlib.sha256(proof.to_bytes()).hexdigest() == PINNED[name]
