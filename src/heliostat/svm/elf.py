"""The sBPF v0 ELF loader: validation, relocation, syscall and function binding, verification.

Follows sbpf v0.21's lenient loader (`Executable::load_with_lenient_parser`, src/elf.rs) with
agave's runtime configuration for v0 programs (optimize_rodata off, so the program region
starts at 0x1_0000_0000 and holds every read-only section at its sh_addr), then runs the
verifier, as agave does before a program can execute.
"""

from __future__ import annotations

import struct

from heliostat.svm import opcodes as op
from heliostat.svm.elf_parser import (
    ELFOSABI_NONE,
    EM_BPF,
    EM_SBPF,
    ET_DYN,
    Elf64,
    Section,
    Symbol,
)
from heliostat.svm.errors import ElfError
from heliostat.svm.executable import ENTRYPOINT_KEY, Executable, build, function_key
from heliostat.svm.memory import MM_REGION_SIZE, MM_STACK_START
from heliostat.svm.syscall_api import SyscallRegistry, syscall_key
from heliostat.svm.verifier import verify

R_BPF_64_64, R_BPF_64_RELATIVE, R_BPF_64_32 = 1, 8, 10
RO_SECTION_NAMES = (b".text", b".rodata", b".data.rel.ro", b".eh_frame")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_SLOT = struct.Struct("<BBhi")


def load_elf(
    elf_bytes: bytes, registry: SyscallRegistry, *, reject_broken_elfs: bool = True
) -> Executable:
    """Load, relocate and verify an sBPF v0 ELF, binding syscalls against ``registry``.

    ``reject_broken_elfs`` is agave's deployment-time strictness: unknown syscall names and
    sections whose address differs from their file offset are rejected. Raises `ElfError`
    or `VerifierError`; never anything else on malformed input.
    """
    data = bytes(elf_bytes)
    if len(data) < 52:
        raise ElfError("ValueOutOfBounds", "Offset or value is out of bounds")
    e_flags = _U32.unpack_from(data, 48)[0]
    if e_flags != 0:
        raise ElfError(
            "UnsupportedSBPFVersion",
            "Detected sbpf_version required by the executable which are not enabled",
            e_flags=e_flags,
        )
    elf = Elf64(data)
    _validate(elf)
    text = _section(elf, b".text")
    text_vaddr = min(text.sh_addr + MM_REGION_SIZE, (1 << 64) - 1)
    if (reject_broken_elfs and text.sh_addr != text.sh_offset) or text_vaddr > MM_STACK_START:
        raise ElfError("ValueOutOfBounds", "Offset or value is out of bounds")
    image = bytearray(data)
    functions: dict[int, int] = {}
    imported = _relocate(elf, image, text, registry, functions, reject_broken_elfs)
    offset = max(elf.header.e_entry - text.sh_addr, 0)
    if offset % op.INSN_SIZE:
        raise ElfError("InvalidEntrypoint", "Invalid entrypoint")
    entry_pc = offset // op.INSN_SIZE
    functions.pop(ENTRYPOINT_KEY, None)
    _register_function(functions, registry, ENTRYPOINT_KEY, entry_pc)
    ro_section = _ro_section(elf, bytes(image), reject_broken_elfs)
    text_start, text_end = text.file_range()
    text_bytes = ro_section[text.sh_addr : text.sh_addr + (text_end - text_start)]
    verify(text_bytes)
    return build(
        ro_section=ro_section,
        ro_vaddr=MM_REGION_SIZE,
        text_offset=text.sh_addr,
        text_len=len(text_bytes) // op.INSN_SIZE,
        entry_pc=entry_pc,
        function_registry=functions,
        registry=registry,
        imported_syscalls=tuple(imported),
    )


def _section(elf: Elf64, name: bytes) -> Section:
    for sh in elf.sections:
        if elf.section_name(sh) == name:
            return sh
    raise ElfError("SectionNotFound", f"Section not found: {name.decode()}")


def _name_or_none(elf: Elf64, sh: Section) -> bytes | None:
    try:
        return elf.section_name(sh)
    except ElfError:
        return None


def _validate(elf: Elf64) -> None:
    """Sbpf's `Executable::validate`."""
    h = elf.header
    if h.osabi != ELFOSABI_NONE:
        raise ElfError("WrongAbi", "Incompatible ELF: wrong ABI")
    if h.e_machine not in (EM_BPF, EM_SBPF):
        raise ElfError("WrongMachine", "Incompatible ELF: wrong machine")
    if h.e_type != ET_DYN:
        raise ElfError("WrongType", "Incompatible ELF: wrong type")
    names = [_name_or_none(elf, sh) for sh in elf.sections]
    if sum(1 for name in names if name == b".text") != 1:
        raise ElfError(
            "NotOneTextSection",
            "Multiple or no text sections, consider removing llc option: -function-sections",
        )
    for sh, name in zip(elf.sections, names, strict=True):
        if name is None:
            continue
        writable_data = sh.is_writable() and name.startswith(b".data")
        if name.startswith(b".bss") or (writable_data and not name.startswith(b".data.rel")):
            shown = name.decode("utf-8", errors="replace")
            raise ElfError(
                "WritableSectionNotSupported",
                f"Found writable section ({shown}) in ELF, read-write data not supported",
                section=shown,
            )
    for sh in elf.sections:
        end = sh.sh_offset + sh.sh_size
        if end > (1 << 64) - 1 or end > len(elf.data):
            raise ElfError("ValueOutOfBounds", "Offset or value is out of bounds")
    text = _section(elf, b".text")
    if not text.vm_contains(h.e_entry):
        raise ElfError("EntrypointOutOfBounds", "Entrypoint out of bounds")


def _register_function(
    functions: dict[int, int], registry: SyscallRegistry, key: int, pc: int
) -> int:
    """Sbpf's `register_function_hashed_legacy`: refuse keys that collide."""
    if registry.lookup(key) is not None or functions.get(key, pc) != pc:
        raise ElfError("SymbolHashCollision", f"Symbol hash collision {key:#x}", key=key)
    functions[key] = pc
    return key


def _relocate(
    elf: Elf64,
    image: bytearray,
    text: Section,
    registry: SyscallRegistry,
    functions: dict[int, int],
    reject_broken_elfs: bool,
) -> list[str]:
    """Apply pc-relative call fixups and the dynamic relocations in place; return imports."""
    start, end = text.file_range()
    if end > len(image):
        raise ElfError("ValueOutOfBounds", "Offset or value is out of bounds")
    count = (end - start) // op.INSN_SIZE
    slots = _SLOT.iter_unpack(bytes(image[start : start + count * op.INSN_SIZE]))
    for i, (opcode, _regs, _off, imm) in enumerate(slots):
        if opcode == op.CALL_IMM and imm != -1:
            target = i + 1 + imm
            if not 0 <= target < count:
                raise ElfError(
                    "RelativeJumpOutOfBounds",
                    f"Relative jump out of bounds at instruction #{i}",
                    pc=i,
                )
            key = _register_function(functions, registry, function_key(target), target)
            _U32.pack_into(image, start + i * op.INSN_SIZE + 4, key)
    imported: list[str] = []
    for r_offset, r_info in elf.relocations or ():
        r_type, r_sym = r_info & 0xFFFFFFFF, r_info >> 32
        imm_offset = r_offset + 4
        if r_type == R_BPF_64_64:
            refd = _read_u32(image, imm_offset)
            symbol = _dynamic_symbol(elf, r_sym)
            address = symbol.st_value + refd
            if address < MM_REGION_SIZE:
                address += MM_REGION_SIZE
            _write_u32(image, imm_offset, address & 0xFFFFFFFF)
            _write_u32(image, imm_offset + op.INSN_SIZE, (address >> 32) & 0xFFFFFFFF)
        elif r_type == R_BPF_64_RELATIVE:
            if start <= r_offset < end:
                low = _read_u32(image, imm_offset)
                high = _read_u32(image, r_offset + op.INSN_SIZE + 4)
                address = (high << 32) | low
                if address == 0:
                    raise ElfError(
                        "InvalidVirtualAddress",
                        "Relocation failed, invalid referenced virtual address 0x0",
                        address=0,
                    )
                if address < MM_REGION_SIZE:
                    address += MM_REGION_SIZE
                _write_u32(image, imm_offset, address & 0xFFFFFFFF)
                _write_u32(image, r_offset + op.INSN_SIZE + 4, address >> 32)
            else:
                # Data relocation: the 32-bit value at r_offset + 4 is an address in the
                # program region; old toolchains wrote it there, so sbpf keeps reading it there.
                address = MM_REGION_SIZE + _read_u32(image, imm_offset)
                _write_u64(image, r_offset, address)
        elif r_type == R_BPF_64_32:
            symbol = _dynamic_symbol(elf, r_sym)
            try:
                raw_name = elf.dynamic_symbol_name(symbol.st_name)
            except ElfError:
                raise ElfError(
                    "UnknownSymbol",
                    f"Unknown symbol with index {symbol.st_name}",
                    index=symbol.st_name,
                ) from None
            if symbol.is_function() and symbol.st_value != 0:
                if not text.vm_contains(symbol.st_value):
                    raise ElfError("ValueOutOfBounds", "Offset or value is out of bounds")
                target = (symbol.st_value - text.sh_addr) // op.INSN_SIZE
                # sbpf keys a function by its pc, except one named "entrypoint"
                key = ENTRYPOINT_KEY if raw_name == b"entrypoint" else function_key(target)
                key = _register_function(functions, registry, key, target)
            else:
                key = syscall_key(raw_name)
                name = raw_name.decode("utf-8", errors="replace")
                if reject_broken_elfs and registry.lookup(key) is None:
                    pc = r_offset // op.INSN_SIZE
                    raise ElfError(
                        "UnresolvedSymbol",
                        f"Unresolved symbol ({name}) at instruction #{pc} "
                        f"(ELF file offset {r_offset:#x})",
                        symbol=name,
                        pc=pc,
                        offset=r_offset,
                    )
                if name not in imported:
                    imported.append(name)
            _write_u32(image, imm_offset, key)
        else:
            raise ElfError(
                "UnknownRelocation", f"Relocation failed, unknown type {r_type}", type=r_type
            )
    return imported


def _dynamic_symbol(elf: Elf64, index: int) -> Symbol:
    symbols = elf.dynamic_symbols
    if symbols is None or index >= len(symbols):
        raise ElfError("UnknownSymbol", f"Unknown symbol with index {index}", index=index)
    return symbols[index]


def _read_u32(image: bytearray, offset: int) -> int:
    if offset + 4 > len(image):
        raise ElfError("ValueOutOfBounds", "Offset or value is out of bounds")
    return int(_U32.unpack_from(image, offset)[0])


def _write_u32(image: bytearray, offset: int, value: int) -> None:
    if offset + 4 > len(image):
        raise ElfError("ValueOutOfBounds", "Offset or value is out of bounds")
    _U32.pack_into(image, offset, value)


def _write_u64(image: bytearray, offset: int, value: int) -> None:
    if offset + 8 > len(image):
        raise ElfError("ValueOutOfBounds", "Offset or value is out of bounds")
    _U64.pack_into(image, offset, value & ((1 << 64) - 1))


def _ro_section(elf: Elf64, image: bytes, reject_broken_elfs: bool) -> bytes:
    """Build the program region as sbpf's `parse_ro_sections` does with optimize_rodata off.

    One zero-filled buffer from address 0 to the end of the highest read-only section, each
    read-only section copied at its sh_addr.
    """
    highest = 0
    lowest = None
    fill = 0
    invalid_offsets = False
    slices: list[tuple[int, bytes]] = []
    for sh in elf.sections:
        if _name_or_none(elf, sh) not in RO_SECTION_NAMES:
            continue
        if sh.sh_addr != sh.sh_offset:
            invalid_offsets = True
        if (reject_broken_elfs and invalid_offsets) or sh.sh_addr + MM_REGION_SIZE > MM_STACK_START:
            raise ElfError("ValueOutOfBounds", "Offset or value is out of bounds")
        start, end = sh.file_range()
        if end > len(image) or start > end:
            raise ElfError("ValueOutOfBounds", "Offset or value is out of bounds")
        section = image[start:end]
        lowest = sh.sh_addr if lowest is None else min(lowest, sh.sh_addr)
        highest = max(highest, sh.sh_addr + len(section))
        fill += len(section)
        slices.append((sh.sh_addr, section))
    if reject_broken_elfs and lowest is not None and lowest + fill > highest:
        raise ElfError("ValueOutOfBounds", "Offset or value is out of bounds")
    if highest > len(image):
        raise ElfError("ValueOutOfBounds", "Offset or value is out of bounds")
    buffer = bytearray(highest)
    for address, section in slices:
        buffer[address : address + len(section)] = section
    return bytes(buffer)
