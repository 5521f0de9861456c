"""The Python face: outcomes for odd inputs, the heap-retry path, the witness."""

from __future__ import annotations

import pytest
from solders.transaction import Transaction

from heliostat.runtime import kernel_input
from heliostat.runtime.genesis import BRIDGE_PROGRAM_ID
from heliostat.runtime.interface import BlockContext
from heliostat.runtime.runtime import Runtime
from heliostat.runtime.sample_batch import sample_world
from heliostat.svm.programs import SPL_TOKEN_ID


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime()


@pytest.fixture(scope="module")
def world():
    return sample_world(3)


def block(world) -> BlockContext:
    return BlockContext(3, 1_700_000_000, frozenset([world.blockhash]))


def test_outcome_signature_is_the_first_signature(runtime, world) -> None:
    raw = world.sol_transfer(world.users[0], world.users[1].pubkey(), 10)
    (outcome,) = runtime.execute([raw], world.state, block(world))
    assert outcome.signature == Transaction.from_bytes(raw).signatures[0]


@pytest.mark.parametrize("raw", [b"", b"\x01" + bytes(10), b"\x00\x01\x00\x00"])
def test_malformed_bytes_are_refused(runtime, world, raw: bytes) -> None:
    (outcome,) = runtime.execute([raw], world.state, block(world))
    assert outcome.err == "SanitizeFailure"
    assert not outcome.included and outcome.fee == 0 and outcome.logs == ()


def test_arena_exhaustion_is_retried(runtime, world, monkeypatch) -> None:
    txs = [world.spl_transfer(world.users[0], world.users[1], 3)]
    expected = runtime.execute(txs, world.state, block(world))
    monkeypatch.setattr(kernel_input, "_TX_ARENA", 8 * 1024)  # an SPL input needs ~31 KiB
    assert runtime.execute(txs, world.state, block(world)) == expected


def test_witness_elides_program_bytes(runtime, world) -> None:
    txs = [world.spl_transfer(world.users[0], world.users[1], 3)]
    witness = {w.key: w for w in runtime.witness(txs, world.state)}
    token = witness[SPL_TOKEN_ID]
    assert not token.elide  # the 36-byte program account is kept
    programdata = [w for w in witness.values() if w.image is not None]
    assert len(programdata) == 1 and programdata[0].elide
    assert BRIDGE_PROGRAM_ID not in witness
