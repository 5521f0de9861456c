"""The ELFs the toolchain writes have the shape Solana's v0 loader expects, and no more."""

from __future__ import annotations

import io
import struct

import pytest
from elftools.elf.elffile import ELFFile

from heliostat.toolchain import link_sources, list_programs, program_elf
from heliostat.toolchain.build import build_program
from heliostat.toolchain.syscalls import SOLANA_SYSCALLS

PROGRAM_REGION = 0x1_0000_0000
V0_CLASSES = {0, 1, 2, 3, 4, 5, 7}  # LD, LDX, ST, STX, ALU32, JMP, ALU64 (no JMP32 = 6)


def _relocations(elf: ELFFile) -> list[tuple[int, int, int]]:
    rel = elf.get_section_by_name(".rel.dyn")
    if rel is None:
        return []
    return [(r["r_offset"], r["r_info_type"], r["r_info_sym"]) for r in rel.iter_relocations()]


@pytest.fixture(scope="module", params=list_programs())
def program(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    return request.param, program_elf(request.param)


def test_header_says_sbpf_v0_shared_object(program: tuple[str, bytes]) -> None:
    _, data = program
    elf = ELFFile(io.BytesIO(data))
    assert elf.header["e_type"] == "ET_DYN"
    assert elf.header["e_flags"] == 0
    assert struct.unpack_from("<H", data, 18)[0] == 263  # EM_SBPF
    text = elf.get_section_by_name(".text")
    assert elf.header["e_entry"] == text["sh_addr"] == 0x120
    for section in elf.iter_sections():
        if section["sh_flags"] & 2:  # SHF_ALLOC: placed at its file offset
            assert section["sh_addr"] == section["sh_offset"], section.name
        assert not section.name.startswith((".data", ".bss")), section.name


def test_only_relative_and_syscall_relocations(program: tuple[str, bytes]) -> None:
    _, data = program
    elf = ELFFile(io.BytesIO(data))
    dynsym = elf.get_section_by_name(".dynsym")
    text = elf.get_section_by_name(".text")
    text_end = text["sh_offset"] + text["sh_size"]
    for offset, rtype, sym_index in _relocations(elf):
        assert rtype in (8, 10)
        if rtype == 10:
            assert data[offset] == 0x85  # a call
            sym = dynsym.get_symbol(sym_index)
            assert sym.name in SOLANA_SYSCALLS or sym["st_value"] != 0
            continue
        assert sym_index == 0
        if offset < text_end:
            assert data[offset] == 0x18  # lddw: the address is split over both immediates
            low, high = struct.unpack_from("<I4xI", data, offset + 4)
            address = (high << 32) | low
        else:
            low, high = struct.unpack_from("<II", data, offset)
            assert low == 0  # v0: the loader reads the address from the upper half
            address = high
        assert text["sh_addr"] <= address < len(data)


def test_text_is_sbpf_v0_only(program: tuple[str, bytes]) -> None:
    _, data = program
    text = ELFFile(io.BytesIO(data)).get_section_by_name(".text").data()
    pc = 0
    while pc < len(text) // 8:
        opcode, regs, _, imm = struct.unpack_from("<BBhi", text, pc * 8)
        assert opcode & 7 in V0_CLASSES, f"pc {pc}: opcode {opcode:#x}"
        assert opcode & 0xE0 != 0xC0 or opcode & 7 not in (3,), "no atomics"
        if opcode == 0x8D:  # callx: v0 reads the register from the immediate
            assert regs == 0 and 0 <= imm < 10
        pc += 2 if opcode == 0x18 else 1


@pytest.mark.parametrize("name", ["dispatch", "echo", "fault_call_depth", "hello"])
def test_internal_calls_land_on_function_starts(name: str) -> None:
    linked = link_sources(name)
    starts = set(linked.functions.values())
    text = linked.elf[linked.text_offset : linked.text_offset + linked.text_size]
    calls = 0
    for pc in range(len(text) // 8):
        opcode, _, _, imm = struct.unpack_from("<BBhi", text, pc * 8)
        if opcode == 0x85 and imm != -1:
            calls += 1
            assert linked.text_offset + (pc + 1 + imm) * 8 in starts
    assert calls > 0 or name == "hello"


def test_function_table_points_into_text() -> None:
    linked = link_sources("dispatch")
    elf = ELFFile(io.BytesIO(linked.elf))
    rodata = elf.get_section_by_name(".rodata")
    in_rodata = [
        off for off, rtype, _ in _relocations(elf)
        if rtype == 8 and rodata["sh_offset"] <= off < rodata["sh_offset"] + rodata["sh_size"]
    ]  # fmt: skip
    targets = {struct.unpack_from("<I", linked.elf, off + 4)[0] for off in in_rodata}
    ops = {linked.functions[f"op_{n}"] for n in ("add", "mul", "xor", "rotate", "mix")}
    assert ops <= targets  # five function pointers, plus the five name strings
    assert len(in_rodata) == 10


def test_builds_are_reproducible(tmp_path: pytest.TempPathFactory) -> None:
    again = build_program("dispatch", output=tmp_path / "dispatch.so")  # type: ignore[operator]
    assert again.read_bytes() == program_elf("dispatch")
