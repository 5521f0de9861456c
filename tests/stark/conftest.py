"""Shared fixtures for the protocol tests: compiled example machines and their proving keys."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray

from heliostat.stark.air import compile_machine
from heliostat.stark.config import FAST_TEST
from heliostat.stark.examples import fibonacci, lookup, range_counter
from heliostat.stark.proof import Proof
from heliostat.stark.prover import ProvingKey, prove, setup


@dataclass
class Case:
    """A machine, its key, valid traces and public values, and one honest proof."""

    pk: ProvingKey
    traces: list[NDArray[np.uint32]]
    publics: list[int]
    proof: Proof


def _case(machine_args: tuple, traces: list, publics: list[int]) -> Case:
    pk = setup(compile_machine(*machine_args), FAST_TEST)
    return Case(pk, traces, publics, prove(pk, traces, publics))


@pytest.fixture(scope="session")
def fib_case() -> Case:
    trace, publics = fibonacci.generate_trace(5)
    return _case(([fibonacci.FibonacciAir()], fibonacci.NUM_PUBLIC_VALUES), [trace], publics)


@pytest.fixture(scope="session")
def counter_case() -> Case:
    trace, publics = range_counter.generate_trace(4, start=7)
    machine = ([range_counter.RangeCounterAir()], range_counter.NUM_PUBLIC_VALUES)
    return _case(machine, [trace], publics)


@pytest.fixture(scope="session")
def lookup_case() -> Case:
    reader, counts = lookup.generate_traces(5, np.random.default_rng(7))
    return _case(([lookup.ReaderAir(), lookup.ByteTableAir()],), [reader, counts], [])
