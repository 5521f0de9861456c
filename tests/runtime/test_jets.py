"""Jets have the semantics of the code they replace: the ed25519 jet against the reference on
RFC 8032 vectors and edge cases, and whole kernel runs with and without jets."""

from __future__ import annotations

import pytest

from heliostat.primitives import ed25519
from heliostat.runtime.runtime import Runtime
from heliostat.runtime.sample_batch import sample_batch, sample_world
from heliostat.svm.kernel_jets import ed25519_verify
from heliostat.svm.memory import MM_INPUT_START, MemoryMap
from heliostat.svm.syscall_api import SyscallContext
from heliostat.testing import ed25519_cases as cases


def jet(signature: bytes, key: bytes, message: bytes) -> int:
    memory = MemoryMap(b"", signature + key + message)
    ctx = SyscallContext(memory, None, 0)
    base = MM_INPUT_START
    return ed25519_verify(ctx, base, base + 64, base + 96, len(message), 0)


@pytest.mark.parametrize("vector", cases.RFC8032_VECTORS, ids=lambda v: v.name)
def test_rfc8032(vector) -> None:
    assert jet(vector.signature, vector.public_key, vector.message) == 0


@pytest.mark.parametrize("case", cases.edge_cases(), ids=lambda c: c.name)
def test_edge_cases_give_the_reference_code(case) -> None:
    expected = int(ed25519.verify_code(case.signature, case.public_key, case.message))
    assert jet(case.signature, case.public_key, case.message) == expected


def test_kernel_with_and_without_jets() -> None:
    """The whole sample batch through the real C verifier (about 25 signatures of ~850k
    instructions each) publishes the same output and receipts as with the jet."""
    world = sample_world(6)
    batch = sample_batch(world, 6)
    native = Runtime().execute_batch(batch, world.state)
    real = Runtime(jets=False).execute_batch(batch, world.state)
    assert real.public_output.encoded == native.public_output.encoded
    assert real.outcomes == native.outcomes
