"""Poseidon2 and state-tree account proofs in Solidity agree with the Python state tree.

The generated Poseidon2 library matches its generator and the reference permutation; the
escape hatch's account verifier accepts real membership proofs of heliostat's state tree and
refuses altered ones.
"""

from __future__ import annotations

import random

import pytest
from eth_abi.abi import decode as abi_decode
from web3 import Web3

from heliostat.primitives.poseidon2 import P, permute
from heliostat.runtime.state_tree import (
    AccountValue,
    MembershipProof,
    StateTree,
    prove,
)
from heliostat.settlement import rollup
from heliostat.settlement.poseidon2_sol import TARGET, solidity
from heliostat.settlement.rollup import encode_account_proof


@pytest.fixture(scope="module")
def contracts(w3: Web3):
    artifacts = rollup.compile_rollup(with_mocks=True)
    return (
        rollup.deploy(w3, artifacts["Poseidon2Harness"]),
        rollup.deploy(w3, artifacts["StateTreeAccountVerifier"]),
    )


def test_the_committed_library_is_the_generators_output() -> None:
    assert TARGET.read_text() == solidity()


def test_permutation_matches_the_reference(contracts) -> None:
    harness, _ = contracts
    rng = random.Random(16)
    for state in ([0] * 16, list(range(16)), [P - 1] * 16, [rng.randrange(P) for _ in range(16)]):
        assert tuple(harness.functions.permute(state).call()) == permute(state)


def test_account_proofs_of_the_state_tree(w3: Web3, contracts) -> None:
    """Plain system accounts verify through verifyAccount (what escape mode calls); accounts
    with data through rootOf (verifyAccount refuses them: they cannot escape)."""
    _, verifier = contracts
    rng = random.Random(7)
    accounts = {
        bytes(rng.randrange(256) for _ in range(32)): AccountValue(
            rng.randrange(1, 10**12),
            owner=bytes(32),
            data=bytes(rng.randrange(256) for _ in range(k)),
        )
        for k in (0, 0, 3, 82, 165)
    }
    tree = StateTree.from_accounts(accounts)
    root = tree.root()
    for key, value in accounts.items():
        proof = prove(tree, key)
        assert isinstance(proof, MembershipProof)
        blob = encode_account_proof(proof)
        (leaf,) = abi_decode([rollup.ACCOUNT_PROOF_TYPE], blob)
        assert verifier.functions.rootOf(key, value.lamports, leaf).call() == root
        assert verifier.functions.rootOf(key, value.lamports + 1, leaf).call() != root
        if value.data:
            continue
        check = verifier.functions.verifyAccount(root, key, value.lamports, blob)
        assert check.call() is True
        assert verifier.functions.verifyAccount(root, key, value.lamports + 1, blob).call() is False
        gas = check.estimate_gas()
        assert gas < 5_000_000, gas  # 37 permutations
        bad = bytearray(blob)
        bad[-1] ^= 1  # the top sibling
        tampered = verifier.functions.verifyAccount(root, key, value.lamports, bytes(bad))
        assert tampered.call() is False
