"""The ELF loader: real programs load; each rejection is produced by a real malformed ELF."""

from __future__ import annotations

import struct

import pytest
from vm_helpers import make_registry

from heliostat.svm import programs
from heliostat.svm.elf import load_elf
from heliostat.svm.elf_builder import assemble_elf
from heliostat.svm.elf_parser import Elf64
from heliostat.svm.errors import ElfError, UnsupportedInstruction, VerifierError
from heliostat.svm.executable import ENTRYPOINT_KEY, function_key
from heliostat.svm.memory import MM_PROGRAM_START, MemoryMap
from heliostat.svm.syscall_api import SyscallRegistry, syscall_key
from heliostat.svm.vm import run

SPL_TOKEN_IMPORTS = {
    "sol_get_sysvar",
    "sol_log_",
    "sol_memcmp_",
    "sol_memcpy_",
    "sol_memset_",
    "sol_panic_",
    "sol_set_return_data",
}  # FACTS.md


def full_registry() -> SyscallRegistry:
    from heliostat.svm.syscalls.registry import default_registry

    return default_registry()


@pytest.mark.parametrize(
    "binary",
    [programs.spl_token, programs.token_2022, programs.associated_token, programs.memo],
    ids=["spl_token", "token_2022", "associated_token", "memo"],
)
def test_real_programs_load(binary) -> None:  # type: ignore[no-untyped-def]
    exe = load_elf(binary().elf, full_registry())
    assert exe.text_vaddr == MM_PROGRAM_START + 0x120 or exe.text_vaddr > MM_PROGRAM_START
    assert 0 <= exe.entry_pc < exe.text_len
    assert exe.function_registry[ENTRYPOINT_KEY] == exe.entry_pc
    # every internal call target is registered under the hash of its pc
    for key, pc in exe.function_registry.items():
        assert key == ENTRYPOINT_KEY or key == function_key(pc)
    assert {b.name for b in exe.syscalls} <= set(exe.imported_syscalls)


def test_spl_token_imports() -> None:
    exe = load_elf(programs.spl_token().elf, full_registry())
    assert set(exe.imported_syscalls) == SPL_TOKEN_IMPORTS


def test_toolchain_programs_load_and_noop_runs() -> None:
    toolchain = pytest.importorskip("heliostat.toolchain")
    registry = full_registry()
    names = toolchain.list_programs()
    assert "noop" in names and "compute_heavy" in names
    for name in names:
        load_elf(toolchain.program_elf(name), registry)
    exe = load_elf(toolchain.program_elf("noop"), registry)
    result = run(exe, MemoryMap.for_executable(exe, bytes(48)), None, 1000)
    assert result.fault is None and result.r0 == 0 and result.compute_units_consumed == 2


SOURCE = """
    lddw r1, rodata+2
    ldxb r0, [r1+0]
    call f
    mov64 r6, r0
    call sol_log_       # pc 5
    mov64 r0, r6
    exit
f:                      # pc 8
    add64 r0, 1
    exit
"""


def build(**kw: object) -> bytes:
    return assemble_elf(SOURCE, rodata=b"\x00\x00\x29\x00", **kw)  # type: ignore[arg-type]


def test_relocations_and_calls() -> None:
    logged: list[int] = []
    registry = SyscallRegistry()
    registry.register("sol_log_", lambda ctx, *args: logged.append(args[0]) or 0)
    exe = load_elf(build(), registry)
    assert exe.imported_syscalls == ("sol_log_",)
    assert [b.name for b in exe.syscalls] == ["sol_log_"]
    assert exe.function_registry[function_key(8)] == 8
    for fast in (False, True):
        result = run(exe, MemoryMap.for_executable(exe), None, 100, fast=fast)
        assert result.fault is None and result.r0 == 0x29 + 1
    assert logged == [MM_PROGRAM_START + exe.text_offset + exe.text_len * 8 + 2] * 2


def test_unknown_syscall_fails_at_load_or_at_call() -> None:
    with pytest.raises(ElfError) as info:
        load_elf(build(), SyscallRegistry())
    assert info.value.kind == "UnresolvedSymbol"
    assert (
        str(info.value) == "Unresolved symbol (sol_log_) at instruction #41 (ELF file offset 0x148)"
    )
    exe = load_elf(build(), SyscallRegistry(), reject_broken_elfs=False)
    result = run(exe, MemoryMap.for_executable(exe), None, 100)
    assert isinstance(result.fault, UnsupportedInstruction) and result.fault.pc == 5


def patched(elf: bytes, offset: int, fmt: str, value: int) -> bytes:
    data = bytearray(elf)
    struct.pack_into(fmt, data, offset, value)
    return bytes(data)


def section_header(elf: bytes, name: str) -> int:
    parsed = Elf64(elf)
    for index, sh in enumerate(parsed.sections):
        if parsed.section_name(sh) == name.encode():
            return parsed.header.e_shoff + 64 * index
    raise KeyError(name)


def relocation(elf: bytes, index: int) -> int:
    parsed = Elf64(elf)
    rel = section_header(elf, ".rel.dyn")
    del parsed
    return struct.unpack_from("<Q", elf, rel + 24)[0] + 16 * index


def corrupt_cases() -> list[tuple[str, bytes, str, str]]:
    elf = build()
    text_sh = section_header(elf, ".text")
    ro_sh = section_header(elf, ".rodata")
    text_off = struct.unpack_from("<Q", elf, text_sh + 24)[0]
    cases = [
        ("truncated", elf[:40], "ValueOutOfBounds", "Offset or value is out of bounds"),
        (
            "magic",
            b"\x7fELG" + elf[4:],
            "FailedToParse",
            "Failed to parse ELF file: invalid file header",
        ),
        (
            "class32",
            patched(elf, 4, "<B", 1),
            "FailedToParse",
            "Failed to parse ELF file: invalid file header",
        ),
        (
            "big endian",
            patched(elf, 5, "<B", 2),
            "FailedToParse",
            "Failed to parse ELF file: invalid file header",
        ),
        (
            "sbpf v1",
            patched(elf, 48, "<I", 1),
            "UnsupportedSBPFVersion",
            "Detected sbpf_version required by the executable which are not enabled",
        ),
        ("osabi", patched(elf, 7, "<B", 3), "WrongAbi", "Incompatible ELF: wrong ABI"),
        ("machine", patched(elf, 18, "<H", 62), "WrongMachine", "Incompatible ELF: wrong machine"),
        ("type", patched(elf, 16, "<H", 2), "WrongType", "Incompatible ELF: wrong type"),
        (
            "entry outside text",
            patched(elf, 24, "<Q", 0),
            "EntrypointOutOfBounds",
            "Entrypoint out of bounds",
        ),
        (
            "entry misaligned",
            patched(elf, 24, "<Q", text_off + 4),
            "InvalidEntrypoint",
            "Invalid entrypoint",
        ),
        (
            "two text sections",
            patched(elf, ro_sh, "<I", struct.unpack_from("<I", elf, text_sh)[0]),
            "NotOneTextSection",
            "Multiple or no text sections, consider removing llc option: -function-sections",
        ),
        (
            "shstrndx",
            patched(elf, 62, "<H", 200),
            "FailedToParse",
            "Failed to parse ELF file: invalid file header",
        ),
        (
            "section table past the end",
            patched(elf, 40, "<Q", len(elf) - 8),
            "ValueOutOfBounds",
            "Offset or value is out of bounds",
        ),
        (
            "section table misaligned",
            patched(elf, 40, "<Q", struct.unpack_from("<Q", elf, 40)[0] - 4),
            "FailedToParse",
            "Failed to parse ELF file: invalid alignment",
        ),
        (
            "section past the end",
            patched(elf, ro_sh + 32, "<Q", 1 << 20),
            "FailedToParse",
            "Failed to parse ELF file: values overlap",
        ),
        (
            "sections out of order",
            patched(elf, ro_sh + 24, "<Q", 8),
            "FailedToParse",
            "Failed to parse ELF file: values overlap",
        ),
        (
            "text into rodata",
            patched(elf, text_sh + 32, "<Q", 0x100),
            "FailedToParse",
            "Failed to parse ELF file: sections not in ascending order",
        ),
        (
            "unknown relocation",
            patched(elf, relocation(elf, 0) + 8, "<Q", 2),
            "UnknownRelocation",
            "Relocation failed, unknown type 2",
        ),
        (
            "bad symbol index",
            patched(elf, relocation(elf, 1) + 8, "<Q", (99 << 32) | 10),
            "UnknownSymbol",
            "Unknown symbol with index 99",
        ),
        (
            "relative call out of bounds",
            patched(elf, text_off + 3 * 8 + 4, "<i", 1000),
            "RelativeJumpOutOfBounds",
            "Relative jump out of bounds at instruction #3",
        ),
        (
            "lddw of address 0",
            patched(patched(elf, text_off + 4, "<I", 0), text_off + 12, "<I", 0),
            "InvalidVirtualAddress",
            "Relocation failed, invalid referenced virtual address 0x0",
        ),
        (
            ".data section",
            build(rodata_section=".data", rodata_flags=3),
            "WritableSectionNotSupported",
            "Found writable section (.data) in ELF, read-write data not supported",
        ),
        (
            ".bss section",
            build(rodata_section=".bss"),
            "WritableSectionNotSupported",
            "Found writable section (.bss) in ELF, read-write data not supported",
        ),
        (
            "long section name",
            build(rodata_section=".rodata.very.long.name"),
            "FailedToParse",
            "Failed to parse ELF file: "
            "Section or symbol name `.rodata.very.lon` is longer than `16` bytes",
        ),
    ]
    return cases


@pytest.mark.parametrize(
    ("label", "elf", "kind", "message"),
    corrupt_cases(),
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "",
)
def test_rejects_malformed_elf(label: str, elf: bytes, kind: str, message: str) -> None:
    with pytest.raises(ElfError) as info:
        load_elf(elf, make_registry_with_log())
    assert info.value.kind == kind, label
    assert str(info.value) == message, label


def make_registry_with_log() -> SyscallRegistry:
    registry = make_registry()
    registry.register("sol_log_", lambda ctx, *args: 0)
    return registry


def test_writable_data_rel_ro_is_allowed() -> None:
    load_elf(build(rodata_section=".data.rel.ro", rodata_flags=3), make_registry_with_log())


def test_verifier_runs_after_loading() -> None:
    elf = assemble_elf("mov64 r0, 1\ndiv64 r0, 0\nexit")
    with pytest.raises(VerifierError, match=r"division by 0 \(insn #1\)"):
        load_elf(elf, SyscallRegistry())


def test_syscall_hash_collision_with_a_function_is_refused() -> None:
    # register a "syscall" whose key equals the key of the function at pc 8
    registry = make_registry_with_log()
    registry._by_key[function_key(8)] = registry.by_name("sol_log_")  # type: ignore[assignment]
    with pytest.raises(ElfError, match="Symbol hash collision"):
        load_elf(build(), registry)
    assert syscall_key("sol_log_") == 0x207559BD  # FACTS.md
