"""Runtime.prove_batch: the kernel K run in proving mode and proven by the zkVM.

A batch with a deposit, a SOL transfer and a bridge withdrawal (K alone: no BPF program) is
proven against the state tree and verified; its public output is execute_batch's. Signature
verification is off in the fast tests (the C ed25519 costs ~806k rows per signature; the
output's head shows it, so they verify with ``allow_test_mode=True``, and without it the proof
is refused) and on in the slow one. A tampered witness cannot be proven; a tampered proof,
another public output or another program's proof is rejected.
"""

from __future__ import annotations

import dataclasses
import functools

import pytest

from heliostat.runtime import bridge, state_witness
from heliostat.runtime.errors import ProvingUnavailableError
from heliostat.runtime.hashing import keccak256
from heliostat.runtime.interface import BatchInput, BatchProof, Block, BlockContext, Deposit
from heliostat.runtime.kernel_output import (
    DIGEST_BYTES,
    KERNEL_FLAG_STATE_TREE,
    KERNEL_FLAG_VERIFY_SIGNATURES,
    decode_public_output,
    output_head,
)
from heliostat.runtime.proving import (
    BatchProvingError,
    BatchVerificationError,
    InputFacts,
    decode_proof,
    encode_proof,
    prove_kernel_input,
    verify_batch,
)
from heliostat.runtime.runtime import Runtime, TreeState
from heliostat.runtime.sample_batch import SOL, sample_world
from heliostat.runtime.state_tree import StateTree
from heliostat.stark.config import FAST_TEST

CONFIG = FAST_TEST


@functools.cache
def _setup() -> tuple[Runtime, StateTree, BatchInput]:
    world = sample_world(3)
    users = world.users
    tree = StateTree.from_accounts(world.state.accounts)
    context = BlockContext(10, 1_700_000_000, frozenset([world.blockhash]))
    txs = (
        world.sol_transfer(users[0], users[1].pubkey(), 1_000_000),
        world.tx(users[1], [bridge.withdraw(users[1].pubkey(), 2 * SOL, bytes(range(20)))]),
    )
    deposit = Deposit(0, users[2].pubkey(), 5 * SOL)
    batch = BatchInput(3, tree.root(), (deposit,), (Block(context, txs),))
    return Runtime(), tree, batch


@functools.cache
def _proof() -> BatchProof:
    runtime, tree, batch = _setup()
    return runtime.prove_batch(
        batch, TreeState(tree), tree=tree, config=CONFIG, verify_signatures=False
    )


def test_batch_is_proven_and_verifies() -> None:
    runtime, tree, batch = _setup()
    proof = _proof()
    verify_batch(proof, proof.public_output, CONFIG, allow_test_mode=True)
    native = runtime.execute_batch(batch, TreeState(tree), tree=tree)
    out = proof.public_output
    # the same output but for the head's kernel flags: signatures off here, on natively
    assert dataclasses.replace(out, encoded=b"") == dataclasses.replace(
        native.public_output, encoded=b""
    )
    assert output_head(out.encoded).kernel_flags == KERNEL_FLAG_STATE_TREE
    assert output_head(native.public_output.encoded).kernel_flags == (
        KERNEL_FLAG_STATE_TREE | KERNEL_FLAG_VERIFY_SIGNATURES
    )
    assert out.priority_count == 1 and len(out.withdrawals) == 1
    assert out.old_root == tree.root() and out.new_root != bytes(32)
    assert all(o.included and o.error is None for o in native.outcomes)


def test_a_proof_with_signature_checks_off_is_refused_outside_test_mode() -> None:
    proof = _proof()  # proven with signatures off: the head's flags say so
    with pytest.raises(BatchVerificationError, match="signature checks off") as err:
        verify_batch(proof, proof.public_output, CONFIG)
    assert err.value.reason == "signatures_off"


def test_a_proof_with_other_parameters_is_refused() -> None:
    proof = _proof()
    with pytest.raises(BatchVerificationError, match="other parameters") as err:
        verify_batch(
            proof, proof.public_output, CONFIG, allow_test_mode=True,
            expected_params_hash=bytes(32),
        )  # fmt: skip
    assert err.value.reason == "parameters"


def test_tampered_proof_is_rejected() -> None:
    proof = _proof()
    data = bytearray(proof.proof)
    data[len(data) // 2] ^= 1
    with pytest.raises(BatchVerificationError):
        verify_batch(
            BatchProof(proof.public_output, bytes(data)),
            proof.public_output,
            CONFIG,
            allow_test_mode=True,
        )


def test_tampered_input_facts_are_rejected() -> None:
    proof = _proof()
    facts, stark = decode_proof(proof.proof)
    forged = encode_proof(dataclasses.replace(facts, heap_size=facts.heap_size * 2), stark)
    with pytest.raises(BatchVerificationError):
        verify_batch(
            BatchProof(proof.public_output, forged),
            proof.public_output,
            CONFIG,
            allow_test_mode=True,
        )


def test_another_public_output_is_rejected() -> None:
    proof = _proof()
    encoded = bytearray(proof.public_output.encoded)
    encoded[DIGEST_BYTES + 8] ^= 1  # the batch number, and the digest of the changed head
    encoded[:DIGEST_BYTES] = keccak256(output_head(bytes(encoded)).head(bytes(encoded)))
    other = decode_public_output(bytes(encoded))
    with pytest.raises(BatchVerificationError, match="another public output"):
        verify_batch(proof, other, CONFIG, allow_test_mode=True)
    # the same proof bytes presented as a proof of the other output: the STARK refuses
    with pytest.raises(BatchVerificationError, match="proof rejected"):
        verify_batch(BatchProof(other, proof.proof), other, CONFIG, allow_test_mode=True)


def test_another_programs_proof_is_rejected() -> None:
    # a program that publishes the very same bytes, proven with the zkVM: not the kernel
    from heliostat.svm.assembler import assemble
    from heliostat.svm.executable import Executable
    from heliostat.svm.kernel import KernelSession, kernel_registry
    from heliostat.zkvm.execution import execute
    from heliostat.zkvm.kernel_execution import PROOF_KERNEL_BUDGET
    from heliostat.zkvm.prover import prove_execution

    published = _proof().public_output.encoded
    source = f"lddw r1, 0x400000000\nlddw r2, {len(published)}\ncall heliostat_publish\n"
    source += "mov64 r0, 0\nexit"
    text, functions = assemble(source)
    exe = Executable.from_text(text, kernel_registry(), functions)
    session = KernelSession(lambda image_id: exe)
    ex = execute(exe, published, budget=PROOF_KERNEL_BUDGET, host=session)
    ex = dataclasses.replace(ex, input_read_only=True)
    bundle = prove_execution(ex, CONFIG)
    pv = bundle.public_values
    facts = InputFacts(
        tuple(pv.input_hash), pv.input_depth, pv.input_len, pv.heap_size, pv.final_pc,
        pv.cu_final, pv.r0,
    )  # fmt: skip
    forged = BatchProof(_proof().public_output, encode_proof(facts, bundle.proof.to_bytes()))
    with pytest.raises(BatchVerificationError, match="proof rejected"):
        verify_batch(forged, forged.public_output, CONFIG, allow_test_mode=True)


def test_tampered_witness_cannot_be_proven() -> None:
    runtime, tree, batch = _setup()
    kin = runtime.batch_input(batch, TreeState(tree), tree=tree)
    kin = dataclasses.replace(kin, verify_signatures=False)
    assert kin.state_witness is not None
    witness = state_witness.decode(kin.state_witness)
    position = next(
        i for i, r in enumerate(witness.records)
        if isinstance(r, state_witness.PresentRecord) and r.lamports
    )  # fmt: skip
    records = list(witness.records)
    records[position] = dataclasses.replace(
        records[position], lamports=records[position].lamports + 1
    )
    tampered = dataclasses.replace(witness, records=tuple(records)).encode()
    with pytest.raises(BatchProvingError, match="does not match the old root"):
        prove_kernel_input(runtime, dataclasses.replace(kin, state_witness=tampered), config=CONFIG)


def test_a_batch_that_runs_a_program_needs_the_switch() -> None:
    world = sample_world(2)
    users = world.users
    context = BlockContext(10, 1_700_000_000, frozenset([world.blockhash]))
    batch = BatchInput(1, bytes(32), (), (Block(context, (world.spl_transfer(*users, 5),)),))
    with pytest.raises(ProvingUnavailableError, match="kernel-switch"):
        Runtime().prove_batch(batch, world.state, config=CONFIG, verify_signatures=False)


@pytest.mark.slow
def test_sol_transfer_with_signature_verification() -> None:
    runtime, tree, _ = _setup()
    world = sample_world(3)
    context = BlockContext(10, 1_700_000_000, frozenset([world.blockhash]))
    tx = world.sol_transfer(world.users[0], world.users[1].pubkey(), 1234)
    batch = BatchInput(4, tree.root(), (), (Block(context, (tx,)),))
    figures: dict[str, object] = {}
    from heliostat.runtime.proving import prove_batch

    proof = prove_batch(runtime, batch, TreeState(tree), tree=tree, config=CONFIG, figures=figures)
    verify_batch(proof, proof.public_output, CONFIG)
    assert (
        proof.public_output
        == runtime.execute_batch(batch, TreeState(tree), tree=tree).public_output
    )
    assert figures["kernel_rows"] > 800_000  # type: ignore[operator]
