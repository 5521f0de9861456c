"""Wrap assembled sBPF code in a minimal v0 ELF, laid out as Solana's toolchain lays it out.

Used by tests to run one program on both Heliostat and LiteSVM, and as the seed corpus of the
ELF fuzz test. Internal calls stay pc-relative (the loader hashes them), syscalls become
R_BPF_64_32 relocations against .dynsym, and ``lddw rN, rodata+k`` becomes R_BPF_64_RELATIVE.
"""

from __future__ import annotations

from heliostat.svm import opcodes as op
from heliostat.svm.assembler import AssemblyError, parse
from heliostat.svm.elf_parser import (
    DT_NULL,
    DT_REL,
    DT_RELENT,
    DT_RELSZ,
    DT_SYMTAB,
    DYN,
    EHDR,
    PHDR,
    REL,
    SHDR,
    SYM,
)

PT_LOAD, PT_DYNAMIC = 1, 2
PF_X, PF_W, PF_R = 1, 2, 4
SHT_PROGBITS, SHT_STRTAB, SHT_DYNAMIC, SHT_DYNSYM, SHT_REL = 1, 3, 6, 11, 9
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
DT_STRTAB, DT_STRSZ, DT_SYMENT, DT_TEXTREL, DT_FLAGS = 5, 10, 11, 22, 30
DF_TEXTREL = 4
R_BPF_64_RELATIVE, R_BPF_64_32 = 8, 10
STB_GLOBAL_NOTYPE = 0x10


def _align(n: int, a: int = 8) -> int:
    return (n + a - 1) // a * a


def assemble_elf(
    source: str,
    *,
    rodata: bytes = b"",
    entry: str | None = None,
    rodata_section: str = ".rodata",
    rodata_flags: int = SHF_ALLOC,
) -> bytes:
    """Build an sBPF v0 shared object for ``source``; ``entry`` names the entry label (pc 0).

    ``rodata_section`` and ``rodata_flags`` rename and re-flag the data section, so tests can
    produce the sections the loader must refuse (.data, .bss).
    """
    out = parse(source)
    n_phdrs = 4 if rodata else 3
    text_off = _align(EHDR.size + n_phdrs * PHDR.size)
    text_size = len(out.slots) * op.INSN_SIZE
    ro_off = text_off + text_size
    dyn_off = _align(ro_off + len(rodata))
    syscalls: list[str] = []
    relocations: list[tuple[int, int, int]] = []  # (offset, type, symbol index)
    for pc, name in out.calls:
        if name in out.labels:
            out.slots[pc][4] = out.labels[name] - pc - 1
            continue
        if name not in syscalls:
            syscalls.append(name)
        out.slots[pc][4] = -1
        relocations.append((text_off + pc * op.INSN_SIZE, R_BPF_64_32, syscalls.index(name) + 1))
    for pc, offset in out.rodata_refs:
        if not rodata:
            raise AssemblyError("lddw of rodata without rodata")
        address = ro_off + offset
        out.slots[pc][4], out.slots[pc + 1][4] = address & 0xFFFFFFFF, address >> 32
        relocations.append((text_off + pc * op.INSN_SIZE, R_BPF_64_RELATIVE, 0))
    relocations.sort()

    dynstr = bytearray(b"\x00")
    symbols = [SYM.pack(0, 0, 0, 0, 0, 0)]
    for name in syscalls:
        symbols.append(SYM.pack(len(dynstr), STB_GLOBAL_NOTYPE, 0, 0, 0, 0))
        dynstr += name.encode() + b"\x00"
    dynsym = b"".join(symbols)
    rel = b"".join(REL.pack(offset, (sym << 32) | kind) for offset, kind, sym in relocations)

    n_dyn = 10
    dynsym_off = dyn_off + n_dyn * DYN.size
    dynstr_off = dynsym_off + len(dynsym)
    rel_off = _align(dynstr_off + len(dynstr))
    entries = [
        (DT_FLAGS, DF_TEXTREL),
        (DT_REL, rel_off if rel else 0),
        (DT_RELSZ, len(rel)),
        (DT_RELENT, REL.size),
        (DT_SYMTAB, dynsym_off),
        (DT_SYMENT, SYM.size),
        (DT_STRTAB, dynstr_off),
        (DT_STRSZ, len(dynstr)),
        (DT_TEXTREL, 0),
        (DT_NULL, 0),
    ]
    if not rel:  # no DT_REL at all: the loader then skips relocation
        entries = [(tag, value) for tag, value in entries if tag not in (DT_REL, DT_RELSZ)]
        entries += [(DT_NULL, 0)] * 2
    dynamic = b"".join(DYN.pack(tag, value) for tag, value in entries)

    shstrtab = bytearray(b"\x00")
    names = {}
    for name in (
        ".text",
        rodata_section,
        ".dynamic",
        ".dynsym",
        ".dynstr",
        ".rel.dyn",
        ".shstrtab",
    ):
        names[name] = len(shstrtab)
        shstrtab += name.encode() + b"\x00"
    shstr_off = rel_off + len(rel)
    sh_off = _align(shstr_off + len(shstrtab))

    sections = [SHDR.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)]
    sections.append(
        SHDR.pack(
            names[".text"],
            SHT_PROGBITS,
            SHF_ALLOC | SHF_EXECINSTR,
            text_off,
            text_off,
            text_size,
            0,
            0,
            8,
            0,
        )
    )
    if rodata:
        sections.append(
            SHDR.pack(
                names[rodata_section],
                SHT_PROGBITS,
                rodata_flags,
                ro_off,
                ro_off,
                len(rodata),
                0,
                0,
                1,
                0,
            )
        )
    dynstr_index = len(sections) + 2
    sections.append(
        SHDR.pack(
            names[".dynamic"],
            SHT_DYNAMIC,
            SHF_ALLOC | SHF_WRITE,
            dyn_off,
            dyn_off,
            len(dynamic),
            dynstr_index,
            0,
            8,
            DYN.size,
        )
    )
    sections.append(
        SHDR.pack(
            names[".dynsym"],
            SHT_DYNSYM,
            SHF_ALLOC,
            dynsym_off,
            dynsym_off,
            len(dynsym),
            dynstr_index,
            1,
            8,
            SYM.size,
        )
    )
    sections.append(
        SHDR.pack(
            names[".dynstr"], SHT_STRTAB, SHF_ALLOC, dynstr_off, dynstr_off, len(dynstr), 0, 0, 1, 0
        )
    )
    if rel:
        sections.append(
            SHDR.pack(
                names[".rel.dyn"],
                SHT_REL,
                SHF_ALLOC,
                rel_off,
                rel_off,
                len(rel),
                dynstr_index - 1,
                0,
                8,
                REL.size,
            )
        )
    sections.append(
        SHDR.pack(names[".shstrtab"], SHT_STRTAB, 0, 0, shstr_off, len(shstrtab), 0, 0, 1, 0)
    )

    phdrs = [
        PHDR.pack(PT_LOAD, PF_R | PF_X, text_off, text_off, text_off, text_size, text_size, 0x1000)
    ]
    if rodata:
        phdrs.append(
            PHDR.pack(PT_LOAD, PF_R, ro_off, ro_off, ro_off, len(rodata), len(rodata), 0x1000)
        )
    tail = rel_off + len(rel) - dynsym_off
    phdrs.append(PHDR.pack(PT_LOAD, PF_R, dynsym_off, dynsym_off, dynsym_off, tail, tail, 0x1000))
    phdrs.append(
        PHDR.pack(PT_DYNAMIC, PF_R | PF_W, dyn_off, dyn_off, dyn_off, len(dynamic), len(dynamic), 8)
    )

    entry_pc = out.labels[entry] if entry is not None else 0
    header = EHDR.pack(
        b"\x7fELF",
        2,
        1,
        1,
        0,
        0,
        b"\x00" * 7,
        3,
        247,
        1,
        text_off + entry_pc * op.INSN_SIZE,
        EHDR.size,
        sh_off,
        0,
        EHDR.size,
        PHDR.size,
        len(phdrs),
        SHDR.size,
        len(sections),
        len(sections) - 1,
    )
    image = bytearray(sh_off + len(sections) * SHDR.size)
    image[: EHDR.size] = header
    image[EHDR.size : EHDR.size + len(phdrs) * PHDR.size] = b"".join(phdrs)
    from heliostat.svm.assembler import encode

    image[text_off : text_off + text_size] = b"".join(encode(*s) for s in out.slots)
    image[ro_off : ro_off + len(rodata)] = rodata
    image[dyn_off : dyn_off + len(dynamic)] = dynamic
    image[dynsym_off : dynsym_off + len(dynsym)] = dynsym
    image[dynstr_off : dynstr_off + len(dynstr)] = dynstr
    image[rel_off : rel_off + len(rel)] = rel
    image[shstr_off : shstr_off + len(shstrtab)] = shstrtab
    image[sh_off:] = b"".join(sections)
    return bytes(image)
