"""Fixtures for the settlement tests: one anvil per session, example machines under the
default parameters, their honest proofs and their generated verifiers deployed on it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from chain_cases import ChainCase
from web3 import Web3

from heliostat.settlement.anvil import Anvil
from heliostat.settlement.stark_verifier import OnChainVerifier
from heliostat.settlement.verifier_gen.generator import generate_verifier
from heliostat.stark.air import compile_machine
from heliostat.stark.config import DEFAULT
from heliostat.stark.examples import fibonacci, lookup, range_counter
from heliostat.stark.prover import prove, setup


@pytest.fixture(scope="session")
def chain() -> Iterator[Anvil]:
    """One anvil for the whole session, stopped at its end."""
    with Anvil() as running:
        yield running


@pytest.fixture(scope="session")
def w3(chain: Anvil) -> Web3:
    """A client of the session's chain."""
    return chain.web3()


def _case(w3: Web3, name: str, airs: list, num_publics: int, traces: list, publics: list[int]):
    pk = setup(compile_machine(airs, num_publics), DEFAULT)
    proof = prove(pk, traces, publics)
    onchain = OnChainVerifier.deploy(w3, generate_verifier(pk.vk, name))
    return ChainCase(pk, traces, publics, proof, onchain)


@pytest.fixture(scope="session")
def fib_chain(w3: Web3) -> ChainCase:
    """Fibonacci, 2^9 rows (enough for FRI layers under the default parameters)."""
    trace, publics = fibonacci.generate_trace(9)
    airs = [fibonacci.FibonacciAir()]
    return _case(w3, "Fib", airs, fibonacci.NUM_PUBLIC_VALUES, [trace], publics)


@pytest.fixture(scope="session")
def counter_chain(w3: Web3) -> ChainCase:
    """The range counter, 2^4 rows from 7."""
    trace, publics = range_counter.generate_trace(4, start=7)
    airs = [range_counter.RangeCounterAir()]
    return _case(w3, "Counter", airs, range_counter.NUM_PUBLIC_VALUES, [trace], publics)


@pytest.fixture(scope="session")
def lookup_chain(w3: Web3) -> ChainCase:
    """The two-table lookup (reader 2^7 rows, committed; byte table with a fixed column)."""
    reader, counts = lookup.generate_traces(7, np.random.default_rng(7))
    airs = [lookup.ReaderAir(), lookup.ByteTableAir()]
    return _case(w3, "Lookup", airs, 0, [reader, counts], [])


@pytest.fixture(scope="session")
def clear_chain(w3: Web3) -> ChainCase:
    """The lookup with a reader of 2^5 rows: small enough to be sent in the clear."""
    reader, counts = lookup.generate_traces(5, np.random.default_rng(9))
    airs = [lookup.ReaderAir(), lookup.ByteTableAir()]
    return _case(w3, "ClearLookup", airs, 0, [reader, counts], [])
