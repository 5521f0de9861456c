"""Writes the sBPF v0 shared object the linker produced, laid out the way Solana's loader reads it.

The layout copies what Solana's own toolchain emits for v0 programs (compare the Memo or SPL
Token ELFs): ELF header, program headers, `.text` at the first 8-aligned offset after them,
`.rodata` right behind it, then `.dynamic`, `.dynsym`, `.dynstr`, `.rel.dyn` and
`.shstrtab`. Every allocated section has `sh_addr == sh_offset`, which agave's loader requires
of `.text` and of the read-only sections (anza-xyz/sbpf src/elf.rs, `load_with_lenient_parser`
and `parse_ro_sections`); `.text` and `.rodata` are adjacent so the loader can borrow them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

EHDR_SIZE = 64
PHDR_SIZE = 56
SHDR_SIZE = 64
SYM_SIZE = 24
REL_SIZE = 16
DYN_SIZE = 16

EM_SBPF = 263  # what current Solana toolchains put in e_machine (e_flags 0 still means v0)
ET_DYN = 3
PT_LOAD, PT_DYNAMIC = 1, 2
PF_X, PF_W, PF_R = 1, 2, 4
SHT_PROGBITS, SHT_STRTAB, SHT_DYNAMIC, SHT_REL, SHT_DYNSYM = 1, 3, 6, 9, 11
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
STB_GLOBAL = 1
STT_NOTYPE, STT_FUNC = 0, 2
DT_NULL, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT = 0, 5, 6, 10, 11
DT_REL, DT_RELSZ, DT_RELENT, DT_TEXTREL, DT_FLAGS = 17, 18, 19, 22, 30
DT_RELCOUNT = 0x6FFFFFFA
DF_TEXTREL = 4

R_BPF_64_RELATIVE = 8
R_BPF_64_32 = 10


@dataclass(frozen=True)
class DynamicSymbol:
    """A .dynsym entry: a syscall (undefined) or a function in .text (value = its vaddr)."""

    name: str
    value: int = 0
    size: int = 0

    @property
    def defined(self) -> bool:
        """Whether the symbol is defined here (a function) rather than imported."""
        return self.value != 0


@dataclass(frozen=True)
class DynamicRelocation:
    """A .rel.dyn entry; ``symbol`` indexes ``ElfImage.symbols`` plus one (0 = no symbol)."""

    offset: int
    type: int
    symbol: int = 0


@dataclass(frozen=True)
class ElfImage:
    """Everything the writer needs; text and rodata are already relocated for their vaddrs."""

    text: bytes
    rodata: bytes
    entry: int
    symbols: Sequence[DynamicSymbol]
    relocations: Sequence[DynamicRelocation]


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def header_size() -> int:
    """Where `.text` starts: after the ELF header and room for four program headers.

    Without .rodata only three are written, but .text stays at 0x120 so that addresses in
    one program do not move when a constant table is added to it.
    """
    return _align(EHDR_SIZE + 4 * PHDR_SIZE, 8)


def rodata_start(text_start: int, text_size: int) -> int:
    """Where `.rodata` starts, right after `.text`, 8-aligned."""
    return _align(text_start + text_size, 8)


class _StringTable:
    def __init__(self) -> None:
        self.data = bytearray(b"\0")
        self._index: dict[str, int] = {"": 0}

    def add(self, name: str) -> int:
        if name not in self._index:
            self._index[name] = len(self.data)
            self.data += name.encode() + b"\0"
        return self._index[name]


def write_elf(image: ElfImage) -> bytes:
    """Lay out and serialise the shared object."""
    has_rodata = len(image.rodata) > 0
    text_off = header_size()
    rodata_off = rodata_start(text_off, len(image.text))

    dynstr = _StringTable()
    dynsym = bytearray(SYM_SIZE)  # entry 0 is the null symbol
    for sym in image.symbols:
        kind = STT_FUNC if sym.defined else STT_NOTYPE
        shndx = 1 if sym.defined else 0  # section 1 is .text
        dynsym += struct.pack(
            "<IBBHQQ", dynstr.add(sym.name), (STB_GLOBAL << 4) | kind, 0, shndx, sym.value, sym.size
        )
    rel_dyn = b"".join(
        struct.pack("<QQ", r.offset, (r.symbol << 32) | r.type)
        for r in sorted(image.relocations, key=lambda r: (r.offset, r.type))
    )
    n_relative = sum(1 for r in image.relocations if r.type == R_BPF_64_RELATIVE)

    # Offsets of the sections after .rodata; the .dynamic contents depend on them.
    cursor = rodata_off + len(image.rodata) if has_rodata else text_off + len(image.text)
    dynamic_off = _align(cursor, 8)
    dyn_entries: list[tuple[int, int]] = []
    if rel_dyn:
        dyn_entries += [(DT_FLAGS, DF_TEXTREL), (DT_REL, 0), (DT_RELSZ, len(rel_dyn))]
        dyn_entries += [(DT_RELENT, REL_SIZE), (DT_RELCOUNT, n_relative)]
    dyn_entries += [(DT_SYMTAB, 0), (DT_SYMENT, SYM_SIZE), (DT_STRTAB, 0)]
    dyn_entries += [(DT_STRSZ, len(dynstr.data))]
    if rel_dyn:
        dyn_entries.append((DT_TEXTREL, 0))
    dyn_entries.append((DT_NULL, 0))
    dynamic_size = len(dyn_entries) * DYN_SIZE
    dynsym_off = _align(dynamic_off + dynamic_size, 8)
    dynstr_off = dynsym_off + len(dynsym)
    rel_off = _align(dynstr_off + len(dynstr.data), 8)
    resolved = {DT_REL: rel_off, DT_SYMTAB: dynsym_off, DT_STRTAB: dynstr_off}
    dynamic = b"".join(struct.pack("<QQ", tag, resolved.get(tag, val)) for tag, val in dyn_entries)
    dynamic_tail = rel_off + len(rel_dyn) if rel_dyn else dynstr_off + len(dynstr.data)

    shstrtab = _StringTable()
    # (name, type, flags, offset, size, link, info, align, entsize); link/info use final indices
    sections: list[tuple[str, int, int, int, int, int, int, int, int]] = []
    sections.append(
        (".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, text_off, len(image.text), 0, 0, 8, 0)
    )
    if has_rodata:
        sections.append(
            (".rodata", SHT_PROGBITS, SHF_ALLOC, rodata_off, len(image.rodata), 0, 0, 8, 0)
        )
    i_dynamic = len(sections) + 1
    i_dynsym, i_dynstr = i_dynamic + 1, i_dynamic + 2
    sections.append(
        (
            ".dynamic",
            SHT_DYNAMIC,
            SHF_ALLOC | SHF_WRITE,
            dynamic_off,
            dynamic_size,
            i_dynstr,
            0,
            8,
            DYN_SIZE,
        )
    )
    sections.append(
        (".dynsym", SHT_DYNSYM, SHF_ALLOC, dynsym_off, len(dynsym), i_dynstr, 1, 8, SYM_SIZE)
    )
    sections.append((".dynstr", SHT_STRTAB, SHF_ALLOC, dynstr_off, len(dynstr.data), 0, 0, 1, 0))
    if rel_dyn:
        sections.append(
            (".rel.dyn", SHT_REL, SHF_ALLOC, rel_off, len(rel_dyn), i_dynsym, 0, 8, REL_SIZE)
        )
    for sec in sections:
        shstrtab.add(sec[0])
    shstrtab.add(".shstrtab")
    shstrtab_off = dynamic_tail
    shoff = _align(shstrtab_off + len(shstrtab.data), 8)
    n_sections = len(sections) + 2  # plus the null section and .shstrtab

    phdrs = [(PT_LOAD, PF_R | PF_X, text_off, len(image.text), 0x1000)]
    if has_rodata:
        phdrs.append((PT_LOAD, PF_R, rodata_off, len(image.rodata), 0x1000))
    phdrs.append((PT_LOAD, PF_R, dynsym_off, dynamic_tail - dynsym_off, 0x1000))
    phdrs.append((PT_DYNAMIC, PF_R | PF_W, dynamic_off, dynamic_size, 8))

    out = bytearray(shoff + n_sections * SHDR_SIZE)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little-endian, v1, SysV ABI
    out[0:EHDR_SIZE] = ident + struct.pack(
        "<HHIQQQIHHHHHH", ET_DYN, EM_SBPF, 1, image.entry, EHDR_SIZE, shoff, 0,
        EHDR_SIZE, PHDR_SIZE, len(phdrs), SHDR_SIZE, n_sections, n_sections - 1,
    )  # fmt: skip
    for i, (p_type, flags, off, size, align) in enumerate(phdrs):
        struct.pack_into(
            "<IIQQQQQQ",
            out,
            EHDR_SIZE + i * PHDR_SIZE,
            p_type,
            flags,
            off,
            off,
            off,
            size,
            size,
            align,
        )
    out[text_off : text_off + len(image.text)] = image.text
    out[rodata_off : rodata_off + len(image.rodata)] = image.rodata
    out[dynamic_off : dynamic_off + dynamic_size] = dynamic
    out[dynsym_off : dynsym_off + len(dynsym)] = dynsym
    out[dynstr_off : dynstr_off + len(dynstr.data)] = dynstr.data
    out[rel_off : rel_off + len(rel_dyn)] = rel_dyn
    out[shstrtab_off : shstrtab_off + len(shstrtab.data)] = shstrtab.data
    for i, (name, sh_type, flags, off, size, link, info, align, entsize) in enumerate(sections, 1):
        addr = off if flags & SHF_ALLOC else 0
        struct.pack_into(
            "<IIQQQQIIQQ",
            out,
            shoff + i * SHDR_SIZE,
            shstrtab.add(name),
            sh_type,
            flags,
            addr,
            off,
            size,
            link,
            info,
            align,
            entsize,
        )
    struct.pack_into(
        "<IIQQQQIIQQ",
        out,
        shoff + (n_sections - 1) * SHDR_SIZE,
        shstrtab.add(".shstrtab"),
        SHT_STRTAB,
        0,
        0,
        shstrtab_off,
        len(shstrtab.data),
        0,
        0,
        1,
        0,
    )
    return bytes(out)
