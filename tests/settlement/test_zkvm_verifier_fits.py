"""The zkVM machine's generated verifier compiles and every contract of it fits Ethereum's
24 KiB code limit (EIP-170): the key is packed, the protocol lives in shared contracts."""

from __future__ import annotations

import pytest

from heliostat.settlement.stark_verifier import compile_verifier
from heliostat.settlement.verifier_gen.generator import generate_verifier
from heliostat.stark.config import DEFAULT
from heliostat.stark.keys import verifying_key
from heliostat.zkvm.machine import zkvm_machine

CODE_LIMIT = 24_576


@pytest.mark.slow  # generates and compiles about 2 MB of Solidity
def test_the_zkvm_verifier_fits() -> None:
    generated = generate_verifier(verifying_key(zkvm_machine(), DEFAULT), "Zkvm")
    artifacts = compile_verifier(generated)
    names = [generated.verifier, *generated.evaluators, "StarkQueryPhase", "StarkStatementPhase"]
    sizes = {name: artifacts[name].deployed_size for name in names}
    assert len(generated.evaluators) > 10
    assert all(0 < size <= CODE_LIMIT for size in sizes.values()), sizes
