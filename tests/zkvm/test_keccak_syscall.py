"""sol_keccak256 as a proven syscall (syscall_keccak_chip + keccak_slice/absorb + keccak_chip).

Programs hash slices of their input (and of their stack) into a result on the stack and
return the digest's first 8 bytes; the digest is compared with pycryptodome's Keccak-256 (the
original padding 0x01, as Solana and Ethereum use — not hashlib's SHA3). Soundness: the
generated trace is tampered with, proven with the prover's checks off, and the verifier
rejects it.
"""

from __future__ import annotations

import numpy as np
import pytest
from Crypto.Hash import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from zk_helpers import CONFIG, check, prove_and_verify
from zk_programs import run_asm

from heliostat.stark.debug import check_machine
from heliostat.zkvm import keccak_absorb_chip as absorb
from heliostat.zkvm import keccak_sponge as ks
from heliostat.zkvm.errors import ZkvmVerificationError
from heliostat.zkvm.execution import Execution
from heliostat.zkvm.machine import table_names, zkvm_machine
from heliostat.zkvm.prover import prove_trace
from heliostat.zkvm.trace_gen import MachineTrace, _pad
from heliostat.zkvm.verifier import verify

DATA = bytes((7 * i + 3) & 0xFF for i in range(1200))
INPUT = 0x4_0000_0000


def _program(pieces: list[tuple[int, int]], result: int = -61) -> str:
    """Slices (input offset, length) recorded at r10 − 512, the digest at r10 + ``result``."""
    lines = ["mov64 r6, r10", "add64 r6, -512"]
    for i, (offset, length) in enumerate(pieces):
        lines += [
            f"lddw r1, {INPUT + offset}",
            f"stxdw [r6+{16 * i}], r1",
            f"lddw r1, {length}",
            f"stxdw [r6+{16 * i + 8}], r1",
        ]
    lines += [
        "mov64 r1, r6",
        f"mov64 r2, {len(pieces)}",
        "mov64 r3, r10",
        f"add64 r3, {result}",
        "call sol_keccak256",
        "mov64 r7, r10",
        f"add64 r7, {result}",
        "ldxdw r0, [r7+0]",
        "exit",
    ]
    return "\n".join(lines)


def _run(pieces: list[tuple[int, int]], result: int = -61) -> tuple[Execution, bytes]:
    ex = run_asm(_program(pieces, result), DATA, budget=100_000, syscalls=True)
    assert ex.result.fault is None, ex.result.fault
    message = b"".join(DATA[o : o + n] for o, n in pieces)
    digest = keccak.new(data=message, digest_bits=256).digest()
    assert ex.result.r0 == int.from_bytes(digest[:8], "little")
    return ex, digest


@pytest.mark.parametrize("length", [0, 1, 135, 136, 137, 1000])
def test_one_slice_is_proven_exactly(length: int) -> None:
    ex, _ = _run([(5, length)])
    trace = check(ex)
    assert trace.rows["keccak_absorb"] == ks.block_count(length)
    assert trace.rows["keccak"] >= 25 * ks.block_count(length)
    # the meter: 85 + max(10, len / 2) for the syscall, one unit per instruction
    assert trace.public_values.compute_units == ex.result.compute_units_consumed


def test_several_slices_and_an_empty_one() -> None:
    # unaligned starts, an empty slice, a slice crossing blocks, the result at an odd address
    ex, _ = _run([(3, 5), (100, 0), (1, 140), (999, 7)], result=-45)
    assert check(ex).rows["keccak_slice"] == 4


def test_no_slices() -> None:
    ex, _ = _run([])
    trace = check(ex)
    assert trace.rows["keccak_slice"] == 0 and trace.rows["keccak_absorb"] == 1


@settings(max_examples=4, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 900), st.integers(0, 150)), max_size=3),
    st.integers(-100, -33),
)
def test_random_slices_are_proven_exactly(pieces: list[tuple[int, int]], result: int) -> None:
    # the VM (pycryptodome) and the AIR's exact checker agree on any split and alignment
    ex, _ = _run(pieces, result)
    assert check(ex).rows["keccak_slice"] == len(pieces)


def test_result_overwrites_a_slice() -> None:
    # priority_hash_update in c/runtime: keccak256(hash ‖ record) written back over hash
    source = """
mov64 r6, r10
add64 r6, -512
mov64 r7, r10
add64 r7, -64
stdw [r7+0], 0x1234
stdw [r7+8], 0x5678
stxdw [r6+0], r7
stdw [r6+8], 32
lddw r1, 0x400000002
stxdw [r6+16], r1
stdw [r6+24], 41
mov64 r1, r6
mov64 r2, 2
mov64 r3, r7
call sol_keccak256
ldxdw r0, [r7+8]
exit
"""
    ex = run_asm(source, DATA, budget=10_000, syscalls=True)
    message = (0x1234).to_bytes(8, "little") + (0x5678).to_bytes(8, "little") + bytes(16)
    digest = keccak.new(data=message + DATA[2:43], digest_bits=256).digest()
    assert ex.result.r0 == int.from_bytes(digest[8:16], "little")
    prove_and_verify(ex)


def test_proofs_verify() -> None:
    ex, _ = _run([(3, 5), (100, 0), (1, 1000)], result=-45)
    bundle = prove_and_verify(ex)
    assert bundle.rows["keccak_absorb"] == ks.block_count(1005)


# --- soundness: tamper, prove with checks off, the verifier rejects ---------------------------


def _tampered(trace: MachineTrace, name: str, change: dict[tuple[int, int], int]) -> MachineTrace:
    table = trace.tables[name].copy()
    for (row, col), value in change.items():
        table[row, col] = value
    trace.tables[name] = table
    trace.traces[list(table_names()).index(name)] = _pad(table, name)
    return trace


def _assert_rejected(trace: MachineTrace) -> None:
    machine = zkvm_machine()
    assert check_machine(machine, trace.traces, trace.public_values.to_fields())
    bundle = prove_trace(trace, CONFIG, check_constraints=False)
    with pytest.raises(ZkvmVerificationError):
        verify(bundle.proof.to_bytes(), bundle.public_values, CONFIG)


def _honest() -> MachineTrace:
    ex, _ = _run([(3, 100)])
    return check(ex)


def test_wrong_digest_byte() -> None:
    trace = _honest()
    col = absorb.LAYOUT.index("out")
    value = int(trace.tables["keccak_absorb"][0, col])
    _assert_rejected(_tampered(trace, "keccak_absorb", {(0, col): value ^ 0x0100}))


def test_wrong_input_byte_absorbed() -> None:
    # the prover absorbs another byte 7 than memory holds, XOR kept consistent
    trace = _honest()
    t = trace.tables["keccak_absorb"]
    bb, xb, sb = (absorb.LAYOUT.index(n) + 7 for n in ("bb", "xb", "sb"))
    forged = int(t[0, bb]) ^ 0x40
    _assert_rejected(
        _tampered(trace, "keccak_absorb", {(0, bb): forged, (0, xb): forged ^ int(t[0, sb])})
    )


def test_wrong_padding() -> None:
    # a 100-byte message claimed as two blocks (an extra block of padding)
    from heliostat.zkvm.syscall_keccak_chip import SyscallKeccakChip

    trace = _honest()
    lay = SyscallKeccakChip().layout
    t = trace.tables["syscall_keccak"]
    nb, rem = lay.index("nb"), lay.index("rem")
    change = {(0, nb): int(t[0, nb]) + 1, (0, rem): int(t[0, rem]) - ks.RATE}
    _assert_rejected(_tampered(trace, "syscall_keccak", change))


def test_digest_written_elsewhere() -> None:
    from heliostat.zkvm.syscall_keccak_chip import SyscallKeccakChip

    trace = _honest()
    dq = SyscallKeccakChip().layout.index("dq")
    t = trace.tables["syscall_keccak"]
    _assert_rejected(_tampered(trace, "syscall_keccak", {(0, dq): int(t[0, dq]) + 1}))


def test_reference_padding_matches_pycryptodome() -> None:
    for n in (0, 1, 135, 136, 137, 271, 272):
        data = DATA[:n]
        assert len(ks.padded(data)) == ks.RATE * ks.block_count(n)
        state = ks.states(data)[-1]
        digest = b"".join(lane.to_bytes(8, "little") for lane in state[:4])
        assert digest == keccak.new(data=data, digest_bits=256).digest()
    assert np.all(
        np.array([ks.slice_cost(n) for n in (0, 19, 20, 21, 400)]) == [10, 10, 10, 10, 200]
    )
