"""The project's sBPF linker: BPF relocatable objects in, a Solana-loadable v0 ELF out.

`ld.lld` cannot produce what Solana's v0 loader expects, so this does the few things needed
(anza-xyz/sbpf src/elf.rs, `relocate`, is the specification of what the loader does next):

- `.text*` sections are concatenated into `.text`; `.rodata*` and `.data.rel.ro*` into
  `.rodata`; writable data is refused (the loader rejects `.data`/`.bss`).
- Calls between functions (R_BPF_64_32 against a defined symbol) become pc-relative
  immediates, which the loader turns into murmur3 keys of the target pc. The one immediate it
  cannot take, -1 (the loader reads it as "relocated syscall"), goes through a .dynsym
  function entry instead.
- Calls to undefined names that are Solana syscalls become R_BPF_64_32 dynamic relocations
  against undefined .dynsym entries; the loader hashes the name.
- `lddw` of an address (R_BPF_64_64) gets the section-relative address in its two immediates
  and an R_BPF_64_RELATIVE relocation; the loader adds the program region base 0x1_0000_0000.
- Pointers in .rodata (R_BPF_64_ABS64, function tables) get the address in the upper 32 bits
  of the slot and an R_BPF_64_RELATIVE relocation: for v0, the loader reads the upper half,
  adds 0x1_0000_0000 and writes back all 64 bits (the same encoding Solana's toolchain
  emits for v0, seen in SPL Token's .data.rel.ro).
- `callx` gets its register in the immediate, where v0 reads it (LLVM puts it in dst).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import Section, SymbolTableSection

from heliostat.svm.opcodes import CALL_IMM, CALL_REG
from heliostat.toolchain import elf_writer
from heliostat.toolchain.errors import (
    DuplicateSymbolError,
    InvalidInstructionError,
    LinkError,
    MissingEntrypointError,
    ObjectFormatError,
    UndefinedSymbolError,
    UnknownRelocationError,
    UnsupportedSectionError,
    WritableSectionError,
)
from heliostat.toolchain.syscalls import SOLANA_SYSCALLS
from heliostat.toolchain.v0_instructions import LDDW, find_v0_violation

R_BPF_NONE = 0
R_BPF_64_64 = 1
R_BPF_64_ABS64 = 2
R_BPF_64_32 = 10

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
TEXT, RODATA = "text", "rodata"


@dataclass(frozen=True)
class LinkedProgram:
    """A linked program: the ELF bytes and what a reader of them may want to know."""

    elf: bytes
    entry: int  # vaddr of the entry function (relative to the program region)
    text_offset: int  # vaddr (= file offset) of .text
    text_size: int
    rodata_size: int
    functions: dict[str, int]  # global and local function names -> vaddr
    syscalls: tuple[str, ...]  # imported syscall names, in .dynsym order


@dataclass
class _Placed:
    """Where an input section landed: in which output section, at which offset."""

    kind: str
    offset: int


@dataclass
class _Object:
    name: str
    elf: ELFFile
    placed: dict[int, _Placed] = field(default_factory=dict)
    symtab: SymbolTableSection | None = None


def _open(name: str, data: bytes) -> _Object:
    try:
        elf = ELFFile(io.BytesIO(data))
        header = elf.header
    except (ELFError, struct.error, ValueError) as exc:
        raise ObjectFormatError(name, "ELF header", "a BPF object", f"unparsable ({exc})") from exc
    if elf.elfclass != 64 or not elf.little_endian:
        raise ObjectFormatError(
            name, "class", "ELF64 little-endian", (elf.elfclass, elf.little_endian)
        )
    if header["e_type"] != "ET_REL":
        raise ObjectFormatError(name, "e_type", "ET_REL", header["e_type"])
    if header["e_machine"] not in ("EM_BPF", 247):
        raise ObjectFormatError(name, "e_machine", "EM_BPF", header["e_machine"])
    obj = _Object(name, elf)
    for section in elf.iter_sections():
        if isinstance(section, SymbolTableSection) and section["sh_type"] == "SHT_SYMTAB":
            obj.symtab = section
    return obj


def _classify(obj: _Object, section: Section) -> str | None:
    """Name the output section an input section goes to (None: drop it), or raise."""
    flags = section["sh_flags"]
    if not flags & SHF_ALLOC or section.name == ".eh_frame":
        return None  # debug info, address-significance tables, BTF, unwind tables
    if flags & SHF_EXECINSTR:
        return TEXT
    if section.name.startswith(".data.rel.ro"):
        return RODATA  # written only by the loader's relocations
    if flags & SHF_WRITE or section["sh_type"] == "SHT_NOBITS":
        if section["sh_size"] == 0:
            return None
        raise WritableSectionError(obj.name, section.name, section["sh_size"])
    if section["sh_type"] == "SHT_PROGBITS":
        return RODATA
    raise UnsupportedSectionError(obj.name, section.name)


class _Linker:
    def __init__(self, objects: Sequence[tuple[str, bytes]], entry: str, syscalls: frozenset[str]):
        self.objects = [_open(name, data) for name, data in objects]
        self.entry_name = entry
        self.syscalls = syscalls
        self.text = bytearray()
        self.rodata = bytearray()
        self.globals: dict[str, tuple[int, str, bool]] = {}  # name -> (vaddr, object, weak)
        self.functions: dict[str, int] = {}
        self.symbols: list[elf_writer.DynamicSymbol] = []
        self.symbol_index: dict[str, int] = {}
        self.relocations: list[elf_writer.DynamicRelocation] = []
        self.relocated_slots: set[int] = set()
        self.text_base = 0
        self.rodata_base = 0

    # -- layout -------------------------------------------------------------------------
    def lay_out(self) -> None:
        for obj in self.objects:
            for index, section in enumerate(obj.elf.iter_sections()):
                kind = _classify(obj, section)
                if kind is None:
                    continue
                out = self.text if kind == TEXT else self.rodata
                align = max(int(section["sh_addralign"]), 8 if kind == TEXT else 1)
                out.extend(bytes(-len(out) % align))
                obj.placed[index] = _Placed(kind, len(out))
                out.extend(section.data())
        if len(self.text) == 0:
            raise LinkError("no input object has any code")
        self.text_base = elf_writer.header_size()
        self.rodata_base = elf_writer.rodata_start(self.text_base, len(self.text))

    def vaddr(self, placed: _Placed, offset: int) -> int:
        base = self.text_base if placed.kind == TEXT else self.rodata_base
        return base + placed.offset + offset

    # -- symbols ------------------------------------------------------------------------
    def collect_globals(self) -> None:
        for obj in self.objects:
            if obj.symtab is None:
                continue
            for sym in obj.symtab.iter_symbols():
                shndx, bind = sym["st_shndx"], sym["st_info"]["bind"]
                if shndx == "SHN_COMMON":
                    raise WritableSectionError(
                        obj.name, f"COMMON symbol {sym.name}", sym["st_size"]
                    )
                if not isinstance(shndx, int) or shndx not in obj.placed:
                    continue
                vaddr = self.vaddr(obj.placed[shndx], sym["st_value"])
                if sym["st_info"]["type"] == "STT_FUNC":
                    self.functions.setdefault(sym.name, vaddr)
                if bind not in ("STB_GLOBAL", "STB_WEAK"):
                    continue
                weak = bind == "STB_WEAK"
                if sym.name in self.globals:
                    _, first, first_weak = self.globals[sym.name]
                    if not weak and not first_weak:
                        raise DuplicateSymbolError(sym.name, first, obj.name)
                    if weak or not first_weak:
                        continue  # a strong definition wins over a weak one
                self.globals[sym.name] = (vaddr, obj.name, weak)
                if sym["st_info"]["type"] == "STT_FUNC":
                    self.functions[sym.name] = vaddr

    def resolve(self, obj: _Object, sym_index: int) -> tuple[str, int | None]:
        """Return a symbol's name and vaddr (None when no object defines it)."""
        if obj.symtab is None or sym_index >= obj.symtab.num_symbols():
            raise ObjectFormatError(obj.name, "relocation symbol", "in .symtab", sym_index)
        sym = obj.symtab.get_symbol(sym_index)
        shndx = sym["st_shndx"]
        if isinstance(shndx, int) and shndx in obj.placed:
            return sym.name, self.vaddr(obj.placed[shndx], sym["st_value"])
        if shndx == "SHN_UNDEF" and sym.name in self.globals:
            return sym.name, self.globals[sym.name][0]
        if shndx == "SHN_UNDEF":
            return sym.name, None
        raise UndefinedSymbolError(sym.name, obj.name, f"defined in a dropped section ({shndx})")

    def dynamic_symbol(self, name: str, value: int = 0, size: int = 0) -> int:
        if name not in self.symbol_index:
            self.symbols.append(elf_writer.DynamicSymbol(name, value, size))
            self.symbol_index[name] = len(self.symbols)  # .dynsym index (0 is the null entry)
        return self.symbol_index[name]

    # -- relocations --------------------------------------------------------------------
    def relocate(self) -> None:
        for obj in self.objects:
            for section in obj.elf.iter_sections():
                if section["sh_type"] == "SHT_RELA":
                    raise UnknownRelocationError(obj.name, section.name, 0, -1)
                if not isinstance(section, RelocationSection):
                    continue
                target = obj.placed.get(section["sh_info"])
                if target is None:
                    continue  # relocations of dropped (debug, unwind) sections
                target_name = obj.elf.get_section(section["sh_info"]).name
                for reloc in section.iter_relocations():
                    self.apply(obj, target, target_name, reloc["r_offset"],
                               reloc["r_info_type"], reloc["r_info_sym"])  # fmt: skip

    def apply(self, obj: _Object, target: _Placed, target_name: str, offset: int,
              rtype: int, sym_index: int) -> None:  # fmt: skip
        out = self.text if target.kind == TEXT else self.rodata
        pos = target.offset + offset
        where = self.vaddr(target, offset)
        if rtype == R_BPF_NONE:
            return
        if rtype == R_BPF_64_32 and target.kind == TEXT and out[pos] == CALL_IMM:
            self.relocate_call(obj, pos, where, sym_index)
        elif rtype == R_BPF_64_64 and target.kind == TEXT and out[pos] == LDDW:
            name, addr = self.resolve(obj, sym_index)
            if addr is None:
                raise UndefinedSymbolError(name, obj.name, "its address is loaded with lddw")
            low, high = struct.unpack_from("<I4xI", out, pos + 4)
            value = addr + ((high << 32) | low)  # REL: the addend sits in the immediates
            struct.pack_into("<I4xI", out, pos + 4, value & 0xFFFFFFFF, value >> 32)
            self.relocations.append(
                elf_writer.DynamicRelocation(where, elf_writer.R_BPF_64_RELATIVE)
            )
        elif rtype == R_BPF_64_ABS64 and target.kind == RODATA:
            name, addr = self.resolve(obj, sym_index)
            if addr is None:
                raise UndefinedSymbolError(name, obj.name, "a pointer to it sits in read-only data")
            value = addr + struct.unpack_from("<Q", out, pos)[0]
            struct.pack_into("<Q", out, pos, value << 32)  # v0: the loader reads the high half
            self.relocations.append(
                elf_writer.DynamicRelocation(where, elf_writer.R_BPF_64_RELATIVE)
            )
        else:
            raise UnknownRelocationError(obj.name, target_name, offset, rtype)

    def relocate_call(self, obj: _Object, pos: int, where: int, sym_index: int) -> None:
        name, addr = self.resolve(obj, sym_index)
        imm = struct.unpack_from("<i", self.text, pos + 4)[0]
        self.relocated_slots.add(pos)
        if addr is None:
            if name not in self.syscalls:
                raise UndefinedSymbolError(
                    name, obj.name, "called, but no object defines it and it is not a syscall"
                )
            struct.pack_into("<i", self.text, pos + 4, -1)
            index = self.dynamic_symbol(name)
            self.relocations.append(elf_writer.DynamicRelocation(where, R_BPF_64_32, index))
            return
        # LLVM writes (addend - 8) / 8 into the immediate of a symbol-relative call.
        target = addr + imm * 8 + 8
        self.call_to(pos, where, target, name)

    def call_to(self, pos: int, where: int, target: int, name: str) -> None:
        text_end = self.text_base + len(self.text)
        if not self.text_base <= target < text_end or (target - self.text_base) % 8:
            raise LinkError(f"call at {where:#x} to {name!r} lands outside .text ({target:#x})")
        relative = (target - where) // 8 - 1
        if relative != -1:
            struct.pack_into("<i", self.text, pos + 4, relative)
            return
        # -1 is how the loader recognises a relocated syscall slot; use a .dynsym function.
        struct.pack_into("<i", self.text, pos + 4, -1)
        index = self.dynamic_symbol(f"function_{target:x}", target)
        self.relocations.append(elf_writer.DynamicRelocation(where, R_BPF_64_32, index))

    def fix_unrelocated_self_calls(self) -> None:
        """Route calls LLVM resolved to their own slot (immediate -1) via .dynsym."""
        for pos in range(0, len(self.text), 8):
            if pos in self.relocated_slots or self.text[pos] != CALL_IMM:
                continue
            if struct.unpack_from("<i", self.text, pos + 4)[0] == -1:
                where = self.text_base + pos
                self.call_to(pos, where, where, f"function_{where:x}")

    def fix_callx(self) -> None:
        for pos in range(0, len(self.text), 8):
            if self.text[pos] == CALL_REG:
                regs = self.text[pos + 1]
                reg = (regs & 0x0F) or (regs >> 4)  # LLVM: dst; older encodings: src
                self.text[pos + 1] = 0
                struct.pack_into("<i", self.text, pos + 4, reg)

    # -- output -------------------------------------------------------------------------
    def finish(self) -> LinkedProgram:
        entry = self.globals.get(self.entry_name)
        if entry is None or self.entry_name not in self.functions:
            raise MissingEntrypointError(self.entry_name)
        entry_vaddr = entry[0]
        violation = find_v0_violation(self.text)
        if violation is not None:
            pc, opcode, why = violation
            owner = max(
                (n for n, v in self.functions.items() if v <= self.text_base + pc * 8),
                key=lambda n: self.functions[n],
                default="?",
            )
            raise InvalidInstructionError(f".text (in {owner})", pc, opcode, why)
        # The entry function is the first .dynsym entry, as in Solana's own builds.
        self.symbols.insert(0, elf_writer.DynamicSymbol(self.entry_name, entry_vaddr))
        relocations = [
            elf_writer.DynamicRelocation(r.offset, r.type, r.symbol + 1 if r.symbol else 0)
            for r in self.relocations
        ]
        image = elf_writer.ElfImage(bytes(self.text), bytes(self.rodata), entry_vaddr,
                                    self.symbols, relocations)  # fmt: skip
        syscalls = tuple(s.name for s in self.symbols if not s.defined)
        return LinkedProgram(
            elf=elf_writer.write_elf(image),
            entry=entry_vaddr,
            text_offset=self.text_base,
            text_size=len(self.text),
            rodata_size=len(self.rodata),
            functions=dict(self.functions),
            syscalls=syscalls,
        )


def link(
    objects: Sequence[tuple[str, bytes]],
    *,
    entry: str = "entrypoint",
    extra_syscalls: Iterable[str] = (),
) -> LinkedProgram:
    """Link named BPF object files into an sBPF v0 shared object.

    ``extra_syscalls`` adds names (beyond Solana's, see `heliostat.toolchain.syscalls`) that
    undefined calls may bind to; a call to any other undefined name is an error.
    """
    linker = _Linker(objects, entry, SOLANA_SYSCALLS | frozenset(extra_syscalls))
    linker.lay_out()
    linker.collect_globals()
    linker.relocate()
    linker.fix_unrelocated_self_calls()
    linker.fix_callx()
    return linker.finish()
