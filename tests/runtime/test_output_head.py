"""The public output's head: its digest published first, the kernel's flags and parameters
hash, and the chunked diff hash.

The kernel publishes its input's flags and keccak256 of its fee, rent and sysvar parameters;
`check_kernel_mode` (verify_batch's check) accepts the production values and refuses
signature checks off or another configuration. A diff larger than one 96 KiB chunk is hashed
chunk by chunk, by the kernel and by the Python decoder alike.
"""

from __future__ import annotations

import dataclasses

import pytest
from solders.keypair import Keypair
from solders.system_program import CreateAccountParams, create_account

from heliostat.runtime.errors import KernelOutputError
from heliostat.runtime.genesis import SYSTEM_PROGRAM_ID
from heliostat.runtime.hashing import keccak256
from heliostat.runtime.interface import BatchInput, BatchPublicOutput, Block, BlockContext
from heliostat.runtime.kernel_output import (
    DIFF_CHUNK_BYTES,
    DIGEST_BYTES,
    KERNEL_FLAG_STATE_TREE,
    KERNEL_FLAG_VERIFY_SIGNATURES,
    decode_public_output,
    output_head,
)
from heliostat.runtime.proving import (
    BatchVerificationError,
    check_kernel_mode,
    production_params_hash,
)
from heliostat.runtime.runtime import Runtime, RuntimeConfig
from heliostat.runtime.sample_batch import SOL, SampleWorld, sample_batch, sample_world


def _run(runtime: Runtime, world: SampleWorld, batch: BatchInput, *, sigs: bool = True):
    kin = runtime.batch_input(batch, world.state)
    if not sigs:
        kin = dataclasses.replace(kin, verify_signatures=False)
    return decode_public_output(runtime.run(kin).published)


def _tree_output(runtime: Runtime) -> BatchPublicOutput:
    world = sample_world()
    tree = world.tree()
    batch = sample_batch(world, old_root=tree.root())
    return runtime.execute_batch(batch, world.state, tree=tree).public_output


def test_the_head_shows_flags_and_production_parameters() -> None:
    output = _tree_output(Runtime())
    head = output_head(output.encoded)
    assert head.kernel_flags == KERNEL_FLAG_VERIFY_SIGNATURES | KERNEL_FLAG_STATE_TREE
    assert head.params_hash == production_params_hash()
    assert head.diff_start == DIGEST_BYTES + 200 + 64 * len(output.withdrawals)
    assert output.encoded[head.diff_start - 32 : head.diff_start] == output.state_diff_hash
    # the first 32 bytes: keccak256 of the head, L1's output hash for this batch
    assert output.encoded[:DIGEST_BYTES] == keccak256(head.head(output.encoded))
    check_kernel_mode(output)  # production: accepted


def test_a_digest_that_is_not_the_heads_hash_is_refused() -> None:
    world = sample_world()
    output = Runtime().execute_batch(sample_batch(world), world.state).public_output
    for at in (0, 31, DIGEST_BYTES + 9):  # the digest itself, or a head byte under it
        encoded = bytearray(output.encoded)
        encoded[at] ^= 1
        with pytest.raises(KernelOutputError, match="digest"):
            decode_public_output(bytes(encoded))


def test_a_run_without_the_state_tree_is_refused_unless_test_mode_is_allowed() -> None:
    world = sample_world()
    output = Runtime().execute_batch(sample_batch(world), world.state).public_output
    assert output_head(output.encoded).kernel_flags == KERNEL_FLAG_VERIFY_SIGNATURES
    with pytest.raises(BatchVerificationError) as err:
        check_kernel_mode(output)
    assert err.value.reason == "state_tree_off"
    check_kernel_mode(output, allow_test_mode=True)


def test_signature_checks_off_are_refused_unless_test_mode_is_allowed() -> None:
    world = sample_world()
    output = _run(Runtime(), world, sample_batch(world), sigs=False)
    assert output_head(output.encoded).kernel_flags == 0
    with pytest.raises(BatchVerificationError) as err:
        check_kernel_mode(output)
    assert err.value.reason == "signatures_off"
    check_kernel_mode(output, allow_test_mode=True)


def test_another_fee_changes_the_parameters_hash_and_is_refused() -> None:
    output = _tree_output(Runtime(RuntimeConfig(lamports_per_signature=4999)))
    other = output_head(output.encoded).params_hash
    assert other != production_params_hash()
    with pytest.raises(BatchVerificationError) as err:
        check_kernel_mode(output)
    assert err.value.reason == "parameters"
    check_kernel_mode(output, expected_params_hash=other)


def test_a_tampered_flags_word_is_refused() -> None:
    output = _tree_output(Runtime())
    at = output_head(output.encoded).diff_start - 72
    encoded = bytearray(output.encoded)
    encoded[at] |= 4  # an unknown flag
    with pytest.raises(BatchVerificationError) as err:
        check_kernel_mode(dataclasses.replace(output, encoded=bytes(encoded)))
    assert err.value.reason == "kernel_flags"


def _large_diff_output() -> BatchPublicOutput:
    world = sample_world(2)
    payer, new = world.users[0], Keypair.from_seed(bytes([7] * 32))
    params = CreateAccountParams(
        from_pubkey=payer.pubkey(), to_pubkey=new.pubkey(), lamports=2 * SOL,
        space=200_000, owner=SYSTEM_PROGRAM_ID,
    )  # fmt: skip
    tx = world.tx(payer, [create_account(params)], new)
    context = BlockContext(10, 1_700_000_000, frozenset([world.blockhash]))
    batch = BatchInput(1, bytes(32), (), (Block(context, (tx,)),))
    return Runtime().execute_batch(batch, world.state).public_output


def test_a_diff_of_three_chunks_is_hashed_chunk_by_chunk_by_the_kernel() -> None:
    output = _large_diff_output()  # the decoder already checked the kernel's diff hash
    head = output_head(output.encoded)
    diff = output.encoded[head.diff_start :]
    assert 2 * DIFF_CHUNK_BYTES < len(diff) <= 3 * DIFF_CHUNK_BYTES
    chunks = [diff[i : i + DIFF_CHUNK_BYTES] for i in range(0, len(diff), DIFF_CHUNK_BYTES)]
    assert output.state_diff_hash == keccak256(b"".join(keccak256(c) for c in chunks))
    assert output.state_diff_hash != keccak256(diff)  # not the plain hash of the diff
    # a diff byte changed: the decoder refuses the output
    encoded = bytearray(output.encoded)
    encoded[head.diff_start + DIFF_CHUNK_BYTES + 5] ^= 1
    with pytest.raises(KernelOutputError, match="state diff hash"):
        decode_public_output(bytes(encoded))
