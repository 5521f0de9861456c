"""Several code images in one proof, each bound to its public hash; rows keep image and space.

The statement lists image 0 (where the run starts and halts) and up to MAX_IMAGES − 1 more.
Tampering tests prove with the prover-side checks off and show the verifier rejects.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from zk_helpers import CONFIG
from zk_programs import run_asm

from heliostat.stark.config import FAST_TEST
from heliostat.stark.debug import check_machine
from heliostat.zkvm import program_chip
from heliostat.zkvm.alu_chip import AluChip
from heliostat.zkvm.buses import MAX_IMAGES
from heliostat.zkvm.call_chip import CallChip
from heliostat.zkvm.errors import (
    PublicValuesError,
    UnsupportedExecutionError,
    ZkvmVerificationError,
)
from heliostat.zkvm.images import header as images_header
from heliostat.zkvm.images import image_entry
from heliostat.zkvm.machine import table_names, zkvm_machine
from heliostat.zkvm.prover import prove_trace
from heliostat.zkvm.trace_gen import MachineTrace, _commitments, _pad, generate
from heliostat.zkvm.verifier import verify

MAIN = "mov64 r0, 5\nadd64 r0, 7\nmov64 r1, r0\nexit"
OTHER = "mov64 r0, 1\nexit"
THIRD = "mov64 r2, 9\nmov64 r0, r2\nexit"


def _two_images() -> tuple[MachineTrace, object]:
    ex = run_asm(MAIN)
    other = run_asm(OTHER).executable
    return generate(ex, images=[other]), other


def _rejected(trace: MachineTrace) -> None:
    bundle = prove_trace(trace, CONFIG, check_constraints=False)
    with pytest.raises(ZkvmVerificationError):
        verify(bundle.proof.to_bytes(), bundle.public_values, CONFIG)


def test_listed_images_are_committed_and_checked() -> None:
    ex = run_asm(MAIN)
    others = [run_asm(OTHER).executable, run_asm(THIRD).executable]
    trace = generate(ex, images=others)
    assert not check_machine(zkvm_machine(), trace.traces, trace.public_values.to_fields())
    pv = trace.public_values
    assert pv.images == tuple(image_entry(e) for e in others)
    bundle = prove_trace(trace, CONFIG)
    verify(bundle.proof.to_bytes(), pv, CONFIG)
    # another hash for image 1, image 2 dropped, or the images swapped: all rejected
    forged = dataclasses.replace(pv.images[0], hash=(1,) * 8)
    for images in ((forged, pv.images[1]), pv.images[:1], pv.images[::-1]):
        with pytest.raises(ZkvmVerificationError):
            verify(bundle.proof.to_bytes(), dataclasses.replace(pv, images=images), CONFIG)


def test_too_many_images_are_refused() -> None:
    ex = run_asm(MAIN)
    other = run_asm(OTHER).executable
    with pytest.raises(UnsupportedExecutionError):
        generate(ex, images=[other] * MAX_IMAGES)
    pv = generate(ex).public_values
    entry = image_entry(other)
    with pytest.raises(PublicValuesError):
        dataclasses.replace(pv, images=(entry,) * MAX_IMAGES).to_fields()


def test_a_row_cannot_change_its_image() -> None:
    # the prover moves one instruction row into image 1 (no switch row): the STATE chain breaks
    trace, _ = _two_images()
    table = trace.tables["alu"].copy()
    table[1, AluChip().layout.index("image")] = 1
    trace.traces[table_names().index("alu")] = _pad(table)
    _rejected(trace)


def test_a_row_cannot_change_its_address_space() -> None:
    # one row claims address space 1 (its registers would be another activation's): the
    # STATE chain breaks, and its register accesses find no chain in space 1
    trace, _ = _two_images()
    table = trace.tables["alu"].copy()
    table[1, AluChip().layout.index("space")] = 1
    trace.traces[table_names().index("alu")] = _pad(table)
    _rejected(trace)


def test_a_fetch_is_not_answered_by_another_image() -> None:
    # image 1 is the same code as image 0; the prover files the program rows under image 1
    # (consistent header, leaves in tree 1): image 0's fetches find no row
    # and its Merkle paths are rebuilt for tree 1, so only the fetches' image is wrong
    ex = run_asm(MAIN)
    trace = generate(ex, images=[ex.executable])
    table = trace.tables["program"].copy()
    table[:, program_chip.LAYOUT.index("image")] = 1
    permutes = np.zeros((0, 16), np.uint64)
    tables = trace.tables
    rebuilt = _commitments(
        ex, table, tables["input"], tables["output"], trace.public_values, permutes, [ex.executable]
    )
    for name, t in [("program", table), *rebuilt.items()]:
        trace.traces[table_names().index(name)] = _pad(t, name)
    _rejected(trace)


def test_the_honest_two_image_trace_verifies_without_checks() -> None:
    # the baseline of the tampering tests above: untouched, the same path verifies
    trace, _ = _two_images()
    bundle = prove_trace(trace, FAST_TEST, check_constraints=False)
    verify(bundle.proof.to_bytes(), bundle.public_values, FAST_TEST)
    assert np.all(trace.tables["program"][:, program_chip.LAYOUT.index("image")] == 0)


def test_callx_takes_its_images_text_start() -> None:
    # callx reads the text start of its row's image by an IMAGE lookup; claiming image 1's
    # header (another program, listed) for an image-0 row is caught
    source = """
        mov64 r6, 11
        lddw r1, TARGET
        callx r1
        add64 r0, r6
        exit
        mov64 r6, 99
        mov64 r0, 1
        exit
    """.replace("TARGET", hex(0x100000000 + 8 * 6))
    ex = run_asm(source)
    other = run_asm("mov64 r0, 1\nexit\n" + "mov64 r0, 2\n" * 9 + "exit").executable
    trace = generate(ex, images=[other])
    table = trace.tables["call"].copy()
    lay = CallChip().layout
    callx = table[:, lay.index("xreg")] != 0
    assert callx.sum() == 1
    header = table[callx, lay.span("h_img")]
    assert header.shape == (1, 5) and header[0, 2] == ex.executable.text_len
    table[callx, lay.span("h_img")] = images_header(other)
    trace.traces[table_names().index("call")] = _pad(table)
    _rejected(trace)
