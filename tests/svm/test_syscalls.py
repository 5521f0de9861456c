"""Syscalls one by one, on a real MemoryMap and TestHost, against independent references."""

from __future__ import annotations

import hashlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from solders.compute_budget import ComputeBudget
from solders.instruction import AccountMeta
from solders.pubkey import Pubkey

from heliostat.svm import programs
from heliostat.svm.elf import load_elf
from heliostat.svm.errors import AccessViolation, ComputeBudgetExceeded
from heliostat.svm.host import CpiRequest, SiblingInstruction
from heliostat.svm.memory import MM_HEAP_START, MM_PROGRAM_START, MemoryMap
from heliostat.svm.syscall_api import SyscallContext
from heliostat.svm.syscalls import costs, hashing, pda, sysvars
from heliostat.svm.syscalls.errors import (
    AbortError,
    BadSeedsError,
    CopyOverlappingError,
    InvalidStringError,
    PanicError,
    ReturnDataTooLargeError,
    UnalignedPointerError,
    UnsupportedSyscallError,
    rust_utf8_error,
)
from heliostat.svm.syscalls.registry import IMPLEMENTED, NOT_IMPLEMENTED, default_registry
from heliostat.testing import TestHost

PROGRAM = Pubkey(bytes([7] * 32))
HEAP = MM_HEAP_START
REGISTRY = default_registry()


def context(remaining: int = 1_000_000, host: TestHost | None = None) -> SyscallContext:
    memory = MemoryMap(b"\x01\x02\x03\x04" * 16, b"", 32 * 1024)
    return SyscallContext(memory, host or TestHost(PROGRAM), remaining)


def call(ctx: SyscallContext, name: str, *args: int) -> int:
    bound = REGISTRY.by_name(name)
    assert bound is not None
    padded = (*args, 0, 0, 0, 0, 0)[:5]
    return bound.function(ctx, *padded)


def put_slices(ctx: SyscallContext, at: int, parts: list[bytes]) -> int:
    """Write `parts` into the heap after `at` + a VmSlice array; return the array address."""
    cursor = at + 16 * len(parts)
    descriptors = b""
    for part in parts:
        ctx.memory.write(cursor, part) if part else None
        descriptors += struct.pack("<QQ", cursor, len(part))
        cursor += len(part)
    ctx.memory.write(at, descriptors)
    return at


# -- cost table ---------------------------------------------------------------------------


def test_cost_table_matches_the_agave_version_litesvm_runs() -> None:
    """solders' ComputeBudget wraps agave's SVMTransactionExecutionCost/Budget defaults."""
    upstream = ComputeBudget(False)
    cost = costs.DEFAULT_COST
    for field in cost.__dataclass_fields__:
        assert getattr(cost, field) == getattr(upstream, field), field
    budget = costs.DEFAULT_BUDGET
    for field in budget.__dataclass_fields__:
        assert getattr(budget, field) == getattr(upstream, field), field


@pytest.mark.parametrize(
    ("n", "units"), [(0, 10), (2500, 10), (2749, 10), (2750, 11), (10**6, 4000)]
)
def test_mem_op_cost_is_the_larger_of_base_and_per_byte(n: int, units: int) -> None:
    assert costs.DEFAULT_COST.mem_op(n) == units


def test_heap_cost_charges_pages_beyond_the_first() -> None:
    assert costs.heap_cost(32 * 1024) == 0
    assert costs.heap_cost(32 * 1024 + 1) == 8
    assert costs.heap_cost(256 * 1024) == 7 * 8


# -- memory ops ---------------------------------------------------------------------------


@given(st.binary(max_size=64), st.integers(0, 40), st.integers(0, 40), st.integers(0, 24))
def test_memmove_is_python_slicing(data: bytes, src: int, dst: int, n: int) -> None:
    ctx = context()
    ctx.memory.write(HEAP, data.ljust(128, b"\0"))
    expected = bytearray(data.ljust(128, b"\0"))
    expected[dst : dst + n] = expected[src : src + n]
    assert call(ctx, "sol_memmove_", HEAP + dst, HEAP + src, n) == 0
    assert ctx.memory.read(HEAP, 128) == bytes(expected)
    assert ctx.remaining == 1_000_000 - 10


@given(st.integers(0, 40), st.integers(0, 40), st.integers(1, 24))
def test_memcpy_rejects_exactly_the_overlapping_ranges(src: int, dst: int, n: int) -> None:
    ctx = context()
    overlapping = src < dst + n and dst < src + n
    if overlapping:
        with pytest.raises(CopyOverlappingError):
            call(ctx, "sol_memcpy_", HEAP + dst, HEAP + src, n)
    else:
        assert call(ctx, "sol_memcpy_", HEAP + dst, HEAP + src, n) == 0
    assert ctx.remaining == 1_000_000 - 10  # charged either way, before the check


@given(st.binary(min_size=1, max_size=32), st.binary(min_size=1, max_size=32))
def test_memcmp_writes_the_first_byte_difference(a: bytes, b: bytes) -> None:
    n = min(len(a), len(b))
    ctx = context()
    ctx.memory.write(HEAP, a[:n])
    ctx.memory.write(HEAP + 64, b[:n])
    call(ctx, "sol_memcmp_", HEAP, HEAP + 64, n, HEAP + 128)
    result = struct.unpack("<i", ctx.memory.read(HEAP + 128, 4))[0]
    diffs = [x - y for x, y in zip(a[:n], b[:n], strict=True) if x != y]
    assert result == (diffs[0] if diffs else 0)


def test_memcmp_result_must_be_aligned_and_writable() -> None:
    ctx = context()
    with pytest.raises(UnalignedPointerError):
        call(ctx, "sol_memcmp_", HEAP, HEAP, 4, HEAP + 130)
    with pytest.raises(AccessViolation):  # the program region is read-only
        call(ctx, "sol_memcmp_", HEAP, HEAP, 4, MM_PROGRAM_START)


def test_memset_fills_and_checks_the_destination() -> None:
    ctx = context()
    call(ctx, "sol_memset_", HEAP + 3, 0x1AB, 5)
    assert ctx.memory.read(HEAP, 10) == b"\0\0\0" + b"\xab" * 5 + b"\0\0"
    with pytest.raises(AccessViolation):
        call(ctx, "sol_memset_", HEAP + 32 * 1024 - 2, 0, 5)


def test_syscall_charges_before_it_fails_on_budget() -> None:
    ctx = context(remaining=5)
    with pytest.raises(ComputeBudgetExceeded):
        call(ctx, "sol_memset_", HEAP, 0, 1)
    assert ctx.remaining == 0
    assert ctx.memory.read(HEAP, 1) == b"\0"  # nothing happened


# -- logging ------------------------------------------------------------------------------


def test_log_formats() -> None:
    host = TestHost(PROGRAM)
    ctx = context(host=host)
    ctx.memory.write(HEAP, b"hi there")
    call(ctx, "sol_log_", HEAP, 8)
    call(ctx, "sol_log_64_", 1, 0xFF, 0, 1 << 63, 10)
    ctx.memory.write(HEAP + 100, bytes(PROGRAM))
    call(ctx, "sol_log_pubkey", HEAP + 100)
    addr = put_slices(ctx, HEAP + 200, [b"ab", b"", b"xyz"])
    call(ctx, "sol_log_data", addr, 3)
    call(ctx, "sol_log_compute_units_")
    assert host.logs.messages == [
        "Program log: hi there",
        "Program log: 0x1, 0xff, 0x0, 0x8000000000000000, 0xa",
        f"Program log: {PROGRAM}",
        "Program data: YWI=  eHl6",
        f"Program consumption: {ctx.remaining} units remaining",
    ]
    # sol_log_ 100 (len < 100) + log_64 100 + pubkey 100 + log_data (100 + 3*100 + 5) + 100
    assert ctx.remaining == 1_000_000 - 805


def test_log_charges_per_byte_beyond_100() -> None:
    ctx = context()
    ctx.memory.write(HEAP, b"x" * 300)
    call(ctx, "sol_log_", HEAP, 300)
    assert ctx.remaining == 1_000_000 - 300


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff", "invalid utf-8 sequence of 1 bytes from index 0"),
        (b"ok\xe2\x82", "incomplete utf-8 byte sequence from index 2"),
        (b"\xe0\x80\x80", "invalid utf-8 sequence of 1 bytes from index 0"),
        (b"a\xf0\x90\x80A", "invalid utf-8 sequence of 3 bytes from index 1"),
        (b"\xed\xa0\x80", "invalid utf-8 sequence of 1 bytes from index 0"),
        (b"\xc3(", "invalid utf-8 sequence of 1 bytes from index 0"),
    ],
)
def test_rust_utf8_error_messages(data: bytes, message: str) -> None:
    assert rust_utf8_error(data) == message


@given(st.binary(max_size=12))
def test_rust_utf8_error_finds_the_same_valid_prefix_as_python(data: bytes) -> None:
    try:
        data.decode()
    except UnicodeDecodeError as error:
        assert f"from index {error.start}" in rust_utf8_error(data)
    else:
        with pytest.raises(ValueError):
            rust_utf8_error(data)


def test_invalid_string_carries_rust_debug_bytes() -> None:
    ctx = context()
    ctx.memory.write(HEAP, b"a\xc3b")
    with pytest.raises(InvalidStringError, match=r"index 1: \[97, 195, 98\]$"):
        call(ctx, "sol_log_", HEAP, 3)


def test_panic_and_abort() -> None:
    ctx = context()
    ctx.memory.write(HEAP, b"main.c")
    with pytest.raises(PanicError, match=r"^SBF program Panicked in main.c at 12:3$"):
        call(ctx, "sol_panic_", HEAP, 6, 12, 3)
    assert ctx.remaining == 1_000_000 - 6
    with pytest.raises(AbortError, match=r"^SBF program panicked$"):
        call(ctx, "abort")


# -- hashes and program addresses ---------------------------------------------------------


@given(st.lists(st.binary(max_size=40), max_size=4))
def test_hash_syscalls_hash_the_concatenation(parts: list[bytes]) -> None:
    ctx = context()
    addr = put_slices(ctx, HEAP, parts)
    call(ctx, "sol_sha256", addr, len(parts), HEAP + 4096)
    assert ctx.memory.read(HEAP + 4096, 32) == hashlib.sha256(b"".join(parts)).digest()
    call(ctx, "sol_keccak256", addr, len(parts), HEAP + 4096)
    assert ctx.memory.read(HEAP + 4096, 32) == hashing.keccak256([b"".join(parts)])
    per_slice = sum(max(10, len(p) // 2) for p in parts)
    assert ctx.remaining == 1_000_000 - 2 * (85 + per_slice)


def test_keccak256_known_vector() -> None:
    # Keccak-256 of the empty string (the original Keccak padding, not SHA3-256)
    assert hashing.keccak256([]).hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )


def test_large_keccak_inputs_are_remembered_by_content_only() -> None:
    # inputs of 4 KiB and more are memoised: the same bytes, however sliced, give the
    # reference digest, and one changed byte is never answered from the memo
    from Crypto.Hash import keccak

    def reference(data: bytes) -> bytes:
        return keccak.new(digest_bits=256, data=data).digest()

    data = bytes(range(256)) * 40
    for _ in range(2):
        assert hashing.keccak256([data]) == reference(data)
        assert hashing.keccak256([data[:100], data[100:]]) == reference(data)
    changed = data[:5000] + bytes([data[5000] ^ 1]) + data[5001:]
    assert hashing.keccak256([changed]) == reference(changed) != reference(data)
    for i in range(20):  # more distinct inputs than the memo holds
        other = bytes([i]) * 5000
        assert hashing.keccak256([other]) == reference(other)
    assert hashing.keccak256([data]) == reference(data)


@given(st.binary(min_size=32, max_size=32))
def test_on_curve_matches_solders(point: bytes) -> None:
    assert pda.is_on_curve(point) == Pubkey(point).is_on_curve()


def test_on_curve_known_points() -> None:
    base_point = bytes.fromhex("58" + "66" * 31)  # RFC 8032 B, y = 4/5
    assert pda.is_on_curve(base_point)
    assert not pda.is_on_curve(bytes(Pubkey.find_program_address([b"x"], PROGRAM)[0]))


@given(st.lists(st.binary(max_size=32), max_size=4))
def test_program_addresses_match_solders(seeds: list[bytes]) -> None:
    ctx = context()
    addr = put_slices(ctx, HEAP, seeds)
    ctx.memory.write(HEAP + 4000, bytes(PROGRAM))
    expected, bump = Pubkey.find_program_address(seeds, PROGRAM)
    assert call(ctx, "sol_try_find_program_address", addr, len(seeds), HEAP + 4000,
                HEAP + 5000, HEAP + 5100) == 0  # fmt: skip
    assert ctx.memory.read(HEAP + 5000, 32) == bytes(expected)
    assert ctx.memory.read(HEAP + 5100, 1)[0] == bump
    assert ctx.remaining == 1_000_000 - 1500 * (256 - bump)
    with_bump = put_slices(ctx, HEAP + 6000, [*seeds, bytes([bump])])
    assert call(ctx, "sol_create_program_address", with_bump, len(seeds) + 1, HEAP + 4000,
                HEAP + 7000) == 0  # fmt: skip
    assert ctx.memory.read(HEAP + 7000, 32) == bytes(expected)


def test_program_address_seed_limits() -> None:
    ctx = context()
    addr = put_slices(ctx, HEAP, [b"s"] * 17)
    with pytest.raises(BadSeedsError):
        call(ctx, "sol_create_program_address", addr, 17, HEAP + 4000, HEAP + 5000)
    addr = put_slices(ctx, HEAP, [bytes(33)])
    with pytest.raises(BadSeedsError):
        call(ctx, "sol_create_program_address", addr, 1, HEAP + 4000, HEAP + 5000)
    assert pda.create_program_address([b"s"] * 17, bytes(PROGRAM)) is None


def test_slice_arrays_must_be_aligned() -> None:
    ctx = context()
    with pytest.raises(UnalignedPointerError):
        call(ctx, "sol_sha256", HEAP + 4, 1, HEAP + 4096)


# -- sysvars, return data, context ---------------------------------------------------------


def test_typed_sysvar_getters_write_the_repr_c_structs() -> None:
    host = TestHost(PROGRAM)
    ctx = context(host=host)
    call(ctx, "sol_get_epoch_schedule_sysvar", HEAP)
    fields = struct.unpack("<QQ?7xQQ", ctx.memory.read(HEAP, 40))
    assert fields == (432000, 432000, True, 14, 524256)
    call(ctx, "sol_get_rent_sysvar", HEAP + 64)
    assert struct.unpack("<QdB7x", ctx.memory.read(HEAP + 64, 24)) == (6960, 1.0, 50)
    assert ctx.remaining == 1_000_000 - (100 + 40) - (100 + 24)
    with pytest.raises(UnalignedPointerError):
        call(ctx, "sol_get_clock_sysvar", HEAP + 1)


def test_get_sysvar_return_codes() -> None:
    ctx = context()
    ctx.memory.write(HEAP, bytes(sysvars.RENT) + bytes(PROGRAM))
    assert call(ctx, "sol_get_sysvar", HEAP, HEAP + 100, 0, 17) == 0
    assert ctx.memory.read(HEAP + 100, 17) == host_rent()
    assert call(ctx, "sol_get_sysvar", HEAP, HEAP + 100, 10, 8) == 1  # past the end
    assert call(ctx, "sol_get_sysvar", HEAP + 32, HEAP + 100, 0, 8) == 2  # not a sysvar
    assert ctx.remaining == 1_000_000 - 3 * 110


def host_rent() -> bytes:
    data = TestHost(PROGRAM).sysvar(sysvars.RENT)
    assert data is not None
    return data


def test_return_data_round_trip_and_limit() -> None:
    host = TestHost(PROGRAM)
    ctx = context(host=host)
    ctx.memory.write(HEAP, b"result!")
    call(ctx, "sol_set_return_data", HEAP, 7)
    assert host.return_data() == (PROGRAM, b"result!")
    assert call(ctx, "sol_get_return_data", HEAP + 100, 3, HEAP + 200) == 7
    assert ctx.memory.read(HEAP + 100, 4) == b"res\0"
    assert ctx.memory.read(HEAP + 200, 32) == bytes(PROGRAM)
    with pytest.raises(ReturnDataTooLargeError):
        call(ctx, "sol_set_return_data", HEAP, 1025)
    with pytest.raises(CopyOverlappingError):  # the two outputs of get_return_data overlap
        call(ctx, "sol_get_return_data", HEAP + 100, 7, HEAP + 104)


def test_stack_height_and_sibling_instructions() -> None:
    sibling = SiblingInstruction(programs.MEMO_ID, b"memo", (AccountMeta(PROGRAM, True, False),))
    nested = SiblingInstruction(PROGRAM, b"inner", ())
    host = TestHost(PROGRAM, processed=[(1, sibling), (2, nested)])
    ctx = context(host=host)
    assert call(ctx, "sol_get_stack_height") == 1
    # first call: lengths do not match, so the syscall reports them
    assert call(ctx, "sol_get_processed_sibling_instruction", 0, HEAP, HEAP + 64, HEAP + 128,
                HEAP + 256) == 1  # fmt: skip
    assert struct.unpack("<QQ", ctx.memory.read(HEAP, 16)) == (4, 1)
    assert call(ctx, "sol_get_processed_sibling_instruction", 0, HEAP, HEAP + 64, HEAP + 128,
                HEAP + 256) == 1  # fmt: skip
    assert ctx.memory.read(HEAP + 64, 32) == bytes(programs.MEMO_ID)
    assert ctx.memory.read(HEAP + 128, 4) == b"memo"
    assert ctx.memory.read(HEAP + 256, 34) == bytes(PROGRAM) + b"\1\0"
    assert call(ctx, "sol_get_processed_sibling_instruction", 1, HEAP, HEAP + 64, HEAP + 128,
                HEAP + 256) == 0  # fmt: skip


def test_cpi_and_unimplemented_syscalls_fail_clearly() -> None:
    ctx = context()
    with pytest.raises(UnsupportedSyscallError, match=r"sol_invoke_signed_c.*cross-program"):
        call(ctx, "sol_invoke_signed_c", HEAP, HEAP, 0, HEAP, 0)
    with pytest.raises(UnsupportedSyscallError, match="sol_curve_group_op"):
        call(ctx, "sol_curve_group_op", 0, 0, 0, 0)
    assert TestHost(PROGRAM).program_id == PROGRAM
    assert CpiRequest("rust", 1, 2, 3, 4, 5).abi == "rust"


def test_registry_is_mainnets_set() -> None:
    names = {bound.name for bound in REGISTRY}
    assert names == set(IMPLEMENTED) | set(NOT_IMPLEMENTED)
    for gated_off in ("sol_blake3", "sol_big_mod_exp", "sol_remaining_compute_units",
                      "sol_get_fees_sysvar"):  # fmt: skip
        assert gated_off not in names


@pytest.mark.parametrize(
    "binary",
    [programs.spl_token, programs.token_2022, programs.associated_token, programs.memo],
    ids=["spl_token", "token_2022", "associated_token", "memo"],
)
def test_every_real_program_binds_all_its_imports(binary) -> None:  # type: ignore[no-untyped-def]
    # deployment rules: an import missing from the registry would be an UnresolvedSymbol
    executable = load_elf(binary().elf, default_registry(), reject_broken_elfs=True)
    assert set(executable.imported_syscalls) <= {bound.name for bound in REGISTRY}
